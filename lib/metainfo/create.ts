import { createRequire } from 'node:module'
import { stat } from 'node:fs/promises'
import {
  hashFiles,
  type DigestAlgorithm,
  type FileHashes,
  type HashInput,
} from '../hashing/index.ts'
import { buildInfo } from './info.ts'
import { layoutFiles, type Format } from './layout.ts'
import { parseTorrent, type Torrent } from './parse.ts'
import { choosePieceLength, isValidPieceLength } from './piece-length.ts'
import { MetainfoError } from './errors.ts'
import { encodeTorrent, type TorrentExtras } from './torrent.ts'

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

/** `created by` of every torrent we write. */
export const createdBy = `mirrorseed/${version}`

/** A file on disk and where it goes in the torrent. */
export interface SourceFile {
  /** Path inside the torrent, without the torrent name: `['x.iso']`, `['sub', 'y.txt']`. */
  path: string[]
  /** Absolute path on disk. */
  source: string
}

export interface CreateOptions extends Omit<TorrentExtras, 'createdBy'> {
  name: string
  files: readonly SourceFile[]
  /** Default: true unless there is exactly one file at the top (then a single-file torrent). */
  multiFile?: boolean
  format?: Format
  /** Default: {@link choosePieceLength} of the total size. */
  pieceLength?: number
  /** Whole-file digests to compute in the same read pass (for DIGESTS / SHA256SUMS checks). */
  digests?: DigestAlgorithm[]
  threads?: number
  onProgress?: (bytesDone: number, bytesTotal: number) => void
  signal?: AbortSignal
}

export interface CreatedTorrent {
  /** The .torrent file. */
  bytes: Buffer
  /** The same, parsed: info-hashes, files, piece count. */
  torrent: Torrent
  /** Per input file (in the order given), the whole-file digests asked for. */
  digests: Array<{ path: string[]; source: string; digests: FileHashes['digests'] }>
}

/**
 * Hashes files on disk in one read pass and builds their .torrent: canonical order, pads for
 * hybrid, then the info dict from the hashes. A file that changes while it is read fails with the
 * hashing area's `HashError` ('changed'), never a wrong torrent.
 *
 * @example
 * const { bytes, torrent } = await createTorrent({
 *   name: 'install-amd64-minimal-20261117T170000Z',
 *   files: [{ path: ['install-amd64-minimal-20261117T170000Z.iso'], source: '/srv/…/x.iso' }, …],
 *   trackers: [['https://seed.example/announce']],
 *   creationDate: Math.floor(stat.mtimeMs / 1000),
 * })
 */
export async function createTorrent(options: CreateOptions): Promise<CreatedTorrent> {
  const format = options.format ?? 'v1'
  const multiFile =
    options.multiFile ?? !(options.files.length === 1 && options.files[0].path.length === 1)
  const sized = await Promise.all(
    options.files.map(async (f) => {
      const s = await stat(f.source).catch((err: NodeJS.ErrnoException) => {
        throw new MetainfoError('bad-input', `cannot read ${f.source}: ${err.code ?? err.message}`)
      })
      if (!s.isFile()) throw new MetainfoError('bad-input', `${f.source} is not a regular file`)
      // A single-file torrent's one file is called by the torrent's name (BEP 3 `name`; the v2
      // file tree key must match it), whatever it is called on disk.
      return { ...f, path: multiFile ? f.path : [options.name], length: s.size }
    }),
  )
  const total = sized.reduce((sum, f) => sum + f.length, 0)
  if (total === 0) {
    // No piece to hash or share; libtorrent and Transmission refuse such torrents too.
    throw new MetainfoError('bad-input', 'the files hold no data (0 bytes): nothing to share')
  }
  const pieceLength = options.pieceLength ?? choosePieceLength(total)
  if (!isValidPieceLength(pieceLength)) {
    throw new MetainfoError(
      'bad-piece-length',
      `piece length ${pieceLength} is not a power of two from 16 KiB to 128 MiB`,
    )
  }
  const layout = layoutFiles(sized, pieceLength, format, multiFile)
  // layoutFiles copies paths; map each laid-out real file back to its source by path.
  const byPath = new Map(sized.map((f) => [f.path.join('/'), f]))
  const inputs: HashInput[] = layout.map((f) =>
    f.pad ? { pad: f.length } : { path: byPath.get(f.path.join('/'))!.source, length: f.length },
  )
  const hashed = await hashFiles({
    files: inputs,
    pieceLength,
    v1: format !== 'v2',
    v2: format !== 'v1',
    digests: options.digests,
    threads: options.threads,
    onProgress: options.onProgress,
    signal: options.signal,
  })
  const info = buildInfo({
    name: options.name,
    pieceLength,
    format,
    multiFile,
    files: layout,
    pieces: hashed.pieces,
    piecesRoots: hashed.files.map((h) => h?.piecesRoot ?? null),
  })
  let pieceLayers: Map<Buffer, Buffer> | null = null
  if (format !== 'v1') {
    pieceLayers = new Map()
    for (const h of hashed.files)
      if (h?.piecesRoot && h.pieceLayer) pieceLayers.set(h.piecesRoot, h.pieceLayer)
  }
  const bytes = encodeTorrent(info, pieceLayers, { ...options, createdBy })
  const digestsByPath = new Map<string, FileHashes['digests']>()
  layout.forEach(
    (f, i) => !f.pad && digestsByPath.set(f.path.join('/'), hashed.files[i]?.digests ?? {}),
  )
  return {
    bytes,
    torrent: parseTorrent(bytes),
    digests: options.files.map((f, i) => ({
      ...f,
      digests: digestsByPath.get(sized[i].path.join('/')) ?? {},
    })),
  }
}
