// Hashing for torrents: one read pass on worker threads for v1 pieces, v2 merkle trees and
// whole-file digests (hashFiles), and the small pure pieces that verify and the seeder need.
export { hashFiles } from './hash-files.ts'
export { hashOnMainThread, prestart as prestartHashing } from './pool.ts'
export { HashError, type HashErrorCode } from './errors.ts'
export type { DigestAlgorithm, FileHashes, HashInput, HashRequest, HashResult } from './types.ts'
export {
  BLOCK_SIZE,
  blockHashes,
  merkleRoot,
  nextPowerOfTwo,
  padPieceHash,
  pieceHashV1,
  pieceHashV2,
  rootFromPieceLayer,
} from './kernel.js'
