import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { loadConfig } from '../lib/config/index.ts'
import { addMirror, recordCheck } from '../lib/mirrors/index.ts'
import { createTorrent, encodeTorrent, parseTorrent, type Torrent } from '../lib/metainfo/index.ts'
import { Publisher, trackerKey, type LiveTorrent } from '../lib/publish/index.ts'
import { WebSeed, webSeedPrefix } from '../lib/webseed/index.ts'
import { databaseKinds } from './databases.ts'
import { buildGentooTree, fixtureMinSize, type FixtureTree } from './fixtures/mirror-tree.ts'
import { libtorrentDownload } from './lt-client.ts'
import { startNginx, type Nginx } from './nginx.ts'
import { aria2c, freePort } from './aria2c.ts'
import { libtorrent, tool } from './tools.ts'

/**
 * Real clients download a published multi-file Gentoo-style release from web seeds alone (BEP 19):
 * the .torrent keeps its info but its only source is one `url-list` entry, either the appliance's
 * own `/webseed/` or nginx serving the tree (through `torrent-symlinks/`) as a downstream mirror
 * would. Every file is checked byte for byte against the mirror tree.
 */

const aria2cTool = tool('aria2c')
const nginxTool = tool('nginx', ['-v'])
const lt = libtorrent()
const transmission = tool('transmission-cli', ['--version'])

describe.skipIf(!aria2cTool.found || !nginxTool.found)(
  `web-seed interop ${aria2cTool.reason}${nginxTool.reason}`,
  () => {
    let tree: FixtureTree
    let work: string
    let nginx: Nginx
    let server: http.Server
    let ours: string
    const webSeed = { current: null as WebSeed | null }
    const published: LiveTorrent[] = []
    const torrentFiles: string[] = []

    beforeAll(async () => {
      work = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-webseed-interop-'))
      // Big enough for many pieces and several requests per file; sizes not piece-aligned.
      tree = await buildGentooTree({
        sizes: { iso: 3 * 1024 * 1024 + 12345, stage3: 2 * 1024 * 1024 + 777 },
      })
      const seed = new WebSeed({ root: tree.root })
      webSeed.current = seed
      server = http.createServer((req, res) => {
        if (req.url?.startsWith(webSeedPrefix)) return seed.handle(req, res)
        res.writeHead(404, { 'Content-Length': 0 }).end()
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      ours = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      nginx = await startNginx(tree.root)

      const database = await databaseKinds[0][1].open()
      try {
        // nginx is a healthy mirror (its last check passed), so the publisher lists it in
        // url-list beside our own URL.
        const mirror = await addMirror(database.db, { name: 'nginx', baseUrl: nginx.url })
        await recordCheck(database.db, mirror, { status: 'up', latencyMs: 1, error: null })
        const config = loadConfig({
          env: {},
          overrides: {
            root: tree.root,
            profile: 'gentoo',
            publicUrl: ours,
            release: { minSize: fixtureMinSize },
          } as never,
        })
        const publisher = new Publisher({
          config,
          database,
          events: {
            published: (t) => {
              published.push(t)
              seed.add(t)
            },
          },
        })
        const summary = await publisher.reconcile()
        expect(summary.published).toHaveLength(tree.releases.length)
        expect(published).toHaveLength(tree.releases.length)
        for (const t of published) {
          torrentFiles.push(publisher.outputs.torrentFile(t.releaseDir, t.torrent.name))
        }
      } finally {
        await database.close()
      }
    }, 60_000)

    afterAll(async () => {
      server?.closeAllConnections()
      await new Promise((resolve) => server?.close(resolve))
      webSeed.current?.close()
      await nginx?.stop()
      await tree?.remove()
      await rm(work, { recursive: true, force: true })
    })

    /** The published .torrent with its trackers dropped and only `url` as a source. */
    async function onlyWebSeed(
      file: string,
      url: string,
      tag: string,
    ): Promise<{ path: string; torrent: Torrent }> {
      const torrent = parseTorrent(await readFile(file))
      expect(torrent.multiFile).toBe(true)
      expect(torrent.urlList).toContain(url)
      const bytes = encodeTorrent(torrent.info, null, { webSeeds: [url] })
      const out = path.join(work, `${torrent.name}.${tag}.torrent`)
      await writeFile(out, bytes)
      const rewritten = parseTorrent(bytes)
      expect(rewritten.infoHash!.equals(torrent.infoHash!)).toBe(true)
      expect(rewritten.announce).toBeNull()
      return { path: out, torrent }
    }

    async function expectSameFiles(downloaded: string, live: LiveTorrent): Promise<void> {
      for (const [i, f] of live.torrent.files.entries()) {
        if (f.pad) continue
        const got = await readFile(path.join(downloaded, live.torrent.name, ...f.path))
        const want = await readFile(live.filePaths[i]!)
        expect(got.length, f.path.join('/')).toBe(want.length)
        expect(got.equals(want), f.path.join('/')).toBe(true)
      }
    }

    async function aria2cDownload(torrentPath: string, dir: string): Promise<void> {
      const result = await aria2c(torrentPath, dir, ['--bt-stop-timeout=30'])
      expect(result.code, result.output).toBe(0)
    }

    const sources = [
      ['the appliance', () => `${ours}/webseed/`],
      ['nginx over torrent-symlinks', () => `${nginx.url}/torrent-symlinks/`],
    ] as const

    for (const [label, base] of sources) {
      it(`aria2c downloads every release from ${label} alone, byte for byte`, async () => {
        const before = webSeed.current!.stats().bytesServed
        const logBefore = (await nginx.accessLog()).length
        for (const live of published) {
          const url = `${base()}${live.releaseDir.split('/').map(encodeURIComponent).join('/')}/`
          const { path: torrentPath } = await onlyWebSeed(
            torrentFiles[published.indexOf(live)],
            url,
            `aria2c-${label.split(' ')[0]}`,
          )
          const dir = await mkdtemp(path.join(work, 'aria2c-'))
          await aria2cDownload(torrentPath, dir)
          await expectSameFiles(dir, live)
        }
        const total = published.reduce((sum, t) => sum + t.torrent.length, 0)
        const servedByUs = webSeed.current!.stats().bytesServed - before
        const nginxLines = (await nginx.accessLog()).slice(logBefore)
        if (label === 'the appliance') {
          expect(servedByUs).toBeGreaterThanOrEqual(total)
          expect(nginxLines).toHaveLength(0)
        } else {
          expect(servedByUs).toBe(0)
          expect(
            nginxLines.some((l) => l.includes('/torrent-symlinks/') && / 20[06] /.test(l)),
          ).toBe(true)
        }
      }, 120_000)
    }

    it.skipIf(!transmission.found)(
      `transmission-cli downloads from the appliance's web seed alone ${transmission.reason}`,
      async () => {
        const before = webSeed.current!.stats().bytesServed
        const config = path.join(work, 'transmission-config')
        await mkdir(config, { recursive: true })
        await writeFile(
          path.join(config, 'settings.json'),
          JSON.stringify({
            'dht-enabled': false,
            'lpd-enabled': false,
            'pex-enabled': false,
            'utp-enabled': false,
          }),
        )
        for (const live of published) {
          const url = `${ours}/webseed/${live.releaseDir.split('/').map(encodeURIComponent).join('/')}/`
          const { path: torrentPath } = await onlyWebSeed(
            torrentFiles[published.indexOf(live)],
            url,
            'transmission',
          )
          const dir = await mkdtemp(path.join(work, 'transmission-'))
          // transmission-cli seeds on after the download: stop it once every file is complete.
          const complete = async () => {
            for (const [i, f] of live.torrent.files.entries()) {
              if (f.pad) continue
              const got = await readFile(path.join(dir, live.torrent.name, ...f.path)).catch(
                () => null,
              )
              if (!got || !got.equals(await readFile(live.filePaths[i]!))) return false
            }
            return true
          }
          const args = ['-g', config, '-w', dir, '-M', '-p', String(await freePort()), torrentPath]
          const child = spawn('transmission-cli', args, { stdio: 'ignore' })
          try {
            const deadline = Date.now() + 60_000
            while (!(await complete()) && Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, 250))
            }
          } finally {
            child.kill('SIGKILL')
          }
          await expectSameFiles(dir, live)
        }
        const total = published.reduce((sum, t) => sum + t.torrent.length, 0)
        expect(webSeed.current!.stats().bytesServed - before).toBeGreaterThanOrEqual(total)
      },
      150_000,
    )

    it.skipIf(!lt.found)(
      `libtorrent downloads from the appliance's web seed alone ${lt.reason}`,
      async () => {
        const before = webSeed.current!.stats().bytesServed
        for (const live of published) {
          const url = `${ours}/webseed/${live.releaseDir.split('/').map(encodeURIComponent).join('/')}/`
          const { path: torrentPath } = await onlyWebSeed(
            torrentFiles[published.indexOf(live)],
            url,
            'libtorrent',
          )
          const dir = await mkdtemp(path.join(work, 'libtorrent-'))
          const result = await libtorrentDownload(torrentPath, dir, '-', { timeoutSec: 60 })
          expect(result.ok, JSON.stringify(result)).toBe(true)
          await expectSameFiles(dir, live)
        }
        expect(webSeed.current!.stats().bytesServed - before).toBeGreaterThan(0)
      },
      150_000,
    )

    it.skipIf(!lt.found)(
      `libtorrent downloads a hybrid torrent, pad files and all, from the web seed alone ${lt.reason}`,
      async () => {
        // BEP 47 pads sit between the files of a hybrid torrent; libtorrent must not ask for them
        // (we would 404), and must still get every real file right.
        const live = published[0]
        const url = `${ours}/webseed/${live.releaseDir.split('/').map(encodeURIComponent).join('/')}/`
        const real = live.torrent.files.flatMap((f, i) =>
          f.pad ? [] : [{ f, source: live.filePaths[i]! }],
        )
        const created = await createTorrent({
          name: live.torrent.name,
          format: 'hybrid',
          pieceLength: 64 * 1024,
          files: real.map(({ f, source }) => ({ path: f.path, source })),
          webSeeds: [url],
        })
        expect(created.torrent.files.some((f) => f.pad)).toBe(true)
        const hybrid: LiveTorrent = {
          ...live,
          infoHash: trackerKey(created.torrent),
          torrent: created.torrent,
          filePaths: created.torrent.files.map((f) =>
            f.pad ? null : path.join(tree.root, live.releaseDir, ...f.path),
          ),
        }
        webSeed.current!.add(hybrid)
        const torrentPath = path.join(work, 'hybrid.torrent')
        await writeFile(torrentPath, created.bytes)
        const dir = await mkdtemp(path.join(work, 'libtorrent-hybrid-'))
        const result = await libtorrentDownload(torrentPath, dir, '-', { timeoutSec: 60 })
        expect(result.ok, JSON.stringify(result)).toBe(true)
        await expectSameFiles(dir, hybrid)
        const counters = webSeed
          .current!.stats()
          .torrents.find((t) => t.infoHash === hybrid.infoHash)
        const realBytes = real.reduce((sum, { f }) => sum + f.length, 0)
        expect(counters!.bytesServed).toBeGreaterThanOrEqual(realBytes)
      },
      150_000,
    )
  },
)
