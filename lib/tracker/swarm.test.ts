import { describe, expect, it } from 'vitest'
import { PeerTable, SEEDER } from './peer-table.ts'
import { samplePeers } from './swarm.ts'

function v4(i: number): Uint8Array {
  return Uint8Array.of(10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 0x1a, 0xe1)
}
const key = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

function contents(table: PeerTable): Set<string> {
  const out = new Set<string>()
  for (let s = 0; s < table.count; s++) out.add(key(table.records.subarray(s * 6, s * 6 + 6)))
  return out
}

describe('PeerTable', () => {
  it('agrees with a Map through random inserts, lookups and removals', () => {
    const table = new PeerTable(6)
    const model = new Map<string, number>()
    for (let step = 0; step < 50_000; step++) {
      const peer = v4(Math.floor(Math.random() * 3000))
      const slot = table.find(peer)
      expect(slot >= 0).toBe(model.has(key(peer)))
      if (slot < 0) {
        const seeder = Math.random() < 0.3
        table.insert(peer, 0, step, seeder ? SEEDER : 0)
        model.set(key(peer), seeder ? 1 : 0)
      } else if (Math.random() < 0.5) {
        table.remove(slot)
        model.delete(key(peer))
      }
    }
    expect(table.count).toBe(model.size)
    expect(contents(table)).toEqual(new Set(model.keys()))
    expect(table.seeders).toBe([...model.values()].filter((s) => s === 1).length)
    for (const k of model.keys())
      expect(table.find(Buffer.from(k, 'hex'))).toBeGreaterThanOrEqual(0)
  })

  it('expires peers not seen since the cutoff, and shrinks', () => {
    const table = new PeerTable(6)
    for (let i = 0; i < 1000; i++) table.insert(v4(i), 0, i < 900 ? 10 : 20, 0)
    expect(table.expire(15)).toBe(900)
    expect(table.count).toBe(100)
    expect(table.capacity).toBeLessThan(1024)
    for (let i = 900; i < 1000; i++) expect(table.find(v4(i))).toBeGreaterThanOrEqual(0)
    for (let i = 0; i < 900; i += 50) expect(table.find(v4(i))).toBe(-1)
  })

  it('keys IPv6 peers by all 18 bytes', () => {
    const table = new PeerTable(18)
    const a = new Uint8Array(18).fill(1)
    const b = a.slice()
    b[17] = 2
    table.insert(a, 0, 0, 0)
    expect(table.find(a)).toBe(0)
    expect(table.find(b)).toBe(-1)
  })
})

describe('samplePeers', () => {
  const table = new PeerTable(6)
  for (let i = 0; i < 500; i++) table.insert(v4(i), 0, 0, 0)
  const out = new Uint8Array(600 * 6)

  function sample(exclude: number, want: number): string[] {
    const end = samplePeers(table, exclude, want, out, 0)
    const peers: string[] = []
    for (let o = 0; o < end; o += 6) peers.push(key(out.subarray(o, o + 6)))
    return peers
  }

  it('never returns the asker, never a peer twice, at most what was asked', () => {
    const asker = key(table.records.subarray(42 * 6, 43 * 6))
    for (const want of [1, 50, 200, 300, 499, 500, 1000]) {
      for (let round = 0; round < 20; round++) {
        const peers = sample(42, want)
        expect(peers).not.toContain(asker)
        expect(new Set(peers).size).toBe(peers.length)
        expect(peers.length).toBe(Math.min(want, 499))
      }
    }
  })

  it('holds for every swarm size, asker slot and ask, the window wrapping or not', () => {
    for (let count = 0; count <= 12; count++) {
      const small = new PeerTable(6)
      for (let i = 0; i < count; i++) small.insert(v4(1000 + i), 0, 0, 0)
      for (let exclude = -1; exclude < count; exclude++) {
        const asker = exclude < 0 ? '' : key(small.records.subarray(exclude * 6, exclude * 6 + 6))
        for (let want = 0; want <= count + 1; want++) {
          for (let round = 0; round < 10; round++) {
            const end = samplePeers(small, exclude, want, out, 0)
            const peers: string[] = []
            for (let o = 0; o < end; o += 6) peers.push(key(out.subarray(o, o + 6)))
            expect(peers).not.toContain(asker)
            expect(new Set(peers).size).toBe(peers.length)
            expect(peers.length).toBe(Math.min(want, count - (exclude < 0 ? 0 : 1)))
          }
        }
      }
    }
  })

  it('draws a fresh sample each time, covering the whole swarm', () => {
    const seen = new Set<string>()
    const first = sample(-1, 50).join()
    let same = 0
    for (let round = 0; round < 200; round++) {
      const peers = sample(-1, 50)
      if (peers.join() === first) same++
      for (const p of peers) seen.add(p)
    }
    // A window repeats only when its random start does: 1 in 500 a round, so about 0.4 times
    // in 200 rounds (more than 5 has odds near 1e-5); a fixed answer would repeat every time.
    expect(same).toBeLessThanOrEqual(5)
    expect(seen.size).toBeGreaterThan(480)
  })
})
