import { rootFromPieceLayer } from '../hashing/index.ts'
import type { BencodeDict, BencodeValue } from '../bencode/index.ts'
import { fail, integer, isDict, segment, text } from './fields.ts'

// The file lists of a torrent: BEP 3 `files`/`length` with BEP 47 pads, the BEP 52 file tree and
// its piece layers, and the checks that make a hybrid's two descriptions one set of files.

/** A file in the v1 piece space. `path` is inside the torrent: `[name]` for a single-file one. */
export interface TorrentFile {
  path: string[]
  length: number
  offset: number
  pad: boolean
  piecesRoot: Buffer | null
}

export function v1Files(
  info: BencodeDict,
  name: string,
): { files: TorrentFile[]; multiFile: boolean } {
  if (info.length !== undefined && info.files !== undefined)
    fail('bad-type', 'info has both length and files')
  if (info.files === undefined) {
    return {
      files: [
        {
          path: [name],
          length: integer(info.length, 'info.length'),
          offset: 0,
          pad: false,
          piecesRoot: null,
        },
      ],
      multiFile: false,
    }
  }
  if (!Array.isArray(info.files) || info.files.length === 0)
    fail('bad-type', 'info.files must be a non-empty list')
  const files: TorrentFile[] = []
  let offset = 0
  ;(info.files as BencodeValue[]).forEach((entry, i) => {
    if (!isDict(entry)) fail('bad-type', `info.files[${i}] must be a dictionary`)
    const f = entry as BencodeDict
    // BEP 47 'l': a symlink is no data, so it needs no length and takes no bytes; it is checked
    // like any path and then left out. Without a `symlink path` libtorrent reads it as an empty
    // file, and so do we.
    const symlink = Buffer.isBuffer(f.attr) && f.attr.includes(0x6c)
    if (symlink && f['symlink path'] !== undefined) {
      symlinkTarget(f['symlink path'], `info.files[${i}]["symlink path"]`)
      pathOf(f.path, `info.files[${i}].path`)
      return
    }
    const length = symlink ? 0 : integer(f.length, `info.files[${i}].length`)
    const pad = Buffer.isBuffer(f.attr) && f.attr.includes(0x70) // BEP 47 'p'
    let path: string[]
    if (pad && f.path === undefined) {
      path = ['.pad', String(length)] // BEP 47: clients "should not require" a pad's path
    } else {
      path = pathOf(f.path, `info.files[${i}].path`)
    }
    files.push({ path, length, offset, pad, piecesRoot: null })
    offset += length
  })
  return { files, multiFile: true }
}

function pathOf(v: BencodeValue | undefined, what: string): string[] {
  if (!Array.isArray(v) || v.length === 0) fail('bad-path', `${what} must be a non-empty list`)
  return (v as BencodeValue[]).map((s) => segment(text(s, what), what))
}

/** A BEP 47 `symlink path`: a list of strings (where it points is the client's business). */
function symlinkTarget(v: BencodeValue | undefined, what: string): void {
  if (!Array.isArray(v) || !v.every(Buffer.isBuffer))
    fail('bad-path', `${what} must be a list of strings`)
}

/** Walks a BEP 52 file tree in key byte order: the order the files occupy the piece space. */
export function v2Files(
  tree: BencodeValue | undefined,
): Array<{ path: string[]; length: number; root: Buffer | null }> {
  if (!isDict(tree)) return fail('bad-file-tree', 'info["file tree"] must be a dictionary')
  const out: Array<{ path: string[]; length: number; root: Buffer | null }> = []
  const walk = (node: BencodeDict, path: string[]) => {
    const keys = Object.keys(node).sort((a, b) =>
      Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')),
    )
    if (keys.length === 0)
      fail('bad-file-tree', `folder "${path.join('/')}" in the file tree is empty`)
    for (const key of keys) {
      const child = node[key]
      if (!isDict(child))
        fail('bad-file-tree', `file tree entry "${[...path, key].join('/')}" is not a dictionary`)
      const name = segment(
        Buffer.from(key, 'latin1').toString('utf8'),
        `file tree path "${[...path, key].join('/')}"`,
      )
      const leaf = (child as BencodeDict)['']
      if (leaf === undefined) {
        walk(child as BencodeDict, [...path, name])
        continue
      }
      // BEP 52: a dictionary with a `length` is a file and "must not have any sibling entries".
      if (!isDict(leaf) || Object.keys(child as BencodeDict).length !== 1) {
        fail('bad-file-tree', `file "${[...path, name].join('/')}" has sibling entries`)
      }
      const where = `"${[...path, name].join('/')}"`
      const entry = leaf as BencodeDict
      const attr = Buffer.isBuffer(entry.attr) ? entry.attr : Buffer.alloc(0)
      // Pads exist only in a hybrid's v1 `files`: the file tree aligns files by itself (BEP 52;
      // libtorrent: torrent_invalid_pad_file).
      if (attr.includes(0x70)) fail('bad-file-tree', `${where} is a pad file in the file tree`)
      const target = entry['symlink path']
      if (attr.includes(0x6c) && Array.isArray(target) && target.length > 0) {
        symlinkTarget(target, `"symlink path" of ${where}`)
        continue // BEP 47 symlink: no data, no pieces root
      }
      const length = integer(entry.length, `length of ${where}`)
      const root = entry['pieces root']
      if (length > 0 && (!Buffer.isBuffer(root) || root.length !== 32 || !root.some((b) => b))) {
        fail('bad-file-tree', `${where} needs a 32-byte pieces root`)
      }
      out.push({ path: [...path, name], length, root: length > 0 ? (root as Buffer) : null })
    }
  }
  if ((tree as BencodeDict)[''] !== undefined)
    fail('bad-file-tree', 'the file tree root must not be a file')
  walk(tree as BencodeDict, [])
  return out
}

export function checkHybrid(
  v1: TorrentFile[],
  v2: Array<{ path: string[]; length: number }>,
  pieceLength: number,
): void {
  const real = v1.filter((f) => !f.pad)
  const same =
    real.length === v2.length &&
    real.every((f, i) => f.length === v2[i].length && f.path.join('/') === v2[i].path.join('/'))
  if (!same) fail('length-mismatch', 'the v1 files and the v2 file tree describe different files')
  for (const f of real) {
    if (f.length > 0 && f.offset % pieceLength !== 0) {
      fail(
        'length-mismatch',
        `"${f.path.join('/')}" is not aligned to a piece boundary (BEP 52 upgrade path)`,
      )
    }
  }
}

export function pieceLayersOf(
  torrent: BencodeDict,
  files: TorrentFile[],
  pieceLength: number,
): Map<string, Buffer> {
  // A missing layer is allowed, as libtorrent allows it: a client then asks peers for it (BEP 52
  // hash requests), and `verify` can still check such a file against its pieces root. A layer
  // that is there must be right, and every one must belong to a file.
  const raw = torrent['piece layers'] ?? {}
  if (!isDict(raw)) return fail('bad-piece-layers', 'piece layers must be a dictionary')
  const layers = new Map<string, Buffer>()
  const known = new Set<string>()
  for (const f of files) {
    if (f.pad || f.length <= pieceLength) continue
    const key = f.piecesRoot!.toString('latin1')
    known.add(key)
    const layer = (raw as BencodeDict)[key]
    if (layer === undefined) continue
    const expected = Math.ceil(f.length / pieceLength) * 32
    if (!Buffer.isBuffer(layer) || layer.length !== expected) {
      fail('bad-piece-layers', `"${f.path.join('/')}" needs a piece layer of ${expected} bytes`)
    }
    if (!rootFromPieceLayer(layer as Buffer, pieceLength).equals(f.piecesRoot!)) {
      fail(
        'bad-piece-layers',
        `the piece layer of "${f.path.join('/')}" does not hash to its pieces root`,
      )
    }
    layers.set(f.piecesRoot!.toString('hex'), layer as Buffer)
  }
  for (const key of Object.keys(raw as BencodeDict)) {
    if (!known.has(key)) {
      const root = Buffer.from(key, 'latin1').toString('hex')
      fail('bad-piece-layers', `piece layers hold ${root}, the pieces root of no file`)
    }
  }
  return layers
}
