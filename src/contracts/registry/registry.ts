import { parseAvro } from '../compat/avro.ts'
import { compatibilityDifferences, type SchemaText, type SchemaType } from '../compat/check.ts'
import { isCompatibilityLevel, type CompatibilityLevel, type Difference } from '../compat/difference.ts'
import { assertJsonSchema } from '../compat/json-schema-dialect.ts'
import { RegistryError } from './registry-error.ts'
import { RegistryStore, type RegistryState, type StoredSchema, type StoredSubject, type StoredVersion } from './store.ts'

/** What a client sends to register or look up a schema. */
export interface SchemaInput {
  schema: string
  schemaType?: string
  references?: unknown[]
}

/** A version of a subject as the API returns it. */
export interface SubjectVersion {
  subject: string
  version: number
  id: number
  schemaType: SchemaType
  schema: string
}

/**
 * An embedded schema registry with the semantics of Confluent's: subjects with numbered versions, schemas
 * with global ids shared by subjects that register the same text, compatibility levels (global and per
 * subject) checked on every registration, soft and hard deletes. Refusals are `RegistryError`s with
 * Confluent's error codes. State is kept by a `RegistryStore` (a folder, or memory).
 * @example const r = await SchemaRegistry.open('data/registry'); const { id } = await r.register('bids-value', { schema })
 */
export class SchemaRegistry {
  private state: RegistryState
  private readonly store: RegistryStore
  /** Changes run one after another: each sees the state the previous one saved (or rolled back). */
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(store: RegistryStore, state: RegistryState) {
    this.store = store
    this.state = state
  }

  /** Opens the registry kept in `dir` (created if missing); without `dir`, one in memory. */
  static async open(dir?: string): Promise<SchemaRegistry> {
    const store = new RegistryStore(dir)
    return new SchemaRegistry(store, await store.load())
  }

  /**
   * Reads the state again if another process (or another registry on the same folder) changed it since this
   * one last read or wrote it. Every change does this first; the HTTP API does it before each request.
   */
  refresh(): Promise<void> {
    return this.serial(() => this.reload())
  }

  private async reload(): Promise<void> {
    if (await this.store.changed()) this.state = await this.store.load()
  }

  subjects(deleted = false): string[] {
    return Object.entries(this.state.subjects)
      .filter(([, s]) => s.versions.some((v) => deleted || !v.deleted))
      .map(([name]) => name)
      .sort()
  }

  versions(subject: string, deleted = false): number[] {
    const vs = this.subject(subject, deleted).versions.filter((v) => deleted || !v.deleted).map((v) => v.version)
    if (vs.length === 0) throw new RegistryError(40401, `Subject '${subject}' not found.`)
    return vs
  }

  /** A version of a subject: a number, -1 or 'latest' for the latest live one. */
  version(subject: string, version: string | number, deleted = false): SubjectVersion {
    const s = this.subject(subject, deleted)
    const v = this.findVersion(s, subject, version, deleted)
    return this.toSubjectVersion(subject, v)
  }

  schemaById(id: number): StoredSchema {
    const s = this.state.schemas.find((x) => x.id === id)
    if (s === undefined) throw new RegistryError(40403, `Schema ${id} not found`)
    return s
  }

  /** The subjects and versions that use schema `id`. */
  usesOf(id: number, deleted = false): { subject: string; version: number }[] {
    this.schemaById(id)
    const out: { subject: string; version: number }[] = []
    for (const [subject, s] of Object.entries(this.state.subjects)) for (const v of s.versions) if (v.id === id && (deleted || !v.deleted)) out.push({ subject, version: v.version })
    return out
  }

  /** The version of `subject` that holds this schema, if any (`POST /subjects/s`). */
  lookup(subject: string, input: SchemaInput, deleted = false): SubjectVersion {
    const s = this.subject(subject, deleted)
    const { schemaType, schema } = this.validate(input)
    const key = canonical(schemaType, schema)
    const v = s.versions.find((x) => (deleted || !x.deleted) && this.matches(x.id, schemaType, key))
    if (v === undefined) throw new RegistryError(40403, 'Schema not found')
    return this.toSubjectVersion(subject, v)
  }

  /**
   * Registers a schema under a subject: returns the id of the same schema if the subject has it already,
   * else checks compatibility with the subject's live versions and adds a version (409 if incompatible).
   */
  register(subject: string, input: SchemaInput): Promise<{ id: number; version: number }> {
    return this.mutate(() => this.registerNow(subject, input))
  }

  private async registerNow(subject: string, input: SchemaInput): Promise<{ id: number; version: number }> {
    const { schemaType, schema } = this.validate(input)
    const key = canonical(schemaType, schema)
    const existing = this.state.subjects[subject]
    const live = existing?.versions.find((x) => !x.deleted && this.matches(x.id, schemaType, key))
    if (live !== undefined) return { id: live.id, version: live.version }
    const differences = this.differences(subject, { schemaType, schema })
    if (differences.length > 0) {
      throw new RegistryError(409, `Schema being registered is incompatible with an earlier schema for subject "${subject}": ${differences.map((d) => `${d.path === '' ? '' : `${d.path}: `}${d.message}`).join('; ')}`)
    }
    return this.change(() => {
      let stored = this.state.schemas.find((x) => this.matchesSchema(x, schemaType, key))
      if (stored === undefined) {
        stored = { id: this.state.nextId++, schemaType, schema, ...(input.references !== undefined && input.references.length > 0 ? { references: input.references } : {}) }
        this.state.schemas.push(stored)
      }
      const s = (this.state.subjects[subject] ??= { versions: [] })
      delete s.deleted
      const version = s.versions.reduce((m, v) => Math.max(m, v.version), 0) + 1
      s.versions.push({ version, id: stored.id, deleted: false })
      return { id: stored.id, version }
    })
  }

  /** The breaking differences between a candidate and the subject's live versions under its level. */
  differences(subject: string, candidate: SchemaText, against?: string | number): Difference[] {
    const s = this.state.subjects[subject]
    if (s === undefined) return []
    const live = s.versions.filter((v) => !v.deleted)
    let previous = live.map((v) => ({ version: v.version, schema: this.schemaById(v.id) }))
    let level = this.compatibility(subject)
    if (against !== undefined) {
      const v = this.findVersion(s, subject, against, false)
      previous = [{ version: v.version, schema: this.schemaById(v.id) }]
      level = level.replace('_TRANSITIVE', '') as CompatibilityLevel
    }
    return compatibilityDifferences(candidate, previous, level)
  }

  /** `POST /compatibility/subjects/s/versions[/v]`: checks without registering. */
  checkCompatibility(subject: string, input: SchemaInput, version?: string | number): Difference[] {
    const candidate = this.validate(input)
    if (version !== undefined) this.findVersion(this.subject(subject), subject, version, false)
    return this.differences(subject, candidate, version)
  }

  /** The level in force for a subject: its own, else the global one. */
  compatibility(subject?: string): CompatibilityLevel {
    return (subject !== undefined ? this.state.subjects[subject]?.compatibility : undefined) ?? this.state.compatibility
  }

  /** The subject's own level (40408 if it has none and `defaultToGlobal` is false). */
  subjectCompatibility(subject: string, defaultToGlobal: boolean): CompatibilityLevel {
    const own = this.state.subjects[subject]?.compatibility
    if (own !== undefined) return own
    if (defaultToGlobal) return this.state.compatibility
    throw new RegistryError(40408, `Subject '${subject}' does not have subject-level compatibility configured`)
  }

  setCompatibility(level: unknown, subject?: string): Promise<CompatibilityLevel> {
    return this.mutate(() => this.setCompatibilityNow(level, subject))
  }

  private async setCompatibilityNow(level: unknown, subject?: string): Promise<CompatibilityLevel> {
    if (!isCompatibilityLevel(level)) throw new RegistryError(42203, `Invalid compatibility level. Valid values are NONE, BACKWARD, FORWARD, FULL, BACKWARD_TRANSITIVE, FORWARD_TRANSITIVE, and FULL_TRANSITIVE`)
    return this.change(() => {
      if (subject === undefined) this.state.compatibility = level
      else (this.state.subjects[subject] ??= { versions: [] }).compatibility = level
      return level
    })
  }

  /** Drops a subject's own level (40408 if it has none); without a subject, resets the global one to BACKWARD. Returns the level dropped. */
  deleteCompatibility(subject?: string): Promise<CompatibilityLevel> {
    if (subject === undefined) {
      return this.mutate(async () => {
        const previous = this.state.compatibility
        return this.change(() => {
          this.state.compatibility = 'BACKWARD'
          return previous
        })
      })
    }
    return this.mutate(() => this.deleteCompatibilityNow(subject))
  }

  private async deleteCompatibilityNow(subject: string): Promise<CompatibilityLevel> {
    const previous = this.subjectCompatibility(subject, false)
    return this.change(() => {
      const s = this.state.subjects[subject]!
      delete s.compatibility
      if (s.versions.length === 0) delete this.state.subjects[subject]
      return previous
    })
  }

  /** Deletes a subject: soft (its versions hidden, 40404 if already) or permanent (only after a soft delete, else 40405). */
  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.mutate(() => this.deleteSubjectNow(subject, permanent))
  }

  private async deleteSubjectNow(subject: string, permanent: boolean): Promise<number[]> {
    const s = this.subject(subject, true)
    if (s.versions.length === 0) throw new RegistryError(40401, `Subject '${subject}' not found.`)
    const live = s.versions.filter((v) => !v.deleted)
    if (!permanent && live.length === 0) throw new RegistryError(40404, `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`)
    if (permanent && live.length > 0) throw new RegistryError(40405, `Subject '${subject}' was not deleted first before being permanently deleted`)
    return this.change(() => {
      const versions = s.versions.map((v) => v.version)
      if (permanent) delete this.state.subjects[subject]
      else {
        for (const v of s.versions) v.deleted = true
        s.deleted = true
      }
      return permanent ? versions : live.map((v) => v.version)
    })
  }

  /** Deletes one version: soft (40406 if already) or permanent (only after a soft delete, else 40407). */
  deleteVersion(subject: string, version: string | number, permanent: boolean): Promise<number> {
    return this.mutate(() => this.deleteVersionNow(subject, version, permanent))
  }

  private async deleteVersionNow(subject: string, version: string | number, permanent: boolean): Promise<number> {
    const s = this.subject(subject, true)
    const latest = version === 'latest' || version === -1 || version === '-1'
    const v = this.findVersion(s, subject, version, permanent || !latest)
    if (!permanent && v.deleted) throw new RegistryError(40406, `Subject '${subject}' Version ${v.version} was soft deleted. Set permanent=true to delete permanently`)
    if (permanent && !v.deleted) throw new RegistryError(40407, `Subject '${subject}' Version ${v.version} was not deleted first before being permanently deleted`)
    return this.change(() => {
      if (permanent) {
        s.versions = s.versions.filter((x) => x !== v)
        if (s.versions.length === 0 && s.compatibility === undefined) delete this.state.subjects[subject]
      } else v.deleted = true
      return v.version
    })
  }

  private subject(subject: string, deleted = false): StoredSubject {
    const s = this.state.subjects[subject]
    if (s === undefined || s.versions.length === 0 || (!deleted && s.versions.every((v) => v.deleted))) throw new RegistryError(40401, `Subject '${subject}' not found.`)
    return s
  }

  private findVersion(s: StoredSubject, subject: string, version: string | number, deleted: boolean): StoredVersion {
    let v: StoredVersion | undefined
    if (version === 'latest' || version === -1 || version === '-1') {
      const vs = s.versions.filter((x) => deleted || !x.deleted)
      v = vs[vs.length - 1]
    } else {
      const n = typeof version === 'number' ? version : /^\d+$/.test(version) ? Number(version) : NaN
      if (!Number.isSafeInteger(n) || n < 1) throw new RegistryError(42202, `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`)
      v = s.versions.find((x) => x.version === n && (deleted || !x.deleted))
    }
    if (v === undefined) throw new RegistryError(40402, `Version ${version} not found.`)
    return v
  }

  private toSubjectVersion(subject: string, v: StoredVersion): SubjectVersion {
    const s = this.schemaById(v.id)
    return { subject, version: v.version, id: v.id, schemaType: s.schemaType, schema: s.schema }
  }

  private validate(input: SchemaInput): SchemaText {
    if (input === null || typeof input !== 'object' || typeof input.schema !== 'string') throw new RegistryError(42201, 'Invalid schema: the body needs a "schema" string')
    const schemaType = input.schemaType ?? 'AVRO'
    if (schemaType !== 'AVRO' && schemaType !== 'JSON') throw new RegistryError(42201, `Invalid schema: schema type '${schemaType}' is not supported (AVRO, JSON)`)
    try {
      if (schemaType === 'AVRO') parseAvro(input.schema)
      else assertJsonSchema(JSON.parse(input.schema))
    } catch (e) {
      throw new RegistryError(42201, `Invalid schema: ${e instanceof Error ? e.message : String(e)}`)
    }
    return { schemaType, schema: input.schema }
  }

  private matches(id: number, schemaType: SchemaType, key: string): boolean {
    return this.matchesSchema(this.schemaById(id), schemaType, key)
  }

  private matchesSchema(s: StoredSchema, schemaType: SchemaType, key: string): boolean {
    return s.schemaType === schemaType && canonical(s.schemaType, s.schema) === key
  }

  /** A change: after those before it, on the state as the folder holds it now. */
  private mutate<R>(fn: () => Promise<R>): Promise<R> {
    return this.serial(async () => {
      await this.reload()
      return fn()
    })
  }

  private serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Applies a change and saves it; a failed save undoes it (50001). */
  private async change<R>(fn: () => R): Promise<R> {
    const before = JSON.stringify(this.state)
    const r = fn()
    try {
      await this.store.save(this.state)
    } catch (e) {
      this.state = JSON.parse(before) as RegistryState
      throw new RegistryError(50001, `Error while storing the schema registry's state: ${e instanceof Error ? e.message : String(e)}`)
    }
    return r
  }
}

/** Schemas are the same when their JSON is the same, whatever the spacing. */
function canonical(_type: SchemaType, schema: string): string {
  return JSON.stringify(JSON.parse(schema))
}
