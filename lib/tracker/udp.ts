// The UDP front end of the tracker (BEP 15). It calls the core; the core never calls it.
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { log } from '../log/index.ts'
import { parseAddress } from './address.ts'
import { TrackerError } from './errors.ts'
import type { Tracker } from './tracker.ts'
import { answerOnHandle } from './udp-handle.ts'
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  ACTION_SCRAPE,
  connectReply,
  parseUdpPacket,
  udpAnnounceReply,
  udpErrorReply,
  udpScrapeReply,
} from './udp-packet.ts'

const source = new Uint8Array(18)
/** `source` as an IPv4 client's address and port: one view, not a subarray per packet. */
const source6 = source.subarray(0, 6)
/**
 * Keep an announce reply inside one unfragmented datagram on a 1500-byte path (IPv6 and UDP
 * headers take 48): 20 + 18 x 76 bytes for IPv6 peers. IPv4 replies stay under it anyway
 * (20 + 6 x 200).
 */
const MAX_IPV6_PEERS = 76
const connectionId = Buffer.alloc(8)

/**
 * One BEP 15 packet in, at most one packet out. Silence for anything that could be spoofed:
 * packets too short to carry a transaction id, junk that is not a connect, and announces or
 * scrapes without a valid connection id (BEP 15: "ignores the request if it doesn't match").
 * So an error packet only ever goes to an address that proved it receives our packets, and is
 * never larger than the request.
 */
export function handleUdp(
  tracker: Tracker,
  packet: Buffer,
  address: string,
  port: number,
): Buffer | null {
  if (packet.length < 16) return null
  const family = parseAddress(address, source)
  if (family === 0) return null
  const length = family === 4 ? 4 : 16
  source[length] = port >> 8
  source[length + 1] = port & 0xff
  const client = family === 4 ? source6 : source
  const action = packet.readUInt32BE(8)
  if (action === ACTION_ANNOUNCE || action === ACTION_SCRAPE) {
    if (!tracker.connectionIds.verify(client, packet, 0)) return null
  } else if (action !== ACTION_CONNECT) {
    return null
  }
  try {
    const request = parseUdpPacket(packet)
    switch (request.action) {
      case ACTION_CONNECT:
        tracker.connectionIds.issue(client, connectionId, 0)
        return connectReply(request.transactionId, connectionId)
      case ACTION_ANNOUNCE: {
        const announce = request.announce
        if (family === 6) {
          const want = announce.numWant < 0 ? tracker.numWant : announce.numWant
          announce.numWant = Math.min(want, MAX_IPV6_PEERS)
        }
        const reply = tracker.announce(announce, source, family, false)
        return udpAnnounceReply(
          request.transactionId,
          reply.interval,
          reply.incomplete,
          reply.complete,
          family === 4 ? reply.peers : reply.peers6,
        )
      }
      case ACTION_SCRAPE:
        return udpScrapeReply(request.transactionId, tracker.scrape(request.infoHashes, true))
    }
  } catch (err) {
    // A connect that is not BEP 15 is someone else's traffic: no answer.
    if (action === ACTION_CONNECT) return null
    const message = err instanceof TrackerError ? err.message : 'internal tracker error'
    if (!(err instanceof TrackerError)) log.error('tracker udp packet failed', { error: err })
    return udpErrorReply(packet.readUInt32BE(12), message, packet.length)
  }
}

/**
 * Replies go to the address a packet came from, always an IP literal: answered at once, where
 * dgram's default lookup defers every send to the next tick (a closure and a tick per reply,
 * bench/tracker.ts UDP row).
 */
function literal(
  address: string,
  _options: unknown,
  callback: (error: null, address: string, family: number) => void,
): void {
  callback(null, address, address.includes(':') ? 6 : 4)
}

export interface UdpServer {
  port: number
  close(): Promise<void>
}

/**
 * Listen for BEP 15 on `host:port` (0 picks one); an IPv6 host (`::`) takes IPv4 too, as mapped
 * addresses.
 *
 * @example
 * const udp = await startUdp(tracker, { host: '0.0.0.0', port: 6969 })
 */
export async function startUdp(
  tracker: Tracker,
  options: { host?: string; port: number },
): Promise<UdpServer> {
  const host = options.host ?? '0.0.0.0'
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', lookup: literal })
  socket.on('error', (err) => log.warn('tracker udp socket error', { error: err }))
  // Listened for before bind: with the literal lookup, bind may be done before it returns.
  const listening = once(socket, 'listening')
  socket.bind(options.port, host)
  await listening
  // Packets are answered on the socket's handle (udp-handle.ts), or through dgram where this
  // node lacks the internals for it.
  const answer = (packet: Buffer, address: string, port: number) =>
    handleUdp(tracker, packet, address, port)
  if (!answerOnHandle(socket, answer)) {
    socket.on('message', (packet, remote) => {
      const reply = answer(packet, remote.address, remote.port)
      if (reply) socket.send(reply, remote.port, remote.address)
    })
  }
  return {
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
