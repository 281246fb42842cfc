import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

/**
 * Where the build leaves an empty PGlite database (`npm run build`, scripts/build.js): beside the
 * compiled modules (dist/), or under dist/ when the sources run.
 */
const candidates = [
  new URL('../../pglite-template.tar.gz', import.meta.url),
  new URL('../../dist/pglite-template.tar.gz', import.meta.url),
]

/** The template a build made, if any. */
export function templateFile(): string | undefined {
  return candidates.map((url) => fileURLToPath(url)).find((file) => existsSync(file))
}

/**
 * Fills a new PGlite folder from the build's template, an empty database with the build's schema
 * that PGlite made, instead of letting PGlite run initdb in WebAssembly and then every migration
 * at first start: on this machine initdb took 5.5 CPU-s and 750 MB of memory and the migrations
 * another 1.3 s, which a first `scan` or `serve` paid before any work of its own (bench/scan.ts);
 * unpacking the template takes about 0.2 s, on a thread of its own (0.4 to 0.6 s before
 * makeTemplate dropped initdb's template databases and zeroed the dead WAL: 9 MB to write in 431
 * files, not 40 MB in 1,033). Returns false (and leaves `dir` as it was) when there is no template
 * or `dir` holds anything already; PGlite then does what it always did.
 *
 * The tree is written under a temporary name and renamed, so a crash midway never leaves a folder
 * PGlite would take for a database.
 */
export async function fromTemplate(dir: string, template = templateFile()): Promise<boolean> {
  if (template === undefined || !isEmptyFolder(dir)) return false
  const staging = `${dir}.new-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  try {
    await unpack(template, staging)
    rmSync(dir, { recursive: true, force: true })
    renameSync(staging, dir)
    return true
  } catch (err) {
    rmSync(staging, { recursive: true, force: true })
    throw err
  }
}

/** Whether `dir` is missing or empty: a folder PGlite would make a new database in. */
export function isEmptyFolder(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0
}

/** Unpacks the gzipped template into `into` on a thread of its own (see unpack.js). */
function unpack(template: string, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // execArgv: [] so that a parent run with `--import tsx` does not load tsx in the thread.
    const worker = new Worker(new URL('./unpack.js', import.meta.url), {
      workerData: { template, into },
      execArgv: [],
    })
    worker.once('error', reject)
    worker.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`unpacking the template exited with code ${code}`)),
    )
  })
}

/**
 * The folders and regular files under `dir` as a ustar archive, in name order, that
 * unpack.js reads back. The build packs a database PGlite has shut down cleanly: PGlite's
 * own `dumpDataDir` copies a running one, whose control file says "in production", so every first
 * start from it ran crash recovery and its end-of-recovery checkpoint (about 0.4 s of a first
 * `scan`, bench/scan.ts).
 */
export function packTar(dir: string): Buffer {
  const parts: Buffer[] = []
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(dir, relative)).sort()) {
      const entry = relative ? posix.join(relative, name) : name
      const stats = statSync(join(dir, entry))
      if (stats.isDirectory()) {
        parts.push(tarHeader(`${entry}/`, '5', 0, stats.mode))
        walk(entry)
      } else if (stats.isFile()) {
        const body = readFileSync(join(dir, entry))
        parts.push(tarHeader(entry, '0', body.length, stats.mode), body)
        const padding = (512 - (body.length % 512)) % 512
        if (padding) parts.push(Buffer.alloc(padding))
      } else throw new Error(`${join(dir, entry)} is not a file or folder`)
    }
  }
  walk('')
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

/** One ustar header; a name past 100 bytes is split into the prefix field at a slash. */
function tarHeader(name: string, type: '0' | '5', size: number, mode: number): Buffer {
  const header = Buffer.alloc(512)
  let prefix = ''
  let rest = name
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2)
    prefix = name.slice(0, cut)
    rest = name.slice(cut + 1)
    if (cut < 0 || Buffer.byteLength(rest) > 100 || Buffer.byteLength(prefix) > 155)
      throw new Error(`${name}: too long for a ustar header`)
  }
  const field = (value: string, at: number, length: number) =>
    header.write(value, at, length, 'utf8')
  const number = (value: number, at: number, length: number) =>
    field(value.toString(8).padStart(length - 1, '0'), at, length - 1)
  field(rest, 0, 100)
  number(mode & 0o777, 100, 8)
  number(0, 108, 8)
  number(0, 116, 8)
  number(size, 124, 12)
  number(0, 136, 12)
  field('        ', 148, 8)
  field(type, 156, 1)
  field('ustar\u000000', 257, 8)
  field(prefix, 345, 155)
  let sum = 0
  for (const byte of header) sum += byte
  field(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8)
  return header
}

/** Postgres's page, the unit of its WAL (XLOG_BLCKSZ) and of its tables. */
const PAGE = 8192

/**
 * Zeroes the WAL a cleanly shut down database no longer needs: the pages of its segment before the
 * one holding its last checkpoint. A shutdown checkpoint redoes nothing, so a start reads the
 * segment's first page (its long header, which the WAL reader checks) and the checkpoint's pages,
 * and writes on from there; what initdb and the migrations logged before it (7 of the template's
 * 16 MB of WAL) is never read again. Zeroed, it compresses to nothing and unpack.js leaves it a
 * hole. Changes nothing unless pg_control says the database was shut down at a checkpoint in the
 * one segment there is.
 */
export function zeroDeadWal(dir: string): void {
  // ControlFileData (src/include/catalog/pg_control.h): state at 16 (1, DB_SHUTDOWNED),
  // checkPoint at 32, and the checkpoint's own redo pointer at 40, which a shutdown checkpoint
  // points at itself.
  const control = readFileSync(join(dir, 'global', 'pg_control'))
  const checkpoint = control.readBigUInt64LE(32)
  if (control.readUInt32LE(16) !== 1 || control.readBigUInt64LE(40) !== checkpoint) return
  const segments = readdirSync(join(dir, 'pg_wal')).filter((name) => /^[0-9A-F]{24}$/.test(name))
  if (segments.length !== 1) return
  const file = join(dir, 'pg_wal', segments[0])
  const size = BigInt(statSync(file).size)
  const segment =
    BigInt(`0x${segments[0].slice(8, 16)}`) * (0x1_0000_0000n / size) +
    BigInt(`0x${segments[0].slice(16)}`)
  if (checkpoint / size !== segment) return
  const dead = Number(((checkpoint % size) / BigInt(PAGE)) * BigInt(PAGE))
  if (dead <= PAGE) return
  const fd = openSync(file, 'r+')
  try {
    writeSync(fd, Buffer.alloc(dead - PAGE), 0, dead - PAGE, PAGE)
  } finally {
    closeSync(fd)
  }
}
