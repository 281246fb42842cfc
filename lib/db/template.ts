import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join, normalize, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gunzip as gunzipCallback } from 'node:zlib'

const inflate = promisify(gunzipCallback)

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
 * extracting the template takes about half a second. Returns
 * false (and leaves `dir` as it was) when there is no template or `dir` holds anything already;
 * PGlite then does what it always did.
 *
 * The tree is written under a temporary name and renamed, so a crash midway never leaves a folder
 * PGlite would take for a database.
 */
export async function fromTemplate(dir: string, template = templateFile()): Promise<boolean> {
  if (template === undefined) return false
  if (existsSync(dir) && readdirSync(dir).length > 0) return false
  const staging = `${dir}.new-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  try {
    await extractTar(await gunzip(await readFile(template)), staging)
    rmSync(dir, { recursive: true, force: true })
    renameSync(staging, dir)
    return true
  } catch (err) {
    rmSync(staging, { recursive: true, force: true })
    throw err
  }
}

/**
 * The whole archive, inflated into one buffer of the size the gzip trailer gives: zlib's default
 * 16 KiB chunks, gathered and then copied into one buffer, took twice as long for the template's
 * 40 MB (0.47 against 0.2 CPU-s, a first `scan`'s start; bench/scan.ts). On the thread pool, as
 * the files' writes are: the main thread meanwhile walks the tree and feeds the hashing threads
 * (`scan` hashes while a new database is made, lib/publish/ahead.ts).
 */
function gunzip(compressed: Buffer): Promise<Buffer> {
  // ISIZE: the length modulo 2^32, which a template never reaches.
  const size = compressed.length >= 4 ? compressed.readUInt32LE(compressed.length - 4) : 0
  return inflate(compressed, { chunkSize: Math.max(64 << 10, size + 1) })
}

/** The octal number in a tar header field (NUL- or space-terminated). */
function octal(block: Uint8Array, at: number, length: number): number {
  const text = Buffer.from(block.subarray(at, at + length)).toString('latin1')
  return parseInt(text.replace(/[\0 ].*$/s, '') || '0', 8)
}

function text(block: Uint8Array, at: number, length: number): string {
  const field = block.subarray(at, at + length)
  const end = field.indexOf(0)
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8')
}

/**
 * Writes the regular files and folders of a ustar archive (what PGlite's `dumpDataDir` makes)
 * under `into`. Anything else (links, devices), or a name leaving `into`, is an error: the
 * template is ours, and a surprise in it means it is not.
 */
export async function extractTar(archive: Uint8Array, into: string): Promise<void> {
  mkdirSync(into, { recursive: true })
  // A thousand files in a few dozen folders: each folder is made once, not once per file.
  const made = new Set([into])
  const writes: Array<{ target: string; body: Uint8Array; mode: number }> = []
  for (let at = 0; at + 512 <= archive.length;) {
    const header = archive.subarray(at, at + 512)
    if (header.every((byte) => byte === 0)) break
    const prefix = text(header, 345, 155)
    const name = (prefix ? `${prefix}/` : '') + text(header, 0, 100)
    const size = octal(header, 124, 12)
    const mode = octal(header, 100, 8) & 0o777
    const type = String.fromCharCode(header[156] || 0x30)
    const relative = normalize(name.replace(/^\/+/, ''))
    if (relative.startsWith('..') || relative.startsWith('/')) {
      throw new Error(`template entry "${name}" leaves the folder`)
    }
    const target = join(into, relative)
    const body = at + 512
    if (type === '5') {
      mkdirSync(target, { recursive: true, mode })
      made.add(target.replace(/\/+$/, ''))
    } else if (type === '0') {
      const folder = dirname(target)
      if (!made.has(folder)) {
        mkdirSync(folder, { recursive: true })
        made.add(folder)
      }
      writes.push({ target, body: archive.subarray(body, body + size), mode })
    } else throw new Error(`template entry "${name}" is of tar type ${type}, not a file or folder`)
    at = body + Math.ceil(size / 512) * 512
  }
  // The files on the thread pool, a few at a time (its four threads), not one after the other
  // on the main thread.
  let next = 0
  const writer = async () => {
    while (next < writes.length) {
      const { target, body, mode } = writes[next++]
      await writeFile(target, body, { mode })
    }
  }
  await Promise.all(Array.from({ length: 4 }, writer))
}

/**
 * The folders and regular files under `dir` as a ustar archive, in name order, that
 * {@link extractTar} reads back. The build packs a database PGlite has shut down cleanly: PGlite's
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
