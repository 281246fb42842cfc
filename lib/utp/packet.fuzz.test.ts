import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import { encodePacket, parsePacket, UtpPacketError } from './packet.ts'
import { prng } from '../../test/prng.ts'

const base = {
  connectionId: 4242,
  timestamp: 1,
  timestampDiff: 2,
  windowSize: 3,
  seqNr: 4,
  ackNr: 5,
}
const valid = [
  encodePacket({ ...base, type: 4, payload: Buffer.alloc(0) }),
  encodePacket({ ...base, type: 2, sack: Buffer.from([1, 2, 3, 4]), payload: Buffer.alloc(0) }),
  encodePacket({
    ...base,
    type: 0,
    payload: Buffer.from('0000000d0600000001000040000000400', 'hex'),
  }),
  encodePacket({ ...base, type: 1, payload: Buffer.alloc(0) }),
]

describe('uTP packet parser fuzz', () => {
  it('throws nothing but UtpPacketError, and never reads past the datagram', () => {
    const seed = Date.now() >>> 0
    const rand = prng(seed)
    const deadline = Date.now() + 10_000
    let runs = 0
    for (; runs < 300_000 && Date.now() < deadline; runs++) {
      let input: Buffer
      if (runs % 2 === 0) {
        input = randomBytes(Math.floor(rand() * 80))
        if (input.length > 0 && rand() < 0.8) input[0] = (Math.floor(rand() * 5) << 4) | 1
        if (input.length > 1 && rand() < 0.5) input[1] = Math.floor(rand() * 4)
      } else {
        input = Buffer.from(valid[Math.floor(rand() * valid.length)])
        for (let e = 0; e < 1 + rand() * 3; e++)
          input[Math.floor(rand() * input.length)] = rand() * 256
        if (rand() < 0.3) input = input.subarray(0, Math.floor(rand() * input.length))
      }
      try {
        const p = parsePacket(input)
        expect(p.payload.length).toBeLessThanOrEqual(input.length - 20)
        if (p.sack) expect(p.sack.length).toBeGreaterThan(0)
      } catch (err) {
        if (!(err instanceof UtpPacketError))
          throw new Error(`seed ${seed}, input ${input.toString('hex')}: ${String(err)}`, {
            cause: err,
          })
      }
    }
    expect(runs).toBeGreaterThan(10_000)
  })
})
