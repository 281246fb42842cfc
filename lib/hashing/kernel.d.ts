// Types for kernel.js (plain JavaScript so that worker threads can load it without tsx).

/** BEP 52: the merkle tree's leaves are SHA-256 hashes of 16 KiB blocks. */
export declare const BLOCK_SIZE: 16384
/** The smallest power of two that is >= n (1 for n <= 1). */
export declare function nextPowerOfTwo(n: number): number
/** SHA-1 of one v1 piece. */
export declare function pieceHashV1(data: Uint8Array): Buffer
/** SHA-256 of each 16 KiB block of `data`; the last block may be shorter. */
export declare function blockHashes(data: Uint8Array): Buffer[]
/** Root of a SHA-256 merkle tree over `leaves`, padded with `padLeaf` (zeros) to `padTo` leaves. */
export declare function merkleRoot(leaves: Uint8Array[], padTo?: number, padLeaf?: Buffer): Buffer
/** The hash of a piece made only of zero leaves, which pads a file's piece layer. */
export declare function padPieceHash(pieceLength: number): Buffer
/** The v2 hash of one piece of a file, from the piece's block hashes. */
export declare function pieceHashV2(
  leaves: Uint8Array[],
  pieceLength: number,
  fileLength: number,
): Buffer
/** The `pieces root` of a file larger than one piece, from its piece layer. */
export declare function rootFromPieceLayer(pieceLayer: Uint8Array, pieceLength: number): Buffer
