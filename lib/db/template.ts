import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

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
export function fromTemplate(dir: string, template = templateFile()): boolean {
  if (template === undefined) return false
  if (existsSync(dir) && readdirSync(dir).length > 0) return false
  const staging = `${dir}.new-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  try {
    extractTar(gunzipSync(readFileSync(template)), staging)
    rmSync(dir, { recursive: true, force: true })
    renameSync(staging, dir)
    return true
  } catch (err) {
    rmSync(staging, { recursive: true, force: true })
    throw err
  }
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
export function extractTar(archive: Uint8Array, into: string): void {
  mkdirSync(into, { recursive: true })
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
    if (type === '5') mkdirSync(target, { recursive: true, mode })
    else if (type === '0') {
      mkdirSync(dirname(target), { recursive: true })
      writeFileSync(target, archive.subarray(body, body + size), { mode })
    } else throw new Error(`template entry "${name}" is of tar type ${type}, not a file or folder`)
    at = body + Math.ceil(size / 512) * 512
  }
}
