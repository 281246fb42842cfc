import fs from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { log } from '../log/index.ts'
import type { Torrent, TorrentFile } from '../metainfo/index.ts'
import type { LiveTorrent } from '../publish/index.ts'
import {
  OpenFiles,
  servedFile,
  Unservable,
  type ServedFile,
  type TorrentCounters,
} from './files.ts'
import { parseWebSeedPath } from './path.ts'
import { parseRange, type ByteRange } from './range.ts'
import { WebSeedError } from './errors.ts'
import { BufferPool, sendRange } from './send.ts'

/** What the web seed needs of a published torrent; a `LiveTorrent` is one. */
export type WebSeedTorrent = Pick<LiveTorrent, 'infoHash' | 'releaseDir' | 'filePaths'> & {
  /** False for a superseded torrent in its grace period: it never takes a path from an active one. */
  active?: boolean
  torrent: Pick<Torrent, 'name' | 'multiFile'> & {
    files: ReadonlyArray<Pick<TorrentFile, 'path' | 'pad'>>
  }
}

export interface WebSeedOptions {
  /** The mirror root: nothing whose realpath is outside it is ever served. */
  root: string
  /** Bytes per disk read and socket write. */
  chunkSize?: number
  /** Descriptors kept open between requests; 0 opens the file for every request. */
  openFiles?: number
  /** A kept descriptor unused this long is closed. */
  idleMs?: number
  /**
   * A response whose client reads nothing for this long is cut: each one streaming holds about
   * two chunks of memory and a descriptor, so a client that stops reading may not hold them.
   */
  stallTimeoutMs?: number
  /**
   * The origin is the source of last resort (issue 11): while `crowded(infoHash)` says a
   * torrent's swarm can carry the load, its requests get 503 with `Retry-After`, and a response
   * already streaming is cut at its next chunk. libtorrent then retries the web seed after
   * Retry-After (web_peer_connection, on 503); aria2c drops the URI for this download (503
   * without --retry-wait) and goes on with its peers; Transmission's webseed backs off after
   * failures. Every one of them keeps downloading from the swarm and our seeder.
   */
  stepBack?: { crowded(infoHash: string): boolean; retryAfterSeconds: number }
}

export interface WebSeedStats {
  requests: number
  bytesServed: number
  /**
   * Per torrent, cumulative since it was added; a torrent removed since the last flush
   * (`takeCounters`) is still listed, so the flush never loses its last bytes.
   */
  torrents: TorrentCounters[]
}

interface Published {
  active: boolean
  counters: TorrentCounters
  files: ServedFile[]
}

const defaults = { chunkSize: 1 << 20, openFiles: 256, idleMs: 10_000, stallTimeoutMs: 60_000 }

/**
 * The origin web seed (BEP 19; docs/architecture.md "Web-seed server"): `GET`/`HEAD /webseed/<release dir>/
 * <name>/<file>` (multi-file) or `/webseed/<release dir>/<file name>` (single-file) serves that
 * file of a published torrent, and nothing else: the request path is looked up, never joined onto
 * the file system. Single byte ranges get 206, keep-alive, no redirects.
 *
 * @example
 * const webSeed = new WebSeed({ root: config.root })
 * for (const t of await liveTorrents(database, config.root)) webSeed.add(t)
 * // publisher events: published: (t) => webSeed.add(t), removed: (h) => webSeed.remove(h)
 * fastPrefixes.set(webSeedPrefix, webSeed.handle) // every path under /webseed/, before hono
 */
export class WebSeed {
  private readonly byPath = new Map<string, ServedFile>()
  private readonly torrents = new Map<string, Published>()
  private removed: TorrentCounters[] = []
  private readonly files: OpenFiles
  private readonly pool: BufferPool
  private readonly stallTimeoutMs: number
  private readonly stepBack: WebSeedOptions['stepBack']
  private requests = 0
  private bytesServed = 0

  constructor(options: WebSeedOptions) {
    const { chunkSize, openFiles, idleMs, stallTimeoutMs } = { ...defaults, ...options }
    this.stallTimeoutMs = stallTimeoutMs
    this.stepBack = options.stepBack
    this.pool = new BufferPool(chunkSize)
    this.files = new OpenFiles(options.root, openFiles, idleMs)
  }

  /** Serve a published torrent's files (again: a re-added info-hash keeps its counters). */
  add(live: WebSeedTorrent): void {
    const previous = this.torrents.get(live.infoHash)
    if (previous) this.unpublish(live.infoHash, previous)
    const counters = previous?.counters ?? {
      infoHash: live.infoHash,
      name: live.torrent.name,
      bytesServed: 0,
      requests: 0,
      steppedBack: 0,
    }
    const { torrent } = live
    const files: ServedFile[] = []
    torrent.files.forEach((f, i) => {
      const filePath = live.filePaths[i]
      // libtorrent never asks a web seed for a pad file (BEP 47), and none exists on disk.
      if (f.pad || filePath === null) return
      const inTorrent = torrent.multiFile ? [torrent.name, ...f.path] : [torrent.name]
      const key = [...(live.releaseDir ? [live.releaseDir] : []), ...inTorrent].join('/')
      files.push(servedFile(key, filePath, counters))
    })
    const active = live.active !== false
    this.torrents.set(live.infoHash, { active, counters, files })
    for (const file of files) {
      // A superseded torrent and its successor share paths when a release is rebuilt in place;
      // the path belongs to the active one, whatever order they were added in.
      const owner = this.byPath.get(file.key)
      if (!active && owner && this.torrents.get(owner.counters.infoHash)?.active) continue
      this.byPath.set(file.key, file)
    }
  }

  /** Stop serving a torrent; requests already streaming finish. */
  remove(infoHash: string): void {
    const published = this.torrents.get(infoHash)
    if (!published) return
    this.unpublish(infoHash, published)
    this.removed.push(published.counters)
  }

  /** Totals and per-torrent counters now; changes nothing, so any number of readers may call it. */
  stats(): WebSeedStats {
    return {
      requests: this.requests,
      bytesServed: this.bytesServed,
      torrents: this.counters(),
    }
  }

  /**
   * For the one stats flush: per torrent, cumulative since it was added, and a torrent removed
   * since the previous call listed one last time, then forgotten. Only the flush may call it: a
   * second reader (it was `/metrics`, through `stats()`) would take a removed torrent's last
   * bytes before the flush saw them.
   */
  takeCounters(): TorrentCounters[] {
    const counters = this.counters()
    this.removed = []
    return counters
  }

  private counters(): TorrentCounters[] {
    // A Set: a torrent removed and added again since the last flush is listed once.
    const torrents = new Set([
      ...this.removed,
      ...[...this.torrents.values()].map((p) => p.counters),
    ])
    return [...torrents].map((c) => ({ ...c }))
  }

  /** Per published torrent, its counters now; unlike `stats()` this changes nothing. */
  served(): TorrentCounters[] {
    return [...this.torrents.values()].map((p) => ({ ...p.counters }))
  }

  /** Closes the kept descriptors (those still streaming close when their response ends). */
  close(): void {
    this.files.close()
  }

  /** The request handler for every path under `/webseed/`; bound, so it can be passed as is. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.requests++
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, ['Allow', 'GET, HEAD', 'Content-Length', '0']).end()
      return
    }
    let file: ServedFile | undefined
    try {
      file = this.byPath.get(parseWebSeedPath(req.url ?? ''))
    } catch (err) {
      if (!(err instanceof WebSeedError)) throw err
    }
    if (!file) return notFound(res)
    if (this.stepBack?.crowded(file.counters.infoHash)) {
      file.counters.steppedBack++
      const retry = String(this.stepBack.retryAfterSeconds)
      res.writeHead(503, ['Retry-After', retry, 'Content-Length', '0']).end()
      return
    }
    this.serve(file, req, res)
  }

  private unpublish(infoHash: string, published: Published): void {
    this.torrents.delete(infoHash)
    for (const file of published.files) {
      this.files.retire(file)
      if (this.byPath.get(file.key) !== file) continue
      this.byPath.delete(file.key)
      // Hand a shared path back to a torrent still live, an active one first.
      let heir: ServedFile | undefined
      for (const other of this.torrents.values()) {
        const same = other.files.find((f) => f.key === file.key)
        if (same && (!heir || other.active)) heir = same
      }
      if (heir) this.byPath.set(file.key, heir)
    }
  }

  private serve(file: ServedFile, req: IncomingMessage, res: ServerResponse): void {
    const kept = this.files.tryAcquire(file)
    if (kept !== -1) return this.respond(file, kept, req, res)
    this.files.acquire(file).then(
      (fd) => this.respond(file, fd, req, res),
      (err: unknown) => {
        if (err instanceof Unservable) return notFound(res)
        this.failed(req, res, err)
      },
    )
  }

  /** Headers, then the body from `fd`; releases `fd` when the response is done with it. */
  private respond(file: ServedFile, fd: number, req: IncomingMessage, res: ServerResponse): void {
    let streaming = false
    try {
      // fstat on an open descriptor never waits on the disk: cheaper here than a thread-pool hop.
      const stat = fs.fstatSync(fd)
      if (!stat.isFile()) return notFound(res)
      const size = stat.size
      if (file.lastModifiedMs !== stat.mtimeMs) {
        file.lastModifiedMs = stat.mtimeMs
        file.lastModified = stat.mtime.toUTCString()
      }
      // nginx's ETag shape (mtime and size in hex), so a mirror and the origin agree on If-Range.
      const etag = `"${Math.floor(stat.mtimeMs / 1000).toString(16)}-${size.toString(16)}"`
      let range: ByteRange | null = null
      try {
        if (ifRangeHolds(req.headers['if-range'], etag, file.lastModified)) {
          range = parseRange(req.headers.range, size)
        }
      } catch (err) {
        if (!(err instanceof WebSeedError)) throw err
        res.writeHead(416, ['Content-Range', `bytes */${size}`, 'Content-Length', '0']).end()
        return
      }
      const start = range ? range.start : 0
      const length = range ? range.end - range.start + 1 : size
      // A flat header list goes straight to Node's header writer, skipping per-header checks.
      const headers = [
        'Accept-Ranges',
        'bytes',
        'Content-Length',
        String(length),
        'Content-Type',
        'application/octet-stream',
        'ETag',
        etag,
        'Last-Modified',
        file.lastModified,
      ]
      if (range) headers.push('Content-Range', `bytes ${range.start}-${range.end}/${size}`)
      res.writeHead(range ? 206 : 200, headers)
      const counters = file.counters
      counters.requests++
      if (req.method === 'HEAD' || length === 0) {
        res.end()
        return
      }
      streaming = true
      // Once the response ends, node:http puts the socket back on its keep-alive timeout.
      res.setTimeout(this.stallTimeoutMs, () => res.destroy())
      const { stepBack } = this
      const infoHash = counters.infoHash
      sendRange(
        fd,
        start,
        length,
        res,
        this.pool,
        (n) => {
          counters.bytesServed += n
          this.bytesServed += n
        },
        () => this.files.release(file, fd),
        stepBack && (() => !stepBack.crowded(infoHash)),
      )
    } catch (err) {
      this.failed(req, res, err)
    } finally {
      if (!streaming) this.files.release(file, fd)
    }
  }

  private failed(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    log.warn('web seed request failed', { path: req.url, error: err })
    if (!res.headersSent) res.writeHead(500, ['Content-Length', '0']).end()
    else res.destroy()
  }
}

/**
 * RFC 9110 13.1.5: with `If-Range`, the range applies only if the validator still matches (a
 * strong ETag compare, or the exact Last-Modified date); otherwise the whole file is sent, which
 * is always a correct answer.
 */
function ifRangeHolds(
  ifRange: string | string[] | undefined,
  etag: string,
  lastModified: string,
): boolean {
  if (ifRange === undefined) return true
  if (typeof ifRange !== 'string') return false // sent twice: not a validator we can trust
  const value = ifRange.trim()
  return value.startsWith('"') || value.startsWith('W/') ? value === etag : value === lastModified
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, ['Content-Type', 'text/plain', 'Content-Length', '10']).end('not found\n')
}
