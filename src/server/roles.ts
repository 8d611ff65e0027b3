/** What a token may do: `viewer` reads, `operator` also takes savepoints, stops and redrives, `admin` also manages tokens and settings. */
export type Role = 'viewer' | 'operator' | 'admin'

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin']

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 }

/**
 * Whether `has` is at least `needs`.
 * @example allows('operator', 'viewer') // true
 */
export function allows(has: Role, needs: Role): boolean {
  return RANK[has] >= RANK[needs]
}

export function isRole(s: unknown): s is Role {
  return typeof s === 'string' && (ROLES as readonly string[]).includes(s)
}
