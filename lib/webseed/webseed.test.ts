import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import {
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  symlink,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createTorrent, type Torrent } from '../metainfo/index.ts'
import { trackerKey } from '../publish/index.ts'
import { buildGentooTree, pseudoRandom, type FixtureTree } from '../../test/fixtures/mirror-tree.ts'
import { WebSeed, type WebSeedTorrent } from './index.ts'

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

function request(
  port: number,
  target: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; agent?: http.Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: target,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** The URL path a client builds from a web-seed URL and a torrent (BEP 19), percent-encoded. */
function urlOf(releaseDir: string, torrent: Torrent, file?: string[]): string {
  const parts = [...releaseDir.split('/'), torrent.name, ...(torrent.multiFile ? file! : [])]
  return '/webseed/' + parts.map(encodeURIComponent).join('/')
}

/** What the publisher hands over (LiveTorrent): files at `<root>/<releaseDir>/<file>`. */
function live(root: string, releaseDir: string, torrent: Torrent): WebSeedTorrent {
  return {
    infoHash: trackerKey(torrent),
    releaseDir,
    torrent,
    filePaths: torrent.files.map((f) => (f.pad ? null : path.join(root, releaseDir, ...f.path))),
  }
}

interface Setup {
  base: string
  root: string
  tree: FixtureTree
  releaseDir: string
  iso: Torrent
  single: Torrent
  weird: Torrent
  evil: Torrent
  linked: Torrent
  shrinking: Torrent
  outsideFifo: string
}

async function setup(): Promise<Setup> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-webseed-'))
  const root = path.join(base, 'mirror')
  const tree = await buildGentooTree({ root })
  const [isoRelease, stage3Release] = tree.releases
  const releaseDir = isoRelease.releaseDir
  const inRelease = (rel: string) => path.join(root, rel)
  // Hybrid, so the torrent has pad files (BEP 47) between its files.
  const iso = (
    await createTorrent({
      name: isoRelease.name,
      format: 'hybrid',
      pieceLength: 64 * 1024,
      files: [isoRelease.artifact, ...isoRelease.companions].map((rel) => ({
        path: [path.posix.basename(rel)],
        source: inRelease(rel),
      })),
    })
  ).torrent
  const single = (
    await createTorrent({
      name: path.posix.basename(stage3Release.artifact),
      files: [
        {
          path: [path.posix.basename(stage3Release.artifact)],
          source: inRelease(stage3Release.artifact),
        },
      ],
    })
  ).torrent

  const make = async (dir: string, name: string, files: Array<[string, Buffer]>) => {
    await mkdir(path.join(root, dir), { recursive: true })
    for (const [file, bytes] of files) await writeFile(path.join(root, dir, file), bytes)
    return (
      await createTorrent({
        name,
        multiFile: true,
        files: files.map(([file]) => ({ path: [file], source: path.join(root, dir, file) })),
      })
    ).torrent
  }
  const weird = await make('releases/extra dir', 'notes ü', [
    ['ü #1+%.txt', pseudoRandom(5000, 7)],
    ['plain.bin', pseudoRandom(70_000, 8)],
  ])
  // A published file later replaced by a symlink to outside the root: never followed.
  const outsideFifo = path.join(base, 'outside.fifo')
  execFileSync('mkfifo', [outsideFifo])
  const evil = await make('releases/evil', 'evil', [['leak.bin', pseudoRandom(1000, 9)]])
  await unlink(path.join(root, 'releases/evil/leak.bin'))
  await symlink(
    path.relative(path.join(root, 'releases/evil'), outsideFifo),
    path.join(root, 'releases/evil/leak.bin'),
  )
  // A symlink that stays inside the root is followed.
  const linked = await make('releases/linked', 'linked', [['copy.iso', pseudoRandom(10, 1)]])
  await unlink(path.join(root, 'releases/linked/copy.iso'))
  await symlink(
    path.relative(path.join(root, 'releases/linked'), inRelease(isoRelease.artifact)),
    path.join(root, 'releases/linked/copy.iso'),
  )
  const shrinking = await make('releases/shrink', 'shrink', [
    ['big.bin', pseudoRandom(8 << 20, 10)],
  ])
  return { base, root, tree, releaseDir, iso, single, weird, evil, linked, shrinking, outsideFifo }
}

describe.each([
  ['descriptors kept open', 256],
  ['a descriptor per request', 0],
])('web seed over node:http, %s', (_mode, openFiles) => {
  let s: Setup
  let webSeed: WebSeed
  let server: http.Server
  let port: number
  let connections = 0

  beforeAll(async () => {
    s = await setup()
    webSeed = new WebSeed({ root: s.root, openFiles, chunkSize: 64 * 1024 })
    webSeed.add(live(s.root, s.releaseDir, s.iso))
    webSeed.add(live(s.root, s.releaseDir, s.single))
    webSeed.add(live(s.root, 'releases/extra dir', s.weird))
    webSeed.add(live(s.root, 'releases/evil', s.evil))
    webSeed.add(live(s.root, 'releases/linked', s.linked))
    webSeed.add(live(s.root, 'releases/shrink', s.shrinking))
    server = http.createServer(webSeed.handle)
    server.on('connection', () => connections++)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })

  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    webSeed.close()
    await rm(s.base, { recursive: true, force: true })
  })

  const isoFile = () => s.iso.files[0].path
  const isoBytes = () => readFile(path.join(s.root, s.releaseDir, ...isoFile()))

  it('serves every real file of a multi-file torrent whole, with its length', async () => {
    for (const f of s.iso.files.filter((f) => !f.pad)) {
      const reply = await request(port, urlOf(s.releaseDir, s.iso, f.path))
      expect(reply.status, f.path.join('/')).toBe(200)
      expect(reply.body.equals(await readFile(path.join(s.root, s.releaseDir, ...f.path)))).toBe(
        true,
      )
      expect(reply.headers['content-length']).toBe(String(f.length))
      expect(reply.headers['accept-ranges']).toBe('bytes')
    }
  })

  it('serves a single-file torrent at <release dir>/<file name>', async () => {
    const reply = await request(port, urlOf(s.releaseDir, s.single))
    expect(reply.status).toBe(200)
    expect(reply.body.equals(await readFile(path.join(s.root, s.releaseDir, s.single.name)))).toBe(
      true,
    )
  })

  it('answers single ranges with 206 and Content-Range, at both ends of the file', async () => {
    const bytes = await isoBytes()
    const size = bytes.length
    const cases: Array<[string, number, number]> = [
      ['bytes=0-16383', 0, 16383],
      ['bytes=16384-', 16384, size - 1],
      ['bytes=-1000', size - 1000, size - 1],
      [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
      [`bytes=${size - 10}-${size + 5000}`, size - 10, size - 1],
      [`bytes=0-${16 << 20}`, 0, size - 1],
    ]
    for (const [range, start, end] of cases) {
      const reply = await request(port, urlOf(s.releaseDir, s.iso, isoFile()), {
        headers: { range },
      })
      expect(reply.status, range).toBe(206)
      expect(reply.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`)
      expect(reply.headers['content-length'], range).toBe(String(end - start + 1))
      expect(reply.body.equals(bytes.subarray(start, end + 1)), range).toBe(true)
    }
  })

  it('answers 416 with the size for a range past the end or a malformed one', async () => {
    const size = (await isoBytes()).length
    for (const range of [
      `bytes=${size}-`,
      `bytes=${size + 1}-${size + 9}`,
      'bytes=9-2',
      'bytes=x-1',
      'bytes=-0',
    ]) {
      const reply = await request(port, urlOf(s.releaseDir, s.iso, isoFile()), {
        headers: { range },
      })
      expect(reply.status, range).toBe(416)
      expect(reply.headers['content-range'], range).toBe(`bytes */${size}`)
    }
  })

  it('answers several ranges with the whole file', async () => {
    const bytes = await isoBytes()
    const reply = await request(port, urlOf(s.releaseDir, s.iso, isoFile()), {
      headers: { range: 'bytes=0-9,100-199' },
    })
    expect(reply.status).toBe(200)
    expect(reply.body.equals(bytes)).toBe(true)
  })

  it('answers HEAD with the headers of GET and no body', async () => {
    const target = urlOf(s.releaseDir, s.iso, isoFile())
    const head = await request(port, target, { method: 'HEAD', headers: { range: 'bytes=10-19' } })
    expect(head.status).toBe(206)
    expect(head.headers['content-length']).toBe('10')
    expect(head.body.length).toBe(0)
    const whole = await request(port, target, { method: 'HEAD' })
    expect(whole.headers['content-length']).toBe(String((await isoBytes()).length))
    expect(whole.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/)
    expect(whole.headers['last-modified']).toBe(s.tree.mtime.toUTCString())
  })

  it('honours If-Range only while the validator matches', async () => {
    const target = urlOf(s.releaseDir, s.iso, isoFile())
    const { headers } = await request(port, target, { method: 'HEAD' })
    const range = 'bytes=0-99'
    expect(
      (await request(port, target, { headers: { range, 'if-range': headers.etag! } })).status,
    ).toBe(206)
    expect(
      (await request(port, target, { headers: { range, 'if-range': headers['last-modified']! } }))
        .status,
    ).toBe(206)
    const stale = await request(port, target, { headers: { range, 'if-range': '"0-0"' } })
    expect(stale.status).toBe(200)
    expect(stale.body.length).toBe((await isoBytes()).length)
  })

  it('refuses other methods without a body or redirect', async () => {
    const reply = await request(port, urlOf(s.releaseDir, s.iso, isoFile()), { method: 'POST' })
    expect(reply.status).toBe(405)
    expect(reply.headers.allow).toBe('GET, HEAD')
  })

  it('serves percent-encoded names: spaces, non-ASCII, #, + and %', async () => {
    for (const f of s.weird.files) {
      const reply = await request(port, urlOf('releases/extra dir', s.weird, f.path))
      expect(reply.status, f.path.join('/')).toBe(200)
      expect(
        reply.body.equals(await readFile(path.join(s.root, 'releases/extra dir', ...f.path))),
      ).toBe(true)
    }
  })

  it('follows a symlink whose target stays inside the root', async () => {
    const reply = await request(port, urlOf('releases/linked', s.linked, ['copy.iso']))
    expect(reply.status).toBe(200)
    expect(reply.body.equals(await isoBytes())).toBe(true)
  })

  it('404s traversal, symlinks out of the root, pads and unpublished files, without opening them', async () => {
    // The symlink points at a FIFO: opening it would block, so a quick 404 proves it was not opened.
    const rd = s.releaseDir.split('/').map(encodeURIComponent).join('/')
    const targets = [
      urlOf('releases/evil', s.evil, ['leak.bin']),
      '/webseed/../outside.fifo',
      '/webseed/releases/evil/evil/../../../../outside.fifo',
      '/webseed/%2e%2e/outside.fifo',
      '/webseed/releases%2f..%2f..%2foutside.fifo',
      '/webseed/releases/evil/evil/..%2f..%2f..%2f..%2foutside.fifo',
      '/webseed//etc/passwd',
      '/webseed/' + encodeURIComponent(s.outsideFifo),
      `/webseed/${rd}/${encodeURIComponent(s.iso.name)}/..%2f${encodeURIComponent(isoFile()[0])}`,
      `/webseed/${rd}/${encodeURIComponent(isoFile()[0])}`, // in the release dir, but not this torrent's URL
      `/webseed/${rd}/${encodeURIComponent(s.iso.name)}`, // the torrent's folder
      `/webseed/${rd}/`,
      '/webseed/releases/amd64/autobuilds/latest-install-amd64-minimal.txt', // in the tree, in no torrent
      '/webseed/torrent-symlinks/' + rd,
    ]
    const pad = s.iso.files.find((f) => f.pad)
    expect(pad, 'a hybrid torrent of these files has pad files').toBeDefined()
    targets.push(urlOf(s.releaseDir, s.iso, pad!.path))
    for (const target of targets) {
      const reply = await request(port, target)
      expect(reply.status, target).toBe(404)
      expect(reply.headers.location, target).toBeUndefined()
    }
  })

  it('keeps the connection alive across requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const before = connections
      const target = urlOf(s.releaseDir, s.iso, isoFile())
      const bytes = await isoBytes()
      const replies = []
      for (let i = 0; i < 8; i++) {
        const start = i * 1000
        replies.push(
          await request(port, target, {
            agent,
            headers: { range: `bytes=${start}-${start + 999}` },
          }),
        )
      }
      replies.push(await request(port, '/webseed/nothing/here', { agent }))
      replies.push(await request(port, target, { agent, method: 'HEAD' }))
      replies.push(await request(port, target, { agent, headers: { range: 'bytes=-0' } }))
      replies.push(await request(port, target, { agent }))
      expect(replies.map((r) => r.status)).toEqual([
        206, 206, 206, 206, 206, 206, 206, 206, 404, 200, 416, 200,
      ])
      replies
        .slice(0, 8)
        .forEach((r, i) =>
          expect(r.body.equals(bytes.subarray(i * 1000, i * 1000 + 1000))).toBe(true),
        )
      expect(connections - before).toBe(1)
    } finally {
      agent.destroy()
    }
  })

  it('serves many concurrent ranges over shared descriptors and reused buffers, every byte right', async () => {
    const file = path.join(s.root, 'releases/shrink/big.bin')
    const bytes = await readFile(file)
    const target = urlOf('releases/shrink', s.shrinking, ['big.bin'])
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
    let seed = 12345
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    try {
      // Bounded: 64 requests of up to 512 KiB each, 8 connections at a time.
      const ranges = Array.from({ length: 64 }, () => {
        const start = random(bytes.length)
        return [start, Math.min(bytes.length - 1, start + random(512 * 1024))] as const
      })
      const replies = await Promise.all(
        ranges.map(([start, end]) =>
          request(port, target, { agent, headers: { range: `bytes=${start}-${end}` } }),
        ),
      )
      replies.forEach((reply, i) => {
        const [start, end] = ranges[i]
        expect(reply.status).toBe(206)
        expect(reply.body.equals(bytes.subarray(start, end + 1)), `bytes=${start}-${end}`).toBe(
          true,
        )
      })
    } finally {
      agent.destroy()
    }
  })

  it('counts bytes served per torrent', async () => {
    const before = webSeed.stats().torrents.find((t) => t.name === s.weird.name)!
    await request(port, urlOf('releases/extra dir', s.weird, ['plain.bin']), {
      headers: { range: 'bytes=0-9999' },
    })
    await request(port, urlOf('releases/extra dir', s.weird, ['plain.bin']), { method: 'HEAD' })
    const after = webSeed.stats().torrents.find((t) => t.name === s.weird.name)!
    expect(after.bytesServed - before.bytesServed).toBe(10_000)
    expect(after.requests - before.requests).toBe(2)
  })

  it('ends the response cleanly when the file shrinks under it', async () => {
    const file = path.join(s.root, 'releases/shrink/big.bin')
    const original = await readFile(file)
    const target = urlOf('releases/shrink', s.shrinking, ['big.bin'])
    const got = await new Promise<{ length: number; received: Buffer; aborted: boolean }>(
      (resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: target, agent: false }, (res) => {
          const chunks: Buffer[] = []
          let truncated = false
          res.on('data', (c: Buffer) => {
            chunks.push(c)
            if (!truncated) {
              truncated = true
              res.pause()
              // Shrink it while the response is under way, then read on.
              void truncate(file, 1 << 20).then(() => res.resume(), reject)
            }
          })
          const done = (aborted: boolean) =>
            resolve({
              length: Number(res.headers['content-length']),
              received: Buffer.concat(chunks),
              aborted,
            })
          res.on('end', () => done(!res.complete))
          res.on('error', () => done(true))
          res.on('aborted', () => done(true))
        })
        req.on('error', reject)
        req.end()
      },
    )
    expect(got.length).toBe(original.length)
    expect(got.aborted).toBe(true)
    expect(got.received.length).toBeLessThan(original.length)
    // What did arrive is the file's bytes, never anything else.
    expect(got.received.equals(original.subarray(0, got.received.length))).toBe(true)
    // The next request sees the new size.
    const reply = await request(port, target)
    expect(reply.status).toBe(200)
    expect(reply.body.length).toBe(1 << 20)
    await writeFile(file, original)
  })

  it('stops serving a removed torrent', async () => {
    const target = urlOf(s.releaseDir, s.single)
    expect((await request(port, target, { method: 'HEAD' })).status).toBe(200)
    webSeed.remove(trackerKey(s.single))
    expect((await request(port, target, { method: 'HEAD' })).status).toBe(404)
    const gone = webSeed.takeCounters().filter((t) => t.name === s.single.name)
    expect(gone).toHaveLength(1) // listed once more after removal, for the last flush
    expect(webSeed.takeCounters().some((t) => t.name === s.single.name)).toBe(false)
    webSeed.add(live(s.root, s.releaseDir, s.single))
    expect((await request(port, target, { method: 'HEAD' })).status).toBe(200)
  })
})

describe('a client that stops reading', () => {
  it('is cut after the stall timeout', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-webseed-stall-'))
    const server = http.createServer()
    try {
      await mkdir(path.join(base, 'rel'), { recursive: true })
      // Sparse, so it costs no disk; bigger than what loopback socket buffers hold.
      await writeFile(path.join(base, 'rel', 'big.iso'), '')
      await truncate(path.join(base, 'rel', 'big.iso'), 256 << 20)
      const webSeed = new WebSeed({ root: base, stallTimeoutMs: 300 })
      webSeed.add({
        infoHash: 'cc'.repeat(20),
        releaseDir: 'rel',
        torrent: { name: 'big.iso', multiFile: false, files: [{ path: ['big.iso'], pad: false }] },
        filePaths: [path.join(base, 'rel', 'big.iso')],
      })
      let cutAt = 0
      const cut = new Promise<void>((resolve) => {
        server.on('request', (req, res) => {
          res.on('close', () => {
            cutAt = Date.now()
            resolve()
          })
          webSeed.handle(req, res)
        })
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      const started = Date.now()
      const req = http.get({ host: '127.0.0.1', port, path: '/webseed/rel/big.iso', agent: false })
      req.on('response', (res) => res.pause()) // and reads nothing more
      req.on('error', () => {})
      const timeout = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the server never cut the stalled response')), 10_000),
      )
      await Promise.race([cut, timeout])
      req.destroy()
      expect(cutAt - started).toBeLessThan(10_000)
      expect(webSeed.stats().bytesServed).toBeLessThan(256 << 20)
      webSeed.close()
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await rm(base, { recursive: true, force: true })
    }
  })
})

describe('a mirror root that is not there yet', () => {
  it('gives 404 until it appears, then serves', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-webseed-late-'))
    const root = path.join(base, 'mirror')
    const server = http.createServer()
    try {
      const webSeed = new WebSeed({ root })
      webSeed.add({
        infoHash: 'ee'.repeat(20),
        releaseDir: 'rel',
        torrent: { name: 'x.iso', multiFile: false, files: [{ path: ['x.iso'], pad: false }] },
        filePaths: [path.join(root, 'rel', 'x.iso')],
      })
      server.on('request', webSeed.handle)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      expect((await request(port, '/webseed/rel/x.iso')).status).toBe(404)
      await mkdir(path.join(root, 'rel'), { recursive: true })
      await writeFile(path.join(root, 'rel', 'x.iso'), pseudoRandom(100, 4))
      const reply = await request(port, '/webseed/rel/x.iso')
      expect(reply.status).toBe(200)
      expect(reply.body.equals(pseudoRandom(100, 4))).toBe(true)
      webSeed.close()
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await rm(base, { recursive: true, force: true })
    }
  })
})

describe('a kept descriptor', () => {
  it('is reopened after its maximum age, so a file rsync renamed over is served fresh', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-webseed-renamed-'))
    const server = http.createServer()
    try {
      await mkdir(path.join(base, 'rel'), { recursive: true })
      const file = path.join(base, 'rel', 'x.iso')
      await writeFile(file, pseudoRandom(4096, 1))
      const webSeed = new WebSeed({ root: base, idleMs: 50 })
      webSeed.add({
        infoHash: 'dd'.repeat(20),
        releaseDir: 'rel',
        torrent: { name: 'x.iso', multiFile: false, files: [{ path: ['x.iso'], pad: false }] },
        filePaths: [file],
      })
      server.on('request', webSeed.handle)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      const first = await request(port, '/webseed/rel/x.iso', { agent })
      expect(first.body.equals(pseudoRandom(4096, 1))).toBe(true)
      // What rsync does: write a temporary file, rename it over the old name.
      await writeFile(path.join(base, 'rel', '.x.iso.tmp'), pseudoRandom(4096, 2))
      await rename(path.join(base, 'rel', '.x.iso.tmp'), file)
      // Busy all along (never idle for 50 ms), the descriptor still ages out after 6 x 50 ms.
      const deadline = Date.now() + 3000
      let fresh = false
      while (!fresh && Date.now() < deadline) {
        const reply = await request(port, '/webseed/rel/x.iso', { agent })
        fresh = reply.body.equals(pseudoRandom(4096, 2))
        if (!fresh) expect(reply.body.equals(pseudoRandom(4096, 1))).toBe(true)
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(fresh).toBe(true)
      agent.destroy()
      webSeed.close()
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await rm(base, { recursive: true, force: true })
    }
  })
})

describe('a path shared by a superseded torrent and its successor', () => {
  it('belongs to the active torrent in whatever order they were added, then to the one left', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-webseed-shared-'))
    const server = http.createServer()
    try {
      await mkdir(path.join(base, 'rel'), { recursive: true })
      await writeFile(path.join(base, 'rel', 'x.iso'), pseudoRandom(1000, 3))
      const shape = (infoHash: string, active: boolean): WebSeedTorrent => ({
        infoHash,
        active,
        releaseDir: 'rel',
        torrent: { name: 'x.iso', multiFile: false, files: [{ path: ['x.iso'], pad: false }] },
        filePaths: [path.join(base, 'rel', 'x.iso')],
      })
      const webSeed = new WebSeed({ root: base })
      webSeed.add(shape('aa'.repeat(20), true))
      webSeed.add(shape('bb'.repeat(20), false)) // the superseded one, added last
      server.on('request', webSeed.handle)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      // What the stats flush reads, and what a /metrics scrape reads between two flushes.
      const served = () =>
        Object.fromEntries(
          webSeed.takeCounters().map((t) => [t.infoHash.slice(0, 2), t.bytesServed]),
        )
      const scraped = () =>
        webSeed
          .stats()
          .torrents.map((t) => t.infoHash.slice(0, 2))
          .sort()

      expect((await request(port, '/webseed/rel/x.iso')).status).toBe(200)
      expect(served()).toEqual({ aa: 1000, bb: 0 })
      webSeed.remove('aa'.repeat(20))
      expect((await request(port, '/webseed/rel/x.iso')).status).toBe(200)
      // Scrapes between the removal and the flush leave aa's last bytes for the flush.
      expect(scraped()).toEqual(['aa', 'bb'])
      expect(scraped()).toEqual(['aa', 'bb'])
      expect(served()).toEqual({ aa: 1000, bb: 1000 }) // aa listed a last time after removal
      expect(served()).toEqual({ bb: 1000 })
      webSeed.remove('bb'.repeat(20))
      expect((await request(port, '/webseed/rel/x.iso')).status).toBe(404)
      webSeed.close()
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await rm(base, { recursive: true, force: true })
    }
  })
})

describe('stepping back while the swarm can carry the load', () => {
  it('answers 503 with Retry-After in a crowd, cuts a response streaming when one forms, and serves a lone downloader', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-webseed-crowd-'))
    const server = http.createServer()
    try {
      await mkdir(path.join(base, 'rel'), { recursive: true })
      // Sparse, so it costs no disk; far more than one read chunk.
      await writeFile(path.join(base, 'rel', 'big.iso'), '')
      await truncate(path.join(base, 'rel', 'big.iso'), 256 << 20)
      let crowd = false
      const webSeed = new WebSeed({
        root: base,
        stepBack: {
          crowded: (infoHash) => crowd && infoHash === 'cc'.repeat(20),
          retryAfterSeconds: 60,
        },
      })
      webSeed.add({
        infoHash: 'cc'.repeat(20),
        releaseDir: 'rel',
        torrent: { name: 'big.iso', multiFile: false, files: [{ path: ['big.iso'], pad: false }] },
        filePaths: [path.join(base, 'rel', 'big.iso')],
      })
      server.on('request', webSeed.handle)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      const range = { headers: { Range: 'bytes=0-999' } }

      expect((await request(port, '/webseed/rel/big.iso', range)).status).toBe(206)
      crowd = true
      const refused = await request(port, '/webseed/rel/big.iso', range)
      expect(refused.status).toBe(503)
      expect(refused.headers['retry-after']).toBe('60')
      expect(webSeed.served()[0].steppedBack).toBe(1)

      // A whole-file response under way when the crowd forms ends short at the next chunk.
      crowd = false
      const received = await new Promise<number>((resolve) => {
        let got = 0
        const req = http.get({
          host: '127.0.0.1',
          port,
          path: '/webseed/rel/big.iso',
          agent: false,
        })
        req.on('response', (res) => {
          expect(res.statusCode).toBe(200)
          res.on('data', (c: Buffer) => {
            got += c.length
            crowd = true
          })
          res.on('close', () => resolve(got))
          res.on('error', () => {})
        })
        req.on('error', () => resolve(got))
      })
      expect(received).toBeGreaterThan(0)
      expect(received).toBeLessThan(256 << 20)

      crowd = false // the crowd is gone: full speed again
      expect((await request(port, '/webseed/rel/big.iso', range)).status).toBe(206)
      webSeed.close()
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await rm(base, { recursive: true, force: true })
    }
  })
})
