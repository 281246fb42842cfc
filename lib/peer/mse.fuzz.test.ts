import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import { WireError } from './errors.ts'
import { CRYPTO_RC4, MSE_MAX_BUFFERED, MseResponder, streamKeyHash } from './mse.ts'
import { mseInitiator } from '../../test/mse-initiator.ts'
import { prng } from '../../test/prng.ts'

const skey = Buffer.alloc(20, 7)
const keys = new Map([[streamKeyHash(skey).toString('hex'), skey]])
const handshake = Buffer.concat([Buffer.from('\x13BitTorrent protocol'), Buffer.alloc(48, 1)])

/** Feeds `bytes` in random chunks; true once the handshake completed. */
function feed(mse: MseResponder, rand: () => number, bytes: Buffer): Buffer | null {
  let sent: Buffer | null = null
  for (let at = 0; at < bytes.length;) {
    const n = 1 + Math.floor(rand() * 300)
    const step = mse.push(bytes.subarray(at, at + n))
    at += n
    sent ??= step.send
    if (step.accepted) return sent
    expect(mse.bufferedLength).toBeLessThanOrEqual(MSE_MAX_BUFFERED + n)
  }
  return sent
}

describe('MSE handshake parser fuzz', () => {
  it('throws nothing but WireError on random and mutated handshakes, with bounded memory', () => {
    const seed = Date.now() >>> 0
    const rand = prng(seed)
    const deadline = Date.now() + 10_000
    let runs = 0
    let rejected = 0
    let accepted = 0
    for (; runs < 5_000 && Date.now() < deadline; runs++) {
      const mse = new MseResponder((h) => keys.get(h))
      try {
        if (runs % 4 === 0) {
          // Noise: a random "key" and random bytes after it.
          feed(mse, rand, randomBytes(Math.floor(rand() * 1500)))
        } else {
          const a = mseInitiator(
            skey,
            1 + Math.floor(rand() * 3),
            handshake,
            Math.floor(rand() * 513),
            Math.floor(rand() * 40),
          )
          const yb = feed(mse, rand, a.first)
          if (!yb) continue
          const msg = Buffer.from(a.third(yb.subarray(0, 96)).msg)
          // Flip a few bytes anywhere in the third message, or cut it short.
          const edits = Math.floor(rand() * 3)
          for (let i = 0; i < edits; i++)
            msg[Math.floor(rand() * msg.length)] ^= 1 + Math.floor(rand() * 255)
          const cut = rand() < 0.2 ? Math.floor(rand() * msg.length) : msg.length
          if (feed(mse, rand, msg.subarray(0, cut)) && cut === msg.length) accepted++
        }
      } catch (err) {
        if (!(err instanceof WireError))
          throw new Error(`seed ${seed} run ${runs}: ${String(err)}`, { cause: err })
        rejected++
      }
    }
    expect(runs).toBeGreaterThan(500)
    expect(rejected).toBeGreaterThan(0)
    expect(accepted).toBeGreaterThan(0)
  })

  it('never holds more than its bound, however long a peer keeps sending padding', () => {
    const mse = new MseResponder((h) => keys.get(h))
    const a = mseInitiator(skey, CRYPTO_RC4, handshake, 0)
    mse.push(a.first)
    expect(() => {
      for (let i = 0; i < 100; i++) mse.push(randomBytes(100))
    }).toThrow(WireError)
    expect(mse.bufferedLength).toBeLessThan(1000)
  })
})
