import { WebSeedError } from './errors.ts'

/** Inclusive byte positions, as `Content-Range` writes them. */
export interface ByteRange {
  start: number
  end: number
}

const digits = /^\d+$/

/** More than 15 digits cannot be a position in any file we serve; it means "past the end". */
function position(text: string): number {
  return text.length > 15 ? Number.MAX_SAFE_INTEGER : Number(text)
}

/** One `first-last`, `first-` or `-suffix` spec against a file of `size` bytes; null if unsatisfiable. */
function resolve(spec: string, size: number, header: string): ByteRange | null {
  const dash = spec.indexOf('-')
  const first = spec.slice(0, dash)
  const last = spec.slice(dash + 1)
  if (dash === -1 || (first === '' && last === '')) {
    throw new WebSeedError('bad-range', `"${header}" is not a byte range`)
  }
  if ((first !== '' && !digits.test(first)) || (last !== '' && !digits.test(last))) {
    throw new WebSeedError('bad-range', `"${header}" is not a byte range`)
  }
  if (first === '') {
    // RFC 9110 14.1.2: a suffix longer than the file means the whole file; `-0` means nothing.
    const suffix = position(last)
    if (suffix === 0 || size === 0) return null
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = position(first)
  const end = last === '' ? Number.MAX_SAFE_INTEGER : position(last)
  if (end < start) throw new WebSeedError('bad-range', `"${header}" ends before it starts`)
  if (start >= size) return null
  return { start, end: Math.min(end, size - 1) }
}

/**
 * The `Range` header of a request for a file of `size` bytes (RFC 9110 section 14): null means
 * "send the whole file" (no header, or a unit other than bytes, which a server MUST ignore),
 * a ByteRange means 206 with that range. A malformed `bytes=` header throws `bad-range` and an
 * unsatisfiable one `unsatisfiable`; both are answered 416.
 *
 * Several ranges get the whole file (200), as RFC 9110 section 14.2 allows a server to ignore
 * Range: no web-seed client sends more than one (libtorrent, Transmission and aria2c ask for one
 * span per request), a 200 is understood by every client, and answering only the first range as
 * a 206 would leave a client that did ask for several with less than it asked for. They are
 * still checked, so a malformed or wholly unsatisfiable list gets its 416.
 *
 * @example
 * parseRange('bytes=0-16383', 1 << 20) // { start: 0, end: 16383 }
 * parseRange('bytes=-500', 1000)        // { start: 500, end: 999 }
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  if (header === undefined) return null
  const eq = header.indexOf('=')
  if (eq === -1) throw new WebSeedError('bad-range', `"${header}" has no unit`)
  if (header.slice(0, eq).trim().toLowerCase() !== 'bytes') return null
  const specs = header.slice(eq + 1).split(',')
  if (specs.length === 1) {
    const range = resolve(specs[0].trim(), size, header)
    if (!range) throw new WebSeedError('unsatisfiable', `"${header}" is outside ${size} bytes`)
    return range
  }
  let satisfiable = false
  for (const spec of specs) {
    const trimmed = spec.trim()
    if (trimmed === '') continue // RFC 9110 5.6.1: empty list elements are ignored
    if (resolve(trimmed, size, header)) satisfiable = true
  }
  if (!satisfiable) throw new WebSeedError('unsatisfiable', `"${header}" is outside ${size} bytes`)
  return null
}
