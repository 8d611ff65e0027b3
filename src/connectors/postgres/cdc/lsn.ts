/** True for a Postgres LSN as the server writes it ('16/B374D848'). */
export function isLsn(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(v)
}
