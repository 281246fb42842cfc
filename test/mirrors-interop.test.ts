import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { eventLog, findTorrent, torrentPage } from '../lib/catalog/index.ts'
import { parseTorrent } from '../lib/metainfo/index.ts'
import {
  addMirror,
  checkMirror,
  checkMirrors,
  listMirrors,
  loadProbes,
  type MirrorProblem,
  type Probe,
} from '../lib/mirrors/index.ts'
import { mirrorCheckHooks, outputLayout, Publisher } from '../lib/publish/index.ts'
import { databaseKinds } from './databases.ts'
import { fixtureConfig, buildGentooTree, type FixtureTree } from './fixtures/mirror-tree.ts'
import { startNginx, type Nginx } from './nginx.ts'
import { tool } from './tools.ts'

/**
 * Mirrors played by real HTTP servers on loopback: Debian's nginx serving a copy of the tree, as
 * a downstream mirror does, and node:http servers that get web seeding wrong in the ways real
 * mirrors do. Each is classified by the health check, and only the ones that serve the right
 * bytes with 206 end up in the `url-list` of the published torrents.
 */

const nginxTool = tool('nginx', ['-v'])

type Mode = 'good' | 'norange' | 'redirect' | 'wrong' | 'slow'

describe.skipIf(!nginxTool.found)(`mirror health checks ${nginxTool.reason}`, () => {
  let tree: FixtureTree
  let copy: string
  let nginx: Nginx
  let server: http.Server
  let base: string
  let closedPort: string
  let probes: Probe[]
  /** The `good` mode can be turned bad mid-test, as a mirror whose sync broke. */
  const flaky = { broken: false }

  const configFor = (root: string) =>
    fixtureConfig(root, { mirrors: { timeoutSeconds: 1, checkSeconds: 300, concurrency: 4 } })

  /** A file server over the copy, misbehaving as `mode` says. */
  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const [, mode, ...rest] = (req.url ?? '/').split('/') as [string, Mode, ...string[]]
    const relative = rest.map(decodeURIComponent).join('/')
    if (mode === 'slow') return // never answers: the check must give up
    if (mode === 'redirect') {
      res.writeHead(302, { location: `${nginx.url}/${rest.join('/')}`, 'content-length': 0 })
      return void res.end()
    }
    void readFile(path.join(copy, relative)).then(
      (data) => {
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'content-length': data.length, 'accept-ranges': 'bytes' })
          return void res.end()
        }
        const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
        if (mode === 'norange' || !m) {
          res.writeHead(200, { 'content-length': data.length })
          return void res.end(data)
        }
        const [start, end] = [Number(m[1]), Math.min(Number(m[2]), data.length - 1)]
        const body = Buffer.from(data.subarray(start, end + 1))
        if (mode === 'wrong' || (mode === 'good' && flaky.broken)) body[0] ^= 0xff
        res.writeHead(206, {
          'content-length': body.length,
          'content-range': `bytes ${start}-${end}/${data.length}`,
        })
        res.end(body)
      },
      () => {
        res.writeHead(404, { 'content-length': 0 })
        res.end()
      },
    )
  }

  beforeAll(async () => {
    tree = await buildGentooTree()
    // Publish once so the tree has its torrent-symlinks/ folder, then copy it, symlinks as
    // symlinks, for the mirrors to serve (what rsync -l does downstream).
    const database = await databaseKinds[0][1].open()
    try {
      await new Publisher({ config: configFor(tree.root), database }).reconcile()
      copy = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-mirror-copy-'))
      await cp(tree.root, copy, { recursive: true, verbatimSymlinks: true })
      probes = (await loadProbes(outputLayout(configFor(tree.root)), database))!.probes
    } finally {
      await database.close()
    }
    nginx = await startNginx(copy)
    server = http.createServer(handle)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    closedPort = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
    await new Promise((resolve) => closed.close(resolve))
  }, 60_000)

  afterAll(async () => {
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    await nginx?.stop()
    await tree?.remove()
    if (copy) await rm(copy, { recursive: true, force: true })
  })

  it('asks for a companion whole and the artifact first piece', () => {
    expect(probes.map((p) => p.algorithm).sort()).toEqual(['sha1', 'sha256'])
    for (const p of probes) {
      for (const part of p.parts) {
        if (part.kind === 'range') expect(part.url).toMatch(/^torrent-symlinks\//)
      }
    }
  })

  it('nginx serving a copy of the tree is up, and sent 206 for every Range', async () => {
    const check = await checkMirror(nginx.url, probes, { timeoutMs: 5000 })
    expect(check).toMatchObject({ status: 'up', problem: null, error: null })
    expect(check.latencyMs).toBeGreaterThanOrEqual(0)
    // (nginx's own start-up probe asked for `/`; only the check's requests count.)
    const log = (await nginx.accessLog()).filter((l) => l.includes(' /torrent-symlinks/'))
    expect(log.length).toBeGreaterThanOrEqual(4)
    expect(log.filter((l) => l.startsWith('GET ')).every((l) => / 206 /.test(l))).toBe(true)
    expect(log.some((l) => l.startsWith('HEAD ') && / 200 /.test(l))).toBe(true)
  })

  const cases: Array<[string, () => string, MirrorProblem]> = [
    ['ignores Range (200 with the whole file)', () => `${base}/norange`, 'no-range'],
    ['redirects to another mirror', () => `${base}/redirect`, 'redirect'],
    ['serves the wrong bytes with 206', () => `${base}/wrong`, 'wrong-bytes'],
    ['is down (closed port)', () => closedPort, 'unreachable'],
    ['never answers', () => `${base}/slow`, 'timeout'],
    ['lacks the files', () => `${base}/good/elsewhere`, 'http-status'],
  ]
  for (const [what, url, problem] of cases) {
    it(`a mirror that ${what} is down: ${problem}`, async () => {
      const started = Date.now()
      const check = await checkMirror(url(), probes, { timeoutMs: 1000 })
      expect(check.status).toBe('down')
      expect(check.problem).toBe(problem)
      expect(check.error).toBeTruthy()
      expect(Date.now() - started).toBeLessThan(5000)
    })
  }

  describe.each(databaseKinds)('on %s', (_name, kind) => {
    it('only mirrors that serve the right bytes go into url-list; info-hashes never change', async () => {
      const database = await kind.open()
      const config = configFor(tree.root)
      try {
        await new Publisher({ config, database }).reconcile()
        const before = (await torrentPage(database.db, { limit: 500 })).rows
        expect(before.length).toBe(tree.releases.length)
        await addMirror(database.db, { name: 'nginx', baseUrl: nginx.url })
        await addMirror(database.db, { name: 'flaky', baseUrl: `${base}/good/` })
        await addMirror(database.db, { name: 'norange', baseUrl: `${base}/norange` })
        await addMirror(database.db, { name: 'gone', baseUrl: closedPort })

        const results = await checkMirrors({
          config,
          database,
          ...mirrorCheckHooks({ config, database }),
        })
        expect(Object.fromEntries(results.map((r) => [r.name, r.status]))).toEqual({
          flaky: 'up',
          gone: 'down',
          nginx: 'up',
          norange: 'down',
        })

        const urlLists = async () => {
          const out = new Map<string, string[]>()
          for (const row of before) {
            const onDisk = parseTorrent(
              await readFile(
                path.join(tree.root, 'torrents', row.releaseDir, `${row.name}.torrent`),
              ),
            )
            const stored = (await findTorrent(database.db, row.infoHash))!
            // The file and the row say the same, and the info-hash is the one first published.
            expect(onDisk.infoHash!.toString('hex')).toBe(row.infoHash)
            expect(
              stored.metainfo.equals(
                await readFile(
                  path.join(tree.root, 'torrents', row.releaseDir, `${row.name}.torrent`),
                ),
              ),
            ).toBe(true)
            expect(parseTorrent(stored.metainfo).info.equals(parseTorrent(row.metainfo).info)).toBe(
              true,
            )
            out.set(row.releaseDir, onDisk.urlList)
          }
          return out
        }
        for (const [dir, urls] of await urlLists()) {
          expect(urls).toEqual([
            `http://seed.example:6969/webseed/${dir}/`,
            `${base}/good/torrent-symlinks/${dir}/`,
            `${nginx.url}/torrent-symlinks/${dir}/`,
          ])
        }

        // The flaky mirror's sync breaks: it is dropped at the next check, an event says so.
        flaky.broken = true
        const again = await checkMirrors({
          config,
          database,
          ...mirrorCheckHooks({ config, database }),
        })
        expect(again.find((r) => r.name === 'flaky')).toMatchObject({
          status: 'down',
          before: 'up',
          problem: 'wrong-bytes',
        })
        for (const [dir, urls] of await urlLists()) {
          expect(urls).toEqual([
            `http://seed.example:6969/webseed/${dir}/`,
            `${nginx.url}/torrent-symlinks/${dir}/`,
          ])
        }
        const rows = await listMirrors(database.db)
        expect(rows.find((r) => r.name === 'nginx')).toMatchObject({
          status: 'up',
          lastError: null,
        })
        expect(rows.find((r) => r.name === 'gone')?.lastError).toMatch(/ECONNREFUSED/)
        const kinds = (await eventLog(database.db))
          .filter((e) => e.kind.startsWith('mirror_'))
          .map((e) => `${e.kind} ${e.subject}`)
        expect(kinds.sort()).toEqual(
          [
            'mirror_up nginx',
            'mirror_up flaky',
            'mirror_down norange',
            'mirror_down gone',
            'mirror_down flaky',
          ].sort(),
        )
        // A third round with nothing changed writes nothing.
        const mtimes = await Promise.all(
          before.map((r) =>
            stat(path.join(tree.root, 'torrents', r.releaseDir, `${r.name}.torrent`)),
          ),
        )
        await checkMirrors({ config, database, ...mirrorCheckHooks({ config, database }) })
        const after = await Promise.all(
          before.map((r) =>
            stat(path.join(tree.root, 'torrents', r.releaseDir, `${r.name}.torrent`)),
          ),
        )
        expect(after.map((s) => s.ino)).toEqual(mtimes.map((s) => s.ino))
      } finally {
        flaky.broken = false
        await database.close()
      }
    }, 60_000)
  })
})
