import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { openDatabase, type DatabaseHandle } from '../lib/db/index.ts'

/** The server DB tests run against: `DATABASE_URL`, else the local one CI starts. */
export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function reachable(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await sql`select 1`
    return true
  } catch {
    return false
  } finally {
    await sql.end({ timeout: 1 })
  }
}

const postgresUp = await reachable(postgresUrl)
if (!postgresUp && process.env.CI === 'true') {
  throw new Error(
    `Postgres at ${postgresUrl} is not reachable, and CI=true requires it (see .ci/run)`,
  )
}

export interface TestDatabase {
  /** Opens a fresh database of this kind, migrated unless asked not to; `close` drops it. */
  open(options?: { migrate?: boolean }): Promise<DatabaseHandle & { url?: string; dataDir: string }>
}

/**
 * Every DB test runs once per kind: the embedded PGlite always, and real Postgres when it is
 * reachable (always in CI). Each `open()` gets its own database, so test files never share rows.
 *
 * @example
 * describe.each(databaseKinds)('torrents on %s', (_name, kind) => { … await kind.open() … })
 */
export const databaseKinds: Array<[string, TestDatabase]> = [
  [
    'pglite',
    {
      async open({ migrate = true } = {}) {
        const dataDir = mkdtempSync(join(tmpdir(), 'mirrorseed-db-'))
        const handle = await openDatabase({ dataDir })
        if (migrate) await handle.migrate()
        return {
          ...handle,
          dataDir,
          async close() {
            await handle.close()
            rmSync(dataDir, { recursive: true, force: true })
          },
        }
      },
    },
  ],
]

if (postgresUp) {
  databaseKinds.push([
    'postgres',
    {
      async open({ migrate = true } = {}) {
        const name = `mirrorseed_test_${randomBytes(6).toString('hex')}`
        const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} })
        await admin.unsafe(`create database ${name}`)
        const url = new URL(postgresUrl)
        url.pathname = `/${name}`
        const handle = await openDatabase({ url: url.toString(), dataDir: tmpdir() })
        if (migrate) await handle.migrate()
        return {
          ...handle,
          url: url.toString(),
          dataDir: tmpdir(),
          async close() {
            await handle.close()
            await admin.unsafe(`drop database if exists ${name} with (force)`)
            await admin.end({ timeout: 1 })
          },
        }
      },
    },
  ])
} else {
  console.warn(`Postgres DB tests skipped: nothing answers at ${postgresUrl}`)
}
