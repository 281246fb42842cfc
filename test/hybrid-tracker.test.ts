import { describe, it, expect } from 'vitest'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { handleHttp, startUdp, Tracker } from '../lib/tracker/index.ts'
import { makeSeedFixture } from './seed-fixture.ts'
import { libtorrent, systemPython } from './tools.ts'

/**
 * libtorrent 2 announces a hybrid torrent twice, under its v1 info-hash and its truncated v2
 * one (BEP 52: it joins both swarms). Both must be tracked: a "torrent is not tracked here" is
 * what users see in their client's tracker list otherwise. Over HTTP and over UDP.
 */
const lt = libtorrent()

const PYTHON = String.raw`
import sys, time, json, libtorrent as lt
torrent, save, url = sys.argv[1:4]
ses = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
  'enable_upnp': False, 'enable_natpmp': False, 'announce_to_all_trackers': True,
  'alert_mask': lt.alert.category_t.tracker_notification | lt.alert.category_t.error_notification})
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(torrent)
atp.save_path = save
atp.trackers = [url]
ses.add_torrent(atp)
errors, replies = [], 0
deadline = time.time() + 15
while time.time() < deadline and replies < 2:
  ses.wait_for_alert(500)
  for a in ses.pop_alerts():
    if isinstance(a, lt.tracker_error_alert): errors.append(a.message())
    if isinstance(a, lt.tracker_reply_alert): replies += 1
print(json.dumps({'errors': errors, 'replies': replies}), flush=True)
`

describe.skipIf(!lt.found)(`hybrid torrents on the tracker ${lt.reason}`, () => {
  it('libtorrent announces both hashes over HTTP and UDP with no tracker error', async () => {
    const fx = await makeSeedFixture('libtorrent', { artifactSize: 300_000, pieceLength: 65536 })
    const tracker = new Tracker({ rateLimit: null, interval: 60, minInterval: 5 })
    await tracker.start()
    const http = createServer((req, res) => {
      if (!handleHttp(tracker, req, res)) res.writeHead(404).end()
    })
    http.listen(0, '127.0.0.1')
    await once(http, 'listening')
    const udp = await startUdp(tracker, { host: '127.0.0.1', port: 0 })
    try {
      expect(fx.torrent.format).toBe('hybrid')
      tracker.allow(fx.torrent.infoHash!, { v2: fx.torrent.infoHashV2 })
      const v2 = fx.torrent.infoHashV2!.subarray(0, 20)
      const urls = [
        `http://127.0.0.1:${(http.address() as AddressInfo).port}/announce`,
        `udp://127.0.0.1:${udp.port}/announce`,
      ]
      for (const url of urls) {
        const child = spawn(systemPython, ['-c', PYTHON, fx.torrentPath, fx.dir, url], {
          stdio: ['ignore', 'pipe', 'inherit'],
        })
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
        await once(child, 'close')
        clearTimeout(timer)
        const r = JSON.parse(out.trim()) as { errors: string[]; replies: number }
        expect(r.errors, url).toEqual([])
        // One good reply for the v1 hash, one for the truncated v2 hash.
        expect(r.replies, url).toBe(2)
      }
      // The last session is still in both swarms (the first may have said "stopped" on exit).
      expect(tracker.stats(fx.torrent.infoHash!)?.incomplete).toBeGreaterThanOrEqual(1)
      expect(tracker.stats(v2)?.incomplete).toBeGreaterThanOrEqual(1)
    } finally {
      http.close()
      await udp.close()
      await tracker.close()
      await fx.remove()
    }
  })
})
