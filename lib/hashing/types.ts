/** A real file (absolute path, expected length) or a BEP 47 pad entry, which hashes as zeros. */
export type HashInput = { path: string; length: number } | { pad: number }

/** Whole-file digests a release's DIGESTS / SHA256SUMS files publish. */
export type DigestAlgorithm = 'sha256' | 'sha512' | 'blake2b512'

export interface HashRequest {
  /** in v1 order INCLUDING BEP 47 pad entries */
  files: HashInput[]
  pieceLength: number
  /** SHA-1 pieces over the concatenation (pieces span file boundaries, BEP 3) */
  v1?: boolean
  /** per real file: SHA-256 merkle root (16 KiB blocks) and piece layer (BEP 52) */
  v2?: boolean
  /** whole-file digests of each real file */
  digests?: DigestAlgorithm[]
  /** worker threads; default: available cores */
  threads?: number
  onProgress?: (bytesDone: number, bytesTotal: number) => void
  signal?: AbortSignal
}

export interface FileHashes {
  /** v2, absent for an empty file */
  piecesRoot?: Buffer
  /** v2, concatenated 32-byte piece hashes; absent when the file is one piece or less (BEP 52) */
  pieceLayer?: Buffer
  digests: Partial<Record<DigestAlgorithm, Buffer>>
}

export interface HashResult {
  /** v1, 20 bytes per piece */
  pieces?: Buffer
  /** same indexes as request.files; null for pad entries */
  files: Array<FileHashes | null>
}
