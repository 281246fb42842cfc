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
import { createReadStream, readFileSync } from 'node:fs'
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

interface Server {
  url: string
  /** The processes that serve (nginx: its workers), for their CPU time. */
  pids: number[]
}

async function startOurs(openFiles: number): Promise<Server & { stop(): Promise<void> }> {
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
    pids: [child.pid!],
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

/** CPU seconds (user + system) used so far by `pids`, from /proc (Linux). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12]) // utime, stime
  }
  return ticks / 100 // USER_HZ is 100 on Linux
}

interface Rate {
  mibs: number
  /** Server CPU seconds per GiB served: what the machine pays, whatever else is running. */
  cpuPerGib: number
}

/** MiB/s of range bodies and the server's CPU per GiB. */
async function wrk(server: Server, chunk: number, dir: string): Promise<Rate> {
  const url = server.url
  const u = new URL(url)
  const script = path.join(dir, `range-${chunk}.lua`)
  await writeFile(script, wrkScript(chunk, u.pathname))
  const cpu = cpuSeconds(server.pids)
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
  const mibs = (rps * chunk) / (1 << 20)
  return { mibs, cpuPerGib: (cpuSeconds(server.pids) - cpu) / ((mibs * seconds) / 1024) }
}

/** aria2c fetching the whole file over one connection. */
function aria2c(server: Server, dir: string): Rate {
  const url = server.url
  const cpu = cpuSeconds(server.pids)
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
  return { mibs: sizeMb / secs, cpuPerGib: (cpuSeconds(server.pids) - cpu) / (sizeMb / 1024) }
}

const fmt = (n: number) => n.toFixed(0).padStart(6)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const summary = (rates: Rate[]) => ({
  mibs: median(rates.map((r) => r.mibs)),
  cpuPerGib: median(rates.map((r) => r.cpuPerGib)),
})
const cell = (r: Rate) => `${fmt(r.mibs)} ${r.cpuPerGib.toFixed(2).padStart(5)}`

await ensureFile()
await warm()
const scratch = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-webseed-'))
// aria2c writes what it downloads: to memory where there is some, so disk speed is not measured.
const sink = await mkdtemp(
  path.join(process.platform === 'linux' ? '/dev/shm' : os.tmpdir(), 'mirrorseed-aria2c-'),
)
const nginx = await startNginx(root)
const nginxServer: Server = {
  url: `${nginx.url}/${releaseDir}/${name}`,
  pids: spawnSync('pgrep', ['-P', String(nginx.pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number),
}
const ours = await startOurs(256)
const perRequest = await startOurs(0)
try {
  console.log(
    `web seed vs nginx (sendfile): ${sizeMb} MiB file from the page cache; wrk -t1 -c4 ${seconds}s ` +
      `of random single ranges, and aria2c; median of ${rounds} alternating rounds`,
  )
  console.log(
    'MiB/s and server CPU seconds per GiB served (the machine is shared: rates are noisy)',
  )
  console.log(
    'case                mirrorseed MiB/s cpu    nginx MiB/s cpu   ratio   fd per request',
  )
  const rows: Array<[string, (s: Server) => Promise<Rate> | Rate]> = [
    ['16 KiB ranges', (s) => wrk(s, 16 << 10, scratch)],
    ['1 MiB ranges', (s) => wrk(s, 1 << 20, scratch)],
    ['16 MiB ranges', (s) => wrk(s, 16 << 20, scratch)],
    ['aria2c whole file', (s) => aria2c(s, sink)],
  ]
  for (const [label, measure] of rows) {
    const a: Rate[] = []
    const b: Rate[] = []
    const c: Rate[] = []
    for (let r = 0; r < rounds; r++) {
      a.push(await measure(ours))
      b.push(await measure(nginxServer))
      c.push(await measure(perRequest))
    }
    const [ma, mb, mc] = [summary(a), summary(b), summary(c)]
    console.log(
      `${label.padEnd(18)} ${cell(ma)}      ${cell(mb)}   ${(ma.mibs / mb.mibs).toFixed(2)}x  ${cell(mc)}`,
    )
  }
} finally {
  await ours.stop()
  await perRequest.stop()
  await nginx.stop()
  await rm(scratch, { recursive: true, force: true })
  await rm(sink, { recursive: true, force: true })
}
