import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import { WireError } from './errors.ts'
import { MessageFramer } from './framer.ts'
import { maxFrame, parseMessage, type WireLimits } from './wire.ts'
import {
  encodeExtended,
  encodeFullBitfield,
  encodeHandshake,
  encodeHashes,
  encodeHashRequest,
  encodePieceHeader,
  encodeRequest,
  HAVE_ALL,
  INTERESTED,
  KEEPALIVE,
} from './encode.ts'
import { prng } from '../../test/prng.ts'

const torrent: WireLimits = { pieceCount: 37, pieceLength: 65536, length: 36 * 65536 + 12345 }

const valid: Buffer[] = [
  KEEPALIVE,
  INTERESTED,
  HAVE_ALL,
  encodeRequest({ index: 3, begin: 16384, length: 16384 }),
  encodeRequest({ index: 36, begin: 0, length: 12345 }),
  encodeFullBitfield(37),
  encodeExtended(0, Buffer.from('d1:md11:ut_metadatai3eee')),
  encodeExtended(3, Buffer.from('d8:msg_typei0e5:piecei0ee')),
  encodeHashRequest({
    piecesRoot: Buffer.alloc(32, 9),
    baseLayer: 2,
    index: 0,
    length: 8,
    proofLayers: 4,
  }),
  encodeHashes(
    { piecesRoot: Buffer.alloc(32, 9), baseLayer: 2, index: 0, length: 2, proofLayers: 1 },
    Buffer.alloc(96),
  ),
  Buffer.concat([encodePieceHeader(1, 0, 100), Buffer.alloc(100)]),
]

function mutate(rand: () => number, src: Buffer): Buffer {
  const buf = Buffer.from(src)
  const edits = 1 + Math.floor(rand() * 4)
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * buf.length)
    switch (Math.floor(rand() * 4)) {
      case 0:
        buf[at] = Math.floor(rand() * 256)
        break
      case 1:
        buf[at] ^= 1 << Math.floor(rand() * 8)
        break
      case 2:
        buf[at] = [0, 0xff, 0x7f, 0x80][Math.floor(rand() * 4)]
        break
      default:
        return buf.subarray(0, at)
    }
  }
  return buf
}

function feed(framer: MessageFramer, rand: () => number, stream: Buffer): void {
  let at = 0
  while (at < stream.length) {
    const n = 1 + Math.floor(rand() * 600)
    framer.push(stream.subarray(at, at + n))
    at += n
    if (!framer.limits) {
      if (!framer.readHandshake()) continue
      framer.limits = torrent
    }
    while (framer.readMessage());
    // Bounded memory: never more than one legitimate frame plus the chunk just pushed.
    expect(framer.buffered).toBeLessThanOrEqual(4 + maxFrame(torrent) + n)
  }
}

describe('wire parser fuzz', () => {
  it('throws nothing but WireError on hundreds of thousands of random and mutated inputs', () => {
    const seed = Date.now() >>> 0
    const rand = prng(seed)
    const deadline = Date.now() + 15_000
    let runs = 0
    let rejected = 0
    for (; runs < 400_000 && Date.now() < deadline; runs++) {
      let input: Buffer
      if (runs % 3 === 0) {
        const length = Math.floor(rand() * 64)
        input = randomBytes(length)
        if (length > 0 && rand() < 0.7) input[0] = Math.floor(rand() * 25)
      } else {
        input = mutate(rand, valid[Math.floor(rand() * valid.length)]).subarray(4)
      }
      try {
        parseMessage(input, torrent)
      } catch (err) {
        if (!(err instanceof WireError))
          throw new Error(`seed ${seed} run ${runs}: ${String(err)}`, { cause: err })
        rejected++
      }
    }
    expect(runs).toBeGreaterThan(100_000)
    expect(rejected).toBeGreaterThan(0)
  })

  it('frames mutated streams with bounded memory and only WireError', () => {
    const seed = (Date.now() ^ 0x5bd1e995) >>> 0
    const rand = prng(seed)
    const hs = encodeHandshake(Buffer.alloc(20, 1), Buffer.alloc(20, 2), {
      fast: true,
      extended: true,
      v2: true,
    })
    const deadline = Date.now() + 10_000
    let streams = 0
    for (; streams < 50_000 && Date.now() < deadline; streams++) {
      const parts = [hs]
      const count = 1 + Math.floor(rand() * 12)
      for (let i = 0; i < count; i++) {
        const pick = valid[Math.floor(rand() * valid.length)]
        parts.push(rand() < 0.2 ? mutate(rand, pick) : pick)
      }
      const framer = new MessageFramer()
      try {
        feed(framer, rand, Buffer.concat(parts))
      } catch (err) {
        if (!(err instanceof WireError))
          throw new Error(`seed ${seed} stream ${streams}: ${String(err)}`, { cause: err })
      }
    }
    expect(streams).toBeGreaterThan(5_000)
  })
})
