/**
 * The origin web seed beside nginx serving the same file, in one run (goal: ours at least 0.9x).
 *
 *   npm run bench:webseed   (BENCH_SIZE_MB=256 to shrink; BENCH_SECONDS per wrk run, BENCH_ROUNDS)
 *
 * A file of BENCH_SIZE_MB (2048 by default) is generated once under `.bench/webseed/`, read once
 * so both servers serve it from the page cache. Our handler runs in its own process
 * (bench/webseed-server.ts), nginx (sendfile on) with a temporary config. Measured:
 * - wrk with random single-range GETs of 16 KiB (a BitTorrent block), 1 MiB (a typical piece)
 *   and 16 MiB (the most libtorrent asks a web seed for in one request), 4 connections kept alive,
 *   as a client uses a few web seeds at once;
 * - the same for our handler opening the file per request (`openFiles: 0`), to show what keeping
 *   descriptors open buys;
 * - aria2c downloading the whole file from each over one connection.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { startNginx } from '../test/nginx.ts'

const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 2048)
const seconds = Number(process.env.BENCH_SECONDS ?? 4)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const size = sizeMb * 1024 * 1024
const root = path.resolve('.bench/webseed/tree')
const releaseDir = 'releases/bench'
const name = `webseed-${sizeMb}MiB.iso`
const file = path.join(root, releaseDir, name)

for (const tool of [
  ['wrk', '--version'],
  ['aria2c', '--version'],
  ['nginx', '-v'],
]) {
  if (spawnSync(tool[0], tool.slice(1), { stdio: 'ignore' }).error) {
    console.error(`bench:webseed needs ${tool[0]}`)
    process.exit(1)
  }
}

async function ensureFile(): Promise<void> {
  const existing = await stat(file).catch(() => null)
  if (existing?.size === size) return
  await mkdir(path.dirname(file), { recursive: true })
  const block = randomBytes(16 << 20)
  const handle = await open(file, 'w')
  try {
    for (let written = 0; written < size; written += block.length) {
      block.writeUInt32LE(written / block.length, 0) // no two blocks alike
      await handle.write(block, 0, Math.min(block.length, size - written))
    }
  } finally {
    await handle.close()
  }
}

async function warm(): Promise<void> {
  for await (const _ of createReadStream(file, { highWaterMark: 4 << 20 })) void _
}

async function startOurs(openFiles: number): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/webseed-server.ts', root, releaseDir, name, String(size)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, WEBSEED_OPEN_FILES: String(openFiles) },
    },
  )
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`web-seed server exited (${code})`)))
  })
  const { port } = JSON.parse(line) as { port: number }
  return {
    url: `http://127.0.0.1:${port}/webseed/${releaseDir}/${name}`,
    async stop() {
      const gone = new Promise((r) => child.once('exit', r))
      child.stdin!.end()
      await gone
    },
  }
}

function wrkScript(chunk: number, target: string): string {
  const slots = Math.floor(size / chunk)
  return `local slots = ${slots}
local chunk = ${chunk}
math.randomseed(${Date.now() % 100000})
request = function()
  local first = math.random(0, slots - 1) * chunk
  return wrk.format("GET", "${target}", { ["Range"] = "bytes=" .. first .. "-" .. (first + chunk - 1) })
end
response = function(status)
  if status ~= 206 then error("status " .. status) end
end
`
}

/** MiB/s of range bodies, and requests per second. */
async function wrk(
  url: string,
  chunk: number,
  dir: string,
): Promise<{ mibs: number; rps: number }> {
  const u = new URL(url)
  const script = path.join(dir, `range-${chunk}.lua`)
  await writeFile(script, wrkScript(chunk, u.pathname))
  const run = spawnSync(
    'wrk',
    ['-t1', '-c4', `-d${seconds}s`, '--timeout', '30s', '-s', script, `${u.origin}/`],
    { encoding: 'utf8' },
  )
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1])
  const failed = /Non-2xx|(connect|read|write|timeout) [1-9]/.test(run.stdout) || run.stderr
  if (!rps || failed) {
    throw new Error(`wrk failed against ${url}:\n${run.stdout}${run.stderr}`)
  }
  return { rps, mibs: (rps * chunk) / (1 << 20) }
}

/** aria2c fetching the whole file over one connection; MiB/s. */
function aria2c(url: string, dir: string): number {
  const started = process.hrtime.bigint()
  const run = spawnSync(
    'aria2c',
    [
      '--no-conf',
      '-q',
      '-x1',
      '-s1',
      '--file-allocation=none',
      '--allow-overwrite=true',
      '-d',
      dir,
      '-o',
      'out.iso',
      url,
    ],
    { encoding: 'utf8' },
  )
  const secs = Number(process.hrtime.bigint() - started) / 1e9
  if (run.status !== 0) throw new Error(`aria2c failed against ${url}: ${run.stdout}${run.stderr}`)
  spawnSync('rm', ['-f', path.join(dir, 'out.iso')])
  return sizeMb / secs
}

const fmt = (n: number) => n.toFixed(0).padStart(7)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

await ensureFile()
await warm()
const scratch = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-webseed-'))
// aria2c writes what it downloads: to memory where there is some, so disk speed is not measured.
const sink = await mkdtemp(
  path.join(process.platform === 'linux' ? '/dev/shm' : os.tmpdir(), 'mirrorseed-aria2c-'),
)
const nginx = await startNginx(root)
const ours = await startOurs(256)
const perRequest = await startOurs(0)
const nginxUrl = `${nginx.url}/${releaseDir}/${name}`
try {
  console.log(
    `web seed vs nginx: ${sizeMb} MiB file; wrk -t1 -c4, ${seconds}s random single ranges; ` +
      `median of ${rounds} alternating rounds; MiB/s`,
  )
  console.log('case                mirrorseed    nginx   ratio    fd per request')
  for (const [label, chunk] of [
    ['16 KiB ranges', 16 << 10],
    ['1 MiB ranges', 1 << 20],
    ['16 MiB ranges', 16 << 20],
  ] as const) {
    const a: number[] = []
    const b: number[] = []
    const c: number[] = []
    for (let r = 0; r < rounds; r++) {
      a.push((await wrk(ours.url, chunk, scratch)).mibs)
      b.push((await wrk(nginxUrl, chunk, scratch)).mibs)
      c.push((await wrk(perRequest.url, chunk, scratch)).mibs)
    }
    const [ma, mb, mc] = [median(a), median(b), median(c)]
    console.log(
      `${label.padEnd(18)} ${fmt(ma)}  ${fmt(mb)}   ${(ma / mb).toFixed(2)}x  ${fmt(mc)} (${(mc / ma).toFixed(2)}x)`,
    )
  }
  const a: number[] = []
  const b: number[] = []
  for (let r = 0; r < rounds; r++) {
    a.push(aria2c(ours.url, sink))
    b.push(aria2c(nginxUrl, sink))
  }
  const [ma, mb] = [median(a), median(b)]
  console.log(`${'aria2c whole file'.padEnd(18)} ${fmt(ma)}  ${fmt(mb)}   ${(ma / mb).toFixed(2)}x`)
} finally {
  await ours.stop()
  await perRequest.stop()
  await nginx.stop()
  await rm(scratch, { recursive: true, force: true })
  await rm(sink, { recursive: true, force: true })
}
