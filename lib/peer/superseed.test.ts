import { describe, expect, it } from 'vitest'
import { SuperSeed, type SuperSeedPeer } from './superseed.ts'

/** A peer that records the `have`s it was sent. */
function peer(): SuperSeedPeer & { offered: number[] } {
  const offered: number[] = []
  return { offered, have: (i) => offered.push(i) }
}

function setup(pieces = 8, offersPerPeer = 1, forwardWaitMs = 5_000) {
  let now = 1_000
  const seed = new SuperSeed(pieces, { offersPerPeer, forwardWaitMs, now: () => now })
  return { seed, advance: (ms: number) => (now += ms) }
}

describe('SuperSeed (BEP 16)', () => {
  it('offers each newcomer a different piece: every piece leaves once before any twice', () => {
    const { seed } = setup(4)
    const peers = [peer(), peer(), peer(), peer()]
    for (const p of peers) seed.join(p, true)
    const first = peers.map((p) => p.offered[0])
    expect(new Set(first).size).toBe(4)
    const fifth = peer()
    seed.join(fifth, true)
    expect(fifth.offered).toHaveLength(1)
  })

  it('offers the next piece only once the last one was passed on to another peer', () => {
    const { seed } = setup()
    const a = peer()
    const b = peer()
    seed.join(a, true)
    seed.join(b, true)
    const piece = a.offered[0]
    seed.have(a, piece)
    expect(a.offered).toHaveLength(1) // a has it, nobody else yet: wait for the hand-on
    seed.have(b, piece)
    expect(a.offered).toHaveLength(2)
    expect(a.offered[1]).not.toBe(piece)
  })

  it('moves on after forwardWaitMs when nobody takes the piece, so no peer stalls', () => {
    const { seed, advance } = setup(8, 1, 5_000)
    const a = peer()
    seed.join(a, true)
    seed.have(a, a.offered[0])
    seed.tick()
    expect(a.offered).toHaveLength(1)
    advance(5_000)
    seed.tick()
    expect(a.offered).toHaveLength(2)
  })

  it('lets a super-seeded peer request only what it was offered', () => {
    const { seed } = setup()
    const a = peer()
    const lone = peer()
    seed.join(a, true)
    seed.join(lone, false)
    const other = (a.offered[0] + 1) % 8
    expect(seed.mayRequest(a, a.offered[0])).toBe(true)
    expect(seed.mayRequest(a, other)).toBe(false)
    expect(seed.mayRequest(lone, other)).toBe(true)
    expect(lone.offered).toEqual([])
  })

  it('prefers the piece with fewest copies among its peers', () => {
    const { seed } = setup(4, 1)
    const holder = peer()
    seed.join(holder, false)
    // The holder has pieces 0, 1, 2 (a bitfield): only 3 is nowhere in the swarm.
    seed.bitfield(holder, Buffer.from([0b11100000]))
    const a = peer()
    seed.join(a, true)
    expect(a.offered).toEqual([3])
  })

  it('reveals every missing piece once the crowd is gone', () => {
    const { seed } = setup(6)
    const a = peer()
    seed.join(a, true)
    seed.have(a, a.offered[0])
    seed.revealAll()
    expect(new Set(a.offered)).toEqual(new Set([0, 1, 2, 3, 4, 5]))
    expect(seed.superSeeded(a)).toBe(false)
    expect(seed.mayRequest(a, 5)).toBe(true)
  })

  it('forgets a peer that leaves: its pieces no longer count as copies', () => {
    const { seed } = setup(2, 1)
    const gone = peer()
    seed.join(gone, false)
    seed.have(gone, 0)
    seed.leave(gone)
    const a = peer()
    const b = peer()
    seed.join(a, true)
    seed.join(b, true)
    expect(new Set([a.offered[0], b.offered[0]])).toEqual(new Set([0, 1]))
  })

  it('super-seeds a peer shown every piece once a crowd forms, if it takes lt_donthave', () => {
    const { seed } = setup(6, 2)
    const retracted: number[] = []
    const early = { ...peer(), canRetract: true, dontHave: (i: number) => retracted.push(i) }
    const plain = peer()
    seed.join(early, false)
    seed.join(plain, false)
    seed.have(early, 3)
    expect(seed.mayRequest(early, 0)).toBe(true)
    seed.retract()
    // Every piece it lacks is withdrawn, then two are offered back, one at a time as usual.
    expect(retracted).toEqual([0, 1, 2, 4, 5])
    expect(early.offered).toHaveLength(2)
    expect(seed.superSeeded(early)).toBe(true)
    const notOffered = [0, 1, 2, 4, 5].find((i) => !early.offered.includes(i)) ?? -1
    expect(seed.mayRequest(early, notOffered)).toBe(false)
    // A peer that cannot be told stays shown everything.
    expect(seed.superSeeded(plain)).toBe(false)
    expect(seed.mayRequest(plain, 0)).toBe(true)
    // Once the crowd has gone it is shown everything again.
    seed.revealAll()
    expect(seed.mayRequest(early, notOffered)).toBe(true)
  })
})
