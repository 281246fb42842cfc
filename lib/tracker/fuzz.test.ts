import { describe, expect, it } from 'vitest'
import { TrackerError } from './errors.ts'
import { parseAnnounceQuery, parseScrapeQuery } from './query.ts'
import { announceReply, scrapeReply } from './response.ts'
import { Tracker } from './tracker.ts'
import { parseUdpPacket } from './udp-packet.ts'
import { handleUdp } from './udp.ts'

// Bounded in count and in time, so a slow machine shortens the run instead of failing it.
const ROUNDS = 300_000
const BUDGET_MS = 12_000

const infoHash = Buffer.alloc(20, 0x5a)
const escaped = [...infoHash].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')
const valid = [
  `info_hash=${escaped}&peer_id=-TR4060-abcdefghijkl&port=51413&uploaded=0&downloaded=0&left=100&event=started&numwant=80&compact=1`,
  `info_hash=${'Z'.repeat(20)}&peer_id=${'%2d'.repeat(20)}&port=1&left=0&compact=0&event=completed`,
  `info_hash=${escaped}&info_hash=${'Z'.repeat(20)}`,
]
const alphabet = '%&=0123456789abcdefABCDEF_-.~+xyz\u00ff\u0100 '

function random(n: number): number {
  return Math.floor(Math.random() * n)
}

function mutateText(text: string): string {
  const chars = [...text]
  for (let k = random(4) + 1; k > 0; k--) {
    const at = random(chars.length + 1)
    switch (random(4)) {
      case 0:
        chars.splice(at, 1)
        break
      case 1:
        chars.splice(at, 0, alphabet[random(alphabet.length)])
        break
      case 2:
        chars[at] = alphabet[random(alphabet.length)]
        break
      default:
        chars.splice(at, random(10))
    }
  }
  return chars.join('')
}

function randomText(): string {
  let out = ''
  for (let n = random(300); n > 0; n--) out += alphabet[random(alphabet.length)]
  return out
}

/** Only TrackerError may escape a parser; anything else is a crash. */
function survive<T>(fn: () => T): T | undefined {
  try {
    return fn()
  } catch (err) {
    if (!(err instanceof TrackerError)) throw err
    return undefined
  }
}

describe('fuzz: HTTP query parser', () => {
  it('throws nothing but TrackerError, and the tracker does not grow past its inputs', () => {
    const tracker = new Tracker({ rateLimit: { announces: 1_000_000, windowSeconds: 60 } })
    tracker.allow(infoHash)
    tracker.allow(Buffer.alloc(20, 'Z'))
    const address = Uint8Array.of(192, 0, 2, 1)
    const heapBefore = process.memoryUsage().heapUsed
    const deadline = Date.now() + BUDGET_MS
    let accepted = 0
    let rounds = 0
    for (; rounds < ROUNDS && Date.now() < deadline; rounds++) {
      const query = rounds % 4 === 0 ? randomText() : mutateText(valid[rounds % valid.length])
      const announce = survive(() => parseAnnounceQuery(query))
      if (announce) {
        expect(announce.infoHash.length).toBe(20)
        expect(announce.port).toBeGreaterThan(0)
        const reply = survive(() => tracker.announce(announce, address, 4, true))
        if (reply) {
          accepted++
          announceReply(reply, announce.compact)
        }
      }
      const hashes = survive(() => parseScrapeQuery(query))
      if (hashes) scrapeReply(tracker.scrape(hashes))
    }
    expect(rounds).toBeGreaterThan(50_000)
    expect(accepted).toBeGreaterThan(100)
    // One address, so at most one peer per port per torrent.
    expect(tracker.peerTotal).toBeLessThanOrEqual(2 * 65535)
    global.gc?.()
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024)
  })
})

describe('fuzz: UDP packet parser', () => {
  const connect = Buffer.from('0000041727101980000000000000beef', 'hex')
  const announce = Buffer.alloc(120)
  announce.writeUInt32BE(1, 8)
  infoHash.copy(announce, 16)
  announce.writeUInt16BE(6881, 96)
  Buffer.from([1, 2, 5, 47, 97, 98, 99, 100, 0]).copy(announce, 98)
  const scrape = Buffer.alloc(16 + 60)
  scrape.writeUInt32BE(2, 8)
  const seeds = [connect, announce, scrape]

  function mutate(packet: Buffer): Buffer {
    let out = Buffer.from(packet)
    for (let k = random(4) + 1; k > 0; k--) {
      switch (random(3)) {
        case 0:
          out[random(out.length)] = random(256)
          break
        case 1:
          out = out.subarray(0, random(out.length + 1))
          break
        default:
          out = Buffer.concat([
            out,
            Buffer.from(Array.from({ length: random(40) }, () => random(256))),
          ])
      }
      if (out.length === 0) break
    }
    return out
  }

  it('throws nothing but TrackerError on random and mutated packets', () => {
    const tracker = new Tracker({ rateLimit: null })
    tracker.allow(infoHash)
    const deadline = Date.now() + BUDGET_MS
    let parsed = 0
    let rounds = 0
    for (; rounds < ROUNDS && Date.now() < deadline; rounds++) {
      const packet =
        rounds % 4 === 0
          ? Buffer.from(Array.from({ length: random(200) }, () => random(256)))
          : mutate(seeds[rounds % seeds.length])
      const request = survive(() => parseUdpPacket(packet))
      if (request) parsed++
      if (request?.action === 1) {
        survive(() => tracker.announce(request.announce, Uint8Array.of(192, 0, 2, 1), 4, false))
      }
      // The whole server path too: a reply, when there is one, is never larger than needed.
      const reply = handleUdp(tracker, packet, '192.0.2.1', 4000 + (rounds % 1000))
      if (reply && reply.readUInt32BE(0) === 3)
        expect(reply.length).toBeLessThanOrEqual(packet.length)
    }
    expect(rounds).toBeGreaterThan(50_000)
    expect(parsed).toBeGreaterThan(1000)
  })
})
