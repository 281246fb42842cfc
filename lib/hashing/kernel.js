// The hashing kernel: pure, synchronous functions shared by the worker threads and the main
// thread. Plain JavaScript on purpose: a worker thread does not get tsx's loader, and registering
// it in each worker costs hundreds of ms and ~25 MB per thread (measured), against ~25 ms for plain JS.
// Types are in kernel.d.ts beside this file.
//
// Hot path: `crypto.hash` (one-shot) is used for the 16 KiB blocks and 64-byte merkle nodes
// because it skips the Hash object that `createHash` allocates; on this machine that is ~2x
// faster for 64-byte inputs, and the merkle nodes are as many as the blocks (bench/hash.ts).
import { hash } from 'node:crypto'

/** BEP 52: the merkle tree's leaves are SHA-256 hashes of 16 KiB blocks. */
export const BLOCK_SIZE = 16384

const ZERO_HASH = Buffer.alloc(32)

/** The smallest power of two that is >= n (1 for n <= 1). */
export function nextPowerOfTwo(n) {
  let p = 1
  while (p < n) p *= 2
  return p
}

/** SHA-1 of one v1 piece (BEP 3: `pieces` is the concatenation of these). */
export function pieceHashV1(data) {
  return hash('sha1', data, 'buffer')
}

/** SHA-256 of each 16 KiB block of `data`; the last block may be shorter (BEP 52). */
export function blockHashes(data) {
  const leaves = []
  for (let at = 0; at < data.length; at += BLOCK_SIZE) {
    leaves.push(hash('sha256', data.subarray(at, at + BLOCK_SIZE), 'buffer'))
  }
  return leaves
}

// padHashes.get(leaf)[k] is the root of a subtree of 2^k pad leaves; cached because every piece
// of every file is padded with the same zero hashes.
const padHashes = new Map()

function padHashAt(padLeaf, level) {
  const key = padLeaf.toString('hex')
  let levels = padHashes.get(key)
  if (levels === undefined) {
    levels = [padLeaf]
    padHashes.set(key, levels)
  }
  const node = Buffer.allocUnsafe(64)
  while (levels.length <= level) {
    const below = levels[levels.length - 1]
    below.copy(node, 0)
    below.copy(node, 32)
    levels.push(hash('sha256', node, 'buffer'))
  }
  return levels[level]
}

/**
 * Root of a binary SHA-256 merkle tree over `leaves`, padded on the right with `padLeaf` up to
 * `padTo` leaves (a power of two). BEP 52: "The remaining leaf hashes beyond the end of the file
 * required to construct upper layers of the merkle tree are set to zero."
 */
export function merkleRoot(leaves, padTo = nextPowerOfTwo(leaves.length), padLeaf = ZERO_HASH) {
  if (padTo < leaves.length || nextPowerOfTwo(padTo) !== padTo) {
    throw new RangeError(`merkle tree of ${leaves.length} leaves cannot be padded to ${padTo}`)
  }
  if (leaves.length === 0) return padHashAt(padLeaf, Math.log2(padTo))
  const node = Buffer.allocUnsafe(64)
  let layer = leaves
  for (let level = 0, width = padTo; width > 1; level++, width /= 2) {
    const up = new Array(Math.ceil(layer.length / 2))
    for (let i = 0; i < layer.length; i += 2) {
      node.set(layer[i], 0)
      node.set(i + 1 < layer.length ? layer[i + 1] : padHashAt(padLeaf, level), 32)
      up[i / 2] = hash('sha256', node, 'buffer')
    }
    layer = up
  }
  return layer[0]
}

/** The hash of a piece made only of zero leaves: pads the piece layer of a file (BEP 52). */
export function padPieceHash(pieceLength) {
  return padHashAt(ZERO_HASH, Math.log2(pieceLength / BLOCK_SIZE))
}

/**
 * The v2 hash of one piece of a file: the root of the subtree over its blocks. A file of one
 * piece or less is padded to a power of two of its own blocks, and that hash is its pieces root;
 * a larger file pads its last piece to a whole piece of blocks (BEP 52 reference creator).
 */
export function pieceHashV2(leaves, pieceLength, fileLength) {
  const padTo = fileLength > pieceLength ? pieceLength / BLOCK_SIZE : nextPowerOfTwo(leaves.length)
  return merkleRoot(leaves, padTo)
}

/**
 * The `pieces root` of a file larger than one piece, from its piece layer (concatenated 32-byte
 * hashes): the layer padded with hashes of all-zero pieces (BEP 52 "piece layers").
 */
export function rootFromPieceLayer(pieceLayer, pieceLength) {
  if (pieceLayer.length === 0 || pieceLayer.length % 32 !== 0) {
    throw new RangeError(
      `a piece layer is a non-empty multiple of 32 bytes, not ${pieceLayer.length}`,
    )
  }
  const hashes = []
  for (let at = 0; at < pieceLayer.length; at += 32) hashes.push(pieceLayer.subarray(at, at + 32))
  return merkleRoot(hashes, nextPowerOfTwo(hashes.length), padPieceHash(pieceLength))
}
