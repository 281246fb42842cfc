import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { ChunkCache, FileHandles, TorrentStorage } from './storage.ts'
import type { SeedTorrent } from './torrent.ts'

describe('TorrentStorage', () => {
  let dir: string
  const a = randomBytes(50_000)
  const b = randomBytes(7)
  const c = randomBytes(30_000)
  // a, a 14 KiB-ish pad, b, an empty file, c: pieces straddle every boundary.
  const padLength = 65536 - 50_000
  let torrent: SeedTorrent
  let paths: Array<string | null>

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-storage-'))
    await writeFile(path.join(dir, 'a'), a)
    await writeFile(path.join(dir, 'b'), b)
    await writeFile(path.join(dir, 'empty'), '')
    await writeFile(path.join(dir, 'c'), c)
    const lengths = [a.length, padLength, b.length, 0, c.length]
    let offset = 0
    const files = lengths.map((length, i) => {
      const f = { path: [String(i)], length, offset, pad: i === 1, piecesRoot: null }
      offset += length
      return f
    })
    torrent = {
      files,
      length: offset,
      pieceLength: 16384,
      pieceCount: Math.ceil(offset / 16384),
    } as unknown as SeedTorrent
    paths = [
      path.join(dir, 'a'),
      null,
      path.join(dir, 'b'),
      path.join(dir, 'empty'),
      path.join(dir, 'c'),
    ]
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  const expected = () => Buffer.concat([a, Buffer.alloc(padLength), b, c])

  it('reads across file boundaries with pad files as zeros', async () => {
    const storage = new TorrentStorage(torrent, paths, new FileHandles(2))
    const whole = expected()
    expect((await storage.read(0, torrent.length)).equals(whole)).toBe(true)
    for (const [off, len] of [
      [49_990, 20],
      [65_530, 16_384],
      [65_536 + 3, 10],
      [torrent.length - 5, 5],
    ]) {
      expect((await storage.read(off, len)).equals(whole.subarray(off, off + len))).toBe(true)
    }
  })

  it('never reads outside the torrent', async () => {
    const storage = new TorrentStorage(torrent, paths, new FileHandles(2))
    await expect(storage.read(torrent.length - 1, 2)).rejects.toThrow(RangeError)
    await expect(storage.read(-1, 1)).rejects.toThrow(RangeError)
  })

  it('keeps at most the configured number of descriptors open', async () => {
    const handles = new FileHandles(1)
    const storage = new TorrentStorage(torrent, paths, handles)
    await Promise.all([storage.read(0, torrent.length), storage.read(49_000, 20_000)])
    expect(handles.size).toBeLessThanOrEqual(1)
  })

  it('serves blocks from a bounded chunk cache', async () => {
    const cache = new ChunkCache(65536)
    const storage = new TorrentStorage(torrent, paths, new FileHandles(4))
    const whole = expected()
    for (let off = 0; off < torrent.length; off += 16384) {
      const len = Math.min(16384, torrent.length - off)
      expect(
        (await cache.block('t:', 32768, storage, off, len)).view.equals(
          whole.subarray(off, off + len),
        ),
      ).toBe(true)
      expect(cache.size).toBeLessThanOrEqual(65536)
    }
  })

  it('never reuses a chunk buffer while a socket still holds a block of it', async () => {
    const cache = new ChunkCache(32768) // room for one 32 KiB chunk
    const storage = new TorrentStorage(torrent, paths, new FileHandles(4))
    const whole = expected()
    const lent = await cache.block('t:', 32768, storage, 0, 16384) // not released: a slow socket
    for (let off = 32768; off + 16384 <= torrent.length; off += 32768) {
      const b = await cache.block('t:', 32768, storage, off, 16384)
      expect(b.view.equals(whole.subarray(off, off + 16384))).toBe(true)
      b.release()
    }
    expect(lent.view.equals(whole.subarray(0, 16384))).toBe(true)
    lent.release()
  })
})
