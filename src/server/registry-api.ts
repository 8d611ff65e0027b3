import type { Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { registryApp } from '../contracts/registry/http.ts'
import type { SchemaRegistry } from '../contracts/registry/registry.ts'
import { allows, type Role } from './roles.ts'
import type { TokenStore } from './tokens.ts'

/** Where `sluice serve` serves an embedded schema registry: the base URL Confluent's clients are given. */
export const REGISTRY_PATH = '/registry'

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

/**
 * The role a registry call needs: reading (GET, a lookup of a schema under a subject, a compatibility check)
 * a viewer's; registering, deleting and setting compatibility an operator's.
 * @example registryRole('POST', '/subjects/bids-value/versions') // 'operator'
 */
export function registryRole(method: string, path: string): Role {
  if (method === 'GET' || method === 'HEAD') return 'viewer'
  if (method === 'POST' && (/^\/subjects\/[^/]+$/.test(path) || path.startsWith('/compatibility/'))) return 'viewer'
  return 'operator'
}

/**
 * Serves `registry` under `/registry` with the Confluent Schema Registry API, behind the control plane's
 * tokens: a bearer token, or HTTP basic auth whose password is the token (what Confluent's clients send with
 * `basic.auth.user.info`). Errors are Confluent's `{ error_code, message }` (40101 without a valid token,
 * 40301 without the role); changes go to the audit log.
 */
export function registryRoutes(app: Hono<any>, registry: SchemaRegistry, tokens: TokenStore, record: (c: Context, status: number) => Promise<void>): void {
  const api = registryApp(registry)
  const refuse = (c: Context, status: 401 | 403, code: number, message: string) => {
    if (status === 401) c.header('WWW-Authenticate', 'Basic realm="sluice", Bearer')
    return c.body(JSON.stringify({ error_code: code, message }), status, { 'content-type': CONTENT_TYPE })
  }
  app.use(`${REGISTRY_PATH}/*`, bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.body(JSON.stringify({ error_code: 41301, message: 'the request body is over 1 MiB' }), 413, { 'content-type': CONTENT_TYPE }) }))
  const handle = async (c: Context) => {
    const url = new URL(c.req.url)
    const path = url.pathname.slice(REGISTRY_PATH.length) || '/'
    const entry = tokenOf(c.req.header('authorization') ?? '', tokens)
    c.set('who', entry?.id ?? null)
    c.set('role', entry?.role ?? null)
    const needs = registryRole(c.req.method, path)
    const change = needs === 'operator'
    let res: Response
    if (entry === undefined) res = refuse(c, 401, 40101, 'a token is required (bearer, or as the password of basic auth)')
    else if (!allows(entry.role, needs)) res = refuse(c, 403, 40301, `this needs the role '${needs}' (the token has '${entry.role}')`)
    else {
      url.pathname = path
      const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? undefined : await c.req.arrayBuffer()
      res = await api.fetch(new Request(url, { method: c.req.method, headers: c.req.raw.headers, ...(body !== undefined ? { body } : {}) }))
    }
    if (change || res.status === 401 || res.status === 403) await record(c, res.status)
    return res
  }
  app.all(REGISTRY_PATH, handle)
  app.all(`${REGISTRY_PATH}/*`, handle)
}

function tokenOf(header: string, tokens: TokenStore): { id: string; role: Role } | undefined {
  const bearer = /^Bearer (\S+)$/i.exec(header)
  if (bearer !== null) return tokens.verify(bearer[1]!)
  const basic = /^Basic (\S+)$/i.exec(header)
  if (basic === null) return undefined
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : tokens.verify(decoded.slice(colon + 1))
}
