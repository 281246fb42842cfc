import postgres from 'postgres'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import type { DatabaseHandle } from './handle.ts'
import { migrationsFolder, upToDate } from './migrations.ts'
import * as schema from './schema.ts'

/** A Postgres server through the `postgres` driver: what several nodes share. */
export async function openPostgres(url: string): Promise<DatabaseHandle> {
  const client = postgres(url, {
    max: 10,
    onnotice: () => {},
    // Fail fast when the server is away instead of queueing forever; callers retry.
    connect_timeout: 10,
  })
  const db = drizzle({ client, schema })
  /** A session lock lives on one connection: reserve one for the whole critical section. */
  const exclusive: DatabaseHandle['exclusive'] = async (name, fn) => {
    const connection = await client.reserve()
    try {
      await connection`select pg_advisory_lock(hashtext(${name}))`
      try {
        return await fn()
      } finally {
        await connection`select pg_advisory_unlock(hashtext(${name}))`
      }
    } finally {
      connection.release()
    }
  }
  return {
    kind: 'postgres',
    db,
    async ping() {
      await client`select 1`
    },
    async migrate() {
      if (await upToDate(async (sql) => (await client.unsafe(sql))[0])) return
      // Several nodes may start at once on one database: one migrates, the others wait and
      // then find nothing left to do.
      await exclusive('mirrorseed:migrate', () => migrate(db, { migrationsFolder }))
    },
    async listen(channel, onPayload) {
      const { unlisten } = await client.listen(channel, onPayload)
      return unlisten
    },
    async notify(channel, payload) {
      await client.notify(channel, payload)
    },
    exclusive,
    async close() {
      await client.end({ timeout: 5 })
    },
  }
}
