/**
 * `npm run bench:seed`: our seeder beside a libtorrent seeder, in one run, over loopback.
 *
 * 1. One aria2c downloads the whole release from each seeder alone (goal: us ≥ 1.5× libtorrent).
 * 2. 20 libtorrent leechers (one python process, 20 sessions) download from each seeder for a
 *    fixed window; aggregate payload rate (goal: us ≥ libtorrent).
 * 3. Our seeder's peak RSS over the whole run (goal: < 300 MB).
 *
 * BENCH_SIZE_MB (default 2048) sizes the release, generated once under .bench/;
 * BENCH_SWARM_SECONDS (default 20) is the leecher window. Our seeder runs in its own process
 * (`--serve`) so its RSS is its own. 2 shared cores: expect noise, run it more than once.
 */
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdir, rm, stat, writeFile, open } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { parseTorrent } from '../lib/metainfo/index.ts'
import { startSeeder } from '../lib/peer/index.ts'
import { libtorrentDownload, libtorrentSeed } from '../test/lt-client.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 2048)
const swarmSeconds = Number(process.env.BENCH_SWARM_SECONDS ?? 20)
const leechers = 20
const slots = 8 // libtorrent's default unchoke_slots_limit; ours is the same
const name = `install-amd64-minimal-bench-${sizeMb}M`
const benchDir = path.join(root, '.bench', 'seed')
const dataDir = path.join(benchDir, 'data')
const torrentPath = path.join(benchDir, `${name}.torrent`)

/** Peak resident set of a process, from the kernel (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return kb / 1024
}

async function serve(torrentFile: string, data: string): Promise<void> {
  const torrent = parseTorrent(readFileSync(torrentFile))
  const seeder = await startSeeder({ host: '127.0.0.1', port: 0, maxPerIp: 64, uploadSlots: slots })
  seeder.add(
    torrent,
    torrent.files.map((f) => (f.pad ? null : path.join(data, torrent.name, ...f.path))),
  )
  process.stdout.write(JSON.stringify({ port: seeder.port }) + '\n')
  process.stdin.resume()
  await once(process.stdin, 'end')
  await seeder.close()
}

async function makeRelease(): Promise<void> {
  const top = path.join(dataDir, name)
  const iso = path.join(top, `${name}.iso`)
  const want = sizeMb * 1024 * 1024
  if (existsSync(torrentPath) && (await stat(iso).catch(() => null))?.size === want) return
  console.log(`generating a ${sizeMb} MB release under ${path.relative(root, benchDir)} (once)`)
  await mkdir(top, { recursive: true })
  const fh = await open(iso, 'w')
  const chunk = 16 * 1024 * 1024
  for (let done = 0; done < want; done += chunk)
    await fh.write(randomBytes(Math.min(chunk, want - done)))
  await fh.close()
  await writeFile(path.join(top, `${name}.iso.DIGESTS`), randomBytes(1200))
  await writeFile(path.join(top, `${name}.iso.asc`), randomBytes(833))
  // ~1000-2000 pieces, as DESIGN's piece-length rule aims for.
  const pieceLog = Math.max(18, Math.min(24, Math.round(Math.log2(want / 1500))))
  await rm(torrentPath, { force: true })
  const r = spawnSync('mktorrent', ['-l', String(pieceLog), '-o', torrentPath, top], {
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`mktorrent failed: ${r.stderr}`)
}

/** Announces answer with one peer: the seeder under test. */
async function tracker(port: number): Promise<{ url: string; close(): void }> {
  const peer = Buffer.from([127, 0, 0, 1, port >> 8, port & 0xff])
  const server = http.createServer((_q, res) =>
    res.end(Buffer.concat([Buffer.from('d8:intervali30e5:peers6:'), peer, Buffer.from('e')])),
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/announce`,
    close: () => server.close(),
  }
}

async function aria2cRate(seederPort: number, label: string): Promise<number> {
  const t = await tracker(seederPort)
  const out = path.join(benchDir, `out-aria2c-${label}`)
  await rm(out, { recursive: true, force: true })
  const bytes = sizeMb * 1024 * 1024
  const child = spawn(
    'aria2c',
    [
      '--dir',
      out,
      '--bt-tracker',
      t.url,
      '--file-allocation=none',
      '--enable-dht=false',
      '--enable-dht6=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      '--seed-time=0',
      `--listen-port=${16881 + Math.floor(Math.random() * 1000)}`,
      '--console-log-level=warn',
      '--summary-interval=0',
      '--quiet=true',
      torrentPath,
    ],
    { stdio: 'inherit' },
  )
  // The clock starts at the first byte on disk: aria2c's own start-up, announce and connect
  // take seconds that say nothing about the seeder.
  const iso = path.join(out, name, `${name}.iso`)
  let start = 0
  const poll = setInterval(() => {
    if (start === 0 && (statSync(iso, { throwIfNoEntry: false })?.size ?? 0) > 0)
      start = performance.now()
  }, 10)
  const [code] = await once(child, 'close')
  clearInterval(poll)
  const seconds = (performance.now() - start) / 1000
  t.close()
  await rm(out, { recursive: true, force: true })
  if (code !== 0) throw new Error(`aria2c from ${label} exited ${code}`)
  return bytes / seconds / 1e6
}

async function swarmRate(seederPort: number, label: string): Promise<number> {
  const out = path.join(benchDir, `out-swarm-${label}`)
  await rm(out, { recursive: true, force: true })
  const r = await libtorrentDownload(torrentPath, out, `127.0.0.1:${seederPort}`, {
    count: leechers,
    timeoutSec: swarmSeconds,
  }).catch((err) => ({ bytes: 0, elapsed: 1, error: String(err) }))
  await rm(out, { recursive: true, force: true })
  return r.bytes / r.elapsed / 1e6
}

async function main(): Promise<void> {
  await makeRelease()
  const ours = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', torrentPath, dataDir],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      cwd: root,
    },
  )
  const [line] = (await once(ours.stdout, 'data')) as [Buffer]
  const ourPort = JSON.parse(line.toString()).port as number
  const theirs = await libtorrentSeed(torrentPath, dataDir, { slots })
  try {
    console.log(
      `release: ${sizeMb} MB; seeders: mirrorseed :${ourPort}, libtorrent :${theirs.port}; ${slots} unchoke slots each`,
    )
    // Warm the page cache so neither side pays for the first disk read.
    spawnSync('cat', [path.join(dataDir, name, `${name}.iso`)], {
      stdio: ['ignore', 'ignore', 'ignore'],
    })
    const ariaUs = await aria2cRate(ourPort, 'mirrorseed')
    const ariaLt = await aria2cRate(theirs.port, 'libtorrent')
    console.log(
      `aria2c, one download:   mirrorseed ${ariaUs.toFixed(0)} MB/s, libtorrent ${ariaLt.toFixed(0)} MB/s, ratio ${(ariaUs / ariaLt).toFixed(2)} (goal ≥ 1.5)`,
    )
    const swarmUs = await swarmRate(ourPort, 'mirrorseed')
    const swarmLt = await swarmRate(theirs.port, 'libtorrent')
    console.log(
      `${leechers} leechers, ${swarmSeconds} s: mirrorseed ${swarmUs.toFixed(0)} MB/s, libtorrent ${swarmLt.toFixed(0)} MB/s aggregate, ratio ${(swarmUs / swarmLt).toFixed(2)} (goal ≥ 1)`,
    )
    const rssUs = peakRssMb(ours.pid!)
    const rssLt = peakRssMb(theirs.pid)
    console.log(
      `peak RSS:               mirrorseed ${rssUs.toFixed(0)} MB (goal < 300), libtorrent ${rssLt.toFixed(0)} MB`,
    )
  } finally {
    ours.stdin!.end()
    theirs.stop()
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4])
else await main()
