import { PGlite, type PGliteOptions } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { WasmModule } from './pglite-wasm.ts'
import { embeddedFolder, type DatabaseHandle } from './handle.ts'
import { migrationsFolder, upToDate } from './migrations.ts'
import * as schema from './schema.ts'
import { packTar, zeroDeadWal } from './template.ts'

const options: PGliteOptions = {
  // Postgres's default 128 MB of shared buffers is allocated in the WebAssembly heap up
  // front; the appliance's tables are a few MB and the OS caches the files behind them.
  // 16 MB took serve's resident memory from ~400 to ~280 MB (bench/tracker.ts; since then the
  // baseline compiler took it to ~205 MB, docs/performance.md).
  postgresqlconf: ['shared_buffers = 16MB'],
}

type Row = Record<string, unknown>

/** drizzle's migrator, loaded only when there is something to migrate. */
async function migrate(db: ReturnType<typeof drizzle<typeof schema>>): Promise<void> {
  const { migrate } = await import('drizzle-orm/pglite/migrator')
  await migrate(db, { migrationsFolder })
}

/**
 * Writes an empty database with this build's schema (every migration applied) as a gzipped tar
 * to `file`: what the build ships so that a new data folder starts from it instead of running
 * initdb and every migration at first start (see template.ts). A later build's migrations still
 * apply on top, as on any database.
 */
export async function makeTemplate(file: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mirrorseed-template-'))
  try {
    const client = await PGlite.create(join(dir, 'db'), options)
    await migrate(drizzle({ client, schema }))
    // initdb's template databases are never used here (the appliance runs no CREATE DATABASE),
    // yet they were 602 of the template's 1,033 files and 14 of its 40 MB, written out at every
    // first start (see template.ts).
    for (const name of ['template0', 'template1']) {
      await client.exec(`ALTER DATABASE ${name} IS_TEMPLATE false`)
      await client.exec(`DROP DATABASE ${name}`)
    }
    // Shut down cleanly before packing: a copy of the running database (PGlite's dumpDataDir)
    // makes every first start run crash recovery (see packTar).
    await client.close()
    zeroDeadWal(join(dir, 'db'))
    writeFileSync(file, gzipSync(packTar(join(dir, 'db')), { level: 9 }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The embedded default: PGlite (Postgres compiled to WebAssembly) in `<dataDir>/db`, which the
 * caller has locked (`release` unlocks it, at close) and filled from the template if new (see
 * open.ts). Every query runs on the main thread and blocks the event loop while it runs, so hot
 * paths (announce, piece serving) must never wait on it; they batch and flush on timers instead.
 */
export async function openPglite(
  dataDir: string,
  wasm: Promise<WasmModule>,
  release: () => void,
): Promise<DatabaseHandle> {
  const client = await PGlite.create(embeddedFolder(dataDir), {
    ...options,
    pgliteWasmModule: await wasm,
  })
  const db = drizzle({ client, schema })
  let queue: Promise<unknown> = Promise.resolve()
  return {
    kind: 'pglite',
    db,
    async ping() {
      await client.query('select 1')
    },
    async migrate() {
      if (await upToDate(async (sql) => (await client.query<Row>(sql)).rows[0])) return
      await migrate(db)
    },
    async listen(channel, onPayload) {
      return client.listen(channel, onPayload)
    },
    async notify(channel, payload) {
      await client.query('select pg_notify($1, $2)', [channel, payload])
    },
    async exclusive(name, fn) {
      // One process owns a PGlite folder (the lock file), so queueing in-process is enough.
      const run = queue.then(fn, fn)
      queue = run.catch(() => {})
      return run
    },
    async close() {
      await client.close()
      release()
    },
  }
}
