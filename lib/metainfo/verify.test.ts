import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createTorrent } from './create.ts'
import type { Format } from './layout.ts'
import { parseTorrent, type Torrent } from './parse.ts'
import { sourceFiles } from './source-files.ts'
import { pieceRanges, verifyData } from './verify.ts'

const pieceLength = 16384
const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251))

let scratch: string
beforeAll(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'mirrorseed-verify-'))
})
afterAll(async () => {
  await fs.rm(scratch, { recursive: true, force: true })
})

/** A folder `release/` of three files, its torrent, and a fresh copy of the data to damage. */
async function release(format: Format): Promise<{ torrent: Torrent; data: string }> {
  const source = await fs.mkdtemp(path.join(scratch, 'src-'))
  const dir = path.join(source, 'release')
  await fs.mkdir(path.join(dir, 'sub'), { recursive: true })
  await fs.writeFile(path.join(dir, 'a.iso'), bytes(3 * pieceLength + 100, 1))
  await fs.writeFile(path.join(dir, 'b.txt'), bytes(2000, 2))
  await fs.writeFile(path.join(dir, 'sub', 'c.bin'), bytes(2 * pieceLength, 3))
  const { files, multiFile, mtime } = await sourceFiles(dir)
  const created = await createTorrent({
    name: 'release',
    files,
    multiFile,
    format,
    pieceLength,
    creationDate: mtime,
  })
  return { torrent: parseTorrent(created.bytes), data: source }
}

describe('sourceFiles', () => {
  it('lists every regular file under a folder, a symlink loop once, and the newest mtime', async () => {
    const { data } = await release('v1')
    const dir = path.join(data, 'release')
    await fs.utimes(path.join(dir, 'b.txt'), 1_700_000_000, 1_700_000_123.9)
    await fs.utimes(path.join(dir, 'a.iso'), 1_600_000_000, 1_600_000_000)
    await fs.utimes(path.join(dir, 'sub', 'c.bin'), 1_600_000_000, 1_600_000_000)
    await fs.symlink('..', path.join(dir, 'sub', 'up')) // a loop back to the top: walked once
    const { files, multiFile, mtime } = await sourceFiles(dir)
    expect(multiFile).toBe(true)
    expect(mtime).toBe(1_700_000_123)
    expect(files.map((f) => f.path.join('/')).sort()).toEqual(['a.iso', 'b.txt', 'sub/c.bin'])
  })

  it('takes a single file as a single-file torrent', async () => {
    const { data } = await release('v1')
    const file = path.join(data, 'release', 'b.txt')
    const { files, multiFile } = await sourceFiles(file)
    expect(multiFile).toBe(false)
    expect(files).toEqual([{ path: ['b.txt'], source: file }])
  })

  it('refuses a missing path and an empty folder with one clear error', async () => {
    await expect(sourceFiles(path.join(scratch, 'nope'))).rejects.toThrow(
      /cannot read .*nope: no such file or directory/,
    )
    const empty = await fs.mkdtemp(path.join(scratch, 'empty-'))
    await expect(sourceFiles(empty)).rejects.toMatchObject({ code: 'no-data' })
  })
})

describe.each(['v1', 'v2', 'hybrid'] as const)('verifyData (%s)', (format) => {
  it('finds nothing wrong with the data the torrent was made of', async () => {
    const { torrent, data } = await release(format)
    expect(await verifyData(torrent, data)).toEqual([])
    // The folder itself works too, like a client pointed at the data.
    expect(await verifyData(torrent, path.join(data, 'release'))).toEqual([])
  })

  it('names the file and the piece a flipped byte is in', async () => {
    const { torrent, data } = await release(format)
    const file = path.join(data, 'release', 'a.iso')
    const handle = await fs.open(file, 'r+')
    await handle.write(Buffer.from([0xff]), 0, 1, pieceLength + 5)
    await handle.close()
    expect(await verifyData(torrent, data)).toEqual([
      { path: 'a.iso', problem: 'pieces', pieces: [1] },
    ])
  })

  it('reports a missing and a wrong-sized file without blaming their neighbours', async () => {
    const { torrent, data } = await release(format)
    await fs.rm(path.join(data, 'release', 'b.txt'))
    await fs.appendFile(path.join(data, 'release', 'sub', 'c.bin'), 'x')
    const reports = await verifyData(torrent, data)
    const byPath = Object.fromEntries(reports.map((r) => [r.path, r.problem]))
    expect(byPath).toEqual({ 'b.txt': 'missing', 'sub/c.bin': 'size' })
  })
})

describe('pieceRanges', () => {
  it('prints runs of pieces as ranges', () => {
    expect(pieceRanges([])).toBe('')
    expect(pieceRanges([3, 4, 5, 9, 11, 12])).toBe('3-5, 9, 11-12')
  })
})
