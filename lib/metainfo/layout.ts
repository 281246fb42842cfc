import { MetainfoError } from './errors.ts'

export type Format = 'v1' | 'v2' | 'hybrid'
export const formats: readonly Format[] = ['v1', 'v2', 'hybrid']

/** A file of the torrent: its path inside the torrent (without the torrent name) and size. */
export interface FileEntry {
  path: string[]
  length: number
}

/** A file placed in the v1 piece space; pads are BEP 47 padding files (all zeros). */
export interface LayoutFile {
  path: string[]
  length: number
  offset: number
  pad: boolean
}

/**
 * Why a path segment is unsafe, or null. Clients turn segments into directory names: `..`, `.`,
 * empty, or a `/` inside a segment would escape or collapse the download folder (BEP 52 "file
 * tree": "must be sanitized since they could lead to directory traversal").
 */
export function unsafeSegment(segment: string): string | null {
  if (segment === '') return 'an empty segment'
  if (segment === '.' || segment === '..') return `a "${segment}" segment`
  if (segment.includes('/')) return `a "/" inside "${segment}"`
  if (segment.includes('\0')) return 'a NUL byte'
  return null
}

const utf8 = (s: string) => Buffer.from(s, 'utf8')

/**
 * v1 order: by the raw bytes of the whole path joined with `/`. That is mktorrent's order (it
 * strcmp()s full paths), so our v1 info-hash equals mktorrent's for the same files.
 */
export function compareV1(a: readonly string[], b: readonly string[]): number {
  return Buffer.compare(utf8(a.join('/')), utf8(b.join('/')))
}

/**
 * v2 and hybrid order: segment by segment, each by raw bytes. That is the order of a walk of the
 * BEP 52 file tree (a dictionary, so keys in byte order), which the v1 `files` of a hybrid must
 * follow, and what libtorrent's create_torrent does. It differs from {@link compareV1} when `/`
 * meets a smaller byte: `a/b` sorts before `a-b` here and after it there.
 */
export function compareV2(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const order = Buffer.compare(utf8(a[i]), utf8(b[i]))
    if (order !== 0) return order
  }
  return a.length - b.length
}

function checkFiles(files: readonly FileEntry[]): void {
  if (files.length === 0) throw new MetainfoError('bad-input', 'a torrent needs at least one file')
  for (const file of files) {
    if (file.path.length === 0) throw new MetainfoError('bad-path', 'a file has an empty path')
    for (const segment of file.path) {
      const why = unsafeSegment(segment)
      if (why) throw new MetainfoError('bad-path', `path "${file.path.join('/')}" has ${why}`)
    }
    if (!Number.isSafeInteger(file.length) || file.length < 0) {
      throw new MetainfoError(
        'bad-input',
        `"${file.path.join('/')}" has an invalid length ${file.length}`,
      )
    }
  }
}

/**
 * Sorts the files into the canonical order for `format` and, for a multi-file hybrid, inserts the
 * BEP 47 pad files exactly as libtorrent 2.0's create_torrent does with default flags: after
 * every non-empty file whose length is not a multiple of the piece length, the last one included,
 * named `.pad/<length>`; but none at all when the folder holds one file (mirrorseed checks this
 * against libtorrent in test/create-interop.test.ts and the corpus test).
 * A v2-only torrent gets the same pads in the model, since BEP 52 aligns every file to a piece
 * boundary; they never reach its info dict.
 *
 * @example
 * layoutFiles([{ path: ['b'], length: 5 }, { path: ['a'], length: 3 }], 16384, 'hybrid', true)
 * // a (0..3), .pad/16381, b (16384..16389), .pad/16379
 */
export function layoutFiles(
  files: readonly FileEntry[],
  pieceLength: number,
  format: Format,
  multiFile: boolean,
): LayoutFile[] {
  checkFiles(files)
  if (!multiFile && (files.length !== 1 || files[0].path.length !== 1)) {
    throw new MetainfoError('bad-input', 'a single-file torrent has exactly one file, at the top')
  }
  // In tree order a folder's files follow it directly, so clashes are neighbours.
  const sorted = [...files].sort((a, b) => compareV2(a.path, b.path))
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1].path, sorted[i].path]
    const prefix = a.length < b.length && a.every((s, j) => s === b[j])
    if (compareV2(a, b) === 0 || prefix) {
      throw new MetainfoError(
        'bad-path',
        `"${a.join('/')}" is listed twice, or as a file and a folder`,
      )
    }
  }
  if (format === 'v1') sorted.sort((a, b) => compareV1(a.path, b.path))
  const out: LayoutFile[] = []
  let offset = 0
  for (const file of sorted) {
    out.push({ path: [...file.path], length: file.length, offset, pad: false })
    offset += file.length
    const tail = file.length % pieceLength
    if (format !== 'v1' && multiFile && sorted.length > 1 && tail !== 0) {
      const pad = pieceLength - tail
      out.push({ path: ['.pad', String(pad)], length: pad, offset, pad: true })
      offset += pad
    }
  }
  return out
}
