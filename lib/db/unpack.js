// Unpacks the build's template database into a new PGlite folder, on a thread of its own
// (template.ts starts it). Plain JavaScript, like the hashing workers, so that a thread loads it
// without tsx. On the main thread the template (then 40 MB in a thousand files) took 0.3 to 0.4 s
// in one piece, and on its thread pool (fs.promises) still 0.1 to 0.2 s of the main thread's time
// (eventLoopUtilization): time a first `scan` needs there to walk the tree and feed the hashing
// threads while the database is made (lib/publish/ahead.ts).
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { workerData } from 'node:worker_threads'
import { gunzipSync } from 'node:zlib'

/**
 * The whole archive, inflated into one buffer of the size the gzip trailer gives: zlib's default
 * 16 KiB chunks, gathered and then copied into one buffer, took twice as long for what was then the
 * template's 40 MB (0.47 against 0.2 CPU-s, a first `scan`'s start; bench/scan.ts).
 */
function gunzip(compressed) {
  // ISIZE: the length modulo 2^32, which a template never reaches.
  const size = compressed.length >= 4 ? compressed.readUInt32LE(compressed.length - 4) : 0
  return gunzipSync(compressed, { chunkSize: Math.max(64 << 10, size + 1) })
}

/**
 * Writes the regular files and folders of a ustar archive (what template.ts's packTar makes)
 * under `into`. Anything else (links, devices), or a name leaving `into`, is an error: the
 * template is ours, and a surprise in it means it is not.
 */
function extractTar(archive, into) {
  mkdirSync(into, { recursive: true })
  // Hundreds of files in a few dozen folders: each folder is made once, not once per file.
  const made = new Set([into])
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
      writeFile(target, archive.subarray(body, body + size), mode)
    } else throw new Error(`template entry "${name}" is of tar type ${type}, not a file or folder`)
    at = body + Math.ceil(size / 512) * 512
  }
}

/** Postgres's page; a file this large may hold runs of them all zeros. */
const PAGE = 8192
const ZERO_PAGE = Buffer.alloc(PAGE)
const SPARSE_FROM = 1 << 20

/**
 * Writes a file, leaving its all-zero pages as holes when it is large: the WAL segment, 16 MB of
 * which all but a few pages are zeros (makeTemplate in pglite.ts zeroes the part a start never
 * reads, template.ts's zeroDeadWal). Writing them took ~30 ms of the kernel's time at every first
 * start. The price: Postgres fills a new segment with zeros to reserve its disk space, and this
 * first one's is taken as the WAL reaches it, so on a disk that fills within the first 16 MB of
 * WAL a write fails that would have had its space (Postgres then stops, as it does on a full disk
 * anyway).
 */
function writeFile(target, body, mode) {
  if (body.length < SPARSE_FROM) return writeFileSync(target, body, { mode })
  const fd = openSync(target, 'w', mode)
  try {
    for (let start = 0; start < body.length;) {
      let end = start
      while (end < body.length && !isZeroPage(body, end)) end = Math.min(end + PAGE, body.length)
      for (let done = start; done < end;) done += writeSync(fd, body, done, end - done, done)
      start = end
      while (isZeroPage(body, start)) start += PAGE
    }
    // The holes after the last data, up to the file's length.
    ftruncateSync(fd, body.length)
  } finally {
    closeSync(fd)
  }
}

function isZeroPage(body, at) {
  return at + PAGE <= body.length && ZERO_PAGE.equals(body.subarray(at, at + PAGE))
}

/** The octal number in a tar header field (NUL- or space-terminated). */
function octal(block, at, length) {
  const text = Buffer.from(block.subarray(at, at + length)).toString('latin1')
  return parseInt(text.replace(/[\0 ].*$/s, '') || '0', 8)
}

function text(block, at, length) {
  const field = block.subarray(at, at + length)
  const end = field.indexOf(0)
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8')
}

// Last: the constants above are set before it runs.
const { template, into } = workerData
extractTar(gunzip(readFileSync(template)), into)
