import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { closeSync, openSync, readdirSync, truncateSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HashError, hashFiles, type HashInput } from './index.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirrorseed-hashing-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

let fileCount = 0
/** Writes a file of `length` random bytes; returns its input and its bytes. */
async function file(
  length: number,
): Promise<{ input: { path: string; length: number }; data: Buffer }> {
  const data = randomBytes(length)
  const path = join(dir, `f${fileCount++}.bin`)
  await writeFile(path, data)
  return { input: { path, length }, data }
}

/** The v1 `pieces` of a byte string, computed the plain way. */
function sha1Pieces(data: Buffer, pieceLength: number): Buffer {
  const pieces: Buffer[] = []
  for (let at = 0; at < data.length; at += pieceLength) {
    pieces.push(
      createHash('sha1')
        .update(data.subarray(at, at + pieceLength))
        .digest(),
    )
  }
  return Buffer.concat(pieces)
}

/** A BEP 52 pieces root computed the slow, obvious way: all blocks, zero leaves to a power of two. */
function naiveRoot(data: Buffer): Buffer {
  let layer: Buffer[] = []
  for (let at = 0; at < data.length; at += 16384) {
    layer.push(
      createHash('sha256')
        .update(data.subarray(at, at + 16384))
        .digest(),
    )
  }
  while (layer.length & (layer.length - 1)) layer.push(Buffer.alloc(32))
  while (layer.length > 1) {
    const up: Buffer[] = []
    for (let i = 0; i < layer.length; i += 2) {
      up.push(
        createHash('sha256')
          .update(layer[i])
          .update(layer[i + 1])
          .digest(),
      )
    }
    layer = up
  }
  return layer[0]
}

async function rejection(promise: Promise<unknown>): Promise<HashError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(HashError)
  return error as HashError
}

const openFds = async () => (await readdir('/proc/self/fd')).length

describe('hashFiles v1', () => {
  it('hashes pieces across file boundaries, with pads as zeros', async () => {
    const a = await file(100_000)
    const b = await file(10)
    const empty = await file(0)
    const c = await file(70_001)
    const files: HashInput[] = [a.input, { pad: 31_072 }, b.input, empty.input, c.input, { pad: 5 }]
    const stream = Buffer.concat([a.data, Buffer.alloc(31_072), b.data, c.data, Buffer.alloc(5)])
    for (const pieceLength of [16384, 32768, 50_000, 1 << 20]) {
      const result = await hashFiles({ files, pieceLength, v1: true, threads: 2 })
      expect(
        result.pieces!.equals(sha1Pieces(stream, pieceLength)),
        `piece length ${pieceLength}`,
      ).toBe(true)
      expect(result.files.map((f) => f === null)).toEqual([false, true, false, false, false, true])
    }
  })

  it('hashes a file smaller than a block, exactly one piece, and one spanning many chunks', async () => {
    for (const [length, pieceLength] of [
      [1, 16384],
      [16383, 16384],
      [65536, 65536],
      [9 * 1024 * 1024 + 3, 16384],
      [9 * 1024 * 1024 + 3, 4 << 20],
    ]) {
      const f = await file(length)
      for (const threads of [1, 3]) {
        const result = await hashFiles({ files: [f.input], pieceLength, v1: true, threads })
        expect(
          result.pieces!.equals(sha1Pieces(f.data, pieceLength)),
          `${length} / ${pieceLength}`,
        ).toBe(true)
      }
    }
  })

  it('gives no pieces for empty files, and empty digests for them', async () => {
    const empty = await file(0)
    const result = await hashFiles({
      files: [empty.input],
      pieceLength: 16384,
      v1: true,
      v2: true,
      digests: ['sha256'],
    })
    expect(result.pieces!.length).toBe(0)
    expect(result.files[0]).toEqual({ digests: { sha256: createHash('sha256').digest() } })
  })

  it('hashes many small files and a mix, with every digest, and leaves no file open', async () => {
    const parts = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        file(i % 7 === 0 ? 0 : Math.floor(Math.random() * 40_000)),
      ),
    )
    const big = await file(6 * 1024 * 1024 + 1)
    parts.splice(150, 0, big)
    const fdsBefore = await openFds()
    const result = await hashFiles({
      files: parts.map((p) => p.input),
      pieceLength: 32768,
      v1: true,
      digests: ['sha256', 'sha512', 'blake2b512'],
      threads: 2,
    })
    expect(await openFds()).toBe(fdsBefore)
    expect(result.pieces!.equals(sha1Pieces(Buffer.concat(parts.map((p) => p.data)), 32768))).toBe(
      true,
    )
    parts.forEach((p, i) => {
      for (const algorithm of ['sha256', 'sha512', 'blake2b512'] as const) {
        const expected = createHash(algorithm).update(p.data).digest()
        expect(
          result.files[i]!.digests[algorithm]!.equals(expected),
          `${algorithm} of file ${i}`,
        ).toBe(true)
      }
    })
  })

  it('computes digests beside v1 and v2 with pads and pieces of 16 MiB', async () => {
    const pieceLength = 16 << 20
    const a = await file(pieceLength + 12_345)
    const b = await file(3 * pieceLength + 1)
    const pad = 2 * pieceLength - a.data.length
    const result = await hashFiles({
      files: [a.input, { pad }, b.input],
      pieceLength,
      v1: true,
      v2: true,
      digests: ['sha512'],
      threads: 3,
    })
    const stream = Buffer.concat([a.data, Buffer.alloc(pad), b.data])
    expect(result.pieces!.equals(sha1Pieces(stream, pieceLength))).toBe(true)
    for (const [i, f] of [a, null, b].entries()) {
      if (f === null) continue
      expect(
        result.files[i]!.digests.sha512!.equals(createHash('sha512').update(f.data).digest()),
      ).toBe(true)
      expect(result.files[i]!.pieceLayer!.length).toBe(Math.ceil(f.data.length / pieceLength) * 32)
      expect(result.files[i]!.piecesRoot!.equals(naiveRoot(f.data))).toBe(true)
    }
  })

  it('computes digests alone, with no pieces asked', async () => {
    const a = await file(5 * 1024 * 1024 + 1)
    const b = await file(777)
    const result = await hashFiles({
      files: [a.input, { pad: 100 }, b.input],
      pieceLength: 16384,
      digests: ['blake2b512', 'sha256', 'sha256'],
    })
    expect(result.pieces).toBeUndefined()
    for (const [i, f] of [[0, a] as const, [2, b] as const]) {
      expect(result.files[i]!.piecesRoot).toBeUndefined()
      for (const algorithm of ['blake2b512', 'sha256'] as const) {
        const expected = createHash(algorithm).update(f.data).digest()
        expect(result.files[i]!.digests[algorithm]!.equals(expected)).toBe(true)
      }
    }
  })

  it('reports progress up to the total of the real files', async () => {
    const a = await file(5 * 1024 * 1024)
    const b = await file(1000)
    const seen: Array<[number, number]> = []
    await hashFiles({
      files: [a.input, { pad: 7000 }, b.input],
      pieceLength: 16384,
      v1: true,
      onProgress: (done, total) => seen.push([done, total]),
    })
    expect(seen.length).toBeGreaterThan(1)
    expect(seen.at(-1)).toEqual([a.data.length + 1000, a.data.length + 1000])
    expect(seen.every(([done], i) => i === 0 || done > seen[i - 1][0])).toBe(true)
  })
})

describe('hashFiles v2', () => {
  it('gives a piece layer only for files larger than one piece, and roots that agree with it', async () => {
    const pieceLength = 65536
    const small = await file(20_000)
    const one = await file(pieceLength)
    const large = await file(5 * pieceLength + 100)
    const result = await hashFiles({
      files: [small.input, one.input, large.input],
      pieceLength,
      v2: true,
    })
    expect(result.pieces).toBeUndefined()
    expect(result.files[0]!.pieceLayer).toBeUndefined()
    expect(result.files[1]!.pieceLayer).toBeUndefined()
    expect(result.files[2]!.pieceLayer!.length).toBe(6 * 32)
    for (const f of result.files) expect(f!.piecesRoot!.length).toBe(32)
  })

  it('refuses v1 with v2 when a file does not start on a piece boundary', async () => {
    const a = await file(1000)
    const b = await file(1000)
    await expect(
      hashFiles({ files: [a.input, b.input], pieceLength: 16384, v1: true, v2: true }),
    ).rejects.toThrow(/piece boundary/)
  })
})

describe('hashFiles refuses to give a result for a changing file', () => {
  it('fails with changed when a file is not the expected length', async () => {
    const f = await file(1000)
    const error = await rejection(
      hashFiles({ files: [{ ...f.input, length: 999 }], pieceLength: 16384, v1: true }),
    )
    expect(error.code).toBe('changed')
    expect(error.message).toContain(f.input.path)
  })

  it('fails with changed when a file is missing, and io when it is a directory', async () => {
    const missing = await rejection(
      hashFiles({ files: [{ path: join(dir, 'nope'), length: 1 }], pieceLength: 16384, v1: true }),
    )
    expect(missing.code).toBe('changed')
    const sub = join(dir, 'sub')
    await mkdir(sub)
    const notFile = await rejection(
      hashFiles({ files: [{ path: sub, length: 0 }], pieceLength: 16384, v1: true }),
    )
    expect(notFile.code).toBe('io')
  })

  it('fails with changed when a file is rewritten in place while it is read', async () => {
    const f = await file(24 * 1024 * 1024)
    const error = await rejection(
      hashFiles({
        files: [f.input],
        pieceLength: 16384,
        v1: true,
        threads: 1,
        onProgress: (done) => {
          if (done > 8 * 1024 * 1024) return
          // Same size, bytes already hashed: only mtime/ctime can tell.
          const fd = openSync(f.input.path, 'r+')
          writeSync(fd, Buffer.from('changed'), 0, 7, 0)
          closeSync(fd)
        },
      }),
    )
    expect(error.code).toBe('changed')
  })

  it('fails with changed when a file is rewritten after its bytes were read, before the end', async () => {
    const small = await file(1000)
    const big = await file(24 * 1024 * 1024)
    let rewritten = false
    const error = await rejection(
      hashFiles({
        files: [small.input, big.input],
        pieceLength: 16384,
        v1: true,
        threads: 1,
        onProgress: () => {
          if (rewritten) return
          rewritten = true
          const fd = openSync(small.input.path, 'r+')
          writeSync(fd, Buffer.from('changed'), 0, 7, 0)
          closeSync(fd)
        },
      }),
    )
    expect(error.code).toBe('changed')
    expect(error.message).toContain(small.input.path)
  })

  it('fails with changed when a file is truncated while it is read', async () => {
    const f = await file(24 * 1024 * 1024)
    let truncated = false
    const error = await rejection(
      hashFiles({
        files: [f.input],
        pieceLength: 16384,
        v2: true,
        threads: 1,
        onProgress: () => {
          // synchronous, so it is done before hashing can end and take a last look at the file
          if (!truncated) truncateSync(f.input.path, 5 * 1024 * 1024)
          truncated = true
        },
      }),
    )
    expect(error.code).toBe('changed')
  })
})

describe('hashFiles abort', () => {
  it('stops with aborted when the signal fires, and closes its files', async () => {
    const f = await file(24 * 1024 * 1024)
    const fdsBefore = await openFds()
    const controller = new AbortController()
    const error = await rejection(
      hashFiles({
        files: [f.input],
        pieceLength: 16384,
        v1: true,
        v2: true,
        threads: 2,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    )
    expect(error.code).toBe('aborted')
    expect(await openFds()).toBe(fdsBefore)
  })

  it('passes on an error thrown by onProgress, and closes its files', async () => {
    const f = await file(12 * 1024 * 1024)
    const fdsBefore = await openFds()
    const oops = new Error('progress bar broke')
    const hashing = hashFiles({
      files: [f.input],
      pieceLength: 16384,
      v1: true,
      onProgress: () => {
        throw oops
      },
    })
    await expect(hashing).rejects.toBe(oops)
    expect(await openFds()).toBe(fdsBefore)
  })

  it('does not start when the signal already fired', async () => {
    const f = await file(10)
    const error = await rejection(
      hashFiles({ files: [f.input], pieceLength: 16384, v1: true, signal: AbortSignal.abort() }),
    )
    expect(error.code).toBe('aborted')
  })
})

describe('hashFiles thread pool', () => {
  // Thread ids of this process: a thread started in between shows as a new id.
  const threadIds = async () => (await readdir('/proc/self/task')).sort()

  it('hashes release after release on the same threads, without starting new ones', async () => {
    const files = await Promise.all(Array.from({ length: 30 }, (_, i) => file(1000 + i * 7919)))
    await hashFiles({ files: [files[0].input], pieceLength: 16384, v1: true, threads: 2 })
    const before = await threadIds()
    // Looked at while each job runs: a thread started for the job is alive then.
    const during = new Set<string>()
    for (const f of files) {
      const { pieces } = await hashFiles({
        files: [f.input],
        pieceLength: 16384,
        v1: true,
        threads: 2,
        onProgress: () => {
          for (const id of readdirSync('/proc/self/task')) during.add(id)
        },
      })
      expect(pieces).toEqual(sha1Pieces(f.data, 16384))
    }
    expect([...during].filter((id) => !before.includes(id))).toEqual([])
  })

  it('runs jobs at the same time on shared threads, each with its own answer', async () => {
    const files = await Promise.all(Array.from({ length: 6 }, (_, i) => file(300_000 + i * 65_537)))
    const results = await Promise.all(
      files.map((f) =>
        hashFiles({
          files: [f.input],
          pieceLength: 32768,
          v1: true,
          v2: true,
          digests: ['sha256'],
          threads: 2,
        }),
      ),
    )
    for (const [i, f] of files.entries()) {
      expect(results[i].pieces).toEqual(sha1Pieces(f.data, 32768))
      expect(results[i].files[0]!.piecesRoot).toEqual(naiveRoot(f.data))
      expect(results[i].files[0]!.digests.sha256).toEqual(
        createHash('sha256').update(f.data).digest(),
      )
    }
  })
})
