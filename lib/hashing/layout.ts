import type { HashInput } from './types.ts'

/** A run of bytes in the hashed stream: part of a real file, or BEP 47 padding (zeros). */
export interface Segment {
  /** index in the request's `files` */
  file: number
  pad: boolean
  /** offset in the stream */
  start: number
  length: number
}

/** Where a chunk's bytes come from; `at` is the offset inside the chunk. */
export interface ChunkSegment {
  file: number
  pad: boolean
  at: number
  fileOffset: number
  length: number
}

/** One unit of work for a worker: whole pieces of the stream, read once into one shared slot. */
export interface Chunk {
  index: number
  start: number
  end: number
  segments: ChunkSegment[]
  /** real-file bytes in this chunk, for progress */
  bytes: number
}

export interface Layout {
  segments: Segment[]
  streamLength: number
  pieceLength: number
  chunkLength: number
  /** total bytes of real files (what progress counts) */
  bytesTotal: number
}

/**
 * A chunk is ~4 MiB of whole pieces: large enough that the message to a worker costs nothing
 * beside the hashing (~3 ms of SHA-1), small enough that a handful of them in flight keep memory
 * bounded and both cores busy until the end.
 */
const TARGET_CHUNK = 4 << 20

const V2_MIN_PIECE = 16384

/**
 * Lays the files out in the stream that is read once and hashed.
 *
 * With v1, the stream is the concatenation of the files in the request's order, pad entries
 * included (BEP 3: pieces span file boundaries; BEP 47: pads hash as zeros). Without v1 the pads
 * are dropped and, for v2, each file starts on a piece boundary of a virtual stream whose gaps
 * are never read, so every piece belongs to one file as BEP 52 requires. With v1 and v2 together
 * (hybrid) every non-empty file must already start on a piece boundary: that is what the pads are
 * for.
 */
export function planLayout(
  files: HashInput[],
  pieceLength: number,
  v1: boolean,
  v2: boolean,
): Layout {
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) {
    throw new RangeError(`pieceLength must be a positive integer, not ${pieceLength}`)
  }
  if (v2 && (pieceLength < V2_MIN_PIECE || (pieceLength & (pieceLength - 1)) !== 0)) {
    // BEP 52: "It must be a power of two and at least 16KiB."
    throw new RangeError(
      `v2 needs a pieceLength that is a power of two of at least 16 KiB, not ${pieceLength}`,
    )
  }
  const segments: Segment[] = []
  let offset = 0
  let bytesTotal = 0
  files.forEach((input, file) => {
    const length = 'pad' in input ? input.pad : input.length
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`files[${file}] has an invalid length: ${length}`)
    }
    if ('pad' in input) {
      if (v1 && length > 0) segments.push({ file, pad: true, start: offset, length })
      if (v1) offset += length
      return
    }
    if (typeof input.path !== 'string' || input.path === '') {
      throw new TypeError(`files[${file}] has no path`)
    }
    if (length === 0) return
    if (v2 && offset % pieceLength !== 0) {
      if (v1) {
        throw new RangeError(
          `files[${file}] starts at byte ${offset}, not on a piece boundary: v1 with v2 needs BEP 47 pad entries`,
        )
      }
      offset += pieceLength - (offset % pieceLength)
    }
    segments.push({ file, pad: false, start: offset, length })
    offset += length
    bytesTotal += length
  })
  const chunkLength = pieceLength * Math.max(1, Math.floor(TARGET_CHUNK / pieceLength))
  return { segments, streamLength: offset, pieceLength, chunkLength, bytesTotal }
}

/** The chunks of the stream that hold bytes to read, in order, made lazily (bounded memory). */
export function* chunks(layout: Layout): Generator<Chunk> {
  const { segments, chunkLength, streamLength } = layout
  let first = 0
  for (let index = 0, start = 0; start < streamLength; index++, start += chunkLength) {
    const end = Math.min(start + chunkLength, streamLength)
    while (first < segments.length && segments[first].start + segments[first].length <= start)
      first++
    const parts: ChunkSegment[] = []
    let bytes = 0
    for (let i = first; i < segments.length && segments[i].start < end; i++) {
      const s = segments[i]
      const from = Math.max(s.start, start)
      const to = Math.min(s.start + s.length, end)
      parts.push({
        file: s.file,
        pad: s.pad,
        at: from - start,
        fileOffset: from - s.start,
        length: to - from,
      })
      if (!s.pad) bytes += to - from
    }
    if (parts.length > 0) yield { index, start, end, segments: parts, bytes }
  }
}
