import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type * as schema from './schema.ts'

/** Drizzle over either driver; queries are written once against this type. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>

/**
 * The rows of a raw `db.execute(sql…)`, whichever driver ran it: PGlite answers `{ rows }`,
 * postgres.js the rows themselves (an array).
 */
export function rowsOf<Row>(result: unknown): Row[] {
  return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[]
}

/**
 * One open database, PGlite or Postgres: the same operations with the same names, so the rest
 * of the program never asks which one it has.
 */
/** Where the embedded database lives in a data folder. */
export function embeddedFolder(dataDir: string): string {
  return `${dataDir}/db`
}

export interface DatabaseHandle {
  kind: 'pglite' | 'postgres'
  db: Database
  /** Throws when the database does not answer. */
  ping(): Promise<void>
  /** Applies the SQL in `migrations/` that has not been applied yet. */
  migrate(): Promise<void>
  /** Postgres LISTEN; resolves to the function that stops listening. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>
  notify(channel: string, payload: string): Promise<void>
  /**
   * Runs `fn` while holding the Postgres advisory lock `name`: one holder at a time across every
   * process on this database (several generator nodes), waiting for the lock if another has it.
   */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>
  close(): Promise<void>
}
