import { createHash } from 'node:crypto'
import type { HashRequest } from './wire.ts'

/**
 * Answers BEP 52 hash requests for one file from the piece layer kept at generation. We hold the
 * tree from the piece layer up to the file's root; leaf (16 KiB block) hashes are not kept, so a
 * request below the piece layer gets a hash reject, which BEP 52 allows ("Clients are only
 * required to support setting the base layer to the leaf and piece layers"; a seed that kept only
 * the piece layers answers those, and libtorrent asks for the piece layer when it resolves a
 * magnet link).
 */

const BLOCK = 16384
const ZERO = Buffer.alloc(32)

function pair(a: Buffer, b: Buffer): Buffer {
  return createHash('sha256').update(a).update(b).digest()
}

/** Root of a subtree of `2^height` zero leaves: BEP 52 pads the tree with zero leaf hashes. */
function padHash(height: number): Buffer {
  let h: Buffer = ZERO
  for (let i = 0; i < height; i++) h = pair(h, h)
  return h
}

export class FileTree {
  /** BEP 52 layer number of the piece layer: log2(pieceLength / 16 KiB). */
  readonly pieceLayer: number
  /** layers[0] is the padded piece layer, the last one holds the root. */
  private readonly layers: Buffer[]

  private constructor(pieceLayer: number, layers: Buffer[]) {
    this.pieceLayer = pieceLayer
    this.layers = layers
  }

  /**
   * Builds the upper tree; returns null when the hashes do not lead to `piecesRoot` (a corrupt
   * piece layer must not be served as if it were right).
   */
  static build(piecesRoot: Buffer, pieceLength: number, pieceHashes: Buffer): FileTree | null {
    const pieceLayer = Math.log2(pieceLength / BLOCK)
    const count = pieceHashes.length / 32
    if (!Number.isInteger(pieceLayer) || count < 1 || !Number.isInteger(count)) return null
    let width = 1
    while (width < count) width *= 2
    const base = Buffer.alloc(width * 32)
    pieceHashes.copy(base)
    const pad = padHash(pieceLayer)
    for (let i = count; i < width; i++) pad.copy(base, i * 32)
    const layers = [base]
    for (let layer = base; layer.length > 32;) {
      const up = Buffer.allocUnsafe(layer.length / 2)
      for (let i = 0; i < up.length; i += 32) {
        pair(layer.subarray(2 * i, 2 * i + 32), layer.subarray(2 * i + 32, 2 * i + 64)).copy(up, i)
      }
      layers.push(up)
      layer = up
    }
    if (!layers[layers.length - 1].equals(piecesRoot)) return null
    return new FileTree(pieceLayer, layers)
  }

  /**
   * The payload of a `hashes` message for `req`, or null for a hash reject. Proof layout as
   * libtorrent's `merkle_tree::get_hashes` verifies it: the base hashes, then one uncle per proof
   * layer, skipping the first log2(length) - 1 layers the base hashes already cover (BEP 52).
   */
  answer(req: HashRequest): Buffer | null {
    const k = req.baseLayer - this.pieceLayer
    if (k < 0 || k >= this.layers.length) return null
    const layer = this.layers[k]
    const width = layer.length / 32
    if (req.length > 512 || req.index + req.length > width) return null
    const top = this.layers.length - 1
    const skip = Math.log2(req.length) - 1
    const out: Buffer[] = [layer.subarray(req.index * 32, (req.index + req.length) * 32)]
    for (let i = 0; i < req.proofLayers; i++) {
      const up = k + i + 1
      if (up > top) return null // asked for layers above the root
      if (i < skip) continue
      if (up === top) return null // the root has no sibling
      const node = req.index >>> (i + 1)
      const sibling = node ^ 1
      out.push(this.layers[up].subarray(sibling * 32, sibling * 32 + 32))
    }
    return Buffer.concat(out)
  }
}
