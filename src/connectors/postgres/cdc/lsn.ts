/** True for a Postgres LSN as the server writes it ('16/B374D848'). */
export function isLsn(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(v)
}

/** An LSN as a number of bytes into the WAL (exact below 2^53, some 9 PB of WAL). */
export function lsnBytes(lsn: string): number {
  const [hi, lo] = lsn.split('/')
  return parseInt(hi, 16) * 2 ** 32 + parseInt(lo, 16)
}
