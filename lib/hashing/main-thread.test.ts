import { createHash, randomBytes } from 'node:crypto'
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HashError, hashFiles, hashOnMainThread } from './index.ts'

// `create` hashes on its main thread beside the workers (main-thread.ts). This file's process
// does too, from the start: every job here runs partly or wholly on the test's own thread.

let dir: string
beforeAll(async () => {
  hashOnMainThread()
  dir = await mkdtemp(join(tmpdir(), 'mirrorseed-main-thread-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

let fileCount = 0
async function file(length: number) {
  const data = randomBytes(length)
  const path = join(dir, `f${fileCount++}.bin`)
  await writeFile(path, data)
  return { input: { path, length }, data }
}

function sha1Pieces(data: Buffer, pieceLength: number): Buffer {
  const pieces: Buffer[] = []
  for (let at = 0; at < data.length; at += pieceLength)
    pieces.push(
      createHash('sha1')
        .update(data.subarray(at, at + pieceLength))
        .digest(),
    )
  return Buffer.concat(pieces)
}

const threadIds = () => readdirSync('/proc/self/task')
const openFds = async () => (await readdir('/proc/self/fd')).length

describe('hashing on the main thread', () => {
  it('hashes a file of one chunk without starting a worker thread', async () => {
    const f = await file(1_000_000)
    const before = threadIds()
    const { pieces } = await hashFiles({ files: [f.input], pieceLength: 1 << 20, v1: true })
    expect(pieces).toEqual(sha1Pieces(f.data, 1 << 20))
    expect(threadIds()).toEqual(before)
  })

  it('gives the same pieces, roots and digests alone and beside workers', async () => {
    const a = await file(9 * 1024 * 1024 + 3)
    const b = await file(5 * 1024 * 1024)
    for (const threads of [1, 2, 3]) {
      const result = await hashFiles({
        files: [a.input, { pad: 1024 * 1024 - 3 }, b.input],
        pieceLength: 1 << 20,
        v1: true,
        v2: true,
        digests: ['sha256', 'sha512'],
        threads,
      })
      const padded = Buffer.concat([a.data, Buffer.alloc(1024 * 1024 - 3), b.data])
      expect(result.pieces, `${threads} threads`).toEqual(sha1Pieces(padded, 1 << 20))
      expect(result.files[0]!.digests.sha512).toEqual(createHash('sha512').update(a.data).digest())
      expect(result.files[2]!.digests.sha256).toEqual(createHash('sha256').update(b.data).digest())
      expect(result.files[2]!.pieceLayer).toHaveLength(5 * 32)
    }
  })

  it('fails with changed when a file is rewritten while the main thread reads it', async () => {
    const f = await file(24 * 1024 * 1024)
    const error = await hashFiles({
      files: [f.input],
      pieceLength: 16384,
      v1: true,
      threads: 1,
      onProgress: (done) => {
        if (done > 8 * 1024 * 1024) return
        const fd = openSync(f.input.path, 'r+')
        writeSync(fd, Buffer.from('changed'), 0, 7, 0)
        closeSync(fd)
      },
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HashError)
    expect((error as HashError).code).toBe('changed')
  })

  it('stops with aborted when the signal fires, and closes its files', async () => {
    const f = await file(24 * 1024 * 1024)
    const fdsBefore = await openFds()
    const controller = new AbortController()
    const error = await hashFiles({
      files: [f.input],
      pieceLength: 16384,
      v1: true,
      threads: 2,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    }).catch((e: unknown) => e)
    expect((error as HashError).code).toBe('aborted')
    expect(await openFds()).toBe(fdsBefore)
  })
})
