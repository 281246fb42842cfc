import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url))

/** When the newest migration this build ships was made: the last entry of drizzle's journal. */
export function newestMigration(folder = migrationsFolder): number {
  const journal = JSON.parse(readFileSync(`${folder}/meta/_journal.json`, 'utf8')) as {
    entries: Array<{ when: number }>
  }
  return Math.max(0, ...journal.entries.map((entry) => entry.when))
}

/** One row of a query, by whichever driver: `undefined` when there is none. */
export type FirstRow = (sql: string) => Promise<Record<string, unknown> | undefined>

/**
 * Whether a database has every migration of this build already, by the rule drizzle's migrator
 * itself applies (a migration runs when it is newer than the newest one it recorded), read with
 * two small queries. Every `scan` opens the database and migrates: the migrator's own way (create
 * its schema and table if missing, read and hash every migration file, then an empty transaction)
 * took ~50 ms of a rescan's start (bench/scan.ts). A new database has no bookkeeping table: "no",
 * without a failed query in the server's log.
 */
export async function upToDate(firstRow: FirstRow): Promise<boolean> {
  const table = await firstRow(
    "select to_regclass('drizzle.__drizzle_migrations') is not null as present",
  )
  if (table?.present !== true) return false
  const newest = await firstRow(
    'select max(created_at) as applied from drizzle.__drizzle_migrations',
  )
  return newest?.applied != null && Number(newest.applied) >= newestMigration()
}
