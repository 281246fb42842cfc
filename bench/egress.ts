/**
 * `npm run bench:egress`: what a flash crowd costs the mirror. The shipped `serve` (a process,
 * default configuration: tracker, seeder and its own web seed in `url-list`) on a Gentoo-style
 * tree, beside a python3-libtorrent seed behind opentracker (no web seed) and the same seed
 * super-seeding (BEP 16), each serving the same crowd of downloaders started at once:
 *
 * - origin copies: bytes the origin sent (ours: `mirrorseed_origin_bytes_total` from `/metrics`,
 *   peer wire and web seed; libtorrent's: its payload upload) divided by the torrent's size;
 * - the time until the last download completed (every copy is checked).
 *
 * Goal (issue 11): ours ≤ 1.3 copies, the last completion ≤ 1.5× the super-seed run's.
 *
 * BENCH_SIZE_MB (default 128) sizes the release; BENCH_CROWDS (default
 * `aria2c:10,aria2c:20,libtorrent:10`) the crowds; BENCH_SOURCES (default
 * `mirrorseed,libtorrent,superseed`) who serves them; BENCH_SEED_SECONDS (default 60) how long
 * a downloader seeds after completing (at most: all stop once the whole crowd has completed);
 * BENCH_TIMEOUT_SECONDS (default 600) bounds each run. Loopback only.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { decode, encode, type BencodeDict } from '../lib/bencode/index.ts'
import { parseTorrent } from '../lib/metainfo/index.ts'
import { freePort } from '../test/aria2c.ts'
import { ready, startServe, type RunningServe } from '../test/cli.ts'
import { buildGentooTree, treeArgs, type FixtureRelease } from '../test/fixtures/mirror-tree.ts'
import {
  aria2cCrowd,
  libtorrentCrowd,
  libtorrentSeeder,
  startOpentracker,
  type CrowdOptions,
  type CrowdResult,
} from './crowd.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 128)
const crowds = (process.env.BENCH_CROWDS ?? 'aria2c:10,aria2c:20,libtorrent:10')
  .split(',')
  .map((c) => {
    const [client, n] = c.split(':')
    if (client !== 'aria2c' && client !== 'libtorrent') throw new Error(`unknown client ${client}`)
    return { client, count: Number(n) } as const
  })
const sources = (process.env.BENCH_SOURCES ?? 'mirrorseed,libtorrent,superseed').split(',')
const seedSeconds = Number(process.env.BENCH_SEED_SECONDS ?? 60)
const timeoutSeconds = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 600)
const benchDir = path.join(root, '.bench', 'egress')
const treeRoot = path.join(benchDir, `tree-${sizeMb}M`)
const dataDir = path.join(benchDir, `data-${sizeMb}M`)
const work = path.join(benchDir, 'crowd')

interface Run {
  source: string
  crowd: string
  copies: number
  /** Seconds until the last download completed; null if one did not. */
  last: number | null
  completed: number
  count: number
  detail: string
}

/**
 * `serve` on the tree, always on the same HTTP port: the published .torrent carries the announce
 * and web-seed URLs of the first run, and a restart does not rewrite them.
 */
async function startOurs(): Promise<RunningServe> {
  const portFile = path.join(treeRoot, 'http-port')
  if (!existsSync(portFile)) await writeFile(portFile, String(await freePort()))
  const port = (await readFile(portFile, 'utf8')).trim()
  const serve = await startServe(
    [
      ...treeArgs({ root: treeRoot }),
      '--data-dir',
      dataDir,
      '--http-port',
      port,
      '--udp-port',
      port,
    ],
    // The DHT stays on, as shipped, but joins through loopback only: the benchmark never reaches out.
    { env: { MIRRORSEED_DHT_BOOTSTRAP: '127.0.0.1:9' } },
  )
  await ready(serve)
  return serve
}

/** The release under test, its .torrent as `serve` publishes it, and its size. */
async function release(): Promise<{ release: FixtureRelease; torrentPath: string }> {
  const marker = path.join(treeRoot, 'release.json')
  if (!existsSync(marker)) {
    console.log(`generating a ${sizeMb} MiB Gentoo-style tree under .bench/egress (once)`)
    await rm(treeRoot, { recursive: true, force: true })
    await rm(dataDir, { recursive: true, force: true })
    await mkdir(treeRoot, { recursive: true })
    const tree = await buildGentooTree({
      root: treeRoot,
      sizes: { iso: sizeMb * 1024 * 1024, stage3: 256 * 1024 },
    })
    await writeFile(marker, JSON.stringify(tree.releases[0]))
  }
  const rel = JSON.parse(await readFile(marker, 'utf8')) as FixtureRelease
  return {
    release: rel,
    torrentPath: path.join(treeRoot, 'torrents', rel.releaseDir, `${rel.name}.torrent`),
  }
}

/** Sum of a metric family's samples in a Prometheus text exposition, optionally one label. */
function metric(text: string, name: string, label?: string): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + ' ') && !line.startsWith(name + '{')) continue
    if (label && !line.includes(label)) continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

async function runCrowd(
  client: 'aria2c' | 'libtorrent',
  torrentPath: string,
  rel: FixtureRelease,
  options: CrowdOptions,
): Promise<CrowdResult> {
  await rm(work, { recursive: true, force: true })
  const result =
    client === 'aria2c'
      ? await aria2cCrowd(
          torrentPath,
          work,
          {
            artifact: path.join(rel.name, path.posix.basename(rel.artifact)),
            sha256: rel.digests.sha256,
          },
          options,
        )
      : await libtorrentCrowd(torrentPath, work, options)
  await rm(work, { recursive: true, force: true })
  return result
}

function summary(
  source: string,
  crowd: string,
  size: number,
  originBytes: number,
  result: CrowdResult,
  detail: string,
): Run {
  const done = result.seconds.filter((s, i) => s !== null && result.intact[i]) as number[]
  const run: Run = {
    source,
    crowd,
    copies: originBytes / size,
    last: done.length === result.seconds.length ? Math.max(...done) : null,
    completed: done.length,
    count: result.seconds.length,
    detail,
  }
  console.log(
    `  ${source.padEnd(10)} ${run.copies.toFixed(2)} copies, ` +
      `${run.completed}/${run.count} complete, last at ${run.last === null ? 'never' : run.last.toFixed(1) + ' s'}` +
      (detail ? ` (${detail})` : ''),
  )
  return run
}

/** Our appliance as shipped: `serve` with its defaults on the tree. */
async function mirrorseed(
  client: 'aria2c' | 'libtorrent',
  crowd: string,
  torrentPath: string,
  rel: FixtureRelease,
  size: number,
  options: CrowdOptions,
): Promise<Run> {
  const serve = await startOurs()
  try {
    const result = await runCrowd(client, torrentPath, rel, options)
    const text = await (await fetch(`${serve.url}/metrics`)).text()
    const origin = metric(text, 'mirrorseed_origin_bytes_total')
    const web = metric(text, 'mirrorseed_uploaded_bytes_total', 'via="webseed"')
    const peer = metric(text, 'mirrorseed_uploaded_bytes_total', 'via="peer"')
    return summary(
      'mirrorseed',
      crowd,
      size,
      origin || web + peer,
      result,
      `web seed ${(web / size).toFixed(2)}, seeder ${(peer / size).toFixed(2)}`,
    )
  } finally {
    await serve.stop()
  }
}

/** A libtorrent seed behind opentracker, the .torrent announcing there and without web seeds. */
async function reference(
  superSeed: boolean,
  client: 'aria2c' | 'libtorrent',
  crowd: string,
  torrentPath: string,
  rel: FixtureRelease,
  size: number,
  options: CrowdOptions,
): Promise<Run> {
  const tracker = await startOpentracker(
    benchDir,
    parseTorrent(await readFile(torrentPath)).infoHash!.toString('hex'),
  )
  const meta = decode(await readFile(torrentPath)) as BencodeDict
  meta.announce = Buffer.from(tracker.url)
  delete meta['announce-list']
  delete meta['url-list']
  const refTorrent = path.join(benchDir, 'reference.torrent')
  await writeFile(refTorrent, encode(meta))
  // The seed reads the release where `serve` links it for downloaders: torrent-symlinks/<dir>.
  const save = path.join(treeRoot, 'torrent-symlinks', rel.releaseDir)
  const seed = await libtorrentSeeder(refTorrent, save, superSeed)
  let uploaded = 0
  let result: CrowdResult
  try {
    result = await runCrowd(client, refTorrent, rel, options)
  } finally {
    uploaded = await seed.stop()
    await tracker.stop()
  }
  return summary(superSeed ? 'superseed' : 'libtorrent', crowd, size, uploaded, result, '')
}

async function main(): Promise<void> {
  const { release: rel, torrentPath } = await release()
  if (!existsSync(torrentPath)) {
    // The first `serve` publishes the tree: hash it once before any crowd starts.
    await (await startOurs()).stop()
  }
  const size = parseTorrent(await readFile(torrentPath)).length
  console.log(
    `release: ${(size / 2 ** 20).toFixed(1)} MiB; downloaders seed up to ${seedSeconds} s after ` +
      `completing; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`,
  )
  const runs: Run[] = []
  for (const { client, count } of crowds) {
    const crowd = `${count} ${client}`
    console.log(`crowd of ${crowd}:`)
    const options = { count, seedSeconds, timeoutSeconds }
    for (const source of sources) {
      if (source === 'mirrorseed')
        runs.push(await mirrorseed(client, crowd, torrentPath, rel, size, options))
      else if (source === 'libtorrent' || source === 'superseed')
        runs.push(
          await reference(source === 'superseed', client, crowd, torrentPath, rel, size, options),
        )
      else throw new Error(`unknown source ${source}`)
    }
    const ours = runs.find((r) => r.crowd === crowd && r.source === 'mirrorseed')
    const sup = runs.find((r) => r.crowd === crowd && r.source === 'superseed')
    if (ours && sup) {
      const ratio = ours.last !== null && sup.last !== null ? ours.last / sup.last : NaN
      console.log(
        `  mirrorseed: ${ours.copies.toFixed(2)} copies (goal ≤ 1.3; super-seed ` +
          `${sup.copies.toFixed(2)}), last completion ${ratio.toFixed(2)}× the super-seed's ` +
          `(goal ≤ 1.5), ${ours.completed}/${ours.count} complete`,
      )
    }
  }
  const failed = runs.some((r) => r.completed < r.count && r.source === 'mirrorseed')
  process.exit(failed ? 1 : 0)
}

await main()
