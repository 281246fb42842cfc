import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSeeder, type Seeder } from '../lib/peer/index.ts'
import { magnetLink } from '../lib/metainfo/index.ts'
import { fixtureName, makeSeedFixture, type SeedFixture } from './seed-fixture.ts'
import { libtorrentDownload } from './lt-client.ts'
import { libtorrent, tool } from './tools.ts'

/**
 * libtorrent (python3-libtorrent 2.0, what qBittorrent and Deluge are built on) downloads an
 * 8 MiB release from our seeder alone over the peer port's UDP socket: by uTP with TCP switched
 * off, and by a bare magnet (no tracker, no peer given) that it resolves through the DHT with
 * our peer port as its only bootstrap node. Each download is checked byte for byte.
 */

const lt = libtorrent()
const mktorrent = tool('mktorrent')

/** The Done-when bound of issue 12: an 8 MiB release within 20 s. */
const LIMIT_SEC = 20

async function expectSameFiles(fx: SeedFixture, downloadedTop: string): Promise<void> {
  for (const f of fx.files) {
    const got = await readFile(path.join(downloadedTop, f.rel))
    expect(got.equals(f.bytes), `${f.rel} differs`).toBe(true)
  }
}

describe.skipIf(!lt.found || !mktorrent.found)(
  `uTP and DHT interop with libtorrent ${lt.reason}${mktorrent.reason}`,
  () => {
    let fx: SeedFixture
    let seeder: Seeder
    let work: string

    beforeAll(async () => {
      fx = await makeSeedFixture('mktorrent', {
        artifactSize: 8 * 1024 * 1024,
        pieceLength: 262144,
      })
      seeder = await startSeeder({
        host: '127.0.0.1',
        port: 0,
        dht: { bootstrap: [], address: '127.0.0.1' },
      })
      seeder.add(fx.torrent, fx.paths)
      work = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-utp-'))
    })
    afterAll(async () => {
      await seeder?.close()
      await fx?.remove()
      if (work) await rm(work, { recursive: true, force: true })
    })

    it('libtorrent with TCP off downloads the release over uTP', async () => {
      const out = path.join(work, 'utp-only')
      const r = await libtorrentDownload(fx.torrentPath, out, `127.0.0.1:${seeder.port}`, {
        timeoutSec: LIMIT_SEC,
        settings: {
          enable_outgoing_tcp: false,
          enable_incoming_tcp: false,
          enable_outgoing_utp: true,
          enable_incoming_utp: true,
        },
      })
      expect(r.ok, JSON.stringify(r)).toBe(true)
      expect(r.transports).toEqual(['utp'])
      await expectSameFiles(fx, path.join(out, fixtureName))
    })

    it('libtorrent with default transports reaches the seeder over uTP at once', async () => {
      const out = path.join(work, 'default')
      const r = await libtorrentDownload(fx.torrentPath, out, `127.0.0.1:${seeder.port}`, {
        timeoutSec: LIMIT_SEC,
        settings: { enable_outgoing_utp: true, enable_incoming_utp: true },
      })
      expect(r.ok, JSON.stringify(r)).toBe(true)
      // Before uTP, libtorrent waited ~3.5 s for its uTP attempt to time out before trying TCP.
      expect(r.firstByte[0]).not.toBeNull()
      expect(r.firstByte[0]!).toBeLessThan(3)
      expect(r.transports).toContain('utp')
      await expectSameFiles(fx, path.join(out, fixtureName))
    })

    it('a bare magnet resolves through the DHT with our peer port as the only node', async () => {
      const out = path.join(work, 'dht')
      const magnet = `magnet:?xt=urn:btih:${fx.torrent.infoHash!.toString('hex')}`
      expect(magnet).not.toContain('tr=')
      const r = await libtorrentDownload(magnet, out, '-', {
        timeoutSec: LIMIT_SEC,
        settings: {
          enable_dht: true,
          dht_bootstrap_nodes: `127.0.0.1:${seeder.port}`,
          enable_outgoing_utp: true,
          enable_incoming_utp: true,
        },
      })
      expect(r.ok, JSON.stringify(r)).toBe(true)
      await expectSameFiles(fx, path.join(out, fixtureName))
    })
  },
)
