import { createHash } from 'node:crypto'
import type { BigIntStats } from 'node:fs'
import { stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { HashError } from './errors.ts'
import { rootFromPieceLayer } from './kernel.js'
import { planLayout } from './layout.ts'
import { runWorkers, type WorkerFile } from './scheduler.ts'
import type { DigestAlgorithm, FileHashes, HashInput, HashRequest, HashResult } from './types.ts'

const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['sha256', 'sha512', 'blake2b512']

/**
 * Hashes files in one read pass on worker threads: v1 SHA-1 pieces over the concatenation (pads
 * as zeros), v2 merkle roots and piece layers per file, and whole-file digests, whatever of these
 * the request asks for. A file whose size, mtime, ctime or identity changes while it is read, or
 * whose size is not the expected length, is a `HashError` with code `changed`, never a result.
 *
 * @example
 * const { pieces, files } = await hashFiles({
 *   files: [{ path: '/srv/mirror/a.iso', length: 1 << 30 }, { pad: 4096 }, { path: '/srv/mirror/a.iso.asc', length: 833 }],
 *   pieceLength: 1 << 20,
 *   v1: true,
 *   v2: true,
 *   digests: ['sha512'],
 * })
 */
export async function hashFiles(request: HashRequest): Promise<HashResult> {
  const { files, pieceLength, signal } = request
  const v1 = request.v1 ?? false
  const v2 = request.v2 ?? false
  const digests = [...new Set(request.digests ?? [])]
  for (const algorithm of digests) {
    if (!DIGEST_ALGORITHMS.includes(algorithm))
      throw new RangeError(`unknown digest algorithm: ${algorithm}`)
  }
  const threads = request.threads ?? availableParallelism()
  if (!Number.isSafeInteger(threads) || threads < 1)
    throw new RangeError(`threads must be at least 1, not ${threads}`)
  const layout = planLayout(files, pieceLength, v1, v2)
  if (signal?.aborted) throw new HashError('aborted', 'hashing was aborted')

  const before = await statFiles(files)
  const results: Array<FileHashes | null> = files.map((input) =>
    'pad' in input ? null : { digests: {} },
  )
  const pieces = v1 ? Buffer.alloc(Math.ceil(layout.streamLength / pieceLength) * 20) : undefined
  const layers = files.map((input) =>
    v2 && !('pad' in input) && input.length > 0
      ? Buffer.alloc(Math.ceil(input.length / pieceLength) * 32)
      : undefined,
  )
  for (const [file, input] of files.entries()) {
    const result = results[file]
    if (result && !('pad' in input) && input.length === 0) {
      result.digests = Object.fromEntries(digests.map((a) => [a, createHash(a).digest()]))
    }
  }

  if (layout.segments.length > 0) {
    let bytesDone = 0
    await runWorkers({
      layout,
      files: files.map((input, file) => {
        const stats = before[file]
        return 'pad' in input || !stats
          ? null
          : {
              path: input.path,
              length: input.length,
              dev: stats.dev,
              ino: stats.ino,
              mtimeNs: stats.mtimeNs,
              ctimeNs: stats.ctimeNs,
            }
      }) satisfies Array<WorkerFile | null>,
      v1,
      v2,
      digests,
      threads,
      signal,
      onChunk: (chunk, hashes) => {
        if (pieces && hashes.pieces) pieces.set(hashes.pieces, (chunk.start / pieceLength) * 20)
        for (const { file, piece, hashes: layer } of hashes.layers)
          layers[file]?.set(layer, piece * 32)
        bytesDone += chunk.bytes
        request.onProgress?.(bytesDone, layout.bytesTotal)
      },
      onDigest: (file, algorithm, digest) => {
        const result = results[file]
        if (result) result.digests[algorithm] = Buffer.from(digest)
      },
    })
  }
  await checkUnchanged(files, before)

  for (const [file, layer] of layers.entries()) {
    const result = results[file]
    if (layer === undefined || !result) continue
    // BEP 52: a file of one piece or less has no piece layer; its one piece hash is its root.
    if (layer.length === 32) result.piecesRoot = layer
    else {
      result.pieceLayer = layer
      result.piecesRoot = rootFromPieceLayer(layer, pieceLength)
    }
  }
  return { pieces, files: results }
}

async function statFiles(files: HashInput[]): Promise<Array<BigIntStats | null>> {
  return Promise.all(
    files.map(async (input) => {
      if ('pad' in input) return null
      const stats = await statOf(input.path)
      if (!stats.isFile()) throw new HashError('io', `${input.path} is not a regular file`)
      if (stats.size !== BigInt(input.length)) {
        throw new HashError(
          'changed',
          `${input.path} is ${stats.size} bytes, expected ${input.length}`,
        )
      }
      return stats
    }),
  )
}

/**
 * A file is unchanged when it is the same inode with the same size, mtime and ctime as when
 * hashing started. ctime matters: `rsync --inplace` rewrites a file and then sets its mtime back
 * to the source's, which only ctime betrays.
 */
async function checkUnchanged(
  files: HashInput[],
  before: Array<BigIntStats | null>,
): Promise<void> {
  await Promise.all(
    files.map(async (input, file) => {
      const was = before[file]
      if ('pad' in input || !was) return
      const now = await statOf(input.path)
      const what =
        now.dev !== was.dev || now.ino !== was.ino
          ? 'was replaced'
          : now.size !== was.size
            ? 'changed size'
            : now.mtimeNs !== was.mtimeNs || now.ctimeNs !== was.ctimeNs
              ? 'was modified'
              : undefined
      if (what) throw new HashError('changed', `${input.path} ${what} while being hashed`)
    }),
  )
}

async function statOf(path: string): Promise<BigIntStats> {
  try {
    return await stat(path, { bigint: true })
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException
    if (code === 'ENOENT') throw new HashError('changed', `${path} does not exist (any more)`)
    throw new HashError('io', `cannot stat ${path}: ${message}`)
  }
}
