import { Duplex } from 'node:stream'
import type { Rc4 } from './rc4.ts'

/**
 * The payload stream of an MSE connection that selected RC4, as a Duplex over any Duplex (a TCP
 * socket or a uTP stream): what is written is encrypted into the inner stream, what the inner
 * stream reads is decrypted. Writes corked together leave as one encrypted buffer, so the
 * seeder's batching (one writev per event-loop turn) still holds. Back-pressure passes through:
 * a full inner stream holds our write callback, so our `writableLength` grows and the seeder
 * waits for our 'drain'.
 */
export class Rc4Stream extends Duplex {
  private pendingWrite: ((err?: Error | null) => void) | null = null

  constructor(
    private readonly inner: Duplex,
    private readonly encrypt: Rc4,
    private readonly decrypt: Rc4,
  ) {
    super({ allowHalfOpen: false })
    inner.on('data', (chunk: Buffer) => {
      // Decrypting in place: the chunk is ours alone, fresh from the inner stream.
      if (!this.push(this.decrypt.update(chunk))) inner.pause()
    })
    inner.on('end', () => this.push(null))
    inner.on('drain', () => {
      const cb = this.pendingWrite
      this.pendingWrite = null
      cb?.()
    })
    inner.on('error', (err) => this.destroy(err))
    inner.on('close', () => this.destroy())
  }

  override _read(): void {
    if (this.inner.isPaused()) this.inner.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void) {
    // A copy: the caller's buffer may be a view of the seeder's shared chunk cache.
    this.forward(this.encrypt.update(chunk, Buffer.allocUnsafe(chunk.length)), cb)
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    cb: (err?: Error | null) => void,
  ) {
    let total = 0
    for (const c of chunks) total += c.chunk.length
    const out = Buffer.allocUnsafe(total)
    let at = 0
    for (const { chunk } of chunks) {
      this.encrypt.update(chunk, out.subarray(at, at + chunk.length))
      at += chunk.length
    }
    this.forward(out, cb)
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end(cb)
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.inner.destroy()
    cb(err)
  }

  private forward(buf: Buffer, cb: (err?: Error | null) => void): void {
    if (this.inner.write(buf)) cb()
    else this.pendingWrite = cb
  }
}
