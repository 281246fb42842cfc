import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseTorrent, type Torrent } from '../lib/metainfo/index.ts'
import { systemPython } from './tools.ts'

/**
 * A multi-file Gentoo-style release made into a .torrent by a real tool (mktorrent for v1,
 * libtorrent for hybrid, pad files included), for seeder tests. The bytes are random, sizes are
 * chosen so pieces straddle file boundaries.
 */
export interface SeedFixture {
  dir: string
  /** Folder holding the torrent's top folder (`<dataDir>/<name>/…`). */
  dataDir: string
  torrentPath: string
  torrentBytes: Buffer
  torrent: Torrent
  /** Per torrent file: its path on disk, null for pads (what `seeder.add` takes). */
  paths: Array<string | null>
  /** Real files relative to `<dataDir>/<name>`, with their bytes. */
  files: Array<{ rel: string; bytes: Buffer }>
  remove(): Promise<void>
}

export const fixtureName = 'install-amd64-minimal-20261117T170000Z'

function pseudoRandom(length: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  let s = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    buf[i] = s & 0xff
  }
  return buf
}

export async function makeSeedFixture(
  maker: 'mktorrent' | 'libtorrent',
  opts: { artifactSize?: number; pieceLength?: number } = {},
): Promise<SeedFixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-seed-'))
  const dataDir = path.join(dir, 'data')
  const top = path.join(dataDir, fixtureName)
  await mkdir(path.join(top, 'sub'), { recursive: true })
  const iso = `${fixtureName}.iso`
  const files = [
    { rel: iso, bytes: pseudoRandom(opts.artifactSize ?? 300_000, 1) },
    { rel: `${iso}.CONTENTS.gz`, bytes: pseudoRandom(5_000, 2) },
    { rel: `${iso}.DIGESTS`, bytes: pseudoRandom(700, 3) },
    { rel: `${iso}.asc`, bytes: pseudoRandom(833, 4) },
    { rel: 'sub/notes.txt', bytes: pseudoRandom(40_000, 5) },
  ]
  for (const f of files) await writeFile(path.join(top, f.rel), f.bytes)
  const pieceLength = opts.pieceLength ?? 32768
  const torrentPath = path.join(dir, `${fixtureName}.torrent`)
  const run =
    maker === 'mktorrent'
      ? spawnSync('mktorrent', ['-l', String(Math.log2(pieceLength)), '-o', torrentPath, top], {
          encoding: 'utf8',
        })
      : spawnSync(
          systemPython,
          [
            '-c',
            `import libtorrent as lt, sys
fs = lt.file_storage()
lt.add_files(fs, sys.argv[1])
ct = lt.create_torrent(fs, int(sys.argv[2]))
lt.set_piece_hashes(ct, sys.argv[3])
open(sys.argv[4], 'wb').write(lt.bencode(ct.generate()))`,
            top,
            String(pieceLength),
            dataDir,
            torrentPath,
          ],
          { encoding: 'utf8' },
        )
  if (run.status !== 0) throw new Error(`${maker} failed: ${run.stderr || run.error}`)
  const torrentBytes = await readFile(torrentPath)
  const torrent = parseTorrent(torrentBytes)
  const paths = torrent.files.map((f) => (f.pad ? null : path.join(top, ...f.path)))
  return {
    dir,
    dataDir,
    torrentPath,
    torrentBytes,
    torrent,
    paths,
    files,
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}
