import fs from 'node:fs/promises'
import path from 'node:path'
import { hashFiles, type HashInput } from '../hashing/index.ts'
import type { Torrent, TorrentFile } from './parse.ts'

/** One file of a torrent that does not match its data, and the pieces that show it. */
export interface FileReport {
  /** Path inside the torrent, `/`-separated. */
  path: string
  problem: 'missing' | 'size' | 'pieces'
  /** Piece indexes that failed, ascending; empty for a missing or wrong-sized file. */
  pieces: number[]
}

/**
 * Where the data is: like a client's download folder, DIR/<name> (multi-file: a folder, single:
 * the file); for convenience DIR may also be that folder or file itself.
 */
export async function dataRoot(torrent: Torrent, dir: string): Promise<string> {
  const inside = path.join(dir, torrent.name)
  const s = await fs.stat(inside).catch(() => null)
  if (torrent.multiFile) return s?.isDirectory() ? inside : dir
  if (s?.isFile()) return inside
  return (await fs.stat(dir).catch(() => null))?.isFile() ? dir : inside
}

/**
 * Checks the data in `dir` against a torrent, as a client's "verify local data" does: every
 * piece hashed (v1 SHA-1 pieces, or v2 piece layers), each bad piece blamed on the files it
 * overlaps. Returns the files that failed; empty when every piece matches. A `HashError` from
 * reading passes through.
 *
 * @example
 * const reports = await verifyData(parseTorrent(bytes), 'downloads')
 * for (const r of reports) console.log(r.problem, r.path, pieceRanges(r.pieces))
 */
export async function verifyData(
  torrent: Torrent,
  dir: string,
  options: { threads?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<FileReport[]> {
  const root = await dataRoot(torrent, dir)
  const reports = new Map<TorrentFile, FileReport>()
  const inputs: HashInput[] = []
  for (const f of torrent.files) {
    if (f.pad) {
      inputs.push({ pad: f.length })
      continue
    }
    const source = torrent.multiFile ? path.join(root, ...f.path) : root
    const s = await fs.stat(source).catch(() => null)
    const rel = f.path.join('/')
    if (!s?.isFile()) reports.set(f, { path: rel, problem: 'missing', pieces: [] })
    else if (s.size !== f.length) reports.set(f, { path: rel, problem: 'size', pieces: [] })
    // Missing or wrong-sized data is hashed as zeros, so the other files are still checked and
    // the pieces it shares with them show up as bad.
    inputs.push(reports.has(f) ? { pad: f.length } : { path: source, length: f.length })
  }
  const v1 = torrent.pieces !== null
  const result = await hashFiles({
    files: inputs,
    pieceLength: torrent.pieceLength,
    v1,
    v2: !v1,
    threads: options.threads,
    onProgress: options.onProgress,
  })
  const pl = torrent.pieceLength
  const bad = (f: TorrentFile, piece: number) => {
    if (f.pad || f.length === 0) return
    const report = reports.get(f) ?? {
      path: f.path.join('/'),
      problem: 'pieces' as const,
      pieces: [],
    }
    reports.set(f, report)
    if (report.pieces.at(-1) !== piece) report.pieces.push(piece)
  }
  // `v1` is `torrent.pieces !== null`, and hashing for v1 gives `result.pieces`.
  if (torrent.pieces && result.pieces) {
    for (let piece = 0; piece < torrent.pieceCount; piece++) {
      const at = piece * 20
      if (result.pieces.compare(torrent.pieces, at, at + 20, at, at + 20) === 0) continue
      const start = piece * pl
      const overlapping = torrent.files.filter(
        (f) => f.offset < start + pl && f.offset + f.length > start,
      )
      // A piece shared with a missing or wrong-sized file is explained by it: blaming the
      // neighbours too would send the admin after files that are fine.
      const explained = overlapping.filter(
        (f) => reports.get(f)?.problem === 'missing' || reports.get(f)?.problem === 'size',
      )
      for (const f of explained.length > 0 ? explained : overlapping) bad(f, piece)
    }
  } else {
    torrent.files.forEach((f, i) => {
      const got = result.files[i]
      const root = f.piecesRoot
      if (f.pad || f.length === 0 || !root || got?.piecesRoot?.equals(root)) return
      const first = f.offset / pl
      const count = Math.ceil(f.length / pl)
      const want = torrent.pieceLayers.get(root.toString('hex'))
      for (let k = 0; k < count; k++) {
        const same =
          want &&
          got?.pieceLayer &&
          want.compare(got.pieceLayer, k * 32, k * 32 + 32, k * 32, k * 32 + 32) === 0
        if (!same) bad(f, first + k)
      }
    })
  }
  return [...reports.values()]
}

/** `3-5, 9`: piece indexes as ranges, so a damaged 4 GB file still prints one short line. */
export function pieceRanges(pieces: readonly number[]): string {
  const out: string[] = []
  for (let i = 0; i < pieces.length; i++) {
    let j = i
    while (j + 1 < pieces.length && pieces[j + 1] === pieces[j] + 1) j++
    out.push(i === j ? `${pieces[i]}` : `${pieces[i]}-${pieces[j]}`)
    i = j
  }
  return out.join(', ')
}
