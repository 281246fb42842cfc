import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  createTorrent,
  magnetLink,
  parseTorrent,
  type Format,
  type SourceFile,
} from '../lib/metainfo/index.ts'
import { libtorrent, systemPython, tool } from './tools.ts'

// Our torrents against the tools mirror admins and users already run: the same info-hashes as
// mktorrent (v1) and libtorrent 2.0's create_torrent (v1, v2, hybrid), and libtorrent,
// transmission-show and aria2c read what we write and libtorrent finds every piece of the data.

const mktorrent = tool('mktorrent', ['-h'])
const lt = libtorrent()
const transmission = tool('transmission-show', ['--version'])
const aria2c = tool('aria2c')

const content = (n: number, seed: number) => {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed * 101 + (i >> 9)) & 0xff
  return b
}

// Names chosen so v1 order (whole path bytes) and v2 order (segment by segment) differ, sizes so
// files straddle pieces, end exactly on one, or are empty.
const tree: Array<[string, number]> = [
  ['install-amd64-minimal.iso', 300_000],
  ['install-amd64-minimal.iso.DIGESTS', 1_234],
  ['install-amd64-minimal.iso.asc', 833],
  ['docs/README', 65_536],
  ['docs-extra', 17],
  ['docs.txt', 40_000],
  ['empty', 0],
]

let dir: string
let release: string
let single: string
let files: SourceFile[]

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'create-interop-'))
  release = path.join(dir, 'release')
  files = []
  for (const [i, [rel, n]] of tree.entries()) {
    const file = path.join(release, rel)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, content(n, i + 1))
    files.push({ path: rel.split('/'), source: file })
  }
  single = path.join(dir, 'debian-13.2.0-amd64-netinst.iso')
  await fs.writeFile(single, content(200_001, 99))
})
afterAll(() => fs.rm(dir, { recursive: true, force: true }))

const ours = (format: Format, pieceLength: number, kind: 'multi' | 'single') =>
  kind === 'multi'
    ? createTorrent({ name: 'release', files, format, pieceLength })
    : createTorrent({
        name: path.basename(single),
        files: [{ path: [path.basename(single)], source: single }],
        format,
        pieceLength,
      })

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 60_000 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}${r.stdout}`)
  return r.stdout
}

describe.skipIf(!mktorrent.found)(`same info-hash as mktorrent ${mktorrent.reason}`, () => {
  for (const kind of ['single', 'multi'] as const) {
    for (const exponent of [15, 16, 18]) {
      it(`${kind}-file, piece length 2^${exponent}`, async () => {
        const out = path.join(dir, `mk-${kind}-${exponent}.torrent`)
        await fs.rm(out, { force: true })
        run('mktorrent', [
          '-d',
          '-a',
          'http://127.0.0.1/announce',
          '-l',
          String(exponent),
          '-o',
          out,
          kind === 'multi' ? release : single,
        ])
        const theirs = parseTorrent(await fs.readFile(out))
        const { torrent } = await ours('v1', 2 ** exponent, kind)
        expect(torrent.infoHash!.toString('hex')).toBe(theirs.infoHash!.toString('hex'))
      })
    }
  }
})

// libtorrent's create_torrent with default flags (v1_only / v2_only for those formats), files
// added in our sorted order, as BEP 52 and mktorrent order them.
const ltCreate = String.raw`
import sys, os, json, libtorrent as lt
spec = json.load(sys.stdin)
fs = lt.file_storage()
for rel, size in spec['files']:
  fs.add_file(rel, size)
flags = {'v1': lt.create_torrent.v1_only, 'v2': lt.create_torrent.v2_only, 'hybrid': 0}[spec['format']]
ct = lt.create_torrent(fs, spec['pieceLength'], flags=flags)
lt.set_piece_hashes(ct, spec['parent'])
h = lt.torrent_info(ct.generate()).info_hashes()
print(json.dumps({'v1': str(h.v1) if h.has_v1() else None, 'v2': str(h.v2) if h.has_v2() else None}))
`

describe.skipIf(!lt.found)(`same info-hashes as libtorrent create_torrent ${lt.reason}`, () => {
  for (const kind of ['single', 'multi'] as const) {
    for (const format of ['v1', 'v2', 'hybrid'] as const) {
      for (const pieceLength of [16384, 65536]) {
        it(`${kind}-file ${format}, piece length ${pieceLength / 1024} KiB`, async () => {
          const { torrent } = await ours(format, pieceLength, kind)
          const real = torrent.files.filter((f) => !f.pad)
          const spec = {
            format,
            pieceLength,
            parent: kind === 'multi' ? dir : path.dirname(single),
            files: real.map((f) => [
              kind === 'multi' ? ['release', ...f.path].join('/') : f.path[0],
              f.length,
            ]),
          }
          const theirs = JSON.parse(run(systemPython, ['-c', ltCreate], JSON.stringify(spec)))
          expect(torrent.infoHash?.toString('hex') ?? null).toBe(theirs.v1)
          expect(torrent.infoHashV2?.toString('hex') ?? null).toBe(theirs.v2)
        })
      }
    }
  }
})

describe.skipIf(!lt.found)(`a folder holding one file, as libtorrent makes it ${lt.reason}`, () => {
  for (const format of ['v2', 'hybrid'] as const) {
    it(`${format}: no tail pad, the same info-hashes`, async () => {
      const folder = path.join(dir, `lone-${format}`)
      await fs.mkdir(folder, { recursive: true })
      const only = path.join(folder, 'only.iso')
      await fs.writeFile(only, content(40_000, 7))
      const { torrent } = await createTorrent({
        name: path.basename(folder),
        files: [{ path: ['only.iso'], source: only }],
        multiFile: true,
        format,
        pieceLength: 16384,
      })
      expect(torrent.files.filter((f) => f.pad)).toEqual([])
      const spec = {
        format,
        pieceLength: 16384,
        parent: dir,
        files: [[`${path.basename(folder)}/only.iso`, 40_000]],
      }
      const theirs = JSON.parse(run(systemPython, ['-c', ltCreate], JSON.stringify(spec)))
      expect(torrent.infoHash?.toString('hex') ?? null).toBe(theirs.v1)
      expect(torrent.infoHashV2?.toString('hex') ?? null).toBe(theirs.v2)
    })
  }

  it('refuses to make a torrent of no data, as libtorrent and Transmission do', async () => {
    const empty = path.join(release, 'empty')
    await expect(
      createTorrent({ name: 'e', files: [{ path: ['e'], source: empty }], multiFile: true }),
    ).rejects.toThrow(/no data/)
  })
})

// libtorrent loads our .torrent, checks the files on disk (no seed_mode) and must have every
// piece; the same with one byte changed must not. It also parses our magnet link.
const ltCheck = String.raw`
import sys, time, json, libtorrent as lt
torrent, save, magnet = sys.argv[1], sys.argv[2], sys.argv[3]
ti = lt.torrent_info(torrent)
ses = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
  'enable_upnp': False, 'enable_natpmp': False})
atp = lt.add_torrent_params()
atp.ti = ti
atp.save_path = save
h = ses.add_torrent(atp)
deadline = time.time() + 30
while time.time() < deadline:
  s = h.status()
  if s.state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data) and s.has_metadata:
    break
  time.sleep(0.05)
time.sleep(0.2)
s = h.status()
m = lt.parse_magnet_uri(magnet)
ih = m.info_hashes
print(json.dumps({'have': s.num_pieces, 'pieces': ti.num_pieces(), 'seeding': s.is_seeding,
  'magnet_v1': str(ih.v1) if ih.has_v1() else None, 'magnet_v2': str(ih.v2) if ih.has_v2() else None,
  'name': m.name}))
`

describe.skipIf(!lt.found)(`libtorrent reads our torrents and finds the data ${lt.reason}`, () => {
  for (const format of ['v1', 'v2', 'hybrid'] as const) {
    for (const kind of ['single', 'multi'] as const) {
      it(`${kind}-file ${format}`, async () => {
        const { bytes, torrent } = await ours(format, 32768, kind)
        const file = path.join(dir, `lt-${kind}-${format}.torrent`)
        await fs.writeFile(file, bytes)
        const magnet = magnetLink(torrent)
        const check = () => JSON.parse(run(systemPython, ['-c', ltCheck, file, dir, magnet]))
        const result = check()
        expect(result).toMatchObject({
          have: torrent.pieceCount,
          pieces: torrent.pieceCount,
          seeding: true,
        })
        expect(result.magnet_v1).toBe(torrent.infoHash?.toString('hex') ?? null)
        expect(result.magnet_v2).toBe(torrent.infoHashV2?.toString('hex') ?? null)
        expect(result.name).toBe(torrent.name)

        // Corrupt one byte of the largest file and check again in a copy of the data.
        const copy = await fs.mkdtemp(path.join(dir, 'corrupt-'))
        await fs.cp(kind === 'multi' ? release : single, path.join(copy, torrent.name), {
          recursive: true,
        })
        const victim =
          kind === 'multi'
            ? path.join(copy, 'release', 'install-amd64-minimal.iso')
            : path.join(copy, torrent.name)
        const fd = await fs.open(victim, 'r+')
        await fd.write(Buffer.from([0x55 ^ 0xff]), 0, 1, 100_000)
        await fd.close()
        const damaged = JSON.parse(run(systemPython, ['-c', ltCheck, file, copy, magnet]))
        expect(damaged.seeding).toBe(false)
        expect(damaged.have).toBe(torrent.pieceCount - 1)
      })
    }
  }
})

// Debian's transmission 3.00 predates BEP 52: it refuses every hybrid or v2 torrent, libtorrent's
// own included, so it is asked about v1 only.
describe.skipIf(!transmission.found)(
  `transmission-show reads our torrents ${transmission.reason}`,
  () => {
    for (const format of ['v1'] as const) {
      it(`multi-file ${format}`, async () => {
        const { bytes, torrent } = await createTorrent({
          name: 'release',
          files,
          format,
          trackers: [['http://127.0.0.1:6969/announce']],
          webSeeds: ['http://127.0.0.1:8080/torrent-symlinks/x/'],
        })
        const file = path.join(dir, `tr-${format}.torrent`)
        await fs.writeFile(file, bytes)
        const out = run('transmission-show', [file])
        expect(out).toContain(torrent.infoHash!.toString('hex'))
        expect(out).toContain('http://127.0.0.1:6969/announce')
        expect(out).toContain('http://127.0.0.1:8080/torrent-symlinks/x/')
        expect(out).toContain('release/docs/README')
        // Pads are not files a user gets to see.
        expect(out).not.toMatch(/\.pad\//)
      })
    }
  },
)

const ltWrite = String.raw`
import sys, json, libtorrent as lt
spec = json.load(sys.stdin)
fs = lt.file_storage()
for rel, size in spec['files']:
  fs.add_file(rel, size)
ct = lt.create_torrent(fs, spec['pieceLength'])
lt.set_piece_hashes(ct, spec['parent'])
open(spec['out'], 'wb').write(lt.bencode(ct.generate()))
`

describe.skipIf(!aria2c.found)(`aria2c --show-files reads our torrents ${aria2c.reason}`, () => {
  for (const format of ['v1', 'hybrid'] as const) {
    it(`multi-file ${format}`, async () => {
      const { bytes, torrent } = await createTorrent({
        name: 'release',
        files,
        format,
        webSeeds: ['http://127.0.0.1:8080/'],
      })
      const file = path.join(dir, `aria-${format}.torrent`)
      await fs.writeFile(file, bytes)
      const out = run('aria2c', ['--show-files', file])
      let expected = torrent.infoHash!.toString('hex')
      if (format === 'hybrid') {
        // aria2 1.36 does not know BEP 52 and prints its own hash for any hybrid torrent; it must at
        // least see ours exactly as it sees libtorrent's torrent of the same files.
        if (!lt.found) return
        const theirs = path.join(dir, 'aria-libtorrent-hybrid.torrent')
        const real = torrent.files.filter((f) => !f.pad)
        const spec = {
          parent: dir,
          out: theirs,
          pieceLength: torrent.pieceLength,
          files: real.map((f) => [['release', ...f.path].join('/'), f.length]),
        }
        run(systemPython, ['-c', ltWrite], JSON.stringify(spec))
        expected = /Info Hash: (\w+)/.exec(run('aria2c', ['--show-files', theirs]))![1]
      }
      expect(out).toContain(`Info Hash: ${expected}`)
      expect(out).toContain('./release/install-amd64-minimal.iso.DIGESTS')
      expect(out).toMatch(/Total Length: .*\(\d/)
    })
  }
})
