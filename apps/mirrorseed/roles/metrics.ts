import { backgroundFailures } from '../../../lib/log/index.ts'
import { applianceMetrics, metricsRoutes } from '../../../lib/web/index.ts'
import type { Role } from './context.ts'
import { egressByTorrent } from '../../../lib/stats/index.ts'

/** `/metrics` (Prometheus text): what each running part counts, read at scrape time. */
export const metricsRole: Role = async ({ config, database, app, services, scans }) => {
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
  return async () => {}
}
