import { TrackerError } from './errors.ts'
import type { Announce, AnnounceEvent } from './query.ts'

/** BEP 15 actions. */
export const ACTION_CONNECT = 0
export const ACTION_ANNOUNCE = 1
export const ACTION_SCRAPE = 2
export const ACTION_ERROR = 3

/** The connect request's magic number, 0x41727101980, as two 32-bit halves. */
const PROTOCOL_ID_HIGH = 0x417
const PROTOCOL_ID_LOW = 0x27101980

/** BEP 15: "up to about 74 torrents can be scraped at once". */
export const MAX_UDP_SCRAPE_HASHES = 74

export type UdpRequest =
  | { action: 0; transactionId: number }
  | {
      action: 1
      transactionId: number
      /** A view of the packet's 8 connection-id bytes. */
      connectionId: Buffer
      announce: Announce
      /** BEP 41 URLData (path and query of the tracker URL), parsed and otherwise ignored. */
      urlData: string
    }
  | { action: 2; transactionId: number; connectionId: Buffer; infoHashes: Buffer[] }

function uint64(packet: Buffer, offset: number): number {
  return packet.readUInt32BE(offset) * 0x100000000 + packet.readUInt32BE(offset + 4)
}

/**
 * Parse one BEP 15 request packet. Throws a {@link TrackerError} for anything that is not a
 * well-formed connect, announce or scrape; the caller decides whether the sender gets an error
 * packet (only when the packet is long enough to hold a transaction id).
 *
 * @example
 * const request = parseUdpPacket(msg)
 * if (request.action === ACTION_CONNECT) …
 */
export function parseUdpPacket(packet: Buffer): UdpRequest {
  if (packet.length < 16) throw new TrackerError('bad-request', 'packet is shorter than 16 bytes')
  const action = packet.readUInt32BE(8)
  const transactionId = packet.readUInt32BE(12)
  if (action === ACTION_CONNECT) {
    if (packet.readUInt32BE(0) !== PROTOCOL_ID_HIGH || packet.readUInt32BE(4) !== PROTOCOL_ID_LOW) {
      throw new TrackerError('bad-request', 'connect without the BEP 15 protocol id')
    }
    return { action: ACTION_CONNECT, transactionId }
  }
  const connectionId = packet.subarray(0, 8)
  if (action === ACTION_ANNOUNCE) {
    if (packet.length < 98) {
      throw new TrackerError('bad-request', 'announce packet is shorter than 98 bytes')
    }
    const event = packet.readUInt32BE(80)
    if (event > 3) throw new TrackerError('bad-request', 'announce event is not 0 to 3')
    const port = packet.readUInt16BE(96)
    if (port === 0) throw new TrackerError('bad-request', 'announce port is 0')
    const announce: Announce = {
      infoHash: packet.subarray(16, 36),
      peerId: packet.subarray(36, 56),
      downloaded: uint64(packet, 56),
      left: uint64(packet, 64),
      uploaded: uint64(packet, 72),
      event: event as AnnounceEvent,
      // BEP 15's IP field (84) is ignored: the source address is the peer (BEP 7 warns why).
      ip: undefined,
      numWant: Math.max(-1, packet.readInt32BE(92)),
      port,
      compact: true,
    }
    return { action, transactionId, connectionId, announce, urlData: parseOptions(packet, 98) }
  }
  if (action === ACTION_SCRAPE) {
    const count = Math.floor((packet.length - 16) / 20)
    if (count === 0) throw new TrackerError('bad-request', 'scrape packet holds no info_hash')
    if (count > MAX_UDP_SCRAPE_HASHES) {
      throw new TrackerError(
        'too-large',
        `scrape asks for more than ${MAX_UDP_SCRAPE_HASHES} torrents`,
      )
    }
    const infoHashes: Buffer[] = []
    for (let i = 0; i < count; i++) infoHashes.push(packet.subarray(16 + i * 20, 36 + i * 20))
    return { action, transactionId, connectionId, infoHashes }
  }
  throw new TrackerError('bad-request', 'unknown action')
}

/**
 * BEP 41 options after the announce: 0 ends, 1 is a NOP, anything else has a length byte.
 * URLData (2) chunks are concatenated. A truncated option ends parsing instead of failing the
 * announce: the options carry nothing this tracker needs.
 */
function parseOptions(packet: Buffer, offset: number): string {
  let urlData = ''
  while (offset < packet.length) {
    const type = packet[offset++]
    if (type === 0) break
    if (type === 1) continue
    if (offset >= packet.length) break
    const length = packet[offset++]
    if (offset + length > packet.length) break
    if (type === 2) urlData += packet.toString('latin1', offset, offset + length)
    offset += length
  }
  return urlData
}

export function connectReply(transactionId: number, connectionId: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(16)
  out.writeUInt32BE(ACTION_CONNECT, 0)
  out.writeUInt32BE(transactionId, 4)
  out.set(connectionId.subarray(0, 8), 8)
  return out
}

/** Announce reply: peers of the packet's own address family only (BEP 15, IPv6 section). */
export function udpAnnounceReply(
  transactionId: number,
  interval: number,
  leechers: number,
  seeders: number,
  peers: Uint8Array,
): Buffer {
  const out = Buffer.allocUnsafe(20 + peers.length)
  out.writeUInt32BE(ACTION_ANNOUNCE, 0)
  out.writeUInt32BE(transactionId, 4)
  out.writeUInt32BE(interval, 8)
  out.writeUInt32BE(Math.min(leechers, 0xffffffff), 12)
  out.writeUInt32BE(Math.min(seeders, 0xffffffff), 16)
  out.set(peers, 20)
  return out
}

export function udpScrapeReply(
  transactionId: number,
  entries: { complete: number; downloaded: number; incomplete: number }[],
): Buffer {
  const out = Buffer.allocUnsafe(8 + entries.length * 12)
  out.writeUInt32BE(ACTION_SCRAPE, 0)
  out.writeUInt32BE(transactionId, 4)
  entries.forEach((entry, i) => {
    out.writeUInt32BE(Math.min(entry.complete, 0xffffffff), 8 + i * 12)
    out.writeUInt32BE(Math.min(entry.downloaded, 0xffffffff), 12 + i * 12)
    out.writeUInt32BE(Math.min(entry.incomplete, 0xffffffff), 16 + i * 12)
  })
  return out
}

/**
 * Error packet. Never larger than the request it answers (`limit`), so a forged source address
 * cannot turn the tracker into an amplifier: the message is cut to fit.
 */
export function udpErrorReply(transactionId: number, message: string, limit: number): Buffer {
  const text = Buffer.from(message)
  const length = Math.max(8, Math.min(8 + text.length, limit))
  const out = Buffer.allocUnsafe(length)
  out.writeUInt32BE(ACTION_ERROR, 0)
  out.writeUInt32BE(transactionId, 4)
  text.copy(out, 8, 0, length - 8)
  return out
}
