import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  blockHashes,
  merkleRoot,
  padPieceHash,
  pieceHashV1,
  pieceHashV2,
  rootFromPieceLayer,
} from './index.ts'

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest()

/** The BEP 52 tree written the slow, obvious way: pad the leaves with zeros, hash pairs up. */
function naiveRoot(data: Buffer, leafCount: number): Buffer {
  let layer: Buffer[] = []
  for (let i = 0; i < leafCount; i++) {
    const block = data.subarray(i * 16384, (i + 1) * 16384)
    layer.push(block.length > 0 ? sha256(block) : Buffer.alloc(32))
  }
  while (layer.length > 1) {
    const up: Buffer[] = []
    for (let i = 0; i < layer.length; i += 2)
      up.push(sha256(Buffer.concat([layer[i], layer[i + 1]])))
    layer = up
  }
  return layer[0]
}

describe('merkle trees (BEP 52)', () => {
  it('gives the root of the zero-padded tree for every block count', () => {
    for (const length of [1, 16383, 16384, 16385, 3 * 16384, 5 * 16384 + 7, 8 * 16384]) {
      const data = randomBytes(length)
      const leaves = blockHashes(data)
      const padTo = 2 ** Math.ceil(Math.log2(leaves.length))
      expect(merkleRoot(leaves).equals(naiveRoot(data, padTo)), `${length} bytes`).toBe(true)
      expect(
        merkleRoot(leaves, padTo * 4).equals(naiveRoot(data, padTo * 4)),
        `${length} bytes padded`,
      ).toBe(true)
    }
  })

  it('pads a tree with no leaves to a root of zeros', () => {
    expect(merkleRoot([], 4).equals(naiveRoot(Buffer.alloc(0), 4))).toBe(true)
  })

  it('refuses padding that is smaller than the leaves or not a power of two', () => {
    const leaves = blockHashes(randomBytes(3 * 16384))
    expect(() => merkleRoot(leaves, 2)).toThrow(RangeError)
    expect(() => merkleRoot(leaves, 6)).toThrow(RangeError)
  })

  it('computes a file root from its piece layer as from its blocks', () => {
    const pieceLength = 4 * 16384
    const data = randomBytes(pieceLength * 2 + 20000) // three pieces: padded to four
    const layer = Buffer.concat(
      [0, 1, 2].map((p) =>
        pieceHashV2(
          blockHashes(data.subarray(p * pieceLength, (p + 1) * pieceLength)),
          pieceLength,
          data.length,
        ),
      ),
    )
    expect(rootFromPieceLayer(layer, pieceLength).equals(naiveRoot(data, 16))).toBe(true)
    expect(padPieceHash(pieceLength).equals(naiveRoot(Buffer.alloc(0), 4))).toBe(true)
    expect(() => rootFromPieceLayer(layer.subarray(1), pieceLength)).toThrow(RangeError)
  })

  it('pads a file of one piece or less to its own blocks, not to a whole piece', () => {
    const data = randomBytes(3 * 16384 + 1)
    expect(pieceHashV2(blockHashes(data), 1 << 20, data.length).equals(naiveRoot(data, 4))).toBe(
      true,
    )
  })
})

describe('v1 pieces (BEP 3)', () => {
  it('is the SHA-1 of the piece', () => {
    const data = randomBytes(100_000)
    expect(pieceHashV1(data).equals(createHash('sha1').update(data).digest())).toBe(true)
  })
})
