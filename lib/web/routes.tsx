import { Hono } from 'hono'
import type { DatabaseHandle } from '../db/index.ts'
import { log } from '../log/index.ts'
import { magnetLink, parseTorrent } from '../metainfo/index.ts'
import {
  activeTorrent,
  activeTorrents,
  fileDigests,
  metainfoOf,
  mirrorHealth,
  type CatalogTorrent,
} from './catalog.ts'
import { renderFeed } from './feed.ts'
import { IndexPage, type IndexView, type TorrentView } from './index-page.tsx'
import { renderMetalink } from './metalink.ts'
import { parseReleasePath } from './paths.ts'
import { Snapshot } from './snapshot.ts'
import { encodeSegments } from './xml.ts'

/** What the tracker knows of one swarm (the shape of `Tracker.stats`). */
export interface SwarmCounts {
  /** Seeders, our own seeder included. */
  complete: number
  incomplete: number
  downloaded: number
}

export interface WebOptions {
  database: DatabaseHandle
  /**
   * Base URL clients reach this node at, no trailing `/`. A function when it is known only once
   * the HTTP port is bound (`--http-port 0`); it is read per request.
   */
  publicUrl: string | (() => string)
  /** Live swarm counts when this node runs the tracker; seeds and peers show as "–" without. */
  swarmStats?: (infoHash: string) => SwarmCounts | undefined
  /** Items in `/feed.xml`. */
  feedItems?: number
  /**
   * How long a rendered `/` and `/feed.xml` are shared by every request (default 2000 ms;
   * 0 renders each request). Swarm counts a second or two old are fine on a public page.
   */
  cacheMs?: number
}

/**
 * The public pages: `GET /` (index), `GET /torrents/<release dir>/<name>.torrent`,
 * `GET /feed.xml` (RSS 2.0) and `GET /metalink/<release dir>/<name>.meta4` (RFC 5854). Every
 * answer is server-rendered from the database; nothing needs JavaScript.
 *
 * @example
 * app.route('/', webRoutes({ database, publicUrl: () => config.publicUrl, swarmStats: (h) => tracker?.stats(h) }))
 */
export function webRoutes(options: WebOptions): Hono {
  const { database } = options
  const publicUrl = () =>
    (typeof options.publicUrl === 'function' ? options.publicUrl() : options.publicUrl).replace(
      /\/+$/,
      '',
    )
  const magnets = new MagnetCache(database)

  const app = new Hono()
  app.onError(async (err, c) => {
    // Never a stack trace to the public: say what is wrong, briefly. Blame the database only when
    // it does not answer now; anything else is our fault, and the log says what it was.
    const down = await database.ping().then(
      () => false,
      () => true,
    )
    if (down) {
      log.warn('public page failed', { path: c.req.path, error: err })
      return c.text('temporarily unavailable: the database did not answer\n', 503, {
        'Retry-After': '30',
      })
    }
    log.error('public page failed', { path: c.req.path, error: err })
    return c.text('internal error: this page could not be built\n', 500)
  })

  const cacheMs = options.cacheMs ?? 2000

  const index = new Snapshot(cacheMs, async () => {
    const [torrents, mirrors] = await Promise.all([
      activeTorrents(database),
      mirrorHealth(database),
    ])
    const magnet = await magnets.of(torrents)
    const byDir = new Map<string, TorrentView[]>()
    const profiles = new Map<string, string | null>()
    const ordered = [...torrents].sort(
      (a, b) => compare(a.releaseDir, b.releaseDir) || compare(a.name, b.name),
    )
    for (const t of ordered) {
      const swarm = options.swarmStats?.(t.infoHash)
      const view: TorrentView = {
        infoHash: t.infoHash,
        name: t.name,
        size: t.size,
        files: t.files,
        seeds: swarm ? swarm.complete : null,
        peers: swarm ? swarm.incomplete : null,
        // The tracker counts completions at once and flushes them in batches: the larger wins.
        completed: Math.max(t.completed, swarm?.downloaded ?? 0),
        originBytes: t.originBytes,
        torrentHref: `/torrents/${encodeSegments(t.releaseDir, `${t.name}.torrent`)}`,
        metalinkHref: `/metalink/${encodeSegments(t.releaseDir, `${t.name}.meta4`)}`,
        magnet: magnet.get(t.id) ?? '',
      }
      const group = byDir.get(t.releaseDir) ?? []
      group.push(view)
      byDir.set(t.releaseDir, group)
      profiles.set(t.releaseDir, t.profile)
    }
    const view: IndexView = {
      groups: [...byDir].map(([releaseDir, torrents]) => ({
        releaseDir,
        profile: profiles.get(releaseDir) ?? null,
        torrents,
      })),
      mirrors,
    }
    return `<!doctype html>${(<IndexPage view={view} />).toString()}`
  })
  app.get('/', async (c) => {
    c.header('Cache-Control', 'no-cache')
    return c.html(await index.get())
  })

  app.get('/torrents/*', async (c) => {
    const where = parseReleasePath(rawPath(c.req.url), '/torrents', '.torrent')
    const row = where && (await activeTorrent(database, where.releaseDir, where.name))
    if (!where || !row) return c.text('not found\n', 404)
    return c.body(new Uint8Array(row.metainfo), 200, {
      'Content-Type': 'application/x-bittorrent',
      'Content-Disposition': attachment(`${where.name}.torrent`),
      'Cache-Control': 'no-cache',
    })
  })

  app.get('/metalink/*', async (c) => {
    const where = parseReleasePath(rawPath(c.req.url), '/metalink', '.meta4')
    const row = where && (await activeTorrent(database, where.releaseDir, where.name))
    if (!where || !row) return c.text('not found\n', 404)
    const base = publicUrl()
    const body = renderMetalink({
      torrent: parseTorrent(row.metainfo),
      releaseDir: where.releaseDir,
      sha256: await fileDigests(database, row.id),
      torrentUrl: `${base}/torrents/${encodeSegments(where.releaseDir, `${where.name}.torrent`)}`,
      selfUrl: `${base}/metalink/${encodeSegments(where.releaseDir, `${where.name}.meta4`)}`,
      published: row.createdAt,
    })
    // RFC 5854 section 7: the media type of Metalink 4 documents.
    return c.body(body, 200, {
      'Content-Type': 'application/metalink4+xml; charset=utf-8',
      'Content-Disposition': attachment(`${where.name}.meta4`),
    })
  })

  const feed = new Snapshot(cacheMs, async () => {
    const base = publicUrl()
    const torrents = (await activeTorrents(database)).slice(0, options.feedItems ?? 100)
    const magnet = await magnets.of(torrents)
    return renderFeed(
      {
        title: 'mirrorseed: new release torrents',
        link: `${base}/`,
        selfUrl: `${base}/feed.xml`,
        description: 'Torrents of release artifacts, newest first, as they are published.',
      },
      torrents.map((t) => ({
        infoHash: t.infoHash,
        name: t.name,
        releaseDir: t.releaseDir,
        size: t.size,
        torrentUrl: `${base}/torrents/${encodeSegments(t.releaseDir, `${t.name}.torrent`)}`,
        torrentLength: t.metainfoLength,
        magnet: magnet.get(t.id) ?? '',
        published: t.createdAt,
      })),
    )
  })
  app.get('/feed.xml', async (c) => {
    const body = await feed.get()
    return c.body(body, 200, {
      'Content-Type': 'application/rss+xml; charset=utf-8',
      'Cache-Control': 'no-cache',
    })
  })

  return app
}

/** The path as the client sent it, before any decoding: `parseReleasePath` decodes it once. */
function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3)
  const end = url.search(/[?#]/)
  return start === -1 ? '/' : url.slice(start, end === -1 ? undefined : end)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** RFC 6266: an ASCII fallback name and the exact one in RFC 5987 encoding. */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}

/**
 * Magnet links by torrent, rebuilt only when the stored `.torrent` changes (a new `url-list`
 * after a mirror comes or goes), so a page view neither reads nor parses every torrent again.
 */
class MagnetCache {
  private readonly entries = new Map<number, { version: string; magnet: string }>()

  constructor(private readonly database: DatabaseHandle) {}

  async of(torrents: readonly CatalogTorrent[]): Promise<Map<number, string>> {
    const stale = torrents.filter((t) => this.entries.get(t.id)?.version !== t.metainfoVersion)
    if (stale.length > 0) {
      const metainfo = await metainfoOf(
        this.database,
        stale.map((t) => t.id),
      )
      if (this.entries.size + stale.length > 10_000) this.entries.clear()
      for (const t of stale) {
        const bytes = metainfo.get(t.id)
        if (!bytes) continue
        this.entries.set(t.id, {
          version: t.metainfoVersion,
          magnet: magnetLink(parseTorrent(bytes)),
        })
      }
    }
    const out = new Map<number, string>()
    for (const t of torrents) {
      // A row rewritten between the two queries keeps the magnet of either version: both work.
      const entry = this.entries.get(t.id)
      if (entry) out.set(t.id, entry.magnet)
    }
    return out
  }
}
