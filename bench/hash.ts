// `npm run bench:hash`: hashing a large file in page cache, us beside the tools a mirror admin
// uses today, in one run: v1 beside `mktorrent -t <threads>`, hybrid beside libtorrent 2.0's
// `create_torrent` + `set_piece_hashes`. Every run is a separate process timed from outside
// (start-up included, as a user sees it); ours and libtorrent also report the hashing alone.
// Rounds are interleaved so that load from other processes hits every side alike; the median
// round of each is compared, wall time and CPU seconds (all threads, from /usr/bin/time).
//
// Ours is `hashFiles` in a fresh process, and `mirrorseed create` through the real CLI when that
// command exists.
//
// Environment: BENCH_SIZE_MB (default 2048), BENCH_PIECE_LENGTH (bytes, default 2 MiB),
// BENCH_ROUNDS (default 3), BENCH_THREADS (default: available cores), BENCH_ONLY (names of the
// contenders to run, comma-separated, like `mktorrent,create v1`; default: all).
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { machineLoad, median } from './machine.ts'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(repo, 'apps/mirrorseed/bin.js')
const python = '/usr/bin/python3' // Debian's python3-libtorrent lives under the system Python
const time = '/usr/bin/time'

const libtorrentScript = `
import libtorrent as lt, os, sys, time
path, piece_length = sys.argv[1], int(sys.argv[2])
started = time.monotonic()
fs = lt.file_storage()
lt.add_files(fs, path)
t = lt.create_torrent(fs, piece_length)  # default flags: hybrid v1 + v2
lt.set_piece_hashes(t, os.path.dirname(path))
t.generate()
print('seconds=%f' % (time.monotonic() - started))
`

if (process.argv[2] === '--child') await child(process.argv.slice(3))
else await main()

/** Our side without the CLI: hashFiles in a fresh process; prints the time of the hashing. */
async function child([format, path, pieceLength, threads]: string[]) {
  const { hashFiles } = await import('../lib/hashing/index.ts')
  const started = performance.now()
  await hashFiles({
    files: [{ path, length: statSync(path).size }],
    pieceLength: Number(pieceLength),
    v1: true,
    v2: format === 'hybrid',
    threads: Number(threads),
  })
  console.log(`seconds=${(performance.now() - started) / 1000}`)
}

interface Run {
  /** wall time of the whole process */
  seconds: number
  /** the hashing alone, when the process reports it */
  inner?: number
  peakRssMB?: number
  /** user + system CPU seconds of the whole process, all threads */
  cpu?: number
}

type Format = 'v1' | 'hybrid'

async function main() {
  const sizeMB = Number(process.env.BENCH_SIZE_MB ?? 2048)
  const pieceLength = Number(process.env.BENCH_PIECE_LENGTH ?? 2 << 20)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
  const threads = Number(process.env.BENCH_THREADS ?? availableParallelism())
  const cache = join(repo, '.bench', 'hash')
  mkdirSync(cache, { recursive: true })
  const file = join(cache, `data-${sizeMB}MB.bin`)
  if (!existsSync(file)) makeFile(file, sizeMB)
  await warm(file)
  const out = join(tmpdir(), `mirrorseed-bench-hash-${process.pid}`)
  mkdirSync(out, { recursive: true })

  const help = spawnSync(process.execPath, [bin, 'create', '--help'], { encoding: 'utf8' })
  const hasCli = help.status === 0 && help.stdout.includes('--piece-length') // not the main help
  const contenders: Record<string, { format: Format; command: () => string[] }> = {
    'hashFiles v1': { format: 'v1', command: () => direct('v1') },
    mktorrent: {
      format: 'v1',
      command: () => {
        rmSync(join(out, 'mktorrent.torrent'), { force: true }) // it refuses to overwrite
        const l = String(Math.log2(pieceLength))
        return [
          'mktorrent',
          '-t',
          String(threads),
          '-l',
          l,
          '-a',
          'http://127.0.0.1/a',
          '-o',
          join(out, 'mktorrent.torrent'),
          file,
        ]
      },
    },
    'hashFiles hybrid': { format: 'hybrid', command: () => direct('hybrid') },
    libtorrent: {
      format: 'hybrid',
      command: () => [python, '-c', libtorrentScript, file, String(pieceLength)],
    },
  }
  function direct(format: Format): string[] {
    const args = ['--child', format, file, String(pieceLength), String(threads)]
    return [process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), ...args]
  }
  if (hasCli) {
    for (const format of ['v1', 'hybrid'] as const) {
      contenders[`create ${format}`] = {
        format,
        command: () => {
          const output = join(out, `create-${format}.torrent`)
          rmSync(output, { force: true }) // `create` refuses to overwrite
          const size = String(pieceLength)
          return [
            process.execPath,
            bin,
            'create',
            file,
            '-o',
            output,
            '--format',
            format,
            '--piece-length',
            size,
            '--threads',
            String(threads),
          ]
        },
      }
    }
  }

  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim())
  if (only)
    for (const name of Object.keys(contenders)) if (!only.includes(name)) delete contenders[name]
  const runs = new Map<string, Run[]>(Object.keys(contenders).map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const [name, { command }] of Object.entries(contenders))
      runs.get(name)!.push(measure(command()))
  }
  rmSync(out, { recursive: true, force: true })

  const best = (name: string, key: 'seconds' | 'inner') =>
    median(runs.get(name)!.map((r) => r[key] ?? Infinity))
  const mbps = (seconds: number) => sizeMB / seconds
  const peak = (name: string) => Math.max(...runs.get(name)!.map((r) => r.peakRssMB ?? 0))
  const cpu = (name: string) => median(runs.get(name)!.map((r) => r.cpu ?? NaN))
  const pressure = cpuPressure()
  console.log(
    `hash: ${sizeMB} MiB file in page cache, piece length ${pieceLength / 1024} KiB, ${threads} threads, ` +
      `median of ${rounds} rounds, MB/s of the whole process (of the hashing alone)` +
      (hasCli ? '' : '; no `mirrorseed create` command yet: ours is hashFiles in a child process'),
  )
  for (const name of runs.keys()) {
    const inner = best(name, 'inner')
    const alone = Number.isFinite(inner) ? ` (${mbps(inner).toFixed(0)})` : ''
    console.log(
      `  ${name.padEnd(17)} ${mbps(best(name, 'seconds')).toFixed(0).padStart(5)} MB/s${alone.padEnd(7)}` +
        `  peak RSS ${peak(name).toFixed(0).padStart(4)} MB  CPU ${cpu(name).toFixed(2)} s`,
    )
  }
  console.log(`  ${machineLoad()}`)
  if (process.env.NODE_EXTRA_CA_CERTS) {
    // Node 20 reads and parses that bundle at start, before any of our code runs: measured here
    // as the CPU of an empty node process with it and without it, the median of five each.
    const emptyNode = (env: NodeJS.ProcessEnv) =>
      median(
        Array.from({ length: 5 }, () => {
          const run = spawnSync(time, ['-f', '%U %S', process.execPath, '-e', '0'], {
            env,
            encoding: 'utf8',
          })
          const [user, system] = run.stderr.trim().split('\n').at(-1)!.split(' ').map(Number)
          return user + system
        }),
      )
    const { NODE_EXTRA_CA_CERTS: _bundle, ...without } = process.env
    const cost = emptyNode(process.env) - emptyNode(without)
    console.log(
      `  note: NODE_EXTRA_CA_CERTS is set: every node process (ours) parses that bundle at start, ` +
        `${(cost * 1000).toFixed(0)} ms of CPU here (an empty node process with it and without it) ` +
        'that mktorrent does not pay; run with `env -u NODE_EXTRA_CA_CERTS` for the figure without it',
    )
  }
  const ratio = (ours: string, reference: string, goal: number, cpuGoal?: number) => {
    if (!runs.has(ours) || !runs.has(reference)) return
    const whole = best(reference, 'seconds') / best(ours, 'seconds')
    // mktorrent reports no inner time: its start-up is a millisecond, so its whole run is its
    // hashing; libtorrent's Python start-up is not.
    const referenceAlone = Number.isFinite(best(reference, 'inner'))
      ? best(reference, 'inner')
      : best(reference, 'seconds')
    const oursAlone = best(ours, 'inner')
    const alone = Number.isFinite(oursAlone)
      ? `, hashing alone ${(referenceAlone / oursAlone).toFixed(2)}x`
      : ''
    const cpuRatio = cpu(ours) / cpu(reference)
    console.log(
      `  ratio ${ours} / ${reference}: whole process ${whole.toFixed(2)}x${alone} (goal ${goal}x), ` +
        `CPU seconds ${cpuRatio.toFixed(2)}x the reference's` +
        (cpuGoal === undefined ? '' : ` (goal <= ${cpuGoal}x)`) +
        `, peak RSS ${peak(ours).toFixed(0)} MB against ${peak(reference).toFixed(0)} MB`,
    )
  }
  ratio('hashFiles v1', 'mktorrent', 1.0)
  ratio('create v1', 'mktorrent', 1.0, 1.1)
  ratio('hashFiles hybrid', 'libtorrent', 1.8)
  ratio('create hybrid', 'libtorrent', 1.8)
  const all = [...runs].map(
    ([name, rs]) => `${name}: ${rs.map((r) => r.seconds.toFixed(2)).join(' ')}`,
  )
  console.log(`  every round (s): ${all.join('; ')}`)
  if (pressure !== undefined && pressure > 20) {
    // With autogroup scheduling a busy machine gives this session about one core whatever its
    // thread count: a single-threaded tool then loses nothing and a multi-core one its edge.
    console.log(
      `  warning: other processes kept the CPU busy (${pressure.toFixed(0)}% of the last minute stalled on CPU): ` +
        'multi-core ratios are understated; CPU seconds still compare',
    )
  }
}

/** Linux PSI: share of the last minute some task waited for a CPU. */
function cpuPressure(): number | undefined {
  try {
    const avg60 = /avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1]
    return avg60 === undefined ? undefined : Number(avg60)
  } catch {
    return undefined
  }
}

/** Runs a command to completion; wall time from here, peak RSS from /usr/bin/time when present. */
function measure(command: string[]): Run {
  const rssFile = join(tmpdir(), `mirrorseed-bench-rss-${process.pid}`)
  const withTime = existsSync(time) ? [time, '-f', '%M %U %S', '-o', rssFile, ...command] : command
  const started = performance.now()
  const run = spawnSync(withTime[0], withTime.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  })
  const seconds = (performance.now() - started) / 1000
  if (run.status !== 0) throw new Error(`${command.join(' ')} failed: ${run.stderr}`)
  const inner = /seconds=([\d.]+)/.exec(run.stdout)?.[1]
  let peakRssMB: number | undefined
  let cpu: number | undefined
  if (existsSync(rssFile)) {
    const [rss, user, system] = readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)!.split(' ')
    peakRssMB = Number(rss) / 1024
    cpu = Number(user) + Number(system)
    rmSync(rssFile)
  }
  return { seconds, inner: inner === undefined ? undefined : Number(inner), peakRssMB, cpu }
}

function makeFile(path: string, sizeMB: number) {
  console.log(`making ${path} (${sizeMB} MiB, once)`)
  const fd = openSync(`${path}.part`, 'w')
  const block = randomBytes(1 << 20)
  // Fresh random bytes every 64 MiB are plenty: hashing speed does not depend on the content.
  for (let mb = 0; mb < sizeMB; mb++) {
    if (mb % 64 === 0) randomBytes(1 << 20).copy(block)
    block.writeUInt32LE(mb, 0)
    writeSync(fd, block)
  }
  closeSync(fd)
  renameSync(`${path}.part`, path)
}

/** Reads the file once so that every contender finds it in page cache. */
async function warm(path: string) {
  for await (const _ of createReadStream(path, { highWaterMark: 4 << 20 })) void _
}
