import type { z } from 'zod'

type Simplify<T> = { [K in keyof T]: T[K] } & {}

type JsonPrimitive = { string: string; number: number; integer: number; boolean: boolean; null: null; object: Record<string, unknown>; array: unknown[] }

/**
 * The TypeScript type of the values a JSON Schema accepts, for a schema written `as const`: types, objects with
 * properties and required, arrays, enums and const. What it does not model is `unknown`.
 * @example
 * const bidSchema = { type: 'object', properties: { auction: { type: 'integer' }, price: { type: 'number' }, url: { type: 'string' } }, required: ['auction', 'price'] } as const
 * type BidRow = FromJsonSchema<typeof bidSchema> // { auction: number; price: number; url?: string }
 */
export type FromJsonSchema<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { const: infer C }
    ? C
    : S extends { type: readonly (infer U)[] }
      ? U extends keyof JsonPrimitive
        ? FromJsonSchema<Omit<S, 'type'> & { type: U }>
        : unknown
      : S extends { type: 'object'; properties: infer P }
        ? JsonObject<P, S extends { required: readonly (infer R)[] } ? R : never>
        : S extends { type: 'array'; items: infer I }
          ? FromJsonSchema<I>[]
          : S extends { type: infer K extends keyof JsonPrimitive }
            ? JsonPrimitive[K]
            : S extends { anyOf: readonly (infer A)[] }
              ? FromJsonSchema<A>
              : unknown

type JsonObject<P, R> = Simplify<{ -readonly [K in keyof P & R]: FromJsonSchema<P[K]> } & { -readonly [K in Exclude<keyof P, R>]?: FromJsonSchema<P[K]> }>

type AvroPrimitive = { null: null; boolean: boolean; int: number; long: number; float: number; double: number; string: string; bytes: Uint8Array }

/**
 * The TypeScript type of the values of an Avro schema written `as const`: records, enums, arrays, maps,
 * unions, fixed and primitives (long as number). A named type referred to by name is `unknown`.
 * @example
 * const bidAvro = { type: 'record', name: 'Bid', fields: [{ name: 'auction', type: 'long' }, { name: 'price', type: 'long' }, { name: 'channel', type: ['null', 'string'] }] } as const
 * type BidRow = FromAvro<typeof bidAvro> // { auction: number; price: number; channel: string | null }
 */
export type FromAvro<S> = S extends keyof AvroPrimitive
  ? AvroPrimitive[S]
  : S extends readonly unknown[]
    ? FromAvro<S[number]>
    : S extends { type: 'record'; fields: readonly { name: string; type: unknown }[] }
      ? Simplify<{ -readonly [F in S['fields'][number] as F['name']]: FromAvro<F['type']> }>
      : S extends { type: 'enum'; symbols: readonly (infer E)[] }
        ? E
        : S extends { type: 'array'; items: infer I }
          ? FromAvro<I>[]
          : S extends { type: 'map'; values: infer V }
            ? Record<string, FromAvro<V>>
            : S extends { type: 'fixed' }
              ? Uint8Array
              : S extends { type: infer P extends keyof AvroPrimitive }
                ? AvroPrimitive[P]
                : unknown

/** Whether a schema is an Avro schema (a record, enum, array, map or fixed of Avro, or a primitive name). */
export type IsAvro<S> = S extends { type: 'record' | 'enum' | 'fixed' } ? true : S extends { type: 'map'; values: unknown } ? true : false

/**
 * The record type a contract's schema describes: zod's output, or inferred from Avro or JSON Schema.
 * @example
 * const schema = z.object({ auction: z.number(), price: z.number() })
 * type BidRow = InferRecord<typeof schema> // { auction: number; price: number }
 */
export type InferRecord<S> = S extends z.ZodType ? z.output<S> : IsAvro<S> extends true ? FromAvro<S> : FromJsonSchema<S>
