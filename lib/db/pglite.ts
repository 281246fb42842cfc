import { PGlite } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { migrate } from 'drizzle-orm/pglite/migrator'
import { lockDataDir } from './lock.ts'
import { migrationsFolder, type DatabaseHandle } from './handle.ts'
import * as schema from './schema.ts'

/**
 * The embedded default: PGlite (Postgres compiled to WebAssembly) in `<dataDir>/db`.
 * Every query runs on the main thread and blocks the event loop while it runs, so hot paths
 * (announce, piece serving) must never wait on it; they batch and flush on timers instead.
 */
export async function openPglite(dataDir: string): Promise<DatabaseHandle> {
  const release = lockDataDir(dataDir)
  let client: PGlite
  try {
    client = await PGlite.create(`${dataDir}/db`, {
      // Postgres's default 128 MB of shared buffers is allocated in the WebAssembly heap up
      // front; the appliance's tables are a few MB and the OS caches the files behind them.
      // 16 MB takes serve's resident memory from ~400 to ~280 MB (bench/tracker.ts).
      postgresqlconf: ['shared_buffers = 16MB'],
    })
  } catch (err) {
    release()
    throw err
  }
  const db = drizzle({ client, schema })
  let queue: Promise<unknown> = Promise.resolve()
  return {
    kind: 'pglite',
    db,
    async ping() {
      await client.query('select 1')
    },
    async migrate() {
      await migrate(db, { migrationsFolder })
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
