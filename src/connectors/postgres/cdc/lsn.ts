/** A Postgres LSN ('16/B374D848') as a number of bytes, to compare two. */
export function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/')
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`)
}

export function isLsn(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(v)
}
