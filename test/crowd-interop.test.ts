import { describe, it, expect } from 'vitest'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startSeeder } from '../lib/peer/index.ts'
import { fixtureName, makeSeedFixture } from './seed-fixture.ts'
import { libtorrentDownload } from './lt-client.ts'
import { libtorrent, tool } from './tools.ts'

/**
 * A libtorrent downloader that came before the crowd (shown every piece) is super-seeded once the
 * crowd forms: the seeder withdraws what it lacks with lt_donthave and offers pieces one at a
 * time. libtorrent must keep the connection (it closes an upload-only peer it wants nothing
 * from, so the seeder stops saying it is one) and still complete from the seeder alone.
 */
const lt = libtorrent()
const mktorrent = tool('mktorrent')

describe.skipIf(!lt.found || !mktorrent.found)(
  `a crowd forms around a libtorrent downloader ${lt.reason}${mktorrent.reason}`,
  () => {
    it('keeps downloading, super-seeded, after the seeder withdraws the pieces it lacks', async () => {
      const fx = await makeSeedFixture('mktorrent', {
        artifactSize: 8 * 1024 * 1024,
        pieceLength: 262144,
      })
      let crowd = false
      const seeder = await startSeeder({
        host: '127.0.0.1',
        port: 0,
        uploadRate: 2 * 1024 * 1024,
        superSeed: { crowded: () => crowd, offersPerPeer: 2, forwardWaitMs: 300 },
      })
      const work = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-crowd-'))
      const superSeeded: number[] = []
      const watch = setInterval(() => {
        if (seeder.stats().uploaded > 2 * 1024 * 1024) crowd = true
        superSeeded.push(seeder.stats().torrents[0]?.superSeeded ?? 0)
      }, 100)
      try {
        seeder.add(fx.torrent, fx.paths)
        const r = await libtorrentDownload(fx.torrentPath, work, `127.0.0.1:${seeder.port}`, {
          timeoutSec: 30,
        })
        expect(r.ok, JSON.stringify(r)).toBe(true)
        for (const f of fx.files) {
          const got = await readFile(path.join(work, fixtureName, f.rel))
          expect(got.equals(f.bytes), `${f.rel} differs`).toBe(true)
        }
        expect(Math.max(...superSeeded)).toBe(1)
        // One connection all along: libtorrent never dropped the seeder.
        expect(seeder.stats().uploaded).toBeLessThan(fx.torrent.length * 1.05)
      } finally {
        clearInterval(watch)
        await seeder.close()
        await fx.remove()
        await rm(work, { recursive: true, force: true })
      }
    }, 45_000)
  },
)
