import { ConfigError } from './errors.ts'

/**
 * The few value types the configuration has, each a function that returns the value (defaults
 * filled in) or throws a {@link ConfigError} naming the key: `config: tracker.numwant: …`.
 *
 * Why not zod, which the API's schemas use: every command that reads the configuration (a cron
 * `scan`, a rescan) loaded its ~95 modules and built the schema before doing anything, ~90 ms of
 * CPU of a rescan's ~1.1 s (bench/scan.ts); these checks cost nothing to load.
 */
export type Field<T> = (value: unknown, path: string) => T

type Read<F> = F extends Field<infer T> ? T : never
type Flat<T> = { [K in keyof T]: T[K] }
type OptionalKeys<S> = { [K in keyof S]: undefined extends Read<S[K]> ? K : never }[keyof S]

/** The value a section of fields produces: a key whose field may be unset is an optional key. */
export type Values<S extends Record<string, Field<unknown>>> = Flat<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Read<S[K]> } & {
    [K in OptionalKeys<S>]?: Read<S[K]>
  }
>

function fail(path: string, message: string): never {
  throw new ConfigError(`config: ${path || '(top level)'}: ${message}`)
}

function kind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  return typeof value
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key
}

export function number(
  rules: { int?: boolean; min?: number; max?: number; positive?: boolean } = {},
): Field<number> {
  return (value, path) => {
    if (typeof value !== 'number') fail(path, `expected a number, not ${kind(value)}`)
    if (!Number.isFinite(value)) fail(path, 'must be a finite number')
    if (rules.int && !Number.isInteger(value)) fail(path, 'must be a whole number')
    if (rules.positive && !(value > 0)) fail(path, 'must be more than 0')
    if (rules.min !== undefined && value < rules.min) fail(path, `must be at least ${rules.min}`)
    if (rules.max !== undefined && value > rules.max) fail(path, `must be at most ${rules.max}`)
    return value
  }
}

/** A string, optionally with a shortest length and a pattern, each with its own message. */
export function string(
  rules: { min?: [number, string]; pattern?: [RegExp, string] } = {},
): Field<string> {
  return (value, path) => {
    if (typeof value !== 'string') fail(path, `expected a string, not ${kind(value)}`)
    if (rules.min && value.length < rules.min[0]) fail(path, rules.min[1])
    if (rules.pattern && !rules.pattern[0].test(value)) fail(path, rules.pattern[1])
    return value
  }
}

/** A URL the WHATWG parser takes, trimmed (and without tabs or newlines, which it ignores). */
export const url: Field<string> = (value, path) => {
  const text = string()(value, path).trim()
  if (!URL.canParse(text)) fail(path, 'must be a URL')
  return text.replace(/[\t\n\r]/g, '')
}

export const boolean: Field<boolean> = (value, path) => {
  if (typeof value !== 'boolean') fail(path, `expected true or false, not ${kind(value)}`)
  return value
}

export function oneOf<T extends string>(choices: readonly T[]): Field<T> {
  return (value, path) => {
    if (!choices.includes(value as T)) fail(path, `must be one of ${choices.join(', ')}`)
    return value as T
  }
}

export function list<T>(item: Field<T>, rules: { min?: number } = {}): Field<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) fail(path, `expected a list, not ${kind(value)}`)
    if (rules.min !== undefined && value.length < rules.min) {
      fail(path, `must have at least ${rules.min} item${rules.min === 1 ? '' : 's'}`)
    }
    return value.map((each, i) => item(each, join(path, String(i))))
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A mapping of any keys (checked by `key`) to values of one type. */
export function mapping<T>(key: Field<string>, item: Field<T>): Field<Record<string, T>> {
  return (value, path) => {
    if (!isMapping(value)) fail(path, `expected a mapping, not ${kind(value)}`)
    const out: Record<string, T> = {}
    for (const [name, each] of Object.entries(value)) {
      key(name, join(path, name))
      out[name] = item(each, join(path, name))
    }
    return out
  }
}

/** The field, and a rule of its own on top with the message that explains it. */
export function refine<T>(field: Field<T>, ok: (value: T) => boolean, message: string): Field<T> {
  return (value, path) => {
    const read = field(value, path)
    if (!ok(read)) fail(path, message)
    return read
  }
}

export function optional<T>(field: Field<T>): Field<T | undefined> {
  return (value, path) => (value === undefined ? undefined : field(value, path))
}

/** The field, or `fallback` (a fresh copy of it each time) when the key is not set. */
export function withDefault<T>(field: Field<T>, fallback: T): Field<T> {
  return (value, path) => (value === undefined ? structuredClone(fallback) : field(value, path))
}

/**
 * A mapping with these keys and no others, so a misspelt key stops start-up with its name
 * instead of being silently ignored. Not set at all, it is all defaults.
 */
export function section<S extends Record<string, Field<unknown>>>(fields: S): Field<Values<S>> {
  return (value, path) => {
    const given = value === undefined ? {} : value
    if (!isMapping(given)) fail(path, `expected a mapping, not ${kind(given)}`)
    for (const key of Object.keys(given)) {
      if (!Object.hasOwn(fields, key)) fail(join(path, key), 'unknown key')
    }
    const out: Record<string, unknown> = {}
    for (const [key, field] of Object.entries(fields)) {
      const read = field(given[key], join(path, key))
      if (read !== undefined) out[key] = read
    }
    return out as Values<S>
  }
}
