import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseTorrent, trackerKeyHex } from '../lib/metainfo/index.ts'
import { ready, startServe, until, afterEachTest } from './cli.ts'
import { buildGentooTree, treeArgs, type FixtureTree } from './fixtures/mirror-tree.ts'
import { libtorrentDownload } from './lt-client.ts'
import { libtorrent } from './tools.ts'

const lt = libtorrent()
const token = 'serve-formats-admin-token'
const flushSeconds = 1

const { running, cleanups, scratch } = afterEachTest('mirrorseed-formats-')

/**
 * `serve --format v2` once died at its first stats flush (the seeder's 64-hex v2 key reached the
 * tracker). Each format is served end to end: libtorrent downloads from our seeder, the stats
 * flush writes what it sent, flushes again, and the appliance is still up.
 */
describe.skipIf(!lt.found)(`serve in every torrent format ${lt.reason}`, () => {
  it.each(['v2', 'hybrid'] as const)(
    '%s: a real client downloads, the stats flush runs twice, the process lives',
    async (format) => {
      const tree: FixtureTree = await buildGentooTree()
      cleanups.push(() => tree.remove())
      const serve = await startServe(
        [...treeArgs(tree), '--format', format, '--data-dir', path.join(scratch(), 'data')],
        {
          env: {
            MIRRORSEED_ADMIN_TOKEN: token,
            MIRRORSEED_STATS_FLUSH_SECONDS: String(flushSeconds),
          },
        },
      )
      running.push(serve)
      await ready(serve)

      const release = tree.releases[0]
      const torrentPath = path.join(
        tree.root,
        'torrents',
        release.releaseDir,
        `${release.name}.torrent`,
      )
      const torrent = parseTorrent(readFileSync(torrentPath))
      expect(torrent.format).toBe(format)
      const out = scratch()
      const result = await libtorrentDownload(torrentPath, out, `127.0.0.1:${serve.peerPort}`, {
        timeoutSec: 60,
      })
      expect(result.ok).toBe(true)
      for (const file of [release.artifact, ...release.companions]) {
        const name = path.posix.basename(file)
        expect(readFileSync(path.join(out, release.name, name))).toEqual(
          readFileSync(path.join(tree.root, file)),
        )
      }

      // The flushes after the download record what we sent (seeder and our web seed, which
      // libtorrent also uses), under the 20-byte key.
      const key = trackerKeyHex(torrent)
      const size = torrent.files.reduce((s, f) => s + (f.pad ? 0 : f.length), 0)
      await until('the stats flush', async () => {
        const res = await fetch(`${serve.url}/api/torrents/${key}`, {
          headers: { authorization: `Bearer ${token}` },
        })
        if (!res.ok) return undefined
        const { stats } = ((await res.json()) as { torrent: { stats: Record<string, number> } })
          .torrent
        return stats.uploadedPeer > 0 && stats.uploadedPeer + stats.uploadedWebseed >= size
      })
      // At least two more flushes, then the appliance still answers and logged no failure.
      await new Promise((r) => setTimeout(r, 2.5 * flushSeconds * 1000))
      expect(serve.child.exitCode).toBe(null)
      expect((await fetch(`${serve.url}/healthz`)).status).toBe(200)
      expect(serve.log()).not.toMatch(/background task failed|unhandled|40 hex/)
    },
    120_000,
  )
})
