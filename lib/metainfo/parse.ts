import { createHash } from 'node:crypto'
import {
  BencodeError,
  decode,
  decodeWithSpans,
  type BencodeDict,
  type BencodeValue,
} from '../bencode/index.ts'
import { fail, integer, isDict, optionalText, segment, text } from './fields.ts'
import { checkHybrid, pieceLayersOf, v1Files, v2Files, type TorrentFile } from './files.ts'
import type { Format } from './layout.ts'
import { MAX_READ_PIECE_LENGTH, MIN_PIECE_LENGTH } from './piece-length.ts'

export type { TorrentFile } from './files.ts'

/** A parsed .torrent: what the seeder, tracker and commands use. */
export interface Torrent {
  /** v1: SHA-1 of the info bytes (20); null for v2-only. */
  infoHash: Buffer | null
  /** v2 and hybrid: SHA-256 of the info bytes (32). */
  infoHashV2: Buffer | null
  /** The exact bencoded info bytes, as found (ut_metadata serves them). */
  info: Buffer
  format: Format
  name: string
  multiFile: boolean
  pieceLength: number
  pieceCount: number
  /** Total bytes of the v1 piece space, pads included. */
  length: number
  pieces: Buffer | null
  /**
   * In piece-space order, pads included. A v2-only torrent gets the pads a hybrid of the same
   * files would have, since BEP 52 aligns every file to a piece boundary anyway.
   */
  files: TorrentFile[]
  /** hex piecesRoot -> concatenated 32-byte hashes (BEP 52 `piece layers`). */
  pieceLayers: Map<string, Buffer>
  announce: string | null
  announceList: string[][]
  urlList: string[]
  /** BEP 17 `httpseeds` (Hoffman-style seeds, a script URL), shown by `info`; we never use them. */
  httpSeeds: string[]
  comment: string | null
  createdBy: string | null
  creationDate: number | null
}

function trackers(torrent: BencodeDict): { announce: string | null; announceList: string[][] } {
  const announce = optionalText(torrent.announce)
  const announceList: string[][] = []
  // Outside info, so lenient: a malformed tier is skipped rather than the whole torrent refused.
  if (Array.isArray(torrent['announce-list'])) {
    for (const tier of torrent['announce-list']) {
      if (!Array.isArray(tier)) continue
      const urls = tier.filter(Buffer.isBuffer).map((u) => u.toString('utf8'))
      if (urls.length > 0) announceList.push(urls)
    }
  }
  return { announce, announceList }
}

function urlList(v: BencodeValue | undefined): string[] {
  if (Buffer.isBuffer(v)) return v.length > 0 ? [v.toString('utf8')] : []
  if (Array.isArray(v)) return v.filter(Buffer.isBuffer).map((u) => u.toString('utf8'))
  return []
}

/**
 * A few files with one name are renamed by clients (libtorrent appends `.1`, `.2`, …); a torrent
 * that makes libtorrent try more than 100 taken names is refused, as libtorrent refuses it
 * (too_many_duplicate_filenames): it is an attack on clients, not a release.
 */
function checkDuplicates(files: readonly TorrentFile[]): void {
  const taken = new Set<string>()
  let collisions = 0
  for (const f of files) {
    if (f.pad) continue
    const name = f.path.join('/').toLowerCase()
    if (!taken.has(name)) {
      taken.add(name)
      continue
    }
    const dot = name.lastIndexOf('.')
    const [base, ext] =
      dot > name.lastIndexOf('/') ? [name.slice(0, dot), name.slice(dot)] : [name, '']
    let n = 1
    while (taken.has(`${base}.${n}${ext}`)) {
      if (++collisions > 100) fail('bad-path', `"${f.path.join('/')}" is listed too many times`)
      n++
    }
    taken.add(`${base}.${n}${ext}`)
  }
}

/**
 * Parses a .torrent (BEP 3, 12, 19, 47, 52): v1, v2 or hybrid. Refuses, with a
 * {@link MetainfoError} naming the reason, anything a client could be hurt by: bad piece length,
 * `pieces` not 20 bytes per piece, unsafe paths (`..`, `.`, empty, `/` inside a segment), an empty
 * name, missing keys, a file tree that does not match the files or its piece layers. The
 * info-hashes are of the info bytes as found, never of a re-encoding (BEP 52 "infohash").
 *
 * @example
 * const torrent = parseTorrent(await fs.readFile('debian.iso.torrent'))
 * torrent.infoHash?.toString('hex')
 */
export function parseTorrent(bytes: Uint8Array): Torrent {
  let decoded: ReturnType<typeof decodeWithSpans>
  try {
    decoded = decodeWithSpans(bytes, { allowUnsortedKeys: true, allowTrailing: true })
  } catch (err) {
    if (err instanceof BencodeError) fail('bad-bencode', `not a torrent: ${err.message}`)
    throw err
  }
  const { value: torrent, spans } = decoded!
  const span = spans.get('info')
  if (!span) return fail('missing-key', 'info is missing')
  if (!isDict(torrent.info)) return fail('bad-type', 'info must be a dictionary')
  const info = torrent.info as BencodeDict
  // A copy: the caller may reuse its buffer, and the info bytes live as long as the torrent.
  const infoBytes = Buffer.from(bytes.subarray(span.start, span.end))

  const metaVersion = info['meta version']
  if (metaVersion !== undefined && typeof metaVersion !== 'number')
    fail('bad-type', 'info["meta version"] must be an integer')
  if (metaVersion !== undefined && metaVersion !== 1 && metaVersion !== 2) {
    fail('unsupported-version', `meta version ${metaVersion} is not 1 or 2`)
  }
  const hasV2 = metaVersion === 2
  if (hasV2) {
    // BEP 52 torrents must be canonical bencoding: libtorrent refuses a v2 info dict with keys out
    // of order (its file tree order is the piece order), so we read it strictly.
    try {
      decode(infoBytes)
    } catch (err) {
      if (err instanceof BencodeError) fail('bad-bencode', `info is not canonical: ${err.message}`)
      throw err
    }
  }
  const hasV1 = info.pieces !== undefined || (!hasV2 && info['file tree'] === undefined)
  const format: Format = hasV1 && hasV2 ? 'hybrid' : hasV2 ? 'v2' : 'v1'

  const name = text(info.name, 'info.name')
  if (name === '') fail('bad-name', 'info.name is empty')
  segment(name, 'info.name')

  const pieceLength = integer(info['piece length'], 'info["piece length"]')
  const power = (pieceLength & (pieceLength - 1)) === 0
  if (
    pieceLength === 0 ||
    pieceLength > MAX_READ_PIECE_LENGTH ||
    (hasV2 && (pieceLength < MIN_PIECE_LENGTH || !power))
  ) {
    fail(
      'bad-piece-length',
      `piece length ${pieceLength} is not ${hasV2 ? 'a power of two from 16 KiB to 512 MiB' : 'from 1 byte to 1 GiB'}`,
    )
  }

  let files: TorrentFile[]
  let multiFile: boolean
  let pieces: Buffer | null = null
  if (hasV1) {
    ;({ files, multiFile } = v1Files(info, name))
    const p = info.pieces
    if (p === undefined) fail('missing-key', 'info.pieces is missing')
    if (!Buffer.isBuffer(p) || p.length % 20 !== 0)
      fail('bad-pieces', 'info.pieces is not a multiple of 20 bytes')
    pieces = p as Buffer
  } else {
    files = []
    multiFile = false
  }
  if (hasV2) {
    const tree = v2Files(info['file tree'])
    if (tree.length === 0) fail('bad-file-tree', 'the file tree has no files')
    const single = tree.length === 1 && tree[0].path.length === 1 && !(hasV1 && multiFile)
    if (hasV1) {
      checkHybrid(files, single ? [{ path: [name], length: tree[0].length }] : tree, pieceLength)
      if (single && tree[0].path[0] !== name)
        fail('length-mismatch', 'the single file of the file tree is not named like the torrent')
      let next = 0
      for (const f of files) if (!f.pad) f.piecesRoot = tree[next++].root
    } else {
      multiFile = !single
      let offset = 0
      tree.forEach((f) => {
        files.push({
          path: single ? [name] : f.path,
          length: f.length,
          offset,
          pad: false,
          piecesRoot: f.root,
        })
        offset += f.length
        const tail = f.length % pieceLength
        // As a hybrid of these files would have them (see layoutFiles): none for a lone file.
        if (tail !== 0 && multiFile && tree.length > 1) {
          files.push({
            path: ['.pad', String(pieceLength - tail)],
            length: pieceLength - tail,
            offset,
            pad: true,
            piecesRoot: null,
          })
          offset += pieceLength - tail
        }
      })
    }
  }
  const length = files.reduce((sum, f) => sum + f.length, 0)
  checkDuplicates(files)
  // libtorrent (torrent_invalid_length) and Transmission refuse a torrent of no data.
  if (files.every((f) => f.pad || f.length === 0)) fail('no-data', 'the torrent holds no data')
  const pieceCount = Math.ceil(length / pieceLength)
  if (pieces && pieces.length !== pieceCount * 20) {
    fail(
      'bad-pieces',
      `info.pieces holds ${pieces.length / 20} hashes but ${length} bytes make ${pieceCount} pieces`,
    )
  }
  const pieceLayers = hasV2 ? pieceLayersOf(torrent, files, pieceLength) : new Map<string, Buffer>()

  const creationDate = torrent['creation date']
  return {
    infoHash: hasV1 ? createHash('sha1').update(infoBytes).digest() : null,
    infoHashV2: hasV2 ? createHash('sha256').update(infoBytes).digest() : null,
    info: infoBytes,
    format,
    name,
    multiFile,
    pieceLength,
    pieceCount,
    length,
    pieces,
    files,
    pieceLayers,
    ...trackers(torrent),
    urlList: urlList(torrent['url-list']),
    httpSeeds: urlList(torrent.httpseeds),
    comment: optionalText(torrent.comment),
    createdBy: optionalText(torrent['created by']),
    creationDate: typeof creationDate === 'number' ? creationDate : null,
  }
}
