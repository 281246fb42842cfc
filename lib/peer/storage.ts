import fs from 'node:fs'
import { sep } from 'node:path'
import type { SeedTorrent } from './torrent.ts'

/**
 * Reading torrent bytes from the mirror tree. This is the hot path of piece serving and is written
 * for speed on purpose (`npm run bench:seed`): raw fds and `fs.read` callbacks instead of
 * FileHandle promises, one read per cache chunk instead of one per 16 KiB block, and blocks handed
 * to the socket as views of the chunk, never copied.
 */

interface OpenFile {
  path: string
  fd: Promise<number>
  users: number
}

const openFlags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW

function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.open(path, openFlags, (err, fd) => (err ? reject(err) : resolve(fd))),
  )
}

/**
 * An LRU of open file descriptors shared by every torrent, so thousands of files cost at most
 * `max` descriptors. A descriptor in use by a read is never closed under it.
 *
 * The web seed's symlink rule (docs/architecture.md, "Web-seed server") holds here too: with a `root`, a file
 * is opened only if its `realpath` is inside the root's, and the resolved path is opened with
 * O_NOFOLLOW, so a published companion swapped for a symlink to /etc/shadow is refused, not
 * served over the peer wire.
 */
export class FileHandles {
  private files = new Map<string, OpenFile>()
  private realRoot: Promise<string> | null = null

  constructor(
    private readonly max = 128,
    private readonly root?: string,
  ) {}

  get size(): number {
    return this.files.size
  }

  acquire(path: string): OpenFile {
    let file = this.files.get(path)
    if (file) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.files.delete(path)
    } else {
      file = {
        path,
        users: 0,
        fd: this.open(path),
      }
      file.fd.catch(() => this.files.get(path) === file && this.files.delete(path))
    }
    this.files.set(path, file)
    file.users++
    this.evict()
    return file
  }

  release(file: OpenFile): void {
    file.users--
    if (file.users === 0 && this.files.get(file.path) !== file) closeFd(file)
    else this.evict()
  }

  private async open(path: string): Promise<number> {
    if (this.root === undefined) return openFd(path)
    this.realRoot ??= fs.promises.realpath(this.root)
    const root = await this.realRoot.catch((err: unknown) => {
      this.realRoot = null // not mounted yet, say: look again next time
      throw err
    })
    const real = await fs.promises.realpath(path)
    if (!real.startsWith(root + sep)) throw new Error(`${path} resolves outside the mirror root`)
    return openFd(real)
  }

  closeAll(): void {
    for (const file of this.files.values()) if (file.users === 0) closeFd(file)
    this.files.clear()
  }

  private evict(): void {
    if (this.files.size <= this.max) return
    for (const file of this.files.values()) {
      if (this.files.size <= this.max) break
      if (file.users > 0) continue
      this.files.delete(file.path)
      closeFd(file)
    }
  }
}

function closeFd(file: OpenFile): void {
  file.fd.then(
    (fd) => fs.close(fd, () => {}),
    () => {},
  )
}

function readFull(
  fd: number,
  buf: Buffer,
  at: number,
  length: number,
  position: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      if (done === length) return resolve()
      fs.read(fd, buf, at + done, length - done, position + done, (err, n) => {
        if (err) return reject(err)
        if (n === 0) return reject(new Error(`file ended ${length - done} bytes early`))
        step(done + n)
      })
    }
    step(0)
  })
}

/** One torrent's bytes as a flat address space over its files; pad files (BEP 47) read as zeros. */
export class TorrentStorage {
  private readonly starts: number[]

  constructor(
    readonly torrent: SeedTorrent,
    private readonly paths: ReadonlyArray<string | null>,
    private readonly handles: FileHandles,
  ) {
    if (paths.length !== torrent.files.length) {
      throw new Error(
        `${torrent.files.length} files in the torrent but ${paths.length} paths given`,
      )
    }
    this.starts = torrent.files.map((f) => f.offset)
  }

  /** Reads `length` bytes at torrent offset `offset`; refuses anything outside the torrent. */
  async read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.torrent.length) {
      throw new RangeError(
        `read ${offset}+${length} outside the torrent (${this.torrent.length} bytes)`,
      )
    }
    const buf = into ?? Buffer.allocUnsafe(length)
    let i = this.fileAt(offset)
    let done = 0
    while (done < length) {
      const file = this.torrent.files[i]
      const path = this.paths[i]
      const within = offset + done - file.offset
      const n = Math.min(file.length - within, length - done)
      if (n <= 0) {
        i++
        continue
      }
      if (file.pad || path === null) {
        buf.fill(0, done, done + n)
      } else {
        const open = this.handles.acquire(path)
        try {
          await readFull(await open.fd, buf, done, n, within)
        } finally {
          this.handles.release(open)
        }
      }
      done += n
      i++
    }
    return buf
  }

  /** Index of the file holding byte `offset` (binary search over file start offsets). */
  private fileAt(offset: number): number {
    let lo = 0
    let hi = this.starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.starts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    // Zero-length files share their start with the next file; step past them.
    while (lo < this.starts.length - 1 && this.torrent.files[lo].length === 0) lo++
    return lo
  }
}

/**
 * A piece-sized run of torrent data in memory. Views of it are lent to sockets: `refs` counts
 * the writes not yet flushed, and `release` (passed as the write callback) gives one back. Its
 * buffer is reused for another chunk only once it has left the cache and every write is done, so
 * a slow peer can never be sent bytes of a later chunk.
 */
export class Chunk {
  /** The chunk's bytes once read; null while the read is in flight. */
  loaded: Buffer | null = null
  refs = 0
  evicted = false
  readonly release = (): void => {
    if (--this.refs === 0 && this.evicted) this.cache.recycle(this)
  }

  constructor(
    readonly start: number,
    readonly length: number,
    readonly slab: Buffer,
    readonly data: Promise<Buffer>,
    private readonly cache: ChunkCache,
  ) {}
}

const noop = (): void => {}

/**
 * A byte-bounded LRU of piece-aligned chunks shared by all connections: a downloader asks for a
 * piece as 16 KiB blocks in a row, and many leechers often want the same pieces, so one read
 * serves many requests. Chunk buffers are recycled rather than left to the garbage collector:
 * fresh 1 MiB buffers cost page faults, zeroing and GC pauses on every read (`bench:seed`).
 */
/** A chunk whose bytes are in memory: what {@link ChunkCache.peek} hands out. */
type LoadedChunk = Chunk & { loaded: Buffer }

function isLoaded(chunk: Chunk | undefined): chunk is LoadedChunk {
  return chunk?.loaded != null
}

export class ChunkCache {
  private chunks = new Map<string, Chunk>()
  private bytes = 0
  private pool = new Map<number, Buffer[]>()

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /**
   * A torrent's chunk: one piece, kept between 256 KiB and 1 MiB. Downloaders ask for whole
   * pieces, so a piece-sized read is used in full; fewer, larger reads cost less per byte.
   */
  static chunkSize(pieceLength: number): number {
    return Math.min(Math.max(pieceLength, 256 * 1024), 1024 * 1024)
  }

  /**
   * The loaded chunk holding the block at `offset`, without a promise, with one ref taken for
   * the caller (give it back with `chunk.release`): the serving loop writes cache hits
   * synchronously, many per corked write.
   */
  peek(key: string, size: number, offset: number, length: number): LoadedChunk | null {
    const index = Math.floor(offset / size)
    if (offset + length > (index + 1) * size) return null
    const id = key + index
    const chunk = this.chunks.get(id)
    if (!isLoaded(chunk)) return null
    this.chunks.delete(id)
    this.chunks.set(id, chunk)
    chunk.refs++
    return chunk
  }

  /** The block at `offset` and the function that gives it back once written. */
  async block(
    key: string,
    size: number,
    storage: TorrentStorage,
    offset: number,
    length: number,
  ): Promise<{ view: Buffer; release: () => void }> {
    const index = Math.floor(offset / size)
    const start = index * size
    if (offset + length > start + size) {
      // Straddles two chunks: only an unaligned request does that; read it on its own.
      return { view: await storage.read(offset, length), release: noop }
    }
    const id = key + index
    let chunk = this.chunks.get(id)
    if (chunk) {
      this.chunks.delete(id)
      this.chunks.set(id, chunk)
    } else {
      chunk = this.load(id, storage, start, Math.min(size, storage.torrent.length - start), size)
    }
    // Taken before awaiting, so the buffer cannot be recycled while we wait for it.
    chunk.refs++
    try {
      const data = await chunk.data
      return {
        view: data.subarray(offset - start, offset - start + length),
        release: chunk.release,
      }
    } catch (err) {
      chunk.release()
      throw err
    }
  }

  /** Start reading the chunk holding `offset` if it is not in memory yet; takes no ref. */
  prefetch(key: string, size: number, storage: TorrentStorage, offset: number): void {
    const index = Math.floor(offset / size)
    const id = key + index
    if (this.chunks.has(id)) return
    const start = index * size
    this.load(id, storage, start, Math.min(size, storage.torrent.length - start), size)
  }

  get size(): number {
    return this.bytes
  }

  /** Forget a torrent's chunks (on remove). */
  drop(key: string): void {
    for (const id of [...this.chunks.keys()]) if (id.startsWith(key)) this.evict(id)
  }

  /** Called by a chunk once it is out of the cache and no write holds it. */
  recycle(chunk: Chunk): void {
    const free = this.pool.get(chunk.slab.length) ?? []
    if (free.length < 8) free.push(chunk.slab)
    this.pool.set(chunk.slab.length, free)
  }

  private load(
    id: string,
    storage: TorrentStorage,
    start: number,
    length: number,
    size: number,
  ): Chunk {
    const slab = this.pool.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size)
    const data = storage.read(start, length, slab).then((buf) => buf.subarray(0, length))
    const chunk = new Chunk(start, length, slab, data, this)
    data.then(
      (view) => (chunk.loaded = view),
      // A failed read is not cached: the next request tries the disk again.
      () => this.chunks.get(id) === chunk && this.evict(id),
    )
    this.chunks.set(id, chunk)
    this.bytes += length
    while (this.bytes > this.maxBytes && this.chunks.size > 1) {
      const oldest = this.chunks.keys().next()
      if (oldest.done) break
      this.evict(oldest.value)
    }
    return chunk
  }

  private evict(id: string): void {
    const chunk = this.chunks.get(id)
    if (!chunk) return
    this.chunks.delete(id)
    this.bytes -= chunk.length
    chunk.evicted = true
    // Still being read, or lent to a socket: the last release recycles it (or the GC takes it).
    if (chunk.refs === 0 && chunk.loaded) this.recycle(chunk)
  }
}
