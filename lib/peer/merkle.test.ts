import { describe, it, expect } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { FileTree } from './merkle.ts'

const BLOCK = 16384
const sha = (...parts: Buffer[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** A whole BEP 52 tree from the file bytes, leaves up, written out plainly for the test. */
function fullTree(data: Buffer): Buffer[][] {
  const blocks = Math.ceil(data.length / BLOCK)
  let width = 1
  while (width < blocks) width *= 2
  const leaves: Buffer[] = []
  for (let i = 0; i < width; i++) {
    leaves.push(i < blocks ? sha(data.subarray(i * BLOCK, (i + 1) * BLOCK)) : Buffer.alloc(32))
  }
  const layers = [leaves]
  while (layers[layers.length - 1].length > 1) {
    const below = layers[layers.length - 1]
    const up: Buffer[] = []
    for (let i = 0; i < below.length; i += 2) up.push(sha(below[i], below[i + 1]))
    layers.push(up)
  }
  return layers
}

describe('FileTree', () => {
  // 64 KiB pieces (piece layer = 2), 5 pieces and a bit: the piece layer pads to 8.
  const pieceLength = 4 * BLOCK
  const data = randomBytes(5 * pieceLength + 3000)
  const layers = fullTree(data)
  const root = layers[layers.length - 1][0]
  const pieceCount = Math.ceil(data.length / pieceLength)
  const pieceHashes = Buffer.concat(layers[2].slice(0, pieceCount))
  const tree = FileTree.build(root, pieceLength, pieceHashes)!

  it('rebuilds the root from the piece layer and refuses a layer that does not match', () => {
    expect(tree).not.toBeNull()
    const broken = Buffer.from(pieceHashes)
    broken[0] ^= 1
    expect(FileTree.build(root, pieceLength, broken)).toBeNull()
  })

  it('answers piece-layer requests with hashes and uncles that prove up to the root', () => {
    for (const [index, length] of [
      [0, 8],
      [0, 2],
      [2, 2],
      [4, 4],
    ]) {
      // 8 nodes in the piece layer, 3 layers below the root: the root itself needs no uncle, so
      // the deepest proof libtorrent asks for is 2 layers.
      const proofLayers = 2
      const answer = tree.answer({ piecesRoot: root, baseLayer: 2, index, length, proofLayers })!
      expect(answer).not.toBeNull()
      const hashes: Buffer[] = []
      for (let i = 0; i < answer.length; i += 32) hashes.push(answer.subarray(i, i + 32))
      const base = hashes.slice(0, length)
      expect(
        Buffer.concat(base).equals(Buffer.concat(layers[2].slice(index, index + length))),
      ).toBe(true)
      // Verify as a requester would: hash the base up to its subtree root, then climb with uncles.
      let level = base
      while (level.length > 1) {
        const up: Buffer[] = []
        for (let i = 0; i < level.length; i += 2) up.push(sha(level[i], level[i + 1]))
        level = up
      }
      let node = level[0]
      let pos = index / length
      for (const uncle of hashes.slice(length)) {
        node = pos % 2 === 0 ? sha(node, uncle) : sha(uncle, node)
        pos >>= 1
      }
      expect(node.equals(root)).toBe(true)
    }
  })

  it('rejects leaf-layer requests, ranges past the layer and proofs past the root', () => {
    expect(
      tree.answer({ piecesRoot: root, baseLayer: 0, index: 0, length: 2, proofLayers: 0 }),
    ).toBeNull()
    expect(
      tree.answer({ piecesRoot: root, baseLayer: 2, index: 8, length: 2, proofLayers: 0 }),
    ).toBeNull()
    expect(
      tree.answer({ piecesRoot: root, baseLayer: 2, index: 0, length: 2, proofLayers: 3 }),
    ).toBeNull()
    expect(
      tree.answer({ piecesRoot: root, baseLayer: 2, index: 0, length: 16, proofLayers: 0 }),
    ).toBeNull()
  })
})
