import type { Hono } from 'hono'
import type { ResolvedConfig } from '../../../lib/config/index.ts'
import type { DatabaseHandle } from '../../../lib/db/index.ts'
import type { LiveTorrent, ReconcileSummary, TorrentFeed } from '../../../lib/publish/index.ts'
import type { Seeder } from '../../../lib/peer/index.ts'
import type { Tracker } from '../../../lib/tracker/index.ts'
import type { Readiness, ScanTally } from '../../../lib/web/index.ts'
import type { WebSeed } from '../../../lib/webseed/index.ts'
import type { FastRoute, PlainPrefixRoute, PlainRoute } from '../../../lib/http/index.ts'

/** What every role is started with; each returns its own `close`. */
export interface RoleContext {
  /** With the ports actually bound once they are (roles started before then read it later). */
  config: ResolvedConfig & { root: string }
  database: DatabaseHandle
  app: Hono
  /** Exact paths answered before hono (announce, scrape). */
  fastRoutes: Map<string, FastRoute>
  /** Exact paths answered off the socket with a 200 text/plain body (announce, scrape). */
  plainRoutes: Map<string, PlainRoute>
  /** Path prefixes answered off the socket from prepared answers (`.torrent` files). */
  plainPrefixes: Map<string, PlainPrefixRoute>
  /** ms a public page request from this address waits (lib/http, PagePace); 0: answer now. */
  pace: (address: string, forwardedFor: () => string | undefined) => number
  /** Path prefixes answered before hono (the web seed). */
  fastPrefixes: Map<string, FastRoute>
  readiness: Readiness
  feed: TorrentFeed
  /** The torrents in the database when the appliance started. */
  live: LiveTorrent[]
  /** The ports the roles actually bound. */
  ports: Record<string, number>
  /** The running parts, for the counters, pages, metrics and API that read them. */
  services: {
    tracker?: Tracker
    seeder?: Seeder
    webSeed?: WebSeed
    /** One reconcile pass (of a folder relative to the root), once the generator runs. */
    rescan?: (path?: string) => Promise<ReconcileSummary>
  }
  /** The generator's scans, as `/metrics` reports them. */
  scans: ScanTally
}

export type Role = (context: RoleContext) => Promise<() => Promise<void>>
