import { Hono, type Context, type Next } from 'hono'
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { DatabaseHandle } from '../db/index.ts'
import { log } from '../log/index.ts'
import { PublicCatalog } from './public-catalog.ts'
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
   * What the pages show, in memory (see {@link PublicCatalog}); one is made from `database` when
   * none is given. `serve` passes the one its torrent feed keeps current.
   */
  catalog?: PublicCatalog
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
   * How long a rendered `/` is shared by every request (default 2000 ms; 0 renders each
   * request), for its live swarm counts. Swarm counts a second or two old are fine on a page.
   */
  cacheMs?: number
  /**
   * ms a public page request from this address must wait first (0: none), so one client in a
   * loop cannot take the event loop from the tracker and the seeder; no pacing when unset.
   */
  pace?: Pace
}

/** ms a request from `address` must wait (see WebOptions.pace); `forwardedFor` read if needed. */
export type Pace = (address: string, forwardedFor: () => string | undefined) => number

function forwardedFor(req: IncomingMessage): () => string | undefined {
  return () => {
    const header = req.headers['x-forwarded-for']
    return Array.isArray(header) ? header.join(',') : header
  }
}

/**
 * The public pages: `GET /` (index), `GET /torrents/<release dir>/<name>.torrent`,
 * `GET /feed.xml` (RSS 2.0) and `GET /metalink/<release dir>/<name>.meta4` (RFC 5854). Every
 * answer comes from the in-memory {@link PublicCatalog}, never a database query per request;
 * nothing needs JavaScript.
 *
 * @example
 * app.route('/', webRoutes({ database, publicUrl: () => config.publicUrl, swarmStats: (h) => tracker?.stats(h) }))
 */
export function webRoutes(options: WebOptions): Hono {
  const catalog = options.catalog ?? new PublicCatalog(options.database)
  const publicUrl = () =>
    (typeof options.publicUrl === 'function' ? options.publicUrl() : options.publicUrl).replace(
      /\/+$/,
      '',
    )

  const app = new Hono()
  app.onError(async (err, c) => {
    // Never a stack trace to the public: say what is wrong, briefly. Blame the database only when
    // it does not answer now; anything else is our fault, and the log says what it was.
    const down = await options.database.ping().then(
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
  // The very first requests wait for the first load, and a request right after a publish for the
  // reload that shows it (PublicCatalog.current); any other is answered from memory at once.
  app.use(async (_c, next) => {
    await catalog.ready
    const behind = catalog.current()
    if (behind) await behind
    await next()
  })

  const pace = options.pace
  if (pace) {
    const paced = async (c: Context, next: Next) => {
      const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
      const address = incoming?.socket.remoteAddress ?? ''
      const forwarded = () => c.req.header('x-forwarded-for')
      for (let ms = pace(address, forwarded); ms > 0; ms = pace(address, forwarded))
        await new Promise((r) => setTimeout(r, ms))
      await next()
    }
    for (const path of ['/', '/feed.xml', '/metalink/*', '/torrents/*']) app.use(path, paced)
  }

  const cacheMs = options.cacheMs ?? 2000

  const index = new Snapshot(cacheMs, async () => {
    const byDir = new Map<string, TorrentView[]>()
    const profiles = new Map<string, string | null>()
    const ordered = [...catalog.torrents].sort(
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
        magnet: t.magnet,
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
      mirrors: [...catalog.mirrors],
    }
    return `<!doctype html>${(<IndexPage view={view} />).toString()}`
  })
  app.get('/', async (c) => {
    c.header('Cache-Control', 'no-cache')
    return c.html(await index.get())
  })

  const torrentFile = publicTorrentRoute(catalog)
  app.get('/torrents/*', (c) => {
    const answer = torrentFile.answer(rawPath(c.req.url))
    return c.body(answer.body, answer.status, answer.headers)
  })

  // Metalinks rendered once per catalog version and base URL, then kept (bounded).
  const metalinks = new Map<string, string>()
  let metalinksOf = -1
  app.get('/metalink/*', (c) => {
    const where = parseReleasePath(rawPath(c.req.url), '/metalink', '.meta4')
    const t = where && catalog.get(where.releaseDir, where.name)
    if (!where || !t) return c.text('not found\n', 404)
    const base = publicUrl()
    if (metalinksOf !== catalog.version || metalinks.size > 10_000) metalinks.clear()
    metalinksOf = catalog.version
    const id = `${base}\0${t.id}`
    let body = metalinks.get(id)
    if (body === undefined) {
      body = renderMetalink({
        torrent: t.torrent,
        releaseDir: where.releaseDir,
        sha256: t.sha256,
        torrentUrl: `${base}/torrents/${encodeSegments(where.releaseDir, `${where.name}.torrent`)}`,
        selfUrl: `${base}/metalink/${encodeSegments(where.releaseDir, `${where.name}.meta4`)}`,
        published: t.createdAt,
      })
      metalinks.set(id, body)
    }
    // RFC 5854 section 7: the media type of Metalink 4 documents.
    return c.body(body, 200, {
      'Content-Type': 'application/metalink4+xml; charset=utf-8',
      'Content-Disposition': attachment(`${where.name}.meta4`),
    })
  })

  // The feed changes only with the catalog (no live counts in it): rendered once per version.
  let feed = { version: -1, base: '', body: '' }
  app.get('/feed.xml', (c) => {
    const base = publicUrl()
    if (feed.version !== catalog.version || feed.base !== base) {
      const torrents = catalog.torrents.slice(0, options.feedItems ?? 100)
      const body = renderFeed(
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
          torrentLength: t.metainfo.length,
          magnet: t.magnet,
          published: t.createdAt,
        })),
      )
      feed = { version: catalog.version, base, body }
    }
    return c.body(feed.body, 200, {
      'Content-Type': 'application/rss+xml; charset=utf-8',
      'Cache-Control': 'no-cache',
    })
  })

  return app
}

/**
 * `GET /torrents/<release dir>/<name>.torrent` from memory, as a plain `node:http` handler too,
 * so `serve` answers it before hono builds a Request (the most requested public file on a
 * release day; `npm run bench:web` measures it beside nginx).
 */
export function publicTorrentRoute(catalog: PublicCatalog, pace?: Pace) {
  const notFound = {
    status: 404 as const,
    body: 'not found\n',
    headers: { 'Content-Type': 'text/plain; charset=UTF-8' },
  }
  const answer = (path: string) => {
    const where = parseReleasePath(path, '/torrents', '.torrent')
    const t = where && catalog.get(where.releaseDir, where.name)
    if (!where || !t) return notFound
    return {
      status: 200 as const,
      body: t.body,
      headers: {
        'Content-Type': 'application/x-bittorrent',
        'Content-Disposition': attachment(`${where.name}.torrent`),
        'Cache-Control': 'no-cache',
      },
    }
  }
  // Hot path (bench:web, beside nginx): each answer's status, headers and body are prepared once
  // per raw path and catalog version, so a request is one Map lookup and one write.
  type Prepared = {
    status: number
    headers: Record<string, string | number>
    body: Uint8Array | string
    /** For the plain path: the status line and headers as bytes, made on first use. */
    plain?: { head: Buffer; body: Uint8Array }
  }
  let prepared = new Map<string, Prepared>()
  let preparedOf = -1
  const prepare = (path: string): Prepared => {
    if (preparedOf !== catalog.version || prepared.size > 20_000) {
      prepared = new Map()
      preparedOf = catalog.version
    }
    let p = prepared.get(path)
    if (!p) {
      const a = answer(path)
      const headers = { ...a.headers, 'Content-Length': Buffer.byteLength(a.body) }
      p = { status: a.status, headers, body: a.body }
      prepared.set(path, p)
    }
    return p
  }
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const wait = pace?.(req.socket.remoteAddress ?? '', forwardedFor(req)) ?? 0
    if (wait > 0) return void setTimeout(() => handle(req, res), wait)
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const reply = (): void => {
      const p = prepare(q === -1 ? url : url.slice(0, q))
      res.writeHead(p.status, p.headers)
      res.end(req.method === 'HEAD' ? undefined : p.body)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 })
      res.end()
    } else if (catalog.loaded) {
      const behind = catalog.current()
      if (behind) void behind.then(reply)
      else reply()
    } else
      catalog.ready.then(reply, () => {
        res.writeHead(503, { 'Retry-After': '30', 'Content-Length': 0 })
        res.end()
      })
  }
  /**
   * The same answers for `serve`'s plain path (lib/http/plain-http.ts), read off the
   * socket without node:http: status line, headers and body prepared once, one write per request.
   * This is what brings `.torrent` downloads near nginx in `npm run bench:web`. Null (node:http
   * answers) until the catalog's first load, and while it owes a reload to a publish.
   */
  const plain = (target: string): { head: Buffer; body: Uint8Array } | null => {
    // Before the first load, or with a reload owed to a publish, node:http answers (and waits).
    if (!catalog.loaded || catalog.behind) return null
    const q = target.indexOf('?')
    const p = prepare(q === -1 ? target : target.slice(0, q))
    if (!p.plain) {
      let head = `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? ''}\r\n`
      for (const [name, value] of Object.entries(p.headers)) head += `${name}: ${value}\r\n`
      const body = typeof p.body === 'string' ? Buffer.from(p.body) : p.body
      p.plain = { head: Buffer.from(head, 'latin1'), body }
    }
    return p.plain
  }
  return { answer, handle, plain }
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
