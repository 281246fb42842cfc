import { describe, it, expect } from 'vitest'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSeeder } from '../lib/peer/index.ts'
import { fixtureName, makeSeedFixture } from './seed-fixture.ts'
import { libtorrentDownload } from './lt-client.ts'
import { libtorrent, tool } from './tools.ts'

/**
 * Peer exchange (BEP 11) as the egress goal needs it: two libtorrent downloaders (default PEX on)
 * that know only our seeder (no tracker, no DHT) learn of each other from it, trade pieces, and
 * the seeder sends less than a copy each. The seeder's upload is rate-limited so the download
 * lasts long enough for them to meet, as a real origin's uplink is the slow part of a crowd.
 */
const lt = libtorrent()
const mktorrent = tool('mktorrent')
const SIZE = 8 * 1024 * 1024

describe.skipIf(!lt.found || !mktorrent.found)(
  `peer exchange with libtorrent ${lt.reason}${mktorrent.reason}`,
  () => {
    it('two downloaders that know only the seeder find each other through it and share the load', async () => {
      const fx = await makeSeedFixture('mktorrent', { artifactSize: SIZE, pieceLength: 262144 })
      const seeder = await startSeeder({
        host: '127.0.0.1',
        port: 0,
        uploadRate: 1024 * 1024,
        sweepMs: 250,
      })
      const work = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-pex-'))
      try {
        seeder.add(fx.torrent, fx.paths)
        const r = await libtorrentDownload(fx.torrentPath, work, `127.0.0.1:${seeder.port}`, {
          count: 2,
          timeoutSec: 40,
        })
        expect(r.ok, JSON.stringify(r)).toBe(true)
        for (const i of [0, 1])
          for (const f of fx.files) {
            const got = await readFile(path.join(work, String(i), fixtureName, f.rel))
            expect(got.equals(f.bytes), `${f.rel} differs in download ${i}`).toBe(true)
          }
        // Without peer exchange each downloader gets every byte from the seeder: two copies.
        const copies = seeder.stats().uploaded / fx.torrent.length
        console.log(`peer exchange: the seeder sent ${copies.toFixed(2)} copies for 2 downloads`)
        expect(copies).toBeLessThan(1.8)
      } finally {
        await seeder.close()
        await fx.remove()
        await rm(work, { recursive: true, force: true })
      }
    }, 60_000)
  },
)
