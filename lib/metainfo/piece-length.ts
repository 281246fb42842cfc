import { MetainfoError } from './errors.ts'

export const MIN_AUTO_PIECE_LENGTH = 256 * 1024
export const MAX_AUTO_PIECE_LENGTH = 16 * 1024 * 1024
/** BEP 52: "It must be a power of two and at least 16KiB." We hold v1 to the same rule. */
export const MIN_PIECE_LENGTH = 16 * 1024
/** The largest piece we make: 128 MiB; nothing sane needs more (mktorrent stops at 2^28 too). */
export const MAX_PIECE_LENGTH = 128 * 1024 * 1024
/**
 * The largest piece length we read: libtorrent's `file_storage::max_piece_size` (a v1 piece
 * length of 2^30 - 1 loads, 2^30 does not; BEP 52's power-of-two rule makes it 2^29 for v2).
 * Reading stays as lenient as libtorrent so `info` and `verify` work on any torrent it takes.
 */
export const MAX_READ_PIECE_LENGTH = 2 ** 30 - 1

/**
 * The piece length for a torrent of `totalBytes`: the smallest power of two giving at most 2,000
 * pieces (so between 1,000 and 2,000), clamped to 256 KiB..16 MiB. Few pieces mean coarse
 * verification and slow starts; many mean a large `pieces` string and .torrent file.
 *
 * @example
 * choosePieceLength(4.7e9) // 4 MiB: a DVD image in 1,121 pieces
 */
export function choosePieceLength(totalBytes: number): number {
  if (!Number.isSafeInteger(totalBytes) || totalBytes < 0) {
    throw new MetainfoError(
      'bad-input',
      `total size must be a whole number of bytes, not ${totalBytes}`,
    )
  }
  let pieceLength = MIN_AUTO_PIECE_LENGTH
  while (pieceLength < MAX_AUTO_PIECE_LENGTH && totalBytes > pieceLength * 2000) pieceLength *= 2
  return pieceLength
}

/** Whether `n` is a power of two in the range every client accepts (16 KiB..128 MiB). */
export function isValidPieceLength(n: number): boolean {
  return (
    Number.isSafeInteger(n) && n >= MIN_PIECE_LENGTH && n <= MAX_PIECE_LENGTH && (n & (n - 1)) === 0
  )
}
