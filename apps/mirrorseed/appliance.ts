import { Hono } from 'hono'
import { apiRoutes, adminToken } from '../../lib/api/index.ts'
import { requireRoot, withPorts, type ResolvedConfig } from '../../lib/config/index.ts'
import { openDatabase, redact, type DatabaseHandle } from '../../lib/db/index.ts'
import { backgroundFailure, backgroundFailures, log } from '../../lib/log/index.ts'
import { liveTorrents, TorrentFeed, type ReconcileSummary } from '../../lib/publish/index.ts'
import { createHttpServer, type FastRoute, type PlainPrefixRoute, type PlainRoute } from './http.ts'
import { healthRoutes, Readiness } from './health.ts'
import { PagePace } from './page-pace.ts'
import type { Role, RoleContext } from './roles/context.ts'
import { generatorRole } from './roles/generator.ts'
import { seederRole } from './roles/seeder.ts'
import { trackerRole } from './roles/tracker.ts'
import { webSeedRole } from './roles/webseed.ts'
import { startCounters } from './roles/counters.ts'
import { egressByTorrent } from './roles/egress.ts'
import { startMirrorChecks } from '../../lib/mirrors/index.ts'
import {
  applianceMetrics,
  metricsRoutes,
  rollupDaily,
  ScanTally,
  webRoutes,
  PublicCatalog,
  publicTorrentRoute,
} from '../../lib/web/index.ts'

/** How often `stats_daily` takes in the day's counters (the same node that generates). */
const rollupMs = 5 * 60_000

/** A running appliance: what `serve` starts and stops. */
export interface Appliance {
  config: ResolvedConfig
  database: DatabaseHandle
  ports: Record<string, number>
  close(): Promise<void>
}

/**
 * Starts every configured role in one process over one database. Each role adds its routes and
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
      where: config.databaseUrl ? redact(config.databaseUrl) : `${config.dataDir}/db`,
    })
    const readiness = new Readiness(database)
    await database.migrate()

    const feed = new TorrentFeed(database, root)
    await feed.listen()
    closers.push(() => feed.close())

    // Every hono route is in place before the port opens (hono freezes its router on the first
    // request); the roles then add their fast routes, and learn the ports actually bound.
    const app = new Hono()
    const fastRoutes = new Map<string, FastRoute>()
    const fastPrefixes = new Map<string, FastRoute>()
    const plainRoutes = new Map<string, PlainRoute>()
    const plainPrefixes = new Map<string, PlainPrefixRoute>()
    const pagePace = new PagePace(config.web.pagesPerSecond, config.web.pagesPerSecond * 5, {
      trustedProxies: config.tracker.trustedProxies,
    })
    const pace = (address: string, forwardedFor: () => string | undefined) =>
      pagePace.wait(address, forwardedFor)
    const services: RoleContext['services'] = {}
    const scans = new ScanTally()
    app.route('/', healthRoutes(readiness))
    if (config.roles.includes('web')) {
      // Public pages from memory, kept current by the torrent feed (no query per request).
      const catalog = new PublicCatalog(database)
      feed.subscribe(catalog.events)
      closers.push(async () => catalog.close())
      const torrentFiles = publicTorrentRoute(catalog, pace)
      fastPrefixes.set('/torrents/', torrentFiles.handle)
      plainPrefixes.set('/torrents/', torrentFiles.plain)
      app.route(
        '/',
        webRoutes({
          database,
          catalog,
          publicUrl: () => current.publicUrl,
          swarmStats: (infoHash) => services.tracker?.stats(infoHash),
          pace,
        }),
      )
      app.route(
        '/',
        metricsRoutes(
          applianceMetrics({
            database,
            tracker: () =>
              services.tracker && {
                torrents: services.tracker.torrentCount,
                peers: services.tracker.peerTotal,
              },
            seeder: () => services.seeder?.stats(),
            webSeed: () => services.webSeed?.stats(),
            egress: () => egressByTorrent(services),
            scans: () => (config.roles.includes('generator') ? scans : undefined),
            background: backgroundFailures,
          }),
        ),
      )
    }
    let rescan: ((path?: string) => Promise<ReconcileSummary>) | undefined
    let current = config
    if (config.roles.includes('api')) {
      app.route(
        '/api',
        apiRoutes({
          token: adminToken(config),
          rescan: config.roles.includes('generator')
            ? (path) => {
                if (!rescan) throw new Error('the generator is still starting')
                return rescan(path)
              }
            : undefined,
          database,
          // Known once the ports are bound and the roles started; read at request time.
          config: () => current,
        }),
      )
    }
    const server = createHttpServer(app, fastRoutes, fastPrefixes, plainRoutes, {
      maxConnections: config.httpMaxConnections,
      plainPrefixes,
      pace,
    })
    const httpPort = await server.listen(config.httpPort, config.host)
    closers.push(() => server.close())

    const context: RoleContext = {
      config: { ...withPorts(config, { http: httpPort }), root },
      database,
      app,
      fastRoutes,
      fastPrefixes,
      plainRoutes,
      readiness,
      feed,
      live: await liveTorrents(database, root),
      ports: { http: httpPort },
      services,
    }
    const roles: Array<[string, Role]> = [
      // The seeder first, the tracker next: the tracker lists the seeder by the port it got, and
      // the generator writes both into every torrent.
      ['seeder', seederRole],
      ['tracker', trackerRole],
      ['webseed', webSeedRole],
      ['generator', generatorRole(scans, (r) => (rescan = r))],
    ]
    for (const [name, role] of roles) {
      if (!config.roles.includes(name as never)) continue
      closers.push(await role(context))
      context.config = { ...withPorts(context.config, context.ports), root }
    }
    current = context.config
    closers.push(startCounters(database, context.services, config.stats.flushSeconds * 1000))
    if (config.roles.includes('generator')) {
      const rollup = setInterval(() => {
        rollupDaily(database).catch((err) => backgroundFailure('daily rollup', err))
      }, rollupMs)
      closers.push(async () => clearInterval(rollup))
      // Mirror health decides url-list, which the generator writes: the same node checks.
      const checks = startMirrorChecks({ config: context.config, database })
      closers.push(() => checks.close())
    }
    const ports = context.ports
    log.info('listening', {
      http: `${config.host}:${httpPort}`,
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
