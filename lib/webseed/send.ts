import fs from 'node:fs'
import type { ServerResponse } from 'node:http'

/**
 * Streams `length` bytes of `fd` from `start` into `res`, then calls `done` exactly once (the
 * descriptor may be released then). This is the hot path of the web seed, written for speed on
 * purpose (`npm run bench:webseed`, against nginx): `fs.read` callbacks into one fresh buffer of
 * `chunkSize` per read, no stream objects; the next chunk is read while the socket drains the
 * previous one, and at most one read-ahead chunk waits for `drain`, so a slow client costs about
 * two chunks of memory, never the file.
 *
 * A file that ends early (it shrank under us) or fails to read ends the response by destroying
 * the connection: the client sees a body shorter than `Content-Length` and retries; it never gets
 * bytes that are not the file's.
 */
export function sendRange(
  fd: number,
  start: number,
  length: number,
  res: ServerResponse,
  chunkSize: number,
  onBytes: (n: number) => void,
  done: () => void,
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
    const n = Math.min(chunkSize, left)
    fs.read(fd, Buffer.allocUnsafeSlow(n), 0, n, position, onRead)
  }
  const write = (data: Buffer): void => {
    onBytes(data.length)
    if (left === 0) {
      res.end(data)
      finish()
      return
    }
    if (!res.write(data)) draining = true
    read()
  }
  const onRead = (err: Error | null, got: number, buf: Buffer): void => {
    if (finished) return
    if (res.destroyed) return finish()
    if (err || got === 0) {
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
