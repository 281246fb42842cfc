import { Command } from 'commander'
import fs from 'node:fs/promises'
import path from 'node:path'
import { hashFiles, HashError, type HashInput } from '../../../lib/hashing/index.ts'
import type { Torrent, TorrentFile } from '../../../lib/metainfo/index.ts'
import { CliError } from '../errors.ts'
import { readTorrent } from './info.ts'
import { progressBar } from '../progress.ts'

interface FileReport {
  path: string
  problem: 'missing' | 'size' | 'pieces'
  pieces: number[]
}

/** `3-5, 9`: piece indexes as ranges, so a damaged 4 GB file still prints one short line. */
function ranges(pieces: number[]): string {
  const out: string[] = []
  for (let i = 0; i < pieces.length; i++) {
    let j = i
    while (j + 1 < pieces.length && pieces[j + 1] === pieces[j] + 1) j++
    out.push(i === j ? `${pieces[i]}` : `${pieces[i]}-${pieces[j]}`)
    i = j
  }
  return out.join(', ')
}

/**
 * Where the data is: like a client's download folder, DIR/<name> (multi-file: a folder, single:
 * the file); for convenience DIR may also be that folder or file itself.
 */
async function dataRoot(torrent: Torrent, dir: string): Promise<string> {
  const inside = path.join(dir, torrent.name)
  const s = await fs.stat(inside).catch(() => null)
  if (torrent.multiFile) return s?.isDirectory() ? inside : dir
  if (s?.isFile()) return inside
  return (await fs.stat(dir).catch(() => null))?.isFile() ? dir : inside
}

async function check(torrent: Torrent, dir: string, threads?: number): Promise<FileReport[]> {
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
  const bar = progressBar('verifying')
  let result
  try {
    result = await hashFiles({
      files: inputs,
      pieceLength: torrent.pieceLength,
      v1,
      v2: !v1,
      threads,
      onProgress: bar.update,
    })
  } catch (err) {
    if (err instanceof HashError) throw new CliError(err.message, 1)
    throw err
  } finally {
    bar.done()
  }
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
      if (
        result.pieces.compare(
          torrent.pieces,
          piece * 20,
          piece * 20 + 20,
          piece * 20,
          piece * 20 + 20,
        ) === 0
      )
        continue
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

export function register(program: Command): void {
  program
    .command('verify')
    .description('check data against a torrent; exit 1 naming bad or missing files and pieces')
    .argument('<file>', 'the .torrent file')
    .argument('<dir>', "download folder holding the torrent's data (or the data itself)")
    .option('--threads <n>', 'hashing threads (default: all cores)', (v: string) => {
      if (!/^[1-9]\d*$/.test(v))
        throw new CliError(`--threads must be a positive whole number, not "${v}"`)
      return Number(v)
    })
    .option('--json', 'print the result as JSON')
    .action(async (file: string, dir: string, flags: { threads?: number; json?: boolean }) => {
      const torrent = await readTorrent(file)
      const reports = await check(torrent, dir, flags.threads)
      const pieces = new Set(reports.flatMap((r) => r.pieces)).size
      if (flags.json) {
        console.log(JSON.stringify({ ok: reports.length === 0, badPieces: pieces, files: reports }))
      } else {
        for (const r of reports) {
          const what =
            r.problem === 'missing' ? 'missing' : r.problem === 'size' ? 'wrong size' : 'bad'
          console.log(
            `${what}: ${r.path}${r.pieces.length > 0 ? ` (pieces ${ranges(r.pieces)})` : ''}`,
          )
        }
      }
      if (reports.length > 0) {
        throw new CliError(
          `${reports.length} of ${torrent.files.filter((f) => !f.pad).length} files failed, ${pieces} bad pieces`,
          1,
        )
      }
      if (!flags.json) console.log(`OK: ${torrent.name}, ${torrent.pieceCount} pieces verified`)
    })
}
