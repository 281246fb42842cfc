import { Hono } from 'hono'
import {
  requireRoot,
  withPorts,
  type ResolvedConfig,
  type Role as RoleName,
} from '../../lib/config/index.ts'
import { embeddedFolder, openDatabase, redact, type DatabaseHandle } from '../../lib/db/index.ts'
import { log } from '../../lib/log/index.ts'
import { liveTorrents, TorrentFeed } from '../../lib/publish/index.ts'
import { healthRoutes, Readiness, ScanTally } from '../../lib/web/index.ts'
import { createHttpServer, PagePace } from '../../lib/http/index.ts'
import { apiRole } from './roles/api.ts'
import type { Role, RoleContext } from './roles/context.ts'
import { countersRole } from './roles/counters.ts'
import { generatorRole } from './roles/generator.ts'
import { metricsRole } from './roles/metrics.ts'
import { mirrorChecksRole } from './roles/mirror-checks.ts'
import { rollupRole } from './roles/rollup.ts'
import { seederRole } from './roles/seeder.ts'
import { trackerRole } from './roles/tracker.ts'
import { webRole } from './roles/web.ts'
import { webSeedRole } from './roles/webseed.ts'

/** A running appliance: what `serve` starts and stops. */
export interface Appliance {
  config: ResolvedConfig
  database: DatabaseHandle
  ports: Record<string, number>
  close(): Promise<void>
}

/** A part of the appliance and the configured role it runs under (`always`: every node). */
type Part = [RoleName | 'always', Role]

/**
 * Parts that only add hono routes: they start before the port opens, since hono freezes its
 * router on the first request. They read the bound ports from the context at request time.
 */
const routes: Part[] = [
  ['web', webRole],
  ['web', metricsRole],
  ['api', apiRole],
]

/** Parts that start once the HTTP port is bound, in this order. */
const services: Part[] = [
  // The seeder first, the tracker next: the tracker lists the seeder by the port it got, and
  // the generator writes both into every torrent.
  ['seeder', seederRole],
  ['tracker', trackerRole],
  ['webseed', webSeedRole],
  ['generator', generatorRole],
  // Counters of whatever runs here, into `torrent_stats`.
  ['always', countersRole],
  ['generator', rollupRole],
  // Mirror health decides url-list, which the generator writes: the same node checks.
  ['generator', mirrorChecksRole],
]

/**
 * Starts every configured role in one process over one database. Each part adds its routes and
 * listens to the torrent feed, and returns its `close`; closing runs in reverse order, so nothing
 * is closed while something started after it still uses it.
 */
export async function startAppliance(config: ResolvedConfig): Promise<Appliance> {
  const root = requireRoot(config)
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
      where: config.databaseUrl ? redact(config.databaseUrl) : embeddedFolder(config.dataDir),
    })
    const readiness = new Readiness(database)
    await database.migrate()

    const feed = new TorrentFeed(database, root)
    await feed.listen()
    closers.push(() => feed.close())

    // Public pages are paced per address: a client in a loop waits its turn (lib/http, PagePace).
    const pagePace = new PagePace(config.web.pagesPerSecond, config.web.pagesPerSecond * 5, {
      trustedProxies: config.tracker.trustedProxies,
    })
    const context: RoleContext = {
      config: { ...config, root },
      database,
      app: new Hono().route('/', healthRoutes(readiness)),
      fastRoutes: new Map(),
      fastPrefixes: new Map(),
      plainRoutes: new Map(),
      plainPrefixes: new Map(),
      pace: (address, forwardedFor) => pagePace.wait(address, forwardedFor),
      readiness,
      feed,
      live: await liveTorrents(database, root),
      ports: {},
      services: {},
      scans: new ScanTally(),
    }
    const start = async (parts: Part[]) => {
      for (const [role, part] of parts) {
        if (role !== 'always' && !config.roles.includes(role)) continue
        closers.push(await part(context))
        context.config = { ...withPorts(context.config, context.ports), root }
      }
    }

    await start(routes)
    const server = createHttpServer(
      context.app,
      context.fastRoutes,
      context.fastPrefixes,
      context.plainRoutes,
      {
        maxConnections: config.httpMaxConnections,
        plainPrefixes: context.plainPrefixes,
        pace: context.pace,
      },
    )
    context.ports.http = await server.listen(config.httpPort, config.host)
    closers.push(() => server.close())
    context.config = { ...withPorts(context.config, context.ports), root }
    await start(services)

    const { ports } = context
    log.info('listening', {
      http: `${config.host}:${ports.http}`,
      udp: ports.udp,
      peer: ports.peer,
      public: context.config.publicUrl,
    })
    return { config: context.config, database, ports, close: closeAll }
  } catch (err) {
    await closeAll()
    throw err
  }
}
