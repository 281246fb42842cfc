import { WireError } from './errors.ts'
import {
  HANDSHAKE_LENGTH,
  maxFrame,
  parseHandshake,
  parseMessage,
  type Handshake,
  type Message,
  type WireLimits,
} from './wire.ts'

/**
 * Cuts a TCP byte stream into the handshake and then length-prefixed frames. It refuses a length
 * prefix larger than the torrent can legitimately need before buffering it, so a peer can make us
 * hold at most one frame plus one socket chunk.
 *
 * @example
 * framer.push(chunk)
 * const hs = framer.readHandshake() // null until 68 bytes are in
 * framer.limits = torrentOf(hs.infoHash)
 * for (let m = framer.readMessage(); m; m = framer.readMessage()) act(m)
 */
export class MessageFramer {
  /** Set after the handshake names a torrent; messages cannot be checked before that. */
  limits: WireLimits | null = null
  private chunks: Buffer[] = []
  private queued = 0
  private frameCap = 0

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.queued += chunk.length
  }

  /** Bytes received but not yet returned as a message. */
  get buffered(): number {
    return this.queued
  }

  readHandshake(): Handshake | null {
    if (this.queued > 0 && this.peekByte() !== 19) {
      throw new WireError(
        'bad-handshake',
        'handshake does not start with "\\x13BitTorrent protocol"',
      )
    }
    if (this.queued < HANDSHAKE_LENGTH) return null
    return parseHandshake(this.take(HANDSHAKE_LENGTH))
  }

  readMessage(): Message | null {
    const limits = this.limits
    if (!limits) throw new Error('MessageFramer.readMessage before limits were set')
    if (this.queued < 4) return null
    const length = this.peekUInt32()
    if (this.frameCap === 0) this.frameCap = maxFrame(limits)
    if (length > this.frameCap) {
      throw new WireError('too-large', `message length ${length} exceeds ${this.frameCap}`)
    }
    if (this.queued < 4 + length) return null
    this.take(4)
    return parseMessage(length === 0 ? EMPTY : this.take(length), limits)
  }

  private peekByte(): number {
    return this.chunks[0][0]
  }

  private peekUInt32(): number {
    const head = this.chunks[0]
    if (head.length >= 4) return head.readUInt32BE(0)
    return Buffer.concat(this.chunks, 4).readUInt32BE(0)
  }

  /** Remove `n` bytes from the front; a view when they sit in one chunk, one copy otherwise. */
  private take(n: number): Buffer {
    const head = this.chunks[0]
    this.queued -= n
    if (head.length > n) {
      this.chunks[0] = head.subarray(n)
      return head.subarray(0, n)
    }
    if (head.length === n) {
      this.chunks.shift()
      return head
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.chunks[0]
      const want = n - filled
      if (chunk.length <= want) {
        chunk.copy(out, filled)
        filled += chunk.length
        this.chunks.shift()
      } else {
        chunk.copy(out, filled, 0, want)
        this.chunks[0] = chunk.subarray(want)
        filled += want
      }
    }
    return out
  }
}

const EMPTY = Buffer.alloc(0)
