/**
 * `npm run bench:seed`: our seeder beside a libtorrent seeder, in one run, over loopback.
 *
 * 1. One aria2c downloads the whole release from each seeder alone (goal: us ≥ 1.5× libtorrent).
 * 2. 20 libtorrent leechers (one python process, 20 sessions) download from each seeder for a
 *    fixed window; aggregate payload rate (goal: us ≥ libtorrent).
 * 3. Our seeder's peak RSS over the whole run (goal: < 300 MB).
 *
 * BENCH_SIZE_MB (default 2048) sizes the release, generated once under .bench/;
 * BENCH_SWARM_SECONDS (default 20) is the leecher window; BENCH_ROUNDS (default 3) how many
 * alternating rounds; BENCH_ONLY=aria2c|swarm runs one part; BENCH_ENCRYPTION=rc4 makes the
 * leechers require RC4 (MSE); BENCH_SLOTS our unchoke slots. Our seeder runs in its own process
 * (`--serve`) so its RSS is its own. 2 shared cores: expect noise, run it more than once.
 */
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { mkdir, rm, stat, writeFile, open } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { parseTorrent } from '../lib/metainfo/index.ts'
import { startSeeder } from '../lib/peer/index.ts'
import { libtorrentDownload, libtorrentSeed, LT_RC4_ONLY } from '../test/lt-client.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 2048)
const swarmSeconds = Number(process.env.BENCH_SWARM_SECONDS ?? 20)
const leechers = 20
// libtorrent keeps its default unchoke_slots_limit (8), but puts loopback and LAN peers in its
// "local" peer class, which ignores unchoke slots: here it unchokes every leecher. Ours gets as
// many slots as there are leechers, the same treatment (BENCH_SLOTS to change ours).
const ltSlots = 8
const slots = Number(process.env.BENCH_SLOTS ?? leechers)
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
  // Peer exchange off: within the window libtorrent's seed sends none, and ours would have the
  // leechers (one process, on the same cores) dial each other, which measures them, not us.
  const seeder = await startSeeder({
    host: '127.0.0.1',
    port: 0,
    maxPerIp: 64,
    uploadSlots: slots,
    pex: false,
  })
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
  // ~1000-2000 pieces, as the piece-length rule in docs/architecture.md aims for.
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

async function aria2cRate(
  seederPort: number,
  label: string,
): Promise<{ rate: number; mb: number }> {
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
  return { rate: bytes / seconds / 1e6, mb: bytes / 1e6 }
}

async function swarmRate(seederPort: number, label: string): Promise<{ rate: number; mb: number }> {
  const out = path.join(benchDir, `out-swarm-${label}`)
  await rm(out, { recursive: true, force: true })
  const r = await libtorrentDownload(torrentPath, out, `127.0.0.1:${seederPort}`, {
    count: leechers,
    timeoutSec: swarmSeconds,
    // BENCH_ENCRYPTION=rc4: leechers that require RC4 (MSE), to price the encrypted path.
    settings: process.env.BENCH_ENCRYPTION === 'rc4' ? LT_RC4_ONLY : {},
  }).catch((err) => ({ bytes: 0, elapsed: 1, error: String(err) }))
  await rm(out, { recursive: true, force: true })
  return { rate: r.bytes / r.elapsed / 1e6, mb: r.bytes / 1e6 }
}

interface Seed {
  label: string
  port: number
  pid: number
}

/** Run `measure` against each seeder, alternating who goes first, and keep each one's median. */
async function rounds(
  seeds: Seed[],
  count: number,
  measure: (seed: Seed) => Promise<{ rate: number; mb: number }>,
): Promise<Array<{ rate: number; cpuPerGb: number }>> {
  const rates: number[][] = seeds.map(() => [])
  const cpu: number[][] = seeds.map(() => [])
  for (let r = 0; r < count; r++) {
    const order = r % 2 === 0 ? seeds : [...seeds].reverse()
    for (const seed of order) {
      const i = seeds.indexOf(seed)
      const before = cpuSeconds(seed.pid)
      const { rate, mb } = await measure(seed)
      rates[i].push(rate)
      // CPU seconds the seeder spent per GB sent: much less noisy than rates on a shared machine.
      cpu[i].push((cpuSeconds(seed.pid) - before) / (mb / 1000))
    }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]
  return seeds.map((_, i) => ({ rate: median(rates[i]), cpuPerGb: median(cpu[i]) }))
}

/** User + system CPU seconds of a process, all threads (utime, stime in /proc/<pid>/stat). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function main(): Promise<void> {
  await makeRelease()
  const ours = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', torrentPath, dataDir],
    { stdio: ['pipe', 'pipe', 'inherit'], cwd: root },
  )
  const [line] = (await once(ours.stdout, 'data')) as [Buffer]
  const theirs = await libtorrentSeed(torrentPath, dataDir, { slots: ltSlots })
  const seeds: Seed[] = [
    { label: 'mirrorseed', port: JSON.parse(line.toString()).port, pid: ours.pid! },
    { label: 'libtorrent', port: theirs.port, pid: theirs.pid },
  ]
  const count = Number(process.env.BENCH_ROUNDS ?? 3)
  try {
    console.log(
      `release: ${sizeMb} MB; unchoke slots: ours ${slots}, libtorrent all local peers; ${count} rounds, alternating, medians shown; ` +
        `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`,
    )
    // Warm the page cache so neither side pays for the first disk read.
    spawnSync('cat', [path.join(dataDir, name, `${name}.iso`)], { stdio: 'ignore' })
    const show = (
      what: string,
      goal: string,
      [us, lt]: Array<{ rate: number; cpuPerGb: number }>,
    ) =>
      console.log(
        `${what}: mirrorseed ${us.rate.toFixed(0)} MB/s, libtorrent ${lt.rate.toFixed(0)} MB/s, ` +
          `ratio ${(us.rate / lt.rate).toFixed(2)} (goal ${goal}); seeder CPU per GB: ` +
          `mirrorseed ${us.cpuPerGb.toFixed(2)} s, libtorrent ${lt.cpuPerGb.toFixed(2)} s`,
      )
    const only = process.env.BENCH_ONLY // 'aria2c' or 'swarm' while tuning one of them
    if (only !== 'swarm')
      show(
        'aria2c, one download',
        '≥ 1.5',
        await rounds(seeds, count, (s) => aria2cRate(s.port, s.label)),
      )
    if (only !== 'aria2c')
      show(
        `${leechers} leechers, ${swarmSeconds} s`,
        '≥ 1',
        await rounds(seeds, Math.max(1, count - 1), (s) => swarmRate(s.port, s.label)),
      )
    console.log(
      `peak RSS: mirrorseed ${peakRssMb(ours.pid!).toFixed(0)} MB (goal < 300), ` +
        `libtorrent ${peakRssMb(theirs.pid).toFixed(0)} MB (its files are mmapped)`,
    )
  } finally {
    ours.stdin!.end()
    theirs.stop()
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3], process.argv[4])
else await main()
