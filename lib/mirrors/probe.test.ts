import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createTorrent, type CreatedTorrent } from '../metainfo/index.ts'
import { MirrorError } from './errors.ts'
import { matches, probesFor, type ProbePart } from './probe.ts'

// The bytes a check fetches for a probe, cut straight from the files (what a good mirror sends).
function serve(parts: ProbePart[], files: Record<string, Buffer>): Buffer {
  return Buffer.concat(
    parts.map((p) =>
      p.kind === 'zeros'
        ? Buffer.alloc(p.length)
        : files[p.file].subarray(p.start, p.start + p.length),
    ),
  )
}

describe('probes', () => {
  let dir: string
  const files: Record<string, Buffer> = {
    // Sorted before the artifact, and not a whole piece: the artifact's first v1 piece spans it.
    'a-release.iso.asc': randomBytes(5000),
    'b-release.iso': randomBytes(3 * 16384 + 100),
  }
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
  const build = (format: 'v1' | 'v2' | 'hybrid'): Promise<CreatedTorrent> =>
    createTorrent({
      name: 'release',
      files: Object.keys(files).map((name) => ({ path: [name], source: path.join(dir, name) })),
      format,
      pieceLength: 16384,
    })
  const source = (created: CreatedTorrent) => ({
    torrent: created.torrent,
    releaseDir: 'releases/amd64',
    symlinksDir: 'torrent-symlinks/releases/amd64',
    artifact: 'b-release.iso',
    sha256: new Map(
      Object.entries(files).map(([name, b]) => [name, { size: b.length, sha256: sha256(b) }]),
    ),
  })

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-probe-'))
    for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(dir, name), bytes)
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('a v1 piece that spans two files is fetched from both and hashed whole', async () => {
    const probes = probesFor(source(await build('v1')))
    const piece = probes.find((p) => p.algorithm === 'sha1')!
    expect(piece.parts).toEqual([
      expect.objectContaining({ file: 'a-release.iso.asc', start: 0, length: 5000 }),
      expect.objectContaining({ file: 'b-release.iso', start: 0, length: 16384 - 5000 }),
    ])
    const want = createHash('sha1')
      .update(
        Buffer.concat([files['a-release.iso.asc'], files['b-release.iso']]).subarray(0, 16384),
      )
      .digest()
    expect(piece.expected.equals(want)).toBe(true)
    expect(matches(piece, serve(piece.parts, files))).toBe(true)
    const wrong = serve(piece.parts, files)
    wrong[wrong.length - 1] ^= 1
    expect(matches(piece, wrong)).toBe(false)
  })

  it('URLs go through the symlink folder, as BEP 19 clients build them', async () => {
    const probes = probesFor(source(await build('v1')))
    const companion = probes.find((p) => p.algorithm === 'sha256')!
    expect(companion.parts).toEqual([
      expect.objectContaining({
        url: 'torrent-symlinks/releases/amd64/release/a-release.iso.asc',
        fileSize: 5000,
        start: 0,
        length: 5000,
      }),
    ])
    expect(matches(companion, files['a-release.iso.asc'])).toBe(true)
  })

  it('a v2 torrent without the artifact’s piece layer is a clear error, not a guess', async () => {
    const created = await build('v2')
    // BEP 52 allows a torrent without piece layers (peers supply them); the parser reads one.
    const bare = { ...created, torrent: { ...created.torrent, pieceLayers: new Map() } }
    let thrown: unknown
    try {
      probesFor(source(bare))
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(MirrorError)
    expect(thrown).toMatchObject({ code: 'no-piece-layer' })
    expect(String(thrown)).toMatch(/release: no piece layer for b-release\.iso/)
    // An artifact no larger than a piece is its own root: no layer needed.
    const small = probesFor({ ...source(bare), artifact: 'a-release.iso.asc' })
    expect(small.find((p) => p.label.includes('piece'))?.expected).toEqual(
      bare.torrent.files.find((f) => f.path.join('/') === 'a-release.iso.asc')?.piecesRoot,
    )
  })

  for (const format of ['hybrid', 'v2'] as const) {
    it(`a ${format} artifact's first piece starts at its first byte and verifies`, async () => {
      const probes = probesFor(source(await build(format)))
      const piece = probes.find((p) => p.label.includes('piece'))!
      const range = piece.parts.filter((p) => p.kind === 'range')
      expect(range).toEqual([
        expect.objectContaining({ file: 'b-release.iso', start: 0, length: 16384 }),
      ])
      expect(matches(piece, serve(piece.parts, files))).toBe(true)
      expect(matches(piece, files['b-release.iso'].subarray(1, 16385))).toBe(false)
    })
  }
})
