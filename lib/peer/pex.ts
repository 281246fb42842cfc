import net from 'node:net'
import { encode } from '../bencode/index.ts'

/**
 * BEP 11 peer exchange, seed side: the seeder tells each downloader about the other downloaders
 * of the same torrent it is connected to, so they find each other and the swarm, not the origin,
 * carries the load. Only live connections are listed (BEP 11's liveness rule), and a contact we
 * listed is dropped again once its connection closes.
 */

/** The id peers send us ut_pex messages under (ours to choose, BEP 10); we read none. */
export const UT_PEX_ID = 1
/** BEP 11: "no more than 1 PEX message per minute". */
export const PEX_INTERVAL_MS = 60_000
/** BEP 11: added (and dropped) contacts should not exceed 50 per message. */
const MAX_PER_MESSAGE = 50
/** Contacts one peer is told of at most: beyond this it has plenty to connect to. */
const MAX_KNOWN = 200

/** BEP 11 `added.f` flags. */
export const PexFlag = { encryption: 0x01, seed: 0x02, utp: 0x04 } as const

export interface PexContact {
  /** `address:port`, what duplicates and drops are told apart by. */
  key: string
  /** BEP 23 compact form: 6 bytes for IPv4, 18 for IPv6. */
  compact: Buffer
  flags: number
}

/**
 * A peer's contact for others, from its address and the port it listens on (the `p` of its
 * extension handshake, or the port its uTP packets come from); null when it has none.
 */
export function pexContact(address: string, port: number | null, flags: number): PexContact | null {
  if (port === null || port <= 0 || port > 65535) return null
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  let compact: Buffer
  if (net.isIPv4(v4)) {
    compact = Buffer.alloc(6)
    v4.split('.').forEach((octet, i) => (compact[i] = Number(octet)))
    compact.writeUInt16BE(port, 4)
  } else if (net.isIPv6(address) && !address.includes('.') && !address.includes('%')) {
    compact = Buffer.alloc(18)
    ipv6Bytes(address).copy(compact)
    compact.writeUInt16BE(port, 16)
  } else {
    return null
  }
  return { key: `${v4}:${port}`, compact, flags }
}

/** The 16 bytes of an IPv6 address in any textual form. */
function ipv6Bytes(address: string): Buffer {
  const [head, tail = ''] = address.split('::')
  const parse = (part: string) => (part ? part.split(':').map((h) => parseInt(h, 16)) : [])
  const front = parse(head)
  const back = parse(tail)
  const groups = address.includes('::')
    ? [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back]
    : front
  const buf = Buffer.alloc(16)
  groups.forEach((g, i) => buf.writeUInt16BE(g, i * 2))
  return buf
}

/** A ut_pex message body (BEP 11), with the IPv4 and IPv6 lists each family needs. */
export function encodePex(added: PexContact[], dropped: PexContact[]): Buffer {
  const v4 = (c: PexContact) => c.compact.length === 6
  const v6 = (c: PexContact) => c.compact.length === 18
  const join = (list: PexContact[]) => Buffer.concat(list.map((c) => c.compact))
  const flags = (list: PexContact[]) => Buffer.from(list.map((c) => c.flags))
  const added4 = added.filter(v4)
  const added6 = added.filter(v6)
  return encode({
    added: join(added4),
    'added.f': flags(added4),
    added6: join(added6),
    'added6.f': flags(added6),
    dropped: join(dropped.filter(v4)),
    dropped6: join(dropped.filter(v6)),
  })
}

/**
 * What one peer has been told: each call to `next` gives the message that brings it up to date
 * with `current` (the torrent's other live contacts), or null when there is nothing new or the
 * last message was less than a minute ago.
 *
 * @example
 * const feed = new PexFeed()
 * const body = feed.next(others, Date.now())
 * if (body) conn.send(encodeExtended(peerPexId, body))
 */
export class PexFeed {
  private readonly told = new Map<string, PexContact>()
  private lastAt = -Infinity

  /** Whether `next` may send now: false within a minute of the last message (BEP 11). */
  due(now: number): boolean {
    return now - this.lastAt >= PEX_INTERVAL_MS
  }

  next(current: Iterable<PexContact>, now: number): Buffer | null {
    if (!this.due(now)) return null
    const live = new Map<string, PexContact>()
    for (const c of current) live.set(c.key, c)
    const dropped: PexContact[] = []
    for (const [key, c] of this.told) {
      if (dropped.length >= MAX_PER_MESSAGE) break
      if (!live.has(key)) dropped.push(c)
    }
    for (const c of dropped) this.told.delete(c.key)
    const added: PexContact[] = []
    for (const [key, c] of live) {
      if (added.length >= MAX_PER_MESSAGE || this.told.size >= MAX_KNOWN) break
      if (this.told.has(key)) continue
      added.push(c)
      this.told.set(key, c)
    }
    if (added.length === 0 && dropped.length === 0) return null
    this.lastAt = now
    return encodePex(added, dropped)
  }
}
