import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createTorrent, type SourceFile } from './create.ts'
import { parseTorrent } from './parse.ts'
import type { Format } from './layout.ts'

// Pinned vectors. The fixtures are small files of deterministic bytes made here; the expected
// info-hashes were obtained from mktorrent 1.1 (v1) and Debian's libtorrent 2.0.8 create_torrent
// (v1, v2, hybrid; default flags, files added in sorted order), never from this code. If one of
// these changes, torrents published by an earlier mirrorseed get a new identity.
const content = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251))

const multi: Array<[string, number, number]> = [
  ['a.txt', 5, 2],
  ['a/b.bin', 40000, 3],
  ['a-b', 16384, 4],
  ['empty', 0, 0],
  ['z/deep/x.iso', 70000, 5],
]

type Vector = { v1?: string; v2?: string }
const vectors: Record<string, Record<number, Record<Format, Vector>>> = {
  single: {
    16384: {
      v1: { v1: '5fdc0a5ad682c78cfa022da2d9ff46b4933b72b0' },
      v2: { v2: '212b5aff298ea25b0bceaab59e2372882cd731fc99069fc4851c3b4a15e0dbf5' },
      hybrid: {
        v1: '279602e7ad15ef5f4dee5a626203cf5c903379d0',
        v2: 'fdcfdad509e5a071b92dec697bca7407a79145178a43ca417aa99dc93192a250',
      },
    },
    32768: {
      v1: { v1: 'f1362d32a5654370a7bffa6a4696bdc93e60406c' },
      v2: { v2: '27ed20a27eb2e4de521594483753e2aea64c06ebc52c95245d4ef25e3829ff42' },
      hybrid: {
        v1: 'a33849024de08b1046bb2bf0e9fb25f4a98de535',
        v2: '742ec3e88339ee6aba1f19f1c204455280f279be99ac389aaf2e03f734e54cac',
      },
    },
  },
  multi: {
    16384: {
      v1: { v1: '340a47da54fed9f5caef5beb258d3d578024b29d' },
      v2: { v2: 'a1d60549d3e445ecd80b4d4e4b892114f89a96880b18296f2b5b7d09958971b1' },
      hybrid: {
        v1: '0e6e669b3e1b99dc16740e22cfca84aa11a63cfd',
        v2: '4d9cb5f3bbc2df19232463b905a20f362419a9510273628c50bf918ae44a1a67',
      },
    },
    32768: {
      v1: { v1: '20ba9b3bbcb641a3047c9458770111b04a0fc3cf' },
      v2: { v2: 'f53b93ab63589ec7adffc23e614cf142ffd90ce980d1cc635d366b6b9b36bd19' },
      hybrid: {
        v1: 'bd251f3b65f5bdfde6d07dc5d44a43810dab803f',
        v2: 'dd766fb6c4115d56e50d2375b935eb8c0f1f88543996a9863b0943d10e997924',
      },
    },
  },
}

let dir: string
let single: SourceFile[]
let set: SourceFile[]

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'metainfo-vectors-'))
  await fs.writeFile(path.join(dir, 'one.bin'), content(100000, 1))
  single = [{ path: ['one.bin'], source: path.join(dir, 'one.bin') }]
  set = []
  // Given in a scrambled order: the builder must sort.
  for (const [rel, n, seed] of [...multi].reverse()) {
    const file = path.join(dir, 'set', rel)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, content(n, seed))
    set.push({ path: rel.split('/'), source: file })
  }
})
afterAll(() => fs.rm(dir, { recursive: true, force: true }))

describe('createTorrent pinned vectors', () => {
  for (const kind of ['single', 'multi'] as const) {
    for (const pieceLength of [16384, 32768]) {
      for (const format of ['v1', 'v2', 'hybrid'] as const) {
        it(`${kind}-file ${format} at ${pieceLength / 1024} KiB`, async () => {
          const { torrent } = await createTorrent({
            name: kind === 'single' ? 'one.bin' : 'set',
            files: kind === 'single' ? single : set,
            format,
            pieceLength,
          })
          const want = vectors[kind][pieceLength][format]
          expect(torrent.infoHash?.toString('hex')).toBe(want.v1)
          expect(torrent.infoHashV2?.toString('hex')).toBe(want.v2)
        })
      }
    }
  }

  it('is byte-stable, and extras outside info leave the info-hash alone', async () => {
    const base = { name: 'set', files: set, format: 'hybrid' as const, creationDate: 1_700_000_000 }
    const a = await createTorrent(base)
    const b = await createTorrent({ ...base, files: [...set].reverse(), threads: 1 })
    expect(a.bytes.equals(b.bytes)).toBe(true)
    const c = await createTorrent({
      ...base,
      trackers: [['http://t.example/announce'], ['udp://t.example:6969']],
      webSeeds: ['http://m.example/pub/'],
      comment: 'Gentoo autobuild',
    })
    expect(c.torrent.infoHash!.equals(a.torrent.infoHash!)).toBe(true)
    expect(c.torrent.infoHashV2!.equals(a.torrent.infoHashV2!)).toBe(true)
    const parsed = parseTorrent(c.bytes)
    expect(parsed.announce).toBe('http://t.example/announce')
    expect(parsed.announceList).toEqual([['http://t.example/announce'], ['udp://t.example:6969']])
    expect(parsed.urlList).toEqual(['http://m.example/pub/'])
    expect(parsed.comment).toBe('Gentoo autobuild')
    expect(parsed.createdBy).toMatch(/^mirrorseed\/\d+\.\d+\.\d+/)
    expect(parsed.creationDate).toBe(1_700_000_000)
  })

  it('picks the piece length from the size and hands back whole-file digests', async () => {
    const { torrent, digests } = await createTorrent({
      name: 'one.bin',
      files: single,
      digests: ['sha256'],
    })
    expect(torrent.pieceLength).toBe(256 * 1024)
    expect(torrent.pieceCount).toBe(1)
    expect(digests[0].digests.sha256?.toString('hex')).toBe(
      // sha256sum of the fixture, from Python's hashlib
      'be33cb6bb3bd4b3f599ab74d4493a41cec7fe05c29f77b3f4eced1544317c1b8',
    )
  })
})

describe('createTorrent single-file renamed', () => {
  it('names the one file after the torrent in every format', async () => {
    for (const format of ['v1', 'v2', 'hybrid'] as const) {
      const { torrent, digests } = await createTorrent({
        name: 'renamed.iso',
        files: single,
        format,
        digests: ['sha256'],
      })
      expect(torrent.name).toBe('renamed.iso')
      expect(torrent.files.map((f) => f.path)).toEqual([['renamed.iso']])
      expect(digests[0].source).toBe(single[0].source)
      expect(digests[0].digests.sha256).toBeDefined()
    }
  })
})
