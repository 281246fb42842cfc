import { Duplex } from 'node:stream'
import { Ledbat } from './ledbat.ts'
import {
  encodePacket,
  HEADER_SIZE,
  seqDiff,
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  writeHeader,
  type Packet,
  type PacketType,
} from './packet.ts'

/**
 * Whole datagram we send. 1400 bytes fit the 1500-byte Ethernet MTU with room for PPPoE and
 * most tunnels; libtorrent probes its own MTU and receives any size, libutp too.
 */
export const PACKET_SIZE = 1400
const PAYLOAD = PACKET_SIZE - HEADER_SIZE
/** Bytes in flight per connection at most, whatever LEDBAT says: bounds our memory per peer. */
const MAX_WINDOW = 256 * 1024
/** Receive buffer we advertise; a seed receives only requests, so this is never the limit. */
const RECV_WINDOW = 256 * 1024
/** Out-of-order packets we keep from the peer. */
const REORDER_MAX = 64
/** BEP 29: initial timeout 1 s, never under 500 ms, doubled for each consecutive timeout. */
const INITIAL_RTO_MS = 1000
const MIN_RTO_MS = 500
const MAX_RTO_MS = 8000
/** Consecutive timeouts before the peer is considered gone (about 40 s with doubling). */
const MAX_TIMEOUTS = 6
/** BEP 29: three duplicate acks (or selective acks past a packet) mean it was lost. */
const DUP_ACKS = 3

interface Sent {
  seq: number
  buf: Buffer
  payload: number
  sentAt: number
  transmissions: number
  needsResend: boolean
  acked: boolean
}

interface PendingWrite {
  chunks: Buffer[]
  /** Index of the chunk and byte offset in it that the next packet starts at. */
  index: number
  offset: number
  callback: (err?: Error | null) => void
}

/** Microseconds on a wrapping 32-bit clock, as uTP timestamps are. */
export function microseconds(): number {
  return Number(process.hrtime.bigint() / 1000n) % 2 ** 32
}

export interface UtpStreamOptions {
  /** Sends one datagram to the peer. */
  send(buf: Buffer): void
  remoteAddress: string
  remotePort: number
  /** The SYN that opened the connection. */
  syn: Packet
}

/**
 * One accepted uTP connection (BEP 29) as a Node Duplex: payload in order on the readable side,
 * anything written is cut into packets and sent as the LEDBAT window allows, resent on loss.
 * Written chunks are copied into packets as they are sent and only then handed back (the write
 * callback), so the seeder's chunk cache may reuse them; `writableLength` counts what is not yet
 * sent, which is the back-pressure the peer connection reads.
 */
export class UtpStream extends Duplex {
  readonly remoteAddress: string
  readonly remotePort: number
  /** Our receive id: the id the peer puts in its packets (the SYN's id + 1). */
  readonly recvId: number
  private readonly sendId: number
  private readonly sendDatagram: (buf: Buffer) => void

  /** Next sequence number we send; the ST_STATE answering the SYN carries it unconsumed. */
  private seqNr = Math.floor(Math.random() * 0x10000)
  /** Last of our packets the peer acked in order. */
  private ackedSeq = (this.seqNr - 1) & 0xffff
  /** Last of the peer's packets we received in order. */
  private ackNr: number
  private readonly inflight: Sent[] = []
  private bytesInFlight = 0
  private readonly pending: PendingWrite[] = []
  private readonly reorder = new Map<number, Buffer>()
  private eofSeq: number | null = null
  private readonly ledbat = new Ledbat(PACKET_SIZE, MAX_WINDOW)
  private peerWindow = RECV_WINDOW
  private dupAcks = 0
  /** Losses at or before this seq were already answered by halving the window. */
  private lossSeq: number
  private rtt = 0
  private rttVar = 0
  private rto = INITIAL_RTO_MS
  private timeoutAt = 0
  private timeouts = 0
  /** Our clock minus the timestamp of the peer's last packet: the delay we report back. */
  private replyMicro = 0
  private ackDue = false
  private flushing = false
  private sentData = false
  private windowLow = false
  private flushAgain = false
  private finished = false
  lastReceived = Date.now()

  constructor(opts: UtpStreamOptions) {
    super({ allowHalfOpen: false, writableHighWaterMark: 64 * 1024 })
    this.remoteAddress = opts.remoteAddress
    this.remotePort = opts.remotePort
    this.sendDatagram = opts.send
    this.sendId = opts.syn.connectionId
    this.recvId = (opts.syn.connectionId + 1) & 0xffff
    this.ackNr = opts.syn.seqNr
    this.lossSeq = this.ackedSeq
    this.replyMicro = (microseconds() - opts.syn.timestamp) >>> 0
    // libtorrent and libutp take the ST_STATE's seq_nr as the first one we will send (BEP 29's
    // diagram increments it; the clients do not), so the answer does not consume one.
    this.sendControl(ST_STATE)
  }

  /** Bytes sent and not yet acked (tests and stats). */
  get inFlight(): number {
    return this.bytesInFlight
  }

  /** A packet of this connection arrived. */
  receive(p: Packet): void {
    if (this.destroyed) return
    this.lastReceived = Date.now()
    this.replyMicro = (microseconds() - p.timestamp) >>> 0
    if (p.type === ST_RESET) {
      this.destroy(Object.assign(new Error('uTP connection reset by peer'), { code: 'ECONNRESET' }))
      return
    }
    if (p.type === ST_SYN) {
      // Our ST_STATE was lost and the peer resent its SYN: answer again.
      if (p.seqNr === this.ackNr) this.sendControl(ST_STATE)
      return
    }
    this.onAck(p)
    if (p.type === ST_DATA || p.type === ST_FIN) this.onIncoming(p)
    this.flush()
  }

  /** Called on the server's timer: resends after a timeout, gives up after several. */
  tick(now: number): void {
    if (this.destroyed || this.inflight.length === 0 || now < this.timeoutAt) return
    this.timeouts++
    if (this.timeouts > MAX_TIMEOUTS) {
      this.destroy(Object.assign(new Error('uTP peer stopped answering'), { code: 'ETIMEDOUT' }))
      return
    }
    this.ledbat.onTimeout()
    this.rto = Math.min(MAX_RTO_MS, this.rto * 2)
    // Everything in flight may be gone: send it again as the (now one-packet) window allows.
    for (const s of this.inflight) {
      if (!s.acked && !s.needsResend) {
        s.needsResend = true
        this.bytesInFlight -= s.payload
      }
    }
    this.timeoutAt = now + this.rto
    this.flush(true)
  }

  private onAck(p: Packet): void {
    if (p.timestamp !== 0) this.replyMicro = (microseconds() - p.timestamp) >>> 0
    this.peerWindow = p.windowSize
    // An ack for something we never sent is forged or stale: ignore the ack part.
    const newest = (this.seqNr - 1) & 0xffff
    const advance = seqDiff(p.ackNr, this.ackedSeq)
    if (advance < 0 || seqDiff(newest, p.ackNr) < 0) return
    const before = this.bytesInFlight
    const now = performance.now()
    let ackedBytes = 0
    if (advance === 0) {
      if (p.type === ST_STATE && this.inflight.length > 0 && !p.sack) this.dupAcks++
    } else {
      this.dupAcks = 0
      this.timeouts = 0
      while (this.inflight.length > 0 && seqDiff(this.inflight[0].seq, p.ackNr) <= 0) {
        ackedBytes += this.ack(this.inflight.shift()!, now)
      }
      this.ackedSeq = p.ackNr
    }
    if (p.sack) ackedBytes += this.onSack(p.ackNr, p.sack, now)
    if (this.dupAcks >= DUP_ACKS && this.inflight.length > 0) {
      this.dupAcks = 0
      this.lost(this.inflight[0])
    }
    if (ackedBytes > 0) {
      this.timeoutAt = now + this.rto
      if (p.timestampDiff !== 0) this.ledbat.onAck(ackedBytes, p.timestampDiff, before, Date.now())
    }
    if (this.inflight.length === 0 && this.finished && this.pending.length === 0) this.emit('acked')
  }

  /** Bits acked past `ackNr + 1`; a hole with three or more acked after it is lost. */
  private onSack(ackNr: number, mask: Buffer, now: number): number {
    let ackedBytes = 0
    let ackedAfter = 0
    for (let i = this.inflight.length - 1; i >= 0; i--) {
      const s = this.inflight[i]
      const bit = seqDiff(s.seq, ackNr) - 2
      if (bit < 0) break
      if (bit >= mask.length * 8) continue
      if (mask[bit >> 3] & (1 << (bit & 7))) {
        if (!s.acked) ackedBytes += this.ack(s, now)
        ackedAfter++
      } else if (!s.acked && ackedAfter >= DUP_ACKS) {
        this.lost(s)
      }
    }
    // The first unacked packet (ack_nr + 1) is the one a selective ack says is missing.
    const first = this.inflight[0]
    if (first && !first.acked && seqDiff(first.seq, ackNr) === 1 && ackedAfter >= DUP_ACKS)
      this.lost(first)
    return ackedBytes
  }

  private ack(s: Sent, now: number): number {
    if (s.acked) return 0
    s.acked = true
    // A packet waiting to be resent is not counted in flight; it need not be resent now.
    if (s.needsResend) s.needsResend = false
    else this.bytesInFlight -= s.payload
    // Karn: only packets sent once give a clean round-trip sample (BEP 29 "timeouts").
    if (s.transmissions === 1) {
      const sample = now - s.sentAt
      if (this.rtt === 0) {
        this.rtt = sample
        this.rttVar = sample / 2
      } else {
        this.rttVar += (Math.abs(this.rtt - sample) - this.rttVar) / 4
        this.rtt += (sample - this.rtt) / 8
      }
      this.rto = Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, this.rtt + 4 * this.rttVar))
    }
    return s.payload
  }

  private lost(s: Sent): void {
    // A packet is fast-resent once (as libtorrent does); if the resend is lost too, the
    // timeout covers it. Without this every later selective ack would resend it again.
    if (s.needsResend || s.acked || s.transmissions > 1) return
    s.needsResend = true
    this.bytesInFlight -= s.payload
    // One halving per window of loss, as TCP does once per round trip.
    if (seqDiff(s.seq, this.lossSeq) > 0) {
      this.ledbat.onLoss()
      this.lossSeq = (this.seqNr - 1) & 0xffff
    }
  }

  private onIncoming(p: Packet): void {
    if (p.type === ST_FIN) this.eofSeq = p.seqNr
    const ahead = seqDiff(p.seqNr, this.ackNr)
    if (ahead <= 0) {
      this.ackDue = true // a resend of something we have: our ack was lost
    } else if (ahead === 1) {
      this.ackNr = p.seqNr
      if (p.type === ST_DATA && p.payload.length > 0) this.push(p.payload)
      for (let next = this.reorder.get((this.ackNr + 1) & 0xffff); next;) {
        this.reorder.delete((this.ackNr + 1) & 0xffff)
        this.ackNr = (this.ackNr + 1) & 0xffff
        if (next.length > 0) this.push(next)
        next = this.reorder.get((this.ackNr + 1) & 0xffff)
      }
    } else if (ahead <= REORDER_MAX && this.reorder.size < REORDER_MAX) {
      this.reorder.set(p.seqNr, p.type === ST_DATA ? p.payload : Buffer.alloc(0))
    }
    this.ackDue = true
    if (this.eofSeq !== null && this.ackNr === this.eofSeq && !this.readableEnded) {
      this.eofSeq = null
      this.push(null)
    }
  }

  /**
   * Sends resends first, then new data, while the window allows; acks what arrived if no data
   * packet carried the ack. `force` lets one packet out whatever the window (after a timeout).
   */
  private flush(force = false): void {
    if (this.destroyed) return
    // A write callback may start the next _writev synchronously, which flushes again: that
    // inner flush must not interleave packets with ours, so it only asks for another round.
    if (this.flushing) {
      this.flushAgain = true
      return
    }
    this.flushing = true
    try {
      do {
        this.flushAgain = false
        this.flushOnce(force)
        force = false
      } while (this.flushAgain && !this.destroyed)
    } finally {
      this.flushing = false
    }
  }

  private flushOnce(force: boolean): void {
    const window = Math.min(this.ledbat.window, this.peerWindow)
    let sent = false
    for (const s of this.inflight) {
      if (!s.needsResend) continue
      if (!force && this.bytesInFlight + s.payload > window) break
      force = false
      s.needsResend = false
      s.transmissions++
      this.bytesInFlight += s.payload
      this.transmit(s)
      sent = true
    }
    while (this.pending.length > 0) {
      let size = Math.min(PAYLOAD, this.pendingBytes())
      if (!this.sentData) {
        // The first packet carries the first write alone (the BitTorrent handshake):
        // Transmission's uTP reader hands bytes that arrive with the handshake to nobody, and
        // waits for a next packet that a seed would only send once asked.
        const w = this.pending[0]
        size = Math.min(size, w.chunks[w.index].length - w.offset)
        this.sentData = true
      }
      if (!force && this.bytesInFlight + size > window && this.bytesInFlight > 0) break
      force = false
      this.sendData(size)
      sent = true
    }
    if (this.ackDue && !sent) this.sendControl(ST_STATE)
    this.ackDue = false
  }

  private pendingBytes(): number {
    let n = 0
    for (const w of this.pending) {
      for (let i = w.index; i < w.chunks.length; i++) n += w.chunks[i].length
      n -= w.offset
      if (n >= PAYLOAD) return n
    }
    return n
  }

  private sendData(size: number): void {
    const buf = Buffer.allocUnsafe(HEADER_SIZE + size)
    const done: Array<(err?: Error | null) => void> = []
    let at = HEADER_SIZE
    while (at < buf.length) {
      const w = this.pending[0]
      const chunk = w.chunks[w.index]
      const n = Math.min(chunk.length - w.offset, buf.length - at)
      chunk.copy(buf, at, w.offset, w.offset + n)
      at += n
      w.offset += n
      if (w.offset === chunk.length) {
        w.index++
        w.offset = 0
      }
      if (w.index === w.chunks.length) {
        this.pending.shift()
        done.push(w.callback)
      }
    }
    const s: Sent = {
      seq: this.seqNr,
      buf,
      payload: size,
      sentAt: 0,
      transmissions: 1,
      needsResend: false,
      acked: false,
    }
    this.seqNr = (this.seqNr + 1) & 0xffff
    if (this.inflight.length === 0) this.timeoutAt = performance.now() + this.rto
    this.inflight.push(s)
    this.bytesInFlight += size
    this.transmit(s)
    // Copied out and sent: the writer may reuse its buffers.
    for (const callback of done) callback()
  }

  private transmit(s: Sent): void {
    this.ackDue = false // the data packet carries the ack
    s.sentAt = performance.now()
    writeHeader(s.buf, this.header(ST_DATA, s.seq))
    this.sendDatagram(s.buf)
  }

  private header(type: PacketType, seqNr: number) {
    return {
      type,
      connectionId: this.sendId,
      timestamp: microseconds(),
      timestampDiff: this.replyMicro,
      windowSize: this.receiveWindow(),
      seqNr,
      ackNr: this.ackNr,
    }
  }

  private receiveWindow(): number {
    const window = Math.max(0, RECV_WINDOW - this.readableLength)
    if (window < RECV_WINDOW / 2) this.windowLow = true
    return window
  }

  private sendControl(type: PacketType): void {
    this.sendDatagram(encodePacket({ ...this.header(type, this.seqNr), payload: Buffer.alloc(0) }))
  }

  override _read(): void {
    // Reading resumed after we advertised a small window: tell the peer it opened again.
    if (this.destroyed || !this.windowLow) return
    this.windowLow = false
    this.ackDue = true
    this.flush()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (e?: Error | null) => void): void {
    this._writev([{ chunk }], callback)
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (e?: Error | null) => void): void {
    const list = chunks.map((c) => c.chunk).filter((c) => c.length > 0)
    if (list.length === 0) return callback()
    this.pending.push({ chunks: list, index: 0, offset: 0, callback })
    this.flush()
  }

  override _final(callback: (e?: Error | null) => void): void {
    this.finished = true
    const fin = () => {
      this.sendControl(ST_FIN)
      callback()
    }
    if (this.inflight.length === 0) fin()
    else this.once('acked', fin)
  }

  override _destroy(err: Error | null, callback: (e?: Error | null) => void): void {
    // Tell the peer at once instead of letting it time out: FIN after a clean end, else RESET.
    if (!this.finished || this.inflight.length > 0) this.sendControl(err ? ST_RESET : ST_FIN)
    for (const w of this.pending.splice(0)) w.callback()
    this.inflight.length = 0
    this.reorder.clear()
    callback(err)
  }
}
