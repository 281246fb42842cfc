import { describe, expect, it } from 'vitest'
import { Tracker, type Announce } from '../tracker/index.ts'
import { crowdTest, egressByTorrent } from './egress.ts'

const hash = 'ab'.repeat(20)

function peer(port: number, left: number): Announce {
  return {
    infoHash: Buffer.from(hash, 'hex'),
    peerId: Buffer.alloc(20, port & 0xff),
    port,
    uploaded: 0,
    downloaded: 0,
    left,
    event: 0,
    numWant: 0,
    compact: true,
    ip: undefined,
  }
}

/** A tracker with `seeds` complete and `leechers` incomplete peers in one swarm. */
function trackerWith(seeds: number, leechers: number): Tracker {
  const tracker = new Tracker({ rateLimit: null })
  tracker.allow(hash)
  for (let i = 0; i < seeds + leechers; i++) {
    tracker.announce(peer(1000 + i, i < seeds ? 0 : 100), Uint8Array.of(192, 0, 2, i + 1), 4, true)
  }
  return tracker
}

describe('crowdTest', () => {
  it('is off without egress.stepBack', () => {
    expect(crowdTest({ stepBack: false, crowd: 1, seederHere: false }, () => undefined)).toBe(
      undefined,
    )
  })

  it('calls a swarm a crowd from `crowd` peers on, our own seeder not counted', async () => {
    const tracker = trackerWith(1, 2)
    try {
      const policy = { stepBack: true, crowd: 3 }
      const alone = crowdTest({ ...policy, seederHere: false }, () => tracker)
      const beside = crowdTest({ ...policy, seederHere: true }, () => tracker)
      expect(alone?.(hash)).toBe(true)
      // One of the three is our seeder: two others are not a crowd of three.
      expect(beside?.(hash)).toBe(false)
      expect(alone?.('cd'.repeat(20))).toBe(false)
    } finally {
      await tracker.close()
    }
  })

  it('is never a crowd without a tracker on this node', () => {
    const crowded = crowdTest({ stepBack: true, crowd: 0, seederHere: false }, () => undefined)
    expect(crowded?.(hash)).toBe(false)
  })
})

describe('egressByTorrent', () => {
  it('is undefined where neither the seeder nor the web seed runs', () => {
    expect(egressByTorrent({})).toBe(undefined)
  })
})
