import { MirrorseedError } from '../errors/index.ts'
/** uTP packets (BEP 29): a pure codec, no I/O, so it is trivial to fuzz. */

export const ST_DATA = 0
export const ST_FIN = 1
export const ST_STATE = 2
export const ST_RESET = 3
export const ST_SYN = 4
export type PacketType = 0 | 1 | 2 | 3 | 4

export const HEADER_SIZE = 20
const VERSION = 1
/** BEP 29 "Selective ACK" extension. */
const EXT_SACK = 1

export interface Packet {
  type: PacketType
  connectionId: number
  /** Sender's clock, microseconds, wrapping at 2^32. */
  timestamp: number
  /** One-way delay the sender last measured for packets in our direction, microseconds. */
  timestampDiff: number
  /** Bytes the sender can still take in. */
  windowSize: number
  seqNr: number
  ackNr: number
  /** Bitmask from the selective-ack extension: bit i acks `ackNr + 2 + i` (BEP 29). */
  sack: Buffer | null
  payload: Buffer
}

/** The one error of the uTP parser: a datagram that is not a uTP packet. */
export class UtpPacketError extends MirrorseedError<'bad-packet'> {
  constructor(message: string) {
    super('bad-packet', message)
  }
}

/**
 * True for a datagram that may be uTP: its first byte is a version-1 packet type (0x01, 0x11,
 * 0x21, 0x31, 0x41). This is how the peer port's UDP socket tells uTP from DHT ('d').
 */
export function looksLikeUtp(buf: Buffer): boolean {
  return buf.length >= HEADER_SIZE && (buf[0] & 0x0f) === VERSION && buf[0] >> 4 <= ST_SYN
}

/** Parses one datagram; throws UtpPacketError on anything malformed. */
export function parsePacket(buf: Buffer): Packet {
  if (buf.length < HEADER_SIZE)
    throw new UtpPacketError(`packet of ${buf.length} bytes is shorter than the 20-byte header`)
  const version = buf[0] & 0x0f
  if (version !== VERSION) throw new UtpPacketError(`unknown uTP version ${version}`)
  const type = buf[0] >> 4
  if (type > ST_SYN) throw new UtpPacketError(`unknown packet type ${type}`)
  let sack: Buffer | null = null
  let next = buf[1]
  let at = HEADER_SIZE
  // Extensions are a linked list, each `next type, length, bytes`; unknown ones are skipped
  // (libtorrent sends a close-reason extension, type 3).
  while (next !== 0) {
    if (at + 2 > buf.length) throw new UtpPacketError('extension header runs past the packet')
    const kind = next
    const len = buf[at + 1]
    next = buf[at]
    at += 2
    if (at + len > buf.length) throw new UtpPacketError('extension runs past the packet')
    if (kind === EXT_SACK) {
      // BEP 29 says a multiple of 4 bytes; libtorrent sends as many bytes as its reorder
      // buffer spans, so any non-empty length is taken.
      if (len === 0) throw new UtpPacketError('empty selective ack')
      sack = buf.subarray(at, at + len)
    }
    at += len
  }
  return {
    type: type as PacketType,
    connectionId: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    timestampDiff: buf.readUInt32BE(8),
    windowSize: buf.readUInt32BE(12),
    seqNr: buf.readUInt16BE(16),
    ackNr: buf.readUInt16BE(18),
    sack,
    payload: buf.subarray(at),
  }
}

/** Writes the 20-byte header into `buf` (which must be at least that long). */
export function writeHeader(buf: Buffer, h: Omit<Packet, 'sack' | 'payload'>, extension = 0): void {
  buf[0] = (h.type << 4) | VERSION
  buf[1] = extension
  buf.writeUInt16BE(h.connectionId & 0xffff, 2)
  buf.writeUInt32BE(h.timestamp >>> 0, 4)
  buf.writeUInt32BE(h.timestampDiff >>> 0, 8)
  buf.writeUInt32BE(h.windowSize >>> 0, 12)
  buf.writeUInt16BE(h.seqNr & 0xffff, 16)
  buf.writeUInt16BE(h.ackNr & 0xffff, 18)
}

/** A whole packet as bytes; the payload is copied after the header. */
export function encodePacket(p: Omit<Packet, 'sack'> & { sack?: Buffer | null }): Buffer {
  const sackLen = p.sack ? 2 + p.sack.length : 0
  const buf = Buffer.allocUnsafe(HEADER_SIZE + sackLen + p.payload.length)
  writeHeader(buf, p, p.sack ? EXT_SACK : 0)
  let at = HEADER_SIZE
  if (p.sack) {
    buf[at] = 0
    buf[at + 1] = p.sack.length
    p.sack.copy(buf, at + 2)
    at += sackLen
  }
  p.payload.copy(buf, at)
  return buf
}

/** `a - b` on 16-bit sequence numbers, as a signed distance in [-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16
}
