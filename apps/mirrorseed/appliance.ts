import { Hono } from 'hono'
import type { ResolvedConfig } from '../../lib/config/index.ts'
import { openDatabase, redact, type DatabaseHandle } from '../../lib/db/index.ts'
import { log } from '../../lib/log/index.ts'
import { closeGracefully, createHttpServer, listen, type FastRoute } from './http.ts'
import { healthRoutes, Readiness } from './health.ts'

/** A running appliance: what `serve` starts and stops. */
export interface Appliance {
  config: ResolvedConfig
  database: DatabaseHandle
  httpPort: number
  close(): Promise<void>
}

/**
 * Starts every configured role in one process over one database. Roles plug in here: each adds
 * its routes to `app` (or a fast route), and pushes its own `close` onto `closers`, which run in
 * reverse order so nothing is closed while something started after it still uses it.
 */
export async function startAppliance(config: ResolvedConfig): Promise<Appliance> {
  const closers: Array<() => Promise<void>> = []
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close()
      } catch (err) {
        log.error('shutdown step failed', { error: err })
      }
    }
  }

  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir })
  closers.push(() => database.close())
  try {
    log.info('database', {
      kind: database.kind,
      where: config.databaseUrl ? redact(config.databaseUrl) : `${config.dataDir}/db`,
    })
    const readiness = new Readiness(database)
    readiness.require('migrations')
    await database.migrate()
    readiness.done('migrations')

    const app = new Hono()
    const fastRoutes = new Map<string, FastRoute>()
    app.route('/', healthRoutes(readiness))

    const server = createHttpServer(app, fastRoutes)
    const httpPort = await listen(server, config.httpPort, config.host)
    closers.push(() => closeGracefully(server))
    log.info('listening', { http: `${config.host}:${httpPort}`, public: config.publicUrl })

    return { config, database, httpPort, close: closeAll }
  } catch (err) {
    await closeAll()
    throw err
  }
}
