import { describe, it, expect } from 'vitest'
import { Choker, type ChokePeer } from './choker.ts'

class FakePeer implements ChokePeer {
  interested = true
  choked = true
  unchokes = 0
  choke() {
    this.choked = true
  }
  unchoke() {
    this.choked = false
    this.unchokes++
  }
}

describe('Choker', () => {
  it('unchokes at once while slots are free and never more than the slots', () => {
    const choker = new Choker(2)
    const peers = [new FakePeer(), new FakePeer(), new FakePeer()]
    for (const p of peers) choker.update(p)
    expect(peers.map((p) => p.choked)).toEqual([false, false, true])
    peers[0].interested = false
    choker.update(peers[0])
    expect(peers.map((p) => p.choked)).toEqual([true, false, false])
  })

  it('rotates so every interested peer gets unchoked within a few rounds', () => {
    let now = 0
    const choker = new Choker(3, 30_000, 30_000, () => now)
    const peers = Array.from({ length: 20 }, () => new FakePeer())
    for (const p of peers) choker.update(p)
    for (let round = 0; round < 30; round++) {
      now += 10_000
      choker.rotate()
      // Never more than the regular slots plus the optimistic one.
      expect(peers.filter((p) => !p.choked).length).toBeLessThanOrEqual(4)
    }
    expect(peers.every((p) => p.unchokes > 0)).toBe(true)
  })

  it('frees the slot of a peer that leaves', () => {
    const choker = new Choker(1)
    const a = new FakePeer()
    const b = new FakePeer()
    choker.update(a)
    choker.update(b)
    expect([a.choked, b.choked]).toEqual([false, true])
    choker.update(a, true)
    expect(b.choked).toBe(false)
    expect(choker.unchoked).toBe(1)
  })
})
