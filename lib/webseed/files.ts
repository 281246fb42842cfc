import fs from 'node:fs'
import path from 'node:path'
import { MirrorseedError } from '../errors/index.ts'

/** The counters of one torrent: what the lead flushes to `torrent_stats`. */
export interface TorrentCounters {
  infoHash: string
  name: string
  /** Body bytes handed to the socket (a client that hangs up early may not have read the last). */
  bytesServed: number
  requests: number
  /** Requests answered 503 because the torrent's swarm could carry the load. */
  steppedBack: number
}

/** One file of a published torrent, reachable at exactly one web-seed path. */
export interface ServedFile {
  /** The decoded request path below `/webseed/`. */
  readonly key: string
  /** Where the publisher says the file is (`LiveTorrent.filePaths`). */
  readonly path: string
  readonly counters: TorrentCounters
  /** `realpath` of `path` once checked to be inside the root; null until then. */
  real: string | null
  /** A descriptor kept open between requests (see {@link OpenFiles}); -1 when none. */
  fd: number
  users: number
  retired: boolean
  openedAt: number
  lastUsed: number
  /** `Last-Modified` text for `lastModifiedMs`, so a request does not format a date. */
  lastModified: string
  lastModifiedMs: number
}

export function servedFile(key: string, filePath: string, counters: TorrentCounters): ServedFile {
  return {
    key,
    path: filePath,
    counters,
    real: null,
    fd: -1,
    users: 0,
    retired: false,
    openedAt: 0,
    lastUsed: 0,
    lastModified: '',
    lastModifiedMs: -1,
  }
}

/** A file that may not be served: missing, not a regular file, or resolving outside the root. */
export class Unservable extends MirrorseedError<'unservable'> {
  constructor(message: string) {
    super('unservable', message)
  }
}

const openFlags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW

function realpath(p: string): Promise<string> {
  return fs.promises.realpath(p)
}

function openFd(p: string): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.open(p, openFlags, (err, fd) => (err ? reject(err) : resolve(fd))),
  )
}

function closeFd(fd: number): void {
  fs.close(fd, () => {})
}

/**
 * Descriptors of served files. With `max > 0` a descriptor stays open between requests (an LRU of
 * at most `max`, closed after `idleMs` unused), which saves an open, a realpath check and a close
 * per request: `npm run bench:webseed` measures both ways. A kept descriptor goes on serving the
 * inode the torrent was made from when rsync renames a new file over it, until it ages out.
 *
 * The symlink rule (docs/architecture.md, "Web-seed server"): a path is served only if its `realpath` is inside
 * the mirror root's. The check is cached per file; the resolved path is then opened with
 * O_NOFOLLOW, so a symlink swapped in afterwards is refused rather than followed.
 */
export class OpenFiles {
  private readonly lru = new Map<ServedFile, true>()
  private realRoot: Promise<string> | null = null
  private readonly sweep: NodeJS.Timeout | null

  constructor(
    private readonly root: string,
    private readonly max: number,
    private readonly idleMs: number,
  ) {
    this.sweep = max > 0 ? setInterval(() => this.closeIdle(), idleMs).unref() : null
  }

  /**
   * The kept descriptor of `file`, or -1 when there is none and {@link acquire} must open one.
   * Synchronous, so a request for an open file never waits a microtask (the 16 KiB case of
   * `npm run bench:webseed` is all per-request overhead). Pair a hit with {@link release}.
   */
  tryAcquire(file: ServedFile): number {
    if (file.fd === -1) return -1
    file.users++
    this.touch(file)
    return file.fd
  }

  /** An open descriptor for `file`; pair every call with {@link release}. Throws Unservable. */
  async acquire(file: ServedFile): Promise<number> {
    file.users++
    try {
      if (file.fd !== -1) {
        this.touch(file)
        return file.fd
      }
      const fd = await this.open(file)
      if (this.max === 0 || file.retired) return fd
      if (file.fd !== -1) {
        // Another request opened it meanwhile: keep theirs.
        closeFd(fd)
      } else {
        file.fd = fd
        file.openedAt = Date.now()
      }
      this.touch(file)
      return file.fd
    } catch (err) {
      file.users--
      throw err
    }
  }

  release(file: ServedFile, fd: number): void {
    file.users--
    if (fd !== file.fd) closeFd(fd)
    else if (file.retired && file.users === 0) this.drop(file)
  }

  /** The torrent is gone: close its descriptor once no request reads it. */
  retire(file: ServedFile): void {
    file.retired = true
    if (file.users === 0) this.drop(file)
  }

  /** Closes every descriptor; one still being read is closed by its last {@link release}. */
  close(): void {
    if (this.sweep) clearInterval(this.sweep)
    for (const file of [...this.lru.keys()]) this.retire(file)
  }

  private async open(file: ServedFile): Promise<number> {
    if (file.real === null) file.real = await this.check(file.path)
    try {
      return await openFd(file.real)
    } catch {
      // Moved or replaced since the check: check once more from the published path.
      file.real = await this.check(file.path)
      return await openFd(file.real).catch(() => {
        throw new Unservable(`${file.key} cannot be opened`)
      })
    }
  }

  private async check(filePath: string): Promise<string> {
    this.realRoot ??= realpath(this.root).catch(() => {
      this.realRoot = null // not mounted yet, say: look again next time
      throw new Unservable(`the mirror root ${this.root} does not exist`)
    })
    const [root, real] = await Promise.all([
      this.realRoot,
      realpath(filePath).catch(() => {
        throw new Unservable(`${filePath} does not exist`)
      }),
    ])
    if (!real.startsWith(root + path.sep)) {
      throw new Unservable(`${filePath} resolves outside the mirror root`)
    }
    return real
  }

  private touch(file: ServedFile): void {
    file.lastUsed = Date.now()
    // Map keeps insertion order: re-inserting marks it most recently used.
    this.lru.delete(file)
    this.lru.set(file, true)
    if (this.lru.size <= this.max) return
    for (const old of this.lru.keys()) {
      if (this.lru.size <= this.max) break
      if (old.users === 0) this.drop(old)
    }
  }

  private drop(file: ServedFile): void {
    this.lru.delete(file)
    if (file.fd !== -1) closeFd(file.fd)
    file.fd = -1
  }

  /**
   * Closes descriptors unused for `idleMs`, and any open for six times that even if busy, so a
   * file rsync replaced (a new inode under the same name) is reopened and the old one's disk
   * space freed within a minute or so.
   */
  private closeIdle(): void {
    const now = Date.now()
    for (const file of [...this.lru.keys()]) {
      if (file.users > 0) continue
      if (file.lastUsed < now - this.idleMs || file.openedAt < now - 6 * this.idleMs)
        this.drop(file)
    }
  }
}
