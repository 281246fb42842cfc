/**
 * A flash crowd for `npm run bench:egress`: many real downloaders started at once on one
 * .torrent, finding each other (and the seed) only through the torrent's tracker, each seeding
 * for a while after it completes, as real users' clients do. Loopback only: DHT and local peer
 * discovery are off (both would leave loopback); peer exchange stays at the clients' default.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { freePort } from '../test/aria2c.ts'
import { systemPython } from '../test/tools.ts'

export interface CrowdResult {
  /** Per downloader, seconds from the crowd's start until it completed; null if it did not. */
  seconds: Array<number | null>
  /** Per downloader, whether its copy matches the release byte for byte (aria2c) or was hash-checked (libtorrent). */
  intact: boolean[]
}

export interface CrowdOptions {
  count: number
  /** A downloader stops this long after completing, or when the whole crowd has completed. */
  seedSeconds: number
  /** The whole crowd is stopped after this long, complete or not. */
  timeoutSeconds: number
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    // SIGTERM: aria2c then announces `stopped`, as a user's Ctrl-C does.
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000)
    child.once('close', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/**
 * `count` aria2c processes on `torrentPath`. Completion is aria2c's own
 * `--on-bt-download-complete` hook (run once every piece is verified, before seeding).
 * `artifact` (the file's path inside the torrent) and `sha256` check each copy.
 */
export async function aria2cCrowd(
  torrentPath: string,
  work: string,
  check: { artifact: string; sha256: string },
  options: CrowdOptions,
): Promise<CrowdResult> {
  await mkdir(work, { recursive: true })
  const hook = path.join(work, 'complete.sh')
  await writeFile(hook, '#!/bin/sh\ntouch "$EGRESS_MARK"\n')
  await chmod(hook, 0o755)
  const leechers = await Promise.all(
    Array.from({ length: options.count }, async (_, i) => ({
      dir: path.join(work, String(i)),
      mark: path.join(work, `done-${i}`),
      port: await freePort(),
    })),
  )
  const start = performance.now()
  const children = leechers.map(({ dir, mark, port }) =>
    spawn(
      'aria2c',
      [
        '--no-conf',
        `--dir=${dir}`,
        '--enable-dht=false',
        '--enable-dht6=false',
        '--bt-enable-lpd=false',
        '--file-allocation=none',
        `--seed-time=${options.seedSeconds / 60}`,
        '--seed-ratio=0.0',
        '--summary-interval=0',
        '--console-log-level=error',
        '--quiet=true',
        `--listen-port=${port}`,
        `--on-bt-download-complete=${hook}`,
        torrentPath,
      ],
      { stdio: 'ignore', env: { ...process.env, EGRESS_MARK: mark } },
    ),
  )
  const seconds: Array<number | null> = leechers.map(() => null)
  const exited = children.map((c) => new Promise((r) => c.once('close', r)))
  await new Promise<void>((resolve) => {
    const deadline = start + options.timeoutSeconds * 1000
    const poll = setInterval(() => {
      leechers.forEach(({ mark }, i) => {
        if (seconds[i] === null && existsSync(mark)) seconds[i] = (performance.now() - start) / 1000
      })
      const allExited = children.every((c) => c.exitCode !== null || c.signalCode !== null)
      if (seconds.every((s) => s !== null) || allExited || performance.now() > deadline) {
        clearInterval(poll)
        resolve()
      }
    }, 50)
  })
  await Promise.all(children.map(stop))
  await Promise.all(exited)
  const intact = await Promise.all(
    leechers.map(async ({ dir }, i) => {
      const file = path.join(dir, check.artifact)
      return seconds[i] !== null && existsSync(file) && (await sha256(file)) === check.sha256
    }),
  )
  return { seconds, intact }
}

/**
 * python3-libtorrent downloaders, one process each as users run them (libtorrent caches UDP
 * tracker connection ids per process, which would make sessions sharing one process announce
 * with another socket's id). DHT, LSD, UPnP and NAT-PMP are off (loopback only), uTP off (our
 * seeder speaks TCP; libtorrent would try uTP first). Peers come from the torrent's trackers.
 * Each process starts its session, says `ready`, adds the torrent on `go`, prints `done` with
 * the seconds it took, and stops `seedSeconds` later or on `stop`. libtorrent hash-checks every
 * piece, so a completed download holds the release intact.
 */
const ltLeecherScript = String.raw`
import sys, time, select, libtorrent as lt
source, save, seed_seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
ses = lt.session({
  'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
  'enable_upnp': False, 'enable_natpmp': False, 'alert_mask': 0,
  'allow_multiple_connections_per_ip': True,
  'enable_outgoing_utp': False, 'enable_incoming_utp': False,
})
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(source)
atp.save_path = save
print('ready', flush=True)
sys.stdin.readline()
start = time.time()
h = ses.add_torrent(atp)
done = None
while True:
  if done is None and h.status().is_seeding:
    done = time.time() - start
    print('done', done, flush=True)
  if done is not None and time.time() - start - done > seed_seconds:
    break
  if select.select([sys.stdin], [], [], 0.05)[0]:
    break
h.pause()
time.sleep(0.3)
`

export async function libtorrentCrowd(
  torrentPath: string,
  work: string,
  options: CrowdOptions,
): Promise<CrowdResult> {
  const seconds: Array<number | null> = Array.from({ length: options.count }, () => null)
  const children = Array.from({ length: options.count }, (_, i) =>
    spawn(
      systemPython,
      ['-c', ltLeecherScript, torrentPath, path.join(work, String(i)), String(options.seedSeconds)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    ),
  )
  const lines = children.map((child) => {
    let out = ''
    const waiters: Array<() => void> = []
    child.stdout!.on('data', (d) => {
      out += d
      for (const w of waiters.splice(0)) w()
    })
    return {
      text: () => out,
      changed: () => new Promise<void>((r) => waiters.push(r)),
    }
  })
  const exited = children.map((c) => new Promise((r) => c.once('close', r)))
  // Every session is up before any download starts: the crowd arrives together.
  await Promise.all(
    lines.map(async (l, i) => {
      while (!l.text().includes('ready')) {
        if (children[i].exitCode !== null) throw new Error('libtorrent leecher exited')
        await Promise.race([l.changed(), exited[i]])
      }
    }),
  )
  for (const child of children) child.stdin!.write('go\n')
  const start = performance.now()
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      lines.forEach((l, i) => {
        const m = /done ([\d.]+)/.exec(l.text())
        if (m && seconds[i] === null) seconds[i] = Number(m[1])
      })
      const late = performance.now() - start > options.timeoutSeconds * 1000
      if (seconds.every((s) => s !== null) || late) {
        clearInterval(poll)
        resolve()
      }
    }, 50)
  })
  for (const child of children) if (child.exitCode === null) child.stdin!.end('stop\n')
  await Promise.all(exited)
  return { seconds, intact: seconds.map((s) => s !== null) }
}

/**
 * A python3-libtorrent seed of `torrentPath` from `save`, announcing to the torrent's tracker;
 * `superSeed` turns on BEP 16 super-seeding. `stop()` ends it and gives the payload bytes it
 * uploaded.
 */
const ltSeedScript = String.raw`
import sys, json, libtorrent as lt
source, save, superseed = sys.argv[1], sys.argv[2], sys.argv[3] == '1'
ses = lt.session({
  'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
  'enable_upnp': False, 'enable_natpmp': False, 'alert_mask': 0,
  'allow_multiple_connections_per_ip': True,
  'enable_outgoing_utp': False, 'enable_incoming_utp': False,
})
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(source)
atp.save_path = save
atp.flags |= lt.torrent_flags.seed_mode
if superseed:
  atp.flags |= lt.torrent_flags.super_seeding
h = ses.add_torrent(atp)
print(json.dumps({'port': ses.listen_port()}), flush=True)
sys.stdin.read()
print(json.dumps({'uploaded': h.status().total_payload_upload}), flush=True)
`

export async function libtorrentSeeder(
  torrentPath: string,
  save: string,
  superSeed: boolean,
): Promise<{ stop(): Promise<number> }> {
  const child = spawn(
    systemPython,
    ['-c', ltSeedScript, torrentPath, save, superSeed ? '1' : '0'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => out.includes('\n') && resolve())
    child.on('error', reject)
    child.on('close', () => reject(new Error('libtorrent seed exited')))
  })
  return {
    async stop() {
      const closed = new Promise((r) => child.once('close', r))
      child.stdin!.end()
      await closed
      return JSON.parse(out.trim().split('\n').pop()!).uploaded as number
    },
  }
}

/**
 * opentracker on loopback, as the reference setups announce to. Debian builds it in whitelist
 * mode: it tracks only the info-hashes (hex) listed in a file, read after its chroot to `dir`.
 */
export async function startOpentracker(
  dir: string,
  infoHash: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort()
  await writeFile(path.join(dir, 'whitelist'), infoHash + '\n')
  const args = [
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-P',
    String(port),
    '-d',
    dir,
    '-w',
    '/whitelist',
  ]
  const child = spawn('opentracker', args, { cwd: dir, stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}/announce`
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/stats`).then(
      () => true,
      () => false,
    )
    if (up) break
    await new Promise((r) => setTimeout(r, 50))
  }
  return { url, stop: () => stop(child) }
}
