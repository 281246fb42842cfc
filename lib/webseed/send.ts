import fs from 'node:fs'
import type { ServerResponse } from 'node:http'

/**
 * Read buffers of one size, reused once the socket has handed their bytes to the kernel (the
 * write callback). A fresh 1 MiB buffer is an mmap, 256 page faults and an munmap at GC; reusing
 * them was worth about a third of the throughput of 1 MiB ranges in `npm run bench:webseed`.
 * A buffer whose write never completes (the client went away) is simply left to the GC.
 */
export class BufferPool {
  private readonly free: Buffer[] = []

  constructor(
    readonly size: number,
    private readonly keep = 64,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size)
  }

  give(buf: Buffer): void {
    if (buf.length === this.size && this.free.length < this.keep) this.free.push(buf)
  }
}

/**
 * Streams `length` bytes of `fd` from `start` into `res`, then calls `done` exactly once (the
 * descriptor may be released then). This is the hot path of the web seed, written for speed on
 * purpose (`npm run bench:webseed`, against nginx): `fs.read` callbacks into pooled buffers of
 * the pool's size, no stream objects; the next chunk is read while the socket drains the
 * previous one, and at most one read-ahead chunk waits for `drain`, so a slow client costs about
 * two chunks of memory, never the file.
 *
 * A file that ends early (it shrank under us) or fails to read ends the response by destroying
 * the connection: the client sees a body shorter than `Content-Length` and retries; it never gets
 * bytes that are not the file's. So does `proceed` returning false before a chunk (the web seed
 * stepping back mid-response): one call per chunk, nothing per byte.
 */
export function sendRange(
  fd: number,
  start: number,
  length: number,
  res: ServerResponse,
  pool: BufferPool,
  onBytes: (n: number) => void,
  done: () => void,
  proceed?: () => boolean,
): void {
  let position = start
  let left = length
  let draining = false
  let ready: Buffer | null = null
  let finished = false

  const finish = (): void => {
    if (finished) return
    finished = true
    res.off('drain', onDrain)
    res.off('close', finish)
    done()
  }
  const read = (): void => {
    if (proceed && !proceed()) {
      res.destroy()
      return finish()
    }
    const n = Math.min(pool.size, left)
    // Small reads (a 16 KiB block) come from Node's own slab; only full chunks are pooled.
    const buf = n === pool.size ? pool.take() : Buffer.allocUnsafe(n)
    fs.read(fd, buf, 0, n, position, onRead)
  }
  const write = (data: Buffer): void => {
    onBytes(data.length)
    const recycle = () => pool.give(data)
    if (left === 0) {
      res.end(data, recycle)
      finish()
      return
    }
    if (!res.write(data, recycle)) draining = true
    read()
  }
  const onRead = (err: Error | null, got: number, buf: Buffer): void => {
    if (finished) return pool.give(buf)
    if (res.destroyed) {
      pool.give(buf)
      return finish()
    }
    if (err || got === 0) {
      pool.give(buf)
      res.destroy()
      return finish()
    }
    position += got
    left -= got
    const data = got === buf.length ? buf : buf.subarray(0, got)
    if (draining) ready = data
    else write(data)
  }
  const onDrain = (): void => {
    draining = false
    if (ready) {
      const data = ready
      ready = null
      write(data)
    }
  }

  res.on('drain', onDrain)
  res.once('close', finish)
  read()
}
