/**
 * The release pipeline on a mirror-like tree, through the program: `mirrorseed scan` (a first
 * scan: hash, verify, publish into a fresh PGlite) beside raw hashing of the same bytes, rounds
 * alternating, medians; then a rescan of the unchanged tree (goal: under 1 s, no file data hashed);
 * then the same first scan into a fresh Postgres database (127.0.0.1:5432, or BENCH_POSTGRES_URL).
 *
 *   npm run bench:scan   (BENCH_FILES=10000 BENCH_RELEASES=50 BENCH_ARTIFACT_MB=8 BENCH_LARGE_MB=48
 *                         BENCH_ROUNDS=3)
 *
 * Raw hashing is what a first scan must compute, by the coreutils: `sha1sum` (the v1 pieces) and
 * `sha256sum` (the digest checked against the release's .sha256) over the same files, side by
 * side on the two cores. A first scan also writes torrents and symlinks and records them.
 *
 * The first scan is compared twice: on the tree of 400 MiB, where the fixed cost of any run
 * (Node's start, the walk of 10,000 files, making and opening the embedded database, about a
 * second and a half) is most of it, and with the same releases' artifacts at BENCH_LARGE_MB
 * (2.4 GiB), closer to a real release tree (tens to hundreds of GiB), where the hashing is.
 */
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { bin } from '../test/cli.ts'
import { machineLoad, median } from './machine.ts'

const files = Number(process.env.BENCH_FILES ?? 10_000)
const releases = Number(process.env.BENCH_RELEASES ?? 50)
const artifactBytes = Number(process.env.BENCH_ARTIFACT_MB ?? 8) * 2 ** 20
const largeBytes = Number(process.env.BENCH_LARGE_MB ?? 48) * 2 ** 20
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)

/** Runs a command to its end: wall seconds, CPU seconds and peak RSS (MiB) from /usr/bin/time. */
function timed(
  command: string[],
  env: NodeJS.ProcessEnv = process.env,
): { seconds: number; cpu: number; peakMB: number; out: string } {
  const report = path.join(os.tmpdir(), `mirrorseed-bench-scan-time-${process.pid}`)
  const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', '%U %S %M', '-o', report] : []
  const started = performance.now()
  const full = [...time, ...command]
  const run = spawnSync(full[0], full.slice(1), {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const seconds = (performance.now() - started) / 1000
  if (run.status !== 0) throw new Error(`${command.join(' ')} failed:\n${run.stderr}`)
  let cpu = NaN
  let peakMB = NaN
  if (time.length) {
    const [user, system, rss] = spawnSync('tail', ['-1', report], { encoding: 'utf8' })
      .stdout.trim()
      .split(' ')
      .map(Number)
    cpu = user + system
    peakMB = rss / 1024
  }
  return { seconds, cpu, peakMB, out: run.stdout + run.stderr }
}

type Run = ReturnType<typeof timed>

/**
 * Writes the releases (each artifact of `bytes`, with its .sha256, .DIGESTS, .asc and
 * CONTENTS.gz) under `root`, replacing any written before: the files a first scan hashes.
 */
async function writeReleases(root: string, bytes: number): Promise<string[]> {
  const hashed: string[] = []
  for (let r = 0; r < releases; r++) {
    const dir = path.join(
      root,
      'releases',
      `arch${r % 5}`,
      'autobuilds',
      `2026${String(r).padStart(4, '0')}T000000Z`,
    )
    await mkdir(dir, { recursive: true })
    const name = `stage3-${r}.tar.xz`
    const data = randomBytes(bytes)
    await writeFile(path.join(dir, name), data)
    const sha256 = createHash('sha256').update(data).digest('hex')
    const sha512 = createHash('sha512').update(data).digest('hex')
    await writeFile(path.join(dir, `${name}.sha256`), `# SHA256 HASH\n${sha256}  ${name}\n`)
    await writeFile(path.join(dir, `${name}.DIGESTS`), `# SHA512 HASH\n${sha512}  ${name}\n`)
    await writeFile(path.join(dir, `${name}.asc`), '-----BEGIN PGP SIGNATURE-----\n')
    await writeFile(path.join(dir, `${name}.CONTENTS.gz`), randomBytes(4096))
    for (const f of [
      name,
      `${name}.sha256`,
      `${name}.DIGESTS`,
      `${name}.asc`,
      `${name}.CONTENTS.gz`,
    ])
      hashed.push(path.join(dir, f))
  }
  // Page cache warm for both programs.
  for (const f of hashed) await readFile(f)
  return hashed
}

/** The rest of a mirror: package metadata, logs, small files in many folders. */
async function writeTheRest(root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, 'snapshots', `d${Math.floor(i / 50)}`)
    if (i % 50 === 0) await mkdir(dir, { recursive: true })
    await writeFile(path.join(dir, `f${i}.txt`), `file ${i}\n`)
  }
}

const scanArgs = (root: string, dataDir: string) => [
  process.execPath,
  bin,
  'scan',
  '--root',
  root,
  '--data-dir',
  dataDir,
  '--profile',
  'gentoo',
  '--min-size',
  String(1024 * 1024),
]

/** Forgets every output of a scan before, so that the next is a first scan again. */
async function clearOutputs(root: string): Promise<void> {
  await rm(path.join(root, 'torrents'), { recursive: true, force: true })
  await rm(path.join(root, 'torrent-symlinks'), { recursive: true, force: true })
}

/**
 * First scans into a fresh PGlite beside raw hashing (sha1sum and sha256sum side by side, as one
 * command, so that it is timed like the scan), rounds alternating which goes first. Leaves the
 * last scan's data folder in place for a rescan.
 */
async function firstScans(
  root: string,
  hashed: string[],
  dataDir: string,
): Promise<{ first: Run[]; raw: Run[] }> {
  const raw = ['sh', '-c', 'sha1sum "$@" >/dev/null & sha256sum "$@" >/dev/null; wait', 'raw']
  const first: Run[] = []
  const rawRuns: Run[] = []
  for (let round = 0; round < rounds; round++) {
    await clearOutputs(root)
    await rm(dataDir, { recursive: true, force: true })
    await mkdir(dataDir)
    if (round % 2) {
      rawRuns.push(timed([...raw, ...hashed]))
      first.push(timed(scanArgs(root, dataDir)))
    } else {
      first.push(timed(scanArgs(root, dataDir)))
      rawRuns.push(timed([...raw, ...hashed]))
    }
  }
  return { first, raw: rawRuns }
}

const m = (runs: Run[], key: 'seconds' | 'cpu' | 'peakMB') => median(runs.map((r) => r[key]))
const rounded = (runs: Run[]) => runs.map((r) => r.seconds.toFixed(2)).join(' ')

/** The PGlite first scan beside raw hashing of `mb` MiB: three lines. */
function printComparison(mb: number, { first, raw }: { first: Run[]; raw: Run[] }): void {
  console.log(
    `mirrorseed scan (first, fresh PGlite): ${(mb / m(first, 'seconds')).toFixed(0)} MiB/s, ` +
      `${m(first, 'seconds').toFixed(2)} s, ${m(first, 'cpu').toFixed(2)} CPU-s, peak RSS ${m(first, 'peakMB').toFixed(0)} MB` +
      `   (rounds: ${rounded(first)} s)`,
  )
  console.log(
    `raw hashing (sha1sum beside sha256sum): ${(mb / m(raw, 'seconds')).toFixed(0)} MiB/s, ` +
      `${m(raw, 'seconds').toFixed(2)} s, ${m(raw, 'cpu').toFixed(2)} CPU-s   (rounds: ${rounded(raw)} s)`,
  )
  console.log(
    `first scan / raw hashing: ${(m(raw, 'seconds') / m(first, 'seconds')).toFixed(2)}x wall (goal 0.9x), ` +
      `CPU ${(m(first, 'cpu') / m(raw, 'cpu')).toFixed(2)}x the raw hashing's`,
  )
}

const root = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-pipeline-'))
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-data-'))
try {
  const hashed = await writeReleases(root, artifactBytes)
  const rest = Math.max(0, files - hashed.length)
  await writeTheRest(root, rest)
  const totalMB = (releases * artifactBytes) / 2 ** 20
  const small = await firstScans(root, hashed, dataDir)
  const again = timed(scanArgs(root, dataDir))

  // The same first scan into Postgres (a fresh database each round): the database's work is
  // then another process's, so the difference to the PGlite rounds is what the embedded one costs.
  const postgresUrl =
    process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const admin = postgres(postgresUrl, { max: 1, connect_timeout: 3, onnotice: () => {} })
  const onPostgres: Run[] = []
  let postgresSkipped = ''
  try {
    for (let round = 0; round < rounds; round++) {
      await clearOutputs(root)
      const name = `mirrorseed_bench_scan_${process.pid}_${round}`
      await admin.unsafe(`create database ${name}`)
      const url = new URL(postgresUrl)
      url.pathname = `/${name}`
      const folder = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-data-'))
      try {
        onPostgres.push(
          timed(scanArgs(root, folder), { ...process.env, DATABASE_URL: url.toString() }),
        )
      } finally {
        await admin.unsafe(`drop database if exists ${name} with (force)`)
        await rm(folder, { recursive: true, force: true })
      }
    }
  } catch (err) {
    postgresSkipped = `not measured: ${(err as Error).message.split('\n')[0]}`
  } finally {
    await admin.end({ timeout: 1 })
  }

  console.log(
    `tree: ${hashed.length + rest} files, ${releases} releases, ${totalMB.toFixed(0)} MiB of artifacts; ${machineLoad()}`,
  )
  printComparison(totalMB, small)
  if (onPostgres.length === rounds) {
    console.log(
      `mirrorseed scan (first, fresh Postgres database): ${(totalMB / m(onPostgres, 'seconds')).toFixed(0)} MiB/s, ` +
        `${m(onPostgres, 'seconds').toFixed(2)} s, ${m(onPostgres, 'cpu').toFixed(2)} CPU-s (the database's own not included), ` +
        `peak RSS ${m(onPostgres, 'peakMB').toFixed(0)} MB; ${(m(small.raw, 'seconds') / m(onPostgres, 'seconds')).toFixed(2)}x raw hashing wall` +
        `   (rounds: ${rounded(onPostgres)} s)`,
    )
  } else console.log(`mirrorseed scan on Postgres: ${postgresSkipped}`)
  const summary = /\d+ releases: .*/.exec(again.out)?.[0] ?? again.out.trim().split('\n').at(-1)
  console.log(
    `rescan of the unchanged tree: ${again.seconds.toFixed(2)} s for the whole process (goal: under 1 s), ${again.cpu.toFixed(2)} CPU-s; ${summary}`,
  )

  // The same tree with larger artifacts: the hashing's share, as on a real release tree.
  if (largeBytes > 0) {
    await writeReleases(root, largeBytes)
    const largeMB = (releases * largeBytes) / 2 ** 20
    const large = await firstScans(root, hashed, dataDir)
    console.log(
      `the same releases with ${largeBytes / 2 ** 20} MiB artifacts, ${largeMB.toFixed(0)} MiB; ${machineLoad()}`,
    )
    printComparison(largeMB, large)
  }
} finally {
  await rm(root, { recursive: true, force: true })
  await rm(dataDir, { recursive: true, force: true })
}
