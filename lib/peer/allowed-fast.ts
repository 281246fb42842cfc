import { createHash } from 'node:crypto'
import net from 'node:net'

/**
 * How many pieces a choked starting peer may fetch from us at once (BEP 6 allowed fast set).
 * BEP 6 suggests 10; libtorrent sends 5. Each is a piece the seeder serves outside its unchoke
 * slots, so the smaller number: enough for a newcomer to start while the slots are full.
 */
export const ALLOWED_FAST_SET_SIZE = 5

/** The peer's IPv4 address as a 32-bit number, for IPv4 and IPv4-mapped IPv6; null otherwise. */
function ipv4(address: string): number | null {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  if (!net.isIPv4(v4)) return null
  return v4.split('.').reduce((n, octet) => n * 256 + Number(octet), 0)
}

/**
 * BEP 6 "Allowed Fast Set Generation", the canonical algorithm: the same peer (by its /24) gets
 * the same pieces from every peer that offers it k of them. BEP 6 has no provision for IPv6:
 * an IPv6 peer gets no set.
 *
 * @example
 * allowedFastSet(7, 1313, Buffer.alloc(20, 0xaa), '80.4.4.200')
 * // [1059, 431, 808, 1217, 287, 376, 1188]
 */
export function allowedFastSet(
  k: number,
  pieceCount: number,
  infoHash: Buffer,
  address: string,
): number[] {
  const ip = ipv4(address)
  if (ip === null) return []
  // A torrent with fewer pieces than k: all of them (the loop below would never end).
  const want = Math.min(k, pieceCount)
  const set: number[] = []
  const head = Buffer.alloc(4)
  head.writeUInt32BE((ip & 0xffffff00) >>> 0)
  let x = Buffer.concat([head, infoHash.subarray(0, 20)])
  while (set.length < want) {
    x = createHash('sha1').update(x).digest()
    for (let i = 0; i < 5 && set.length < want; i++) {
      const index = x.readUInt32BE(i * 4) % pieceCount
      if (!set.includes(index)) set.push(index)
    }
  }
  return set
}
