/**
 * `npm run bench:flood`: the tracker's and the seeder's rates with and without a flood of public
 * page requests, through `serve` as a process (issue 14: three concurrent loops of metalink
 * requests once took `/scrape` from ~1,200/s to 39/s). Goal: both within 20 % of quiet.
 *
 * One `serve` on PGlite over a Gentoo fixture (two releases' torrents, a BENCH_SIZE_MB artifact).
 * - tracker: wrk -t1 -c4, HTTP announces kept alive (random ports) over the torrents;
 * - seeder: one peer-wire client in this process, 64 block requests in flight, cycling through
 *   the artifact (our own seeder only: step-back is off so a crowd never changes its pace);
 * - flood: wrk -t1 -c${FLOOD_CONNECTIONS:-3}, cycling `/`, `/feed.xml`, every metalink and every
 *   `.torrent`, on the same HTTP port.
 * Each of BENCH_ROUNDS rounds measures quiet and flooded (in alternating order), BENCH_SECONDS
 * each; ratios per round, medians printed. Rates are the loads' own counts; serve's CPU seconds beside them.
 */
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { parseTorrent, type Torrent } from '../lib/metainfo/index.ts'
import { encodeHandshake, encodeRequest, INTERESTED } from '../lib/peer/encode.ts'
import { ready, startServe, type RunningServe } from '../test/cli.ts'
import { buildGentooTree, fixtureMinSize } from '../test/fixtures/mirror-tree.ts'
import { cpuSeconds, machineLoad, median } from './machine.ts'

const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const floodConnections = Number(process.env.FLOOD_CONNECTIONS ?? 3)
const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 64)

const work = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-flood-'))
const tree = await buildGentooTree({ sizes: { iso: sizeMb * 1024 * 1024 } })
/**
 * Every load comes from 127.0.0.1: the tracker's per-address limits would measure themselves
 * instead, so they are lifted. The page pace (`web.pagesPerSecond`) is what stands between a
 * flood from one address and the event loop: the shipped default first, then lifted, to show
 * what a flood costs without it.
 */
async function configFile(name: string, pagesPerSecond?: number): Promise<string> {
  const file = path.join(work, `${name}.yaml`)
  await writeFile(
    file,
    [
      'tracker:',
      '  rateLimitPerMinute: 1000000000',
      '  maxPeersPerAddress: 1000000000',
      'egress:',
      '  stepBack: false',
      'dht:',
      '  enabled: false',
      ...(pagesPerSecond ? ['web:', `  pagesPerSecond: ${pagesPerSecond}`] : []),
    ].join('\n') + '\n',
  )
  return file
}

const exec = promisify(execFile)

/** One wrk run of `script` against `port`; requests per second. */
async function wrk(port: number, connections: number, script: string, secs: number) {
  const out = await exec(
    'wrk',
    ['-t1', `-c${connections}`, `-d${secs}s`, '-s', script, `http://127.0.0.1:${port}/`],
    { encoding: 'utf8' },
  )
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)?.[1])
  if (!rate || /Non-2xx|(connect|read|write|timeout) [1-9]/.test(out.stdout))
    throw new Error(`wrk failed:\n${out.stdout}${out.stderr}`)
  return rate
}

const escape = (bytes: Buffer) =>
  [...bytes].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')

async function torrentsOf(root: string): Promise<Torrent[]> {
  const out: Torrent[] = []
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.torrent'))
      out.push(parseTorrent(await readFile(path.join(entry.parentPath, entry.name))))
  }
  return out
}

/**
 * Payload bytes per second from our seeder to one peer-wire client: handshake, interested, then
 * 64 block requests kept in flight, cycling through every block of the torrent.
 */
async function seederRate(port: number, torrent: Torrent, secs: number): Promise<number> {
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  await once(socket, 'connect')
  socket.write(
    encodeHandshake(torrent.infoHash!, Buffer.from('-BF0001-000000000001'), {
      fast: false,
      extended: false,
      v2: false,
    }),
  )
  socket.write(INTERESTED)
  const block = 16384
  const blocks = Math.ceil(torrent.length / block)
  const perPiece = torrent.pieceLength / block
  let next = 0
  const request = () => {
    const n = next++ % blocks
    const index = Math.floor(n / perPiece)
    const begin = (n % perPiece) * block
    const length = Math.min(block, torrent.length - (index * torrent.pieceLength + begin))
    socket.write(encodeRequest({ index, begin, length }))
  }
  let payload = 0
  let started = 0
  let pending: Buffer = Buffer.alloc(0)
  let handshake = true
  const done = new Promise<number>((resolve, reject) => {
    socket.on('error', reject)
    socket.on('close', () => reject(new Error('the seeder closed the connection')))
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
      if (handshake) {
        if (pending.length < 68) return
        pending = pending.subarray(68)
        handshake = false
      }
      while (pending.length >= 4) {
        const length = pending.readUInt32BE(0)
        if (pending.length < 4 + length) break
        const id = length > 0 ? pending[4] : -1
        if (id === 1 && started === 0) {
          // Unchoked: the window opens now.
          started = performance.now()
          for (let i = 0; i < 64; i++) request()
          setTimeout(() => {
            socket.removeAllListeners('close')
            socket.destroy()
            resolve(payload / ((performance.now() - started) / 1000))
          }, secs * 1000)
        } else if (id === 7) {
          payload += length - 9
          request()
        }
        pending = pending.subarray(4 + length)
      }
    })
  })
  return done
}

async function run(label: string, config: string): Promise<void> {
  let serve: RunningServe | undefined
  try {
    serve = await startServe(
      [
        '--config',
        config,
        '--root',
        tree.root,
        '--data-dir',
        path.join(work, 'data'),
        '--profile',
        'gentoo',
        '--min-size',
        String(fixtureMinSize),
      ],
      { env: { DATABASE_URL: '' } },
    )
    await ready(serve)
    const port = serve.httpPort
    const peerPort = serve.peerPort
    if (!peerPort) throw new Error('serve did not say its peer port')
    const torrents = await torrentsOf(tree.root)
    const artifact = torrents.reduce((a, b) => (b.length > a.length ? b : a))

    // The flood's paths, as the index page links them.
    const index = await (await fetch(`${serve.url}/`)).text()
    const links = [...index.matchAll(/href="(\/(?:torrents|metalink)\/[^"]+)"/g)].map((m) => m[1])
    if (links.length < 2)
      throw new Error(`the index page links no torrents:\n${index.slice(0, 500)}`)
    const pages = ['/', '/feed.xml', ...new Set(links)]
    const floodScript = path.join(work, 'flood.lua')
    await writeFile(
      floodScript,
      `local paths = { ${pages.map((p) => JSON.stringify(p)).join(', ')} }
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
`,
    )
    const announceScript = path.join(work, 'announce.lua')
    await writeFile(
      announceScript,
      `local hashes = { ${torrents.map((t) => `"${escape(t.infoHash!)}"`).join(', ')} }
request = function()
  local path = "/announce?info_hash=" .. hashes[math.random(#hashes)] ..
    "&peer_id=-WR0001-" .. string.format("%012d", math.random(0, 999999999)) ..
    "&port=" .. math.random(1024, 65535) .. "&uploaded=0&downloaded=0&left=1000&compact=1&numwant=50"
  return wrk.format("GET", path)
end
`,
    )

    const pid = serve.child.pid!
    const measure = async <T>(what: () => Promise<T>, flood: boolean) => {
      const cpu = cpuSeconds(pid)
      let floodRate: Promise<number> | undefined
      if (flood) {
        floodRate = wrk(port, floodConnections, floodScript, seconds + 1)
        await new Promise((r) => setTimeout(r, 500))
      }
      const value = await what()
      const used = cpuSeconds(pid) - cpu
      return { value, cpu: used, flood: floodRate ? await floodRate : 0 }
    }

    console.log(
      `tracker and seeder beside a flood of public pages, through serve (PGlite), ` +
        `${rounds} rounds of ${seconds} s; ${machineLoad()}`,
    )
    console.log(
      `flood: wrk -t1 -c${floodConnections} over ${pages.length} paths (index, feed, ` +
        `${links.length / 2} metalinks and .torrent files); tracker: wrk -t1 -c4 announces; ` +
        `seeder: one peer, 64 blocks in flight, ${(artifact.length / 2 ** 20).toFixed(0)} MiB torrent`,
    )
    const results = { tracker: [] as number[][], seeder: [] as number[][], flood: [] as number[] }
    for (let round = 0; round < rounds; round++) {
      const trackerLoad = () => wrk(port, 4, announceScript, seconds)
      const seederLoad = () => seederRate(peerPort, artifact, seconds)
      // Quiet first in odd rounds, flooded first in even ones: drift on a shared machine cancels.
      const pair = async <T>(load: () => Promise<T>) => {
        if (round % 2 === 0) {
          const q = await measure(load, false)
          return [q, await measure(load, true)] as const
        }
        const f = await measure(load, true)
        return [await measure(load, false), f] as const
      }
      const [tq, tf] = await pair(trackerLoad)
      const [sq, sf] = await pair(seederLoad)
      results.tracker.push([tq.value, tf.value])
      results.seeder.push([sq.value, sf.value])
      results.flood.push(tf.flood, sf.flood)
      console.log(
        `round ${round + 1}: tracker ${tq.value.toFixed(0)} → ${tf.value.toFixed(0)} announces/s ` +
          `(${(tf.value / tq.value).toFixed(2)}x), seeder ${(sq.value / 2 ** 20).toFixed(0)} → ` +
          `${(sf.value / 2 ** 20).toFixed(0)} MiB/s (${(sf.value / sq.value).toFixed(2)}x), flood ` +
          `${tf.flood.toFixed(0)} and ${sf.flood.toFixed(0)} pages/s; serve CPU s ` +
          [tq, tf, sq, sf].map((m) => m.cpu.toFixed(1)).join('/'),
      )
    }
    const ratio = (pairs: number[][]) => median(pairs.map(([q, f]) => f / q))
    const tracker = ratio(results.tracker)
    const seeder = ratio(results.seeder)
    console.log(
      `median (${label}): tracker ${tracker.toFixed(2)}x of quiet, seeder ${seeder.toFixed(2)}x of quiet, ` +
        `while the flood got ${median(results.flood).toFixed(0)} pages/s (goal: both ≥ 0.80x); ` +
        machineLoad(),
    )
  } finally {
    await serve?.stop()
  }
}

try {
  console.log(`== ${'web.pagesPerSecond'} at its default (the shipped configuration)`)
  await run('paced', await configFile('paced'))
  console.log(`== ${'web.pagesPerSecond'} lifted: what the flood costs without it`)
  await run('unpaced', await configFile('unpaced', 1_000_000_000))
} finally {
  await tree.remove()
  await rm(work, { recursive: true, force: true })
}
