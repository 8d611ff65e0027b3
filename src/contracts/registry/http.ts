import { Hono, type Context } from 'hono'
import { RegistryError } from './registry-error.ts'
import type { SchemaInput, SchemaRegistry, SubjectVersion } from './registry.ts'

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

/**
 * The REST API of the Confluent Schema Registry that clients use, over a `SchemaRegistry`: subjects and
 * versions, schemas by id, lookup under a subject, global and per-subject compatibility, the compatibility
 * check, soft and hard deletes. Errors are `{ error_code, message }` with Confluent's codes.
 * @example serve({ fetch: registryApp(await SchemaRegistry.open(dir)).fetch, port: 8081, hostname: '127.0.0.1' })
 */
export function registryApp(registry: SchemaRegistry): Hono {
  const app = new Hono()
  const flag = (c: Context, name: string) => c.req.query(name) === 'true'
  const body = async (c: Context): Promise<any> => {
    const text = await c.req.text()
    try {
      return text === '' ? {} : JSON.parse(text)
    } catch {
      throw new RegistryError(42201, 'Invalid schema: the request body is not JSON')
    }
  }
  const json = (c: Context, value: unknown) => c.body(JSON.stringify(value), 200, { 'content-type': CONTENT_TYPE })
  const version = (v: SubjectVersion) => ({ subject: v.subject, version: v.version, id: v.id, ...(v.schemaType !== 'AVRO' ? { schemaType: v.schemaType } : {}), schema: v.schema })

  // Another process may have changed the folder (a run registering its contracts): answer from what it holds now.
  app.use(async (_c, next) => {
    await registry.refresh()
    await next()
  })
  app.get('/', (c) => json(c, {}))
  app.get('/schemas/types', (c) => json(c, ['JSON', 'AVRO']))
  app.get('/schemas/ids/:id', (c) => {
    const s = registry.schemaById(id(c.req.param('id')))
    return json(c, { ...(s.schemaType !== 'AVRO' ? { schemaType: s.schemaType } : {}), schema: s.schema, ...(s.references !== undefined ? { references: s.references } : {}) })
  })
  app.get('/schemas/ids/:id/schema', (c) => json(c, JSON.parse(registry.schemaById(id(c.req.param('id'))).schema)))
  app.get('/schemas/ids/:id/versions', (c) => json(c, registry.usesOf(id(c.req.param('id')), flag(c, 'deleted'))))
  app.get('/schemas/ids/:id/subjects', (c) => json(c, [...new Set(registry.usesOf(id(c.req.param('id')), flag(c, 'deleted')).map((u) => u.subject))]))

  app.get('/subjects', (c) => json(c, registry.subjects(flag(c, 'deleted'))))
  app.get('/subjects/:subject/versions', (c) => json(c, registry.versions(c.req.param('subject'), flag(c, 'deleted'))))
  app.get('/subjects/:subject/versions/:version', (c) => json(c, version(registry.version(c.req.param('subject'), c.req.param('version'), flag(c, 'deleted')))))
  app.get('/subjects/:subject/versions/:version/schema', (c) => json(c, JSON.parse(registry.version(c.req.param('subject'), c.req.param('version'), flag(c, 'deleted')).schema)))
  app.get('/subjects/:subject/versions/:version/referencedby', (c) => {
    registry.version(c.req.param('subject'), c.req.param('version'))
    return json(c, [])
  })
  app.post('/subjects/:subject/versions', async (c) => {
    const r = await registry.register(c.req.param('subject'), (await body(c)) as SchemaInput)
    return json(c, { id: r.id })
  })
  app.post('/subjects/:subject', async (c) => json(c, version(registry.lookup(c.req.param('subject'), (await body(c)) as SchemaInput, flag(c, 'deleted')))))
  app.delete('/subjects/:subject', async (c) => json(c, await registry.deleteSubject(c.req.param('subject'), flag(c, 'permanent'))))
  app.delete('/subjects/:subject/versions/:version', async (c) => json(c, await registry.deleteVersion(c.req.param('subject'), c.req.param('version'), flag(c, 'permanent'))))

  app.get('/config', (c) => json(c, { compatibilityLevel: registry.compatibility() }))
  app.put('/config', async (c) => json(c, { compatibility: await registry.setCompatibility((await body(c)).compatibility) }))
  app.delete('/config', async (c) => json(c, { compatibilityLevel: await registry.deleteCompatibility() }))
  app.get('/config/:subject', (c) => json(c, { compatibilityLevel: registry.subjectCompatibility(c.req.param('subject'), flag(c, 'defaultToGlobal')) }))
  app.put('/config/:subject', async (c) => json(c, { compatibility: await registry.setCompatibility((await body(c)).compatibility, c.req.param('subject')) }))
  app.delete('/config/:subject', async (c) => json(c, { compatibilityLevel: await registry.deleteCompatibility(c.req.param('subject')) }))
  app.get('/mode', (c) => json(c, { mode: 'READWRITE' }))

  const compatibility = async (c: Context, v?: string) => {
    const differences = registry.checkCompatibility(c.req.param('subject')!, (await body(c)) as SchemaInput, v)
    const verbose = flag(c, 'verbose')
    return json(c, { is_compatible: differences.length === 0, ...(verbose ? { messages: differences.map((d) => `${d.kind} at '${d.path}': ${d.message}`) } : {}) })
  }
  app.post('/compatibility/subjects/:subject/versions', (c) => compatibility(c))
  app.post('/compatibility/subjects/:subject/versions/:version', async (c) => {
    try {
      return await compatibility(c, c.req.param('version'))
    } catch (e) {
      // Confluent answers a check against a subject that does not exist yet as compatible.
      if (e instanceof RegistryError && e.errorCode === 40401) return json(c, { is_compatible: true })
      throw e
    }
  })

  app.notFound((c) => c.body(JSON.stringify({ error_code: 404, message: 'HTTP 404 Not Found' }), 404, { 'content-type': CONTENT_TYPE }))
  app.onError((e, c) => {
    if (e instanceof RegistryError) return c.body(JSON.stringify({ error_code: e.errorCode, message: e.message }), e.status as 404, { 'content-type': CONTENT_TYPE })
    return c.body(JSON.stringify({ error_code: 50001, message: `Error in the registry: ${e.message}` }), 500, { 'content-type': CONTENT_TYPE })
  })
  return app
}

function id(s: string): number {
  const n = Number(s)
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) throw new RegistryError(40403, `Schema ${s} not found`)
  return n
}
