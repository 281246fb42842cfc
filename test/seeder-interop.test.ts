import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { spawn } from 'node:child_process'
import http from 'node:http'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { startSeeder, type Seeder } from '../lib/peer/index.ts'
import { magnetLink } from '../lib/metainfo/index.ts'
import { fixtureName, makeSeedFixture, type SeedFixture } from './seed-fixture.ts'
import { libtorrentDownload } from './lt-client.ts'
import { aria2c, freePort } from './aria2c.ts'
import { libtorrent, tool } from './tools.ts'

/**
 * Real clients download a multi-file release from our seeder alone, each download checked byte
 * for byte against the source files.
 */

const aria2cTool = tool('aria2c')
const transmission = tool('transmission-cli', ['--version'])
const lt = libtorrent()
const mktorrent = tool('mktorrent')

/**
 * Transmission drops tracker peers in 127.0.0.0/8 as "martian" addresses, so its test needs the
 * seeder on another address of this host; the traffic still never leaves the machine.
 */
const hostAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address

/** The smallest HTTP tracker that answers every announce with our seeder (BEP 23 compact). */
async function tinyTracker(
  seederPort: number,
  seederHost = '127.0.0.1',
): Promise<{ url: string; close(): Promise<void> }> {
  const peer = Buffer.from([
    ...seederHost.split('.').map(Number),
    seederPort >> 8,
    seederPort & 0xff,
  ])
  const server = http.createServer((_req, res) => {
    res.end(Buffer.concat([Buffer.from('d8:intervali30e5:peers6:'), peer, Buffer.from('e')]))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/announce`,
    close: () => new Promise((r) => server.close(() => r())),
  }
}

/** Every file of the fixture, downloaded under `downloadedTop`, byte for byte. */
async function expectSameFiles(fx: SeedFixture, downloadedTop: string): Promise<void> {
  for (const f of fx.files) {
    const got = await readFile(path.join(downloadedTop, f.rel))
    expect(got.equals(f.bytes), `${f.rel} differs`).toBe(true)
  }
}

function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs: number; until?: () => Promise<boolean> },
) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    let poll: NodeJS.Timeout | undefined
    if (opts.until) {
      const check = opts.until
      poll = setInterval(async () => {
        if (await check().catch(() => false)) child.kill('SIGTERM')
      }, 250)
    }
    child.on('close', (code) => {
      clearTimeout(timer)
      if (poll) clearInterval(poll)
      resolve({ code, out })
    })
  })
}

describe.skipIf(!mktorrent.found)(`seeder interop ${mktorrent.reason}`, () => {
  let fx: SeedFixture
  let seeder: Seeder
  let work: string

  beforeAll(async () => {
    fx = await makeSeedFixture('mktorrent', { artifactSize: 3_000_000, pieceLength: 65536 })
    seeder = await startSeeder({ host: '127.0.0.1', port: 0, maxPerIp: 50 })
    seeder.add(fx.torrent, fx.paths)
    work = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-interop-'))
  })
  afterAll(async () => {
    await seeder?.close()
    await fx?.remove()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it.skipIf(!aria2cTool.found)(`aria2c downloads the release ${aria2cTool.reason}`, async () => {
    const tracker = await tinyTracker(seeder.port)
    const out = path.join(work, 'aria2c')
    try {
      const r = await aria2c(fx.torrentPath, out, ['--bt-tracker', tracker.url], 40_000)
      expect(r.code, r.output).toBe(0)
      await expectSameFiles(fx, path.join(out, fixtureName))
    } finally {
      await tracker.close()
    }
  })

  const noHostAddress = hostAddress
    ? ''
    : '(skipped: no non-loopback IPv4 address for Transmission)'
  it.skipIf(!transmission.found || !hostAddress)(
    `transmission-cli downloads the release ${transmission.reason}${noHostAddress}`,
    async () => {
      const local = await startSeeder({ host: hostAddress, port: 0 })
      local.add(fx.torrent, fx.paths)
      const tracker = await tinyTracker(local.port, hostAddress)
      const out = path.join(work, 'transmission')
      const config = path.join(work, 'transmission-config')
      await mkdir(config, { recursive: true })
      await mkdir(out, { recursive: true })
      await writeFile(
        path.join(config, 'settings.json'),
        JSON.stringify({
          'dht-enabled': false,
          'lpd-enabled': false,
          'pex-enabled': false,
          // Transmission's default: it dials uTP first (libutp), which the seeder accepts.
          'utp-enabled': true,
        }),
      )
      // transmission-cli keeps seeding after the download: stop it once every file is complete.
      const complete = async () => {
        for (const f of fx.files) {
          const got = await readFile(path.join(out, fixtureName, f.rel)).catch(() => null)
          if (!got || !got.equals(f.bytes)) return false
        }
        return true
      }
      // The torrent has no tracker; give transmission one through a copy that names ours.
      const torrent = Buffer.concat([
        Buffer.from(`d8:announce${tracker.url.length}:${tracker.url}`),
        fx.torrentBytes.subarray(1),
      ])
      const torrentPath = path.join(work, 'with-tracker.torrent')
      await writeFile(torrentPath, torrent)
      try {
        await run(
          'transmission-cli',
          ['-g', config, '-w', out, '-M', '-et', '-p', String(await freePort()), torrentPath],
          {
            timeoutMs: 40_000,
            until: complete,
          },
        )
        await expectSameFiles(fx, path.join(out, fixtureName))
        expect(local.stats().uploaded).toBeGreaterThanOrEqual(fx.torrent.length)
      } finally {
        await tracker.close()
        await local.close()
      }
    },
  )

  it.skipIf(!lt.found)(
    `libtorrent downloads the release from the .torrent ${lt.reason}`,
    async () => {
      const out = path.join(work, 'lt-torrent')
      const r = await libtorrentDownload(fx.torrentPath, out, `127.0.0.1:${seeder.port}`, {
        timeoutSec: 40,
      })
      expect(r.ok, JSON.stringify(r)).toBe(true)
      await expectSameFiles(fx, path.join(out, fixtureName))
    },
  )

  it.skipIf(!lt.found)(
    `libtorrent resolves a magnet link from our seeder alone ${lt.reason}`,
    async () => {
      const out = path.join(work, 'lt-magnet')
      const r = await libtorrentDownload(magnetLink(fx.torrent), out, `127.0.0.1:${seeder.port}`, {
        timeoutSec: 40,
      })
      expect(r.ok, JSON.stringify(r)).toBe(true)
      await expectSameFiles(fx, path.join(out, fixtureName))
    },
  )
})

describe.skipIf(!lt.found)(`seeder interop, hybrid torrent ${lt.reason}`, () => {
  it('libtorrent downloads a hybrid release (pad files, hash requests) from a magnet link', async () => {
    const fx = await makeSeedFixture('libtorrent', { artifactSize: 2_000_000, pieceLength: 65536 })
    const seeder = await startSeeder({ host: '127.0.0.1', port: 0 })
    const work = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-interop-'))
    try {
      expect(fx.torrent.format).toBe('hybrid')
      expect(fx.torrent.files.some((f) => f.pad)).toBe(true)
      seeder.add(fx.torrent, fx.paths)
      // From the magnet, libtorrent has only the info dict: no piece layers, so it must ask us
      // for them with BEP 52 hash requests before it can check v2 pieces.
      const r = await libtorrentDownload(magnetLink(fx.torrent), work, `127.0.0.1:${seeder.port}`, {
        timeoutSec: 40,
      })
      expect(r.ok, JSON.stringify(r)).toBe(true)
      await expectSameFiles(fx, path.join(work, fixtureName))
      expect(seeder.stats().hashesServed).toBeGreaterThan(0)
    } finally {
      await seeder.close()
      await fx.remove()
      await rm(work, { recursive: true, force: true })
    }
  })
})
