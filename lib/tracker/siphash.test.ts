import { describe, expect, it } from 'vitest'
import { siphash24 } from './siphash.ts'

// The reference vectors (vectors.h of the SipHash reference code): key 00..0f, message
// 00 01 .. (n-1) for n = 0..63, 64-bit output little-endian. A few of them:
const key = Uint8Array.from({ length: 16 }, (_, i) => i)
const vectors: [number, string][] = [
  [0, '310e0edd47db6f72'],
  [1, 'fd67dc93c539f874'],
  [7, '37d1018bf50002ab'],
  [8, '6224939a79f5f593'],
  [15, 'e545be4961ca29a1'],
  [16, 'db9bc2577fcc2a3f'],
  [22, '883ea3e395675393'],
  [63, '724506eb4c328a95'],
]

describe('siphash24', () => {
  it('matches the reference vectors', () => {
    for (const [n, hex] of vectors) {
      const out = new Uint8Array(8)
      siphash24(
        key,
        Uint8Array.from({ length: n }, (_, i) => i),
        out,
        0,
      )
      expect(Buffer.from(out).toString('hex'), `length ${n}`).toBe(hex)
    }
  })
})
