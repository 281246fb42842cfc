/**
 * `npm run bench:tracker`: random announces over 1,000 published torrents on loopback, against
 * `mirrorseed serve` (the program as deployed: every role, PGlite, the generator's tree) and
 * Debian's opentracker in whitelist mode, in the same run, rounds alternating, medians:
 *   - HTTP with wrk, one connection per request (`Connection: close`) and keep-alive;
 *   - UDP with the load generator below (a window of announces in flight, BEP 15 connect first);
 *   - CPU microseconds per answered request of each server process (from /proc): what the
 *     server costs whatever else the shared machine runs;
 *   - ceilings in the same run, answering a constant reply with no tracker work
 *     (bench/tracker-server.ts --floor): node:http and dgram, and serve's own HTTP front (lib/http:
 *     bare handles, then node:net); the distance from the front ceiling is what the tracker costs;
 *   - serve's memory idle and after the runs, on PGlite (the embedded default) and on Postgres
 *     (127.0.0.1:5432, or BENCH_POSTGRES_URL; a database of its own, dropped after; the second
 *     serve publishes its own copy of the tree); the memory of 1,000,000 peers (diagnostic).
 * BENCH_INPROCESS=1 adds the tracker alone in its own process (bench/tracker-server.ts) as a
 * diagnostic. The tree and database are built once under .bench/tracker with `mirrorseed scan`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import bencode from 'bencode'
import postgres from 'postgres'
import { parseTorrent } from '../lib/metainfo/index.ts'
import { announceReply } from '../lib/tracker/response.ts'
import { runCli, startServe, until } from '../test/cli.ts'
import { cpuSeconds, machineLoad, median, memory as memoryOf } from './machine.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const UDP_WINDOW = Number(process.env.BENCH_UDP_WINDOW ?? 64)
const UDP_MAX_REQUESTS = 2_000_000
const TORRENTS = 1000

const here = fileURLToPath(new URL('.', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'bench-tracker-'))
// opentracker drops to `nobody` and chroots here: the folder and whitelist must be readable.
chmodSync(dir, 0o755)
const fixture = await publishedTree()
const hashes = fixture.hashes
const whitelist = join(dir, 'whitelist')
writeFileSync(whitelist, hashes.map((h) => h.toString('hex')).join('\n') + '\n', { mode: 0o644 })

function wrkScript(close: boolean): string {
  const escaped = hashes.map(
    (h) => '"' + [...h].map((b) => '%' + b.toString(16).padStart(2, '0')).join('') + '"',
  )
  const path = join(dir, `announce-${close ? 'close' : 'keepalive'}.lua`)
  writeFileSync(
    path,
    `local hashes = { ${escaped.join(', ')} }
${close ? 'wrk.headers["Connection"] = "close"' : ''}
function setup(thread) math.randomseed(os.time()) end
request = function()
  local h = hashes[math.random(#hashes)]
  local left = 1000
  if math.random() < 0.3 then left = 0 end
  local path = "/announce?info_hash=" .. h .. "&peer_id=-WR0001-" .. string.format("%012d", math.random(0, 999999999)) ..
    "&port=" .. math.random(1024, 65535) .. "&uploaded=0&downloaded=0&left=" .. left .. "&compact=1&numwant=50"
  return wrk.format("GET", path)
end
`,
  )
  return path
}

function wrk(port: number, close: boolean): { rate: number; requests: number } {
  const result = spawnSync(
    'wrk',
    [
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${SECONDS}s`,
      '-s',
      wrkScript(close),
      `http://127.0.0.1:${port}/`,
    ],
    { encoding: 'utf8' },
  )
  const match = /Requests\/sec:\s+([\d.]+)/.exec(result.stdout)
  const count = /(\d+) requests in/.exec(result.stdout)
  if (!match || !count) throw new Error(`wrk gave no rate:\n${result.stdout}${result.stderr}`)
  return { rate: Number(match[1]), requests: Number(count[1]) }
}

/** BEP 15 load: connect once per socket, then keep `UDP_WINDOW` announces in flight. */
async function udpLoad(port: number): Promise<{ rate: number; requests: number }> {
  const sockets = 4
  let replies = 0
  let sent = 0
  const deadline = Date.now() + SECONDS * 1000
  const runs = Array.from({ length: sockets }, async (_, s) => {
    const socket = createSocket('udp4')
    socket.bind(0, '127.0.0.1')
    await once(socket, 'listening')
    const connect = Buffer.from(
      '0000041727101980000000000000' + (s + 1).toString(16).padStart(4, '0'),
      'hex',
    )
    let connectionId: Buffer | null = null
    const gotId = new Promise<void>((resolve) => {
      socket.on('message', (msg) => {
        if (msg.readUInt32BE(0) === 0) {
          connectionId = Buffer.from(msg.subarray(8, 16))
          resolve()
        } else if (msg.readUInt32BE(0) === 1) {
          replies++
          if (Date.now() < deadline && sent < UDP_MAX_REQUESTS) send()
        }
      })
    })
    for (let tries = 0; connectionId === null && tries < 100; tries++) {
      socket.send(connect, port, '127.0.0.1')
      await Promise.race([gotId, new Promise((r) => setTimeout(r, 100))])
    }
    if (connectionId === null) throw new Error(`no UDP connect reply from port ${port}`)
    const packet = Buffer.alloc(98)
    ;(connectionId as Buffer).copy(packet, 0)
    packet.writeUInt32BE(1, 8)
    packet.writeInt32BE(50, 92)
    function send(): void {
      sent++
      packet.writeUInt32BE(sent, 12)
      hashes[Math.floor(Math.random() * TORRENTS)].copy(packet, 16)
      randomBytes(4).copy(packet, 52)
      packet.writeUInt32BE(Math.random() < 0.3 ? 0 : 1000, 68)
      packet.writeUInt16BE(1024 + Math.floor(Math.random() * 64000), 96)
      socket.send(packet, port, '127.0.0.1')
    }
    // Refill the window now and then: a dropped packet must not shrink it for good.
    const started = Date.now()
    while (Date.now() < deadline) {
      const inFlight = sent - replies / sockets
      for (let window = Math.max(0, UDP_WINDOW - Math.max(0, inFlight)); window > 0; window--)
        send()
      await new Promise((r) => setTimeout(r, 50))
    }
    socket.close()
    return started
  })
  const started = Math.min(...(await Promise.all(runs)))
  return { rate: replies / ((Date.now() - started) / 1000), requests: replies }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  server.close()
  return port
}

async function startOpentracker(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort()
  // Root is required to chroot (-d) and drop to -u; as another user it runs in place.
  const asRoot = process.getuid?.() === 0
  const args = ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir]
  args.push('-w', asRoot ? '/whitelist' : whitelist)
  if (asRoot) args.push('-u', 'nobody')
  const child = spawn('opentracker', args, { stdio: 'ignore' })
  await waitForHttp(port)
  return { child, port }
}

async function waitForHttp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/announce`)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  throw new Error(`nothing answers on port ${port}`)
}

async function startOurs(
  mode = whitelist,
  variant?: string,
): Promise<{ child: ChildProcess; http: number; udp: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'tracker-server.ts'), mode, ...(variant ? [variant] : [])],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const [line] = (await once(child.stdout!, 'data')) as [Buffer]
  const { http, udp } = JSON.parse(line.toString()) as { http: number; udp: number }
  return { child, http, udp }
}

/**
 * 1,000 releases of one small image each, published by `mirrorseed scan` into PGlite once and
 * kept under .bench/tracker for later runs; their info-hashes from the .torrent files it wrote.
 */
async function publishedTree(): Promise<{
  root: string
  dataDir: string
  hashes: Buffer[]
  port: number
}> {
  const base = join(here, '..', '.bench', 'tracker', `releases-${TORRENTS}`)
  const root = join(base, 'root')
  const dataDir = join(base, 'data')
  // The torrents name the tracker they were made for: serve must run on that same port, or its
  // seeder announces 1,000 torrents to a port nobody answers and it rewrites them all at start.
  const portFile = join(base, 'port')
  if (!existsSync(portFile)) {
    rmSync(base, { recursive: true, force: true })
    console.log(`publishing ${TORRENTS} releases with mirrorseed scan (once, kept in ${base})`)
    for (let i = 0; i < TORRENTS; i++) {
      mkdirSync(join(root, `r${i}`), { recursive: true })
      writeFileSync(join(root, `r${i}`, `image-${i}.iso`), randomBytes(2048))
    }
    const port = await freePort()
    const scan = await runCli(['scan', ...treeArgs(root, dataDir, port)], { timeoutMs: 900_000 })
    if (scan.code !== 0) throw new Error(`mirrorseed scan failed:\n${scan.stderr}`)
    writeFileSync(portFile, String(port))
  }
  const port = Number(readFileSync(portFile, 'utf8'))
  const hashes: Buffer[] = []
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.torrent'))
        hashes.push(parseTorrent(readFileSync(path)).infoHash!)
    }
  }
  walk(join(root, 'torrents'))
  if (hashes.length !== TORRENTS)
    throw new Error(`${base}: ${hashes.length} torrents, not ${TORRENTS}`)
  return { root, dataDir, hashes, port }
}

function treeArgs(root: string, dataDir: string, port: number): string[] {
  return [
    ...['--root', root, '--data-dir', dataDir, '--profile', 'generic', '--min-size', '1024'],
    ...['--public-url', `http://127.0.0.1:${port}`, '--http-port', String(port)],
    ...['--udp-port', String(port)],
  ]
}

/**
 * Resolves once the process used under 2 % of a core in each of three seconds in a row (at most
 * 5 minutes): one quiet second on a busy machine may only mean it got no CPU.
 */
async function settled(pid: number): Promise<void> {
  for (let i = 0, quiet = 0; i < 300 && quiet < 3; i++) {
    const before = cpuSeconds(pid)
    await new Promise((r) => setTimeout(r, 1000))
    quiet = cpuSeconds(pid) - before < 0.02 ? quiet + 1 : 0
  }
}

interface Contender {
  name: string
  pid: number
  http: number
  udp: number
  stop(): Promise<unknown>
  /** serve: seconds from its spawn to the end of its first pass over the tree. */
  firstPass?: number
}

async function startServeContender(
  name: string,
  tree: { root: string; dataDir: string; port: number },
  databaseUrl?: string,
): Promise<Contender> {
  // The per-address limits are lifted: every request of the load comes from 127.0.0.1, and
  // opentracker stores every port of it too.
  const config = join(dir, `mirrorseed-${databaseUrl ? 'postgres' : 'pglite'}.yaml`)
  writeFileSync(
    config,
    'tracker:\n  rateLimitPerMinute: 1000000000\n  maxPeersPerAddress: 1000000000\n' +
      (databaseUrl ? `databaseUrl: ${JSON.stringify(databaseUrl)}\n` : ''),
  )
  const started = performance.now()
  const serve = await startServe([
    '--config',
    config,
    ...treeArgs(tree.root, tree.dataDir, tree.port),
  ])
  await until('the first pass', () => serve.log().includes('reconciled scope=/'), 900_000)
  const firstPass = (performance.now() - started) / 1000
  // Its first reconcile of the tree and what follows it (web-seed lists rewritten after the
  // first mirror check) are start-up, not load: wait until it sits idle.
  await settled(serve.child.pid!)
  return {
    name,
    pid: serve.child.pid!,
    http: serve.httpPort,
    udp: serve.udpPort!,
    stop: () => serve.stop(),
    firstPass,
  }
}

/**
 * serve on Postgres: a database of its own on the server tests use, and a copy of the tree's
 * releases (not its torrents) on a port of its own, which it publishes at start as a first
 * deployment would. Undefined, with the reason printed, when no Postgres answers.
 */
async function startPostgresContender(): Promise<
  { contender: Contender; drop: () => Promise<void> } | undefined
> {
  const url = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const admin = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} })
  const name = `mirrorseed_bench_${randomBytes(4).toString('hex')}`
  try {
    await admin.unsafe(`create database ${name}`)
  } catch (err) {
    console.log(`serve on Postgres not measured: ${url} refused (${(err as Error).message})`)
    await admin.end({ timeout: 1 })
    return undefined
  }
  const drop = async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end({ timeout: 1 })
  }
  const root = join(dir, 'postgres-root')
  cpSync(fixture.root, root, {
    recursive: true,
    filter: (source) =>
      !/\/(torrents|torrent-symlinks)(\/|$)/.test(source.slice(fixture.root.length)),
  })
  const dbUrl = new URL(url)
  dbUrl.pathname = `/${name}`
  try {
    const tree = { root, dataDir: join(dir, 'postgres-data'), port: await freePort() }
    mkdirSync(tree.dataDir)
    return {
      contender: await startServeContender('serve on Postgres', tree, dbUrl.toString()),
      drop,
    }
  } catch (err) {
    await drop()
    throw err
  }
}

async function startOpentrackerContender(): Promise<Contender> {
  const { child, port } = await startOpentracker()
  return { name: 'opentracker', pid: child.pid!, http: port, udp: port, stop: kill(child) }
}

async function startNodeContender(
  name: string,
  mode: string,
  variant?: string,
): Promise<Contender> {
  const { child, http, udp } = await startOurs(mode, variant)
  return { name, pid: child.pid!, http, udp, stop: kill(child) }
}

function kill(child: ChildProcess): () => Promise<unknown> {
  return () => {
    const exited = once(child, 'exit')
    child.kill()
    return exited
  }
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
type Load = 'close' | 'keep' | 'udp'
const loads: Array<[Load, string]> = [
  ['close', 'HTTP connection per request'],
  ['keep', 'HTTP keep-alive'],
  ['udp', 'UDP announce (window ' + UDP_WINDOW + ')'],
]

/** One run of one load against one server: its rate and the server's CPU per request. */
async function measure(
  contender: Contender,
  load: Load,
): Promise<{ rate: number; cpuMicros: number }> {
  const before = cpuSeconds(contender.pid)
  const run = load === 'udp' ? await udpLoad(contender.udp) : wrk(contender.http, load === 'close')
  const cpu = cpuSeconds(contender.pid) - before
  return { rate: run.rate, cpuMicros: (cpu / Math.max(1, run.requests)) * 1e6 }
}

console.log(machineLoad())
const serve = await startServeContender('mirrorseed serve', fixture)
const idle = memoryOf(serve.pid)
const contenders = [
  serve,
  await startOpentrackerContender(),
  await startNodeContender('node ceiling', '--floor'),
  await startNodeContender('front ceiling', '--floor', 'front'),
]
if (process.env.BENCH_INPROCESS === '1')
  contenders.push(await startNodeContender('tracker alone', whitelist))
const onPostgres = await startPostgresContender()
const postgresIdle = onPostgres && memoryOf(onPostgres.contender.pid)
if (onPostgres) contenders.push(onPostgres.contender)
try {
  console.log(
    `tracker benchmark: ${TORRENTS} torrents, ${SECONDS}s per run, median of ${ROUNDS} alternating rounds, ` +
      `wrk -t1 -c${CONNECTIONS}, UDP window ${UDP_WINDOW}`,
  )
  console.log(
    '(node ceiling: node:http and dgram answering a constant reply, no tracker work; front ' +
      "ceiling: the same through serve's own HTTP front, lib/http, bare handles first; " +
      'CPU: microseconds of the server process per answered request)',
  )
  const results = new Map<string, { rate: number[]; cpu: number[] }>()
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order too, so that no server always runs right after the same one.
    const order = round % 2 ? [...contenders].reverse() : contenders
    for (const [load] of loads) {
      for (const contender of order) {
        const { rate, cpuMicros } = await measure(contender, load)
        const key = `${load}/${contender.name}`
        const entry = results.get(key) ?? { rate: [], cpu: [] }
        entry.rate.push(rate)
        entry.cpu.push(cpuMicros)
        results.set(key, entry)
      }
    }
  }
  for (const [load, label] of loads) {
    console.log(label)
    const of = (name: string) => results.get(`${load}/${name}`)!
    const reference = of('opentracker')
    for (const contender of contenders) {
      const r = of(contender.name)
      const ratio = median(r.rate) / median(reference.rate)
      console.log(
        `  ${contender.name.padEnd(17)} ${median(r.rate).toFixed(0).padStart(7)}/s` +
          `  ${median(r.cpu).toFixed(1).padStart(6)} CPU-us/request` +
          (contender.name === 'opentracker' ? '' : `   ratio to opentracker ${ratio.toFixed(2)}x`) +
          `   (rounds: ${r.rate.map((x) => x.toFixed(0)).join(' ')})`,
      )
    }
  }
  // opentracker closes every connection after its reply, so its keep-alive run is really
  // connection-per-request too (wrk counts the closes as read errors).
  const loaded = memoryOf(serve.pid)
  console.log(
    `mirrorseed serve memory (PGlite, every role): idle ${idle.rss.toFixed(0)} MB, ` +
      `after the runs ${loaded.rss.toFixed(0)} MB, peak ${loaded.peak.toFixed(0)} MB; ` +
      `opentracker ${memoryOf(contenders[1].pid).rss.toFixed(0)} MB`,
  )
  if (onPostgres && postgresIdle) {
    // The database server's own memory is not in these figures: it is another process, shared
    // by whatever else uses it.
    const after = memoryOf(onPostgres.contender.pid)
    console.log(
      `mirrorseed serve memory (Postgres, every role): idle ${postgresIdle.rss.toFixed(0)} MB, ` +
        `after the runs ${after.rss.toFixed(0)} MB, peak ${after.peak.toFixed(0)} MB`,
    )
    // It started on a new database, so its first pass published the whole tree.
    console.log(
      `mirrorseed serve on Postgres, first start publishing ${TORRENTS} releases: ` +
        `${onPostgres.contender.firstPass?.toFixed(1)} s from spawn to the end of its first pass`,
    )
  }
  console.log(machineLoad())
} finally {
  for (const contender of contenders) await contender.stop()
  await onPostgres?.drop()
}

// Why the announce reply is written by hand (lib/tracker/response.ts): the same 50-peer reply
// through a generic encoder (the npm bencode package: builds, sorts and joins) and through ours.
{
  const peers = randomBytes(50 * 6)
  const fields = {
    complete: 12,
    downloaded: 3456,
    incomplete: 78,
    interval: 1873,
    'min interval': 900,
  }
  const reply = {
    ...fields,
    minInterval: 900,
    externalIp: randomBytes(4),
    peers,
    peers6: Buffer.alloc(0),
  }
  const rate = (fn: () => unknown) => {
    const n = 100_000
    const start = performance.now()
    for (let i = 0; i < n; i++) fn()
    return n / ((performance.now() - start) / 1000)
  }
  const generic = rate(() => bencode.encode({ ...fields, 'external ip': reply.externalIp, peers }))
  const ours = rate(() => announceReply(reply, true))
  console.log(
    `announce reply encoding      hand-written ${ours.toFixed(0)}/s   generic bencode ${generic.toFixed(0)}/s   ratio ${(ours / generic).toFixed(1)}`,
  )
}

const memory = spawnSync(
  process.execPath,
  [
    '--expose-gc',
    '--import',
    'tsx',
    join(here, 'tracker-server.ts'),
    '--memory',
    '1000000',
    '10000',
  ],
  { encoding: 'utf8' },
)
const figure = JSON.parse(memory.stdout) as {
  peers: number
  rss: number
  baseline: number
  heapUsed: number
  arrayBuffers: number
}
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`
console.log(
  `memory: ${figure.peers} peers over 10000 torrents, RSS ${mb(figure.rss)} (goal under 300 MB): ` +
    `${mb(figure.rss - figure.baseline)} over the process at start (${mb(figure.baseline)}, ` +
    `Node + tsx); live: JS heap ${mb(figure.heapUsed)}, typed arrays ${mb(figure.arrayBuffers)}`,
)
rmSync(dir, { recursive: true, force: true })
