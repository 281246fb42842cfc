import { describe, expect, it } from 'vitest'
import type { CounterStore } from './counter-store.ts'
import { MemoryCounterStore } from './counter-store.ts'
import { TrackerError } from './errors.ts'
import type { Announce } from './query.ts'
import { Tracker, type TrackerOptions } from './tracker.ts'

const infoHash = Buffer.alloc(20, 0x11)
const hex = infoHash.toString('hex')

function announce(port: number, extra: Partial<Announce> = {}): Announce {
  return {
    infoHash,
    peerId: Buffer.alloc(20, port & 0xff),
    port,
    uploaded: 0,
    downloaded: 0,
    left: 100,
    event: 0,
    numWant: -1,
    compact: true,
    ip: undefined,
    ...extra,
  }
}

const ip = (i: number) => Uint8Array.of(10, 0, (i >> 8) & 0xff, i & 0xff)

function peersOf(records: Uint8Array): string[] {
  const out: string[] = []
  for (let o = 0; o < records.length; o += 6) {
    out.push(`${records.subarray(o, o + 4).join('.')}:${(records[o + 4] << 8) | records[o + 5]}`)
  }
  return out
}

function clock(start = 1_700_000_000_000) {
  const c = { ms: start, now: () => c.ms }
  return c
}

function tracker(options: TrackerOptions = {}): Tracker {
  const t = new Tracker({ rateLimit: null, ...options })
  t.allow(hex)
  return t
}

function fails(fn: () => unknown): TrackerError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(TrackerError)
    return err as TrackerError
  }
  throw new Error('expected a TrackerError')
}

describe('Tracker whitelist', () => {
  it('refuses unknown torrents cheaply, tracks allowed ones, forgets disallowed ones', () => {
    const t = new Tracker({ rateLimit: null })
    expect(fails(() => t.announce(announce(1), ip(1), 4, true)).code).toBe('unknown-torrent')
    t.allow(infoHash)
    expect(t.announce(announce(1), ip(1), 4, true).incomplete).toBe(1)
    expect(t.isAllowed(hex)).toBe(true)
    t.disallow(hex)
    expect(t.isAllowed(infoHash)).toBe(false)
    expect(t.peerTotal).toBe(0)
    expect(fails(() => t.announce(announce(1), ip(1), 4, true)).code).toBe('unknown-torrent')
  })

  it('keeps a superseded torrent through its grace period, then drops it', () => {
    const c = clock()
    const t = tracker({ now: c.now })
    t.allow(hex, { until: c.ms + 60_000 })
    t.announce(announce(1), ip(1), 4, true)
    c.ms += 59_000
    t.sweep()
    expect(t.isAllowed(hex)).toBe(true)
    c.ms += 2_000
    t.sweep()
    expect(t.isAllowed(hex)).toBe(false)
    expect(t.peerTotal).toBe(0)
  })

  it('tracks a hybrid torrent under its truncated v2 hash too, as a second swarm that follows the first', () => {
    const c = clock()
    const t = new Tracker({ rateLimit: null, now: c.now })
    const v2 = new Uint8Array(32).fill(0x5a)
    const v2hex = Buffer.from(v2.subarray(0, 20)).toString('hex')
    t.allow(hex, { v2 })
    expect(t.isAllowed(v2hex)).toBe(true)
    expect(t.torrentCount).toBe(1)
    t.announce(announce(1, { infoHash: Buffer.from(v2hex, 'hex') }), ip(1), 4, true)
    expect(t.stats(v2hex)?.incomplete).toBe(1)
    expect(t.stats(hex)?.incomplete).toBe(0)
    // Superseded by its v1 hash alone (what the publisher's events carry): both keep the grace.
    t.allow(hex, { until: c.ms + 1000 })
    c.ms += 2000
    t.sweep()
    expect(t.isAllowed(hex)).toBe(false)
    expect(t.isAllowed(v2hex)).toBe(false)
    t.allow(hex, { v2 })
    t.disallow(hex)
    expect(t.isAllowed(v2hex)).toBe(false)
    expect(t.peerTotal).toBe(0)
  })

  it('rejects malformed info-hashes given to allow', () => {
    expect(() => new Tracker().allow('xyz')).toThrow(/40 hex digits/)
    expect(() => new Tracker().allow(new Uint8Array(32))).toThrow(/20 bytes/)
  })
})

describe('Tracker swarms', () => {
  it('counts seeders and leechers by left, and the asker never hears of itself', () => {
    const t = tracker()
    for (let i = 1; i <= 5; i++)
      t.announce(announce(6000 + i, { left: i <= 2 ? 0 : 10 }), ip(i), 4, true)
    const reply = t.announce(announce(6003, { left: 10 }), ip(3), 4, true)
    expect(reply.complete).toBe(2)
    expect(reply.incomplete).toBe(3)
    const peers = peersOf(reply.peers)
    expect(peers).toHaveLength(4)
    expect(peers).not.toContain('10.0.0.3:6003')
    expect(Buffer.from(reply.externalIp!)).toEqual(Buffer.from(ip(3)))
  })

  it('keys peers by address and port: same address, other port is another peer', () => {
    const t = tracker()
    t.announce(announce(1000), ip(1), 4, true)
    t.announce(announce(1000), ip(1), 4, true)
    t.announce(announce(1001), ip(1), 4, true)
    expect(t.stats(hex)!.incomplete).toBe(2)
  })

  it('gives numwant 50 by default and never more than 200', () => {
    const t = tracker()
    for (let i = 0; i < 300; i++) t.announce(announce(1000), ip(i), 4, true)
    expect(t.announce(announce(2000), ip(999), 4, true).peers.length / 6).toBe(50)
    expect(t.announce(announce(2000, { numWant: 10 }), ip(999), 4, true).peers.length / 6).toBe(10)
    expect(t.announce(announce(2000, { numWant: 5000 }), ip(999), 4, true).peers.length / 6).toBe(
      200,
    )
    expect(t.announce(announce(2000, { numWant: 0 }), ip(999), 4, true).peers.length).toBe(0)
  })

  it('removes a peer on stopped, and gives it no peers', () => {
    const t = tracker()
    t.announce(announce(1), ip(1), 4, true)
    t.announce(announce(2), ip(2), 4, true)
    const reply = t.announce(announce(2, { event: 3 }), ip(2), 4, true)
    expect(reply.peers.length).toBe(0)
    expect(t.stats(hex)!.incomplete).toBe(1)
    expect(t.peerTotal).toBe(1)
  })

  it('expires peers after about two intervals, on the sweep', () => {
    const c = clock()
    const t = tracker({ now: c.now, interval: 100 })
    t.announce(announce(1), ip(1), 4, true)
    t.announce(announce(2), ip(2), 4, true)
    c.ms += 150_000
    t.announce(announce(2), ip(2), 4, true)
    c.ms += 60_000
    t.sweep()
    expect(t.stats(hex)!.incomplete).toBe(1)
    expect(peersOf(t.announce(announce(3), ip(3), 4, true).peers)).toEqual(['10.0.0.2:2'])
  })

  it('counts one completion per peer per torrent', () => {
    const t = tracker()
    t.announce(announce(1, { left: 0, event: 1 }), ip(1), 4, true)
    t.announce(announce(1, { left: 0, event: 1 }), ip(1), 4, true)
    t.announce(announce(2, { left: 0, event: 2 }), ip(2), 4, true)
    t.announce(announce(3, { left: 0, event: 1 }), ip(3), 4, true)
    expect(t.stats(hex)).toEqual({ complete: 3, incomplete: 0, downloaded: 2 })
  })

  it('puts IPv6 peers in peers6 over HTTP, and only the own family over UDP', () => {
    const t = tracker()
    const v6 = Uint8Array.from(Buffer.from('20010db8000000000000000000000001', 'hex'))
    t.announce(announce(1), ip(1), 4, true)
    t.announce(announce(2), v6, 6, true)
    const http = t.announce(announce(3), ip(3), 4, true)
    expect(http.peers.length).toBe(6)
    expect(Buffer.from(http.peers6).toString('hex')).toBe('20010db80000000000000000000000010002')
    const udp = t.announce(announce(3), ip(3), 4, false)
    expect(udp.peers6.length).toBe(0)
  })

  it('lists our own seeder in every swarm and counts it as a seed', () => {
    const t = tracker({ selfPeer: { ip: '203.0.113.7', port: 51413 } })
    const reply = t.announce(announce(1), ip(1), 4, true)
    expect(peersOf(reply.peers)).toEqual(['203.0.113.7:51413'])
    expect(reply.complete).toBe(1)
    const other = Buffer.alloc(20, 0x22)
    t.allow(other)
    expect(t.stats(other)!.complete).toBe(1)
    // Our seeder announcing (if it ever does) does not get itself back.
    const self = t.announce(announce(51413), Uint8Array.of(203, 0, 113, 7), 4, true)
    expect(peersOf(self.peers)).toEqual(['10.0.0.1:1'])
  })

  it('jitters the interval above the configured one and states min interval', () => {
    const t = tracker({ interval: 1000, minInterval: 500 })
    const intervals = new Set<number>()
    for (let i = 0; i < 50; i++) {
      const r = t.announce(announce(1), ip(1), 4, true)
      expect(r.interval).toBeGreaterThanOrEqual(1000)
      expect(r.interval).toBeLessThan(1100)
      expect(r.minInterval).toBe(500)
      intervals.add(r.interval)
    }
    expect(intervals.size).toBeGreaterThan(5)
  })

  it('rate-limits announces per address, with BEP 31 retry in', () => {
    const t = tracker({ rateLimit: { announces: 3, windowSeconds: 60 } })
    for (let i = 0; i < 3; i++) t.announce(announce(1), ip(1), 4, true)
    const err = fails(() => t.announce(announce(1), ip(1), 4, true))
    expect(err.code).toBe('rate-limited')
    expect(err.retryIn).toBe(1)
    expect(t.announce(announce(1), ip(2), 4, true).incomplete).toBe(2)
  })

  it('scrapes known torrents, zeros or nothing for unknown, full scrape switchable', () => {
    const t = tracker()
    t.announce(announce(1, { left: 0 }), ip(1), 4, true)
    const unknown = Buffer.alloc(20, 0x99)
    expect(t.scrape([infoHash, unknown])).toEqual([
      { infoHash, complete: 1, incomplete: 0, downloaded: 0 },
    ])
    expect(t.scrape([unknown], true)[0]).toMatchObject({ complete: 0, incomplete: 0 })
    expect(t.scrape([])).toHaveLength(1)
    const closed = tracker({ fullScrape: false })
    expect(fails(() => closed.scrape([])).code).toBe('full-scrape-disabled')
  })
})

/** A store whose database can be switched off: every call fails while `down`. */
class FlakyStore implements CounterStore {
  down = false
  readonly inner = new MemoryCounterStore()
  calls = 0
  async load() {
    this.calls++
    if (this.down) throw new Error('connection refused')
    return this.inner.load()
  }
  async addCompleted(batch: Map<string, number>) {
    this.calls++
    if (this.down) throw new Error('connection refused')
    return this.inner.addCompleted(batch)
  }
}

describe('Tracker counters', () => {
  it('survive a restart: flushed on close, loaded on start', async () => {
    const store = new MemoryCounterStore()
    const first = tracker({ counterStore: store })
    await first.start()
    for (let i = 0; i < 7; i++)
      first.announce(announce(i + 1, { event: 1, left: 0 }), ip(i), 4, true)
    await first.close()
    expect(store.counts.get(hex)).toBe(7)

    const second = tracker({ counterStore: store })
    await second.start()
    expect(second.stats(hex)!.downloaded).toBe(7)
    second.announce(announce(99, { event: 1, left: 0 }), ip(99), 4, true)
    expect(second.stats(hex)!.downloaded).toBe(8)
    await second.close()
    expect(store.counts.get(hex)).toBe(8)
  })

  it('keep every completion through a database outage, announces never waiting', async () => {
    const store = new FlakyStore()
    store.inner.counts.set(hex, 100)
    store.down = true
    const t = tracker({ counterStore: store })
    await t.start() // the load fails; start still returns
    t.announce(announce(1, { event: 1, left: 0 }), ip(1), 4, true)
    await t.flush() // load and write fail: kept pending
    expect(t.pendingCompletions).toBe(1)
    t.announce(announce(2, { event: 1, left: 0 }), ip(2), 4, true)
    await t.flush()
    expect(t.pendingCompletions).toBe(2)
    store.down = false
    await t.flush()
    expect(t.pendingCompletions).toBe(0)
    expect(store.inner.counts.get(hex)).toBe(102)
    expect(t.stats(hex)!.downloaded).toBe(102)
    store.down = true
    t.announce(announce(3, { event: 1, left: 0 }), ip(3), 4, true)
    await t.flush()
    store.down = false
    await t.close()
    expect(store.inner.counts.get(hex)).toBe(103)
  })

  it('do not lose counts of a torrent disallowed before the flush', async () => {
    const store = new MemoryCounterStore()
    const t = tracker({ counterStore: store })
    await t.start()
    t.announce(announce(1, { event: 1, left: 0 }), ip(1), 4, true)
    t.disallow(hex)
    await t.close()
    expect(store.counts.get(hex)).toBe(1)
  })
})
