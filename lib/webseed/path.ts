import { WebSeedError } from './errors.ts'

/** Every web-seed URL of the appliance starts with this (docs/architecture.md, "Web-seed server"). */
export const webSeedPrefix = '/webseed/'

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })

const fail = (message: string): never => {
  throw new WebSeedError('bad-path', message)
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30
  const lower = code | 0x20
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10
  return -1
}

/**
 * Percent-decodes one segment, once, strictly: `%` must be followed by two hex digits, the bytes
 * must be UTF-8 (torrent paths are, BEP 3), and the result may not hold `/` or NUL nor be `.` or
 * `..`. So `%2e%2e`, `%2f` and `%00` never reach the index, let alone the file system.
 */
function decodeSegment(raw: string): string {
  if (raw === '') fail('empty segment')
  let segment = raw
  if (raw.includes('%')) {
    const bytes = Buffer.allocUnsafe(raw.length)
    let n = 0
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i)
      if (c !== 0x25) {
        bytes[n++] = c
        continue
      }
      const hi = i + 2 < raw.length ? hexValue(raw.charCodeAt(i + 1)) : -1
      const lo = hi === -1 ? -1 : hexValue(raw.charCodeAt(i + 2))
      if (lo === -1) fail(`bad percent-encoding in "${raw}"`)
      bytes[n++] = (hi << 4) | lo
      i += 2
    }
    try {
      segment = fatalUtf8.decode(bytes.subarray(0, n))
    } catch {
      fail(`"${raw}" is not UTF-8`)
    }
  }
  if (segment === '.' || segment === '..') fail(`a "${segment}" segment`)
  if (segment.includes('/')) fail(`an encoded "/" in "${raw}"`)
  if (segment.includes('\0')) fail(`a NUL byte in "${raw}"`)
  return segment
}

/**
 * The path below `/webseed/` of a request target, decoded: `releases/amd64/…/<name>/<file>`.
 * A query string is dropped (no web-seed client sends one, and it names no file). Anything that
 * is not plain printable ASCII with `%XX` escapes, or that has an empty, `.` or `..` segment,
 * throws a `bad-path` WebSeedError.
 *
 * @example
 * parseWebSeedPath('/webseed/releases/x/a%20b.iso') // 'releases/x/a b.iso'
 */
export function parseWebSeedPath(target: string): string {
  if (!target.startsWith(webSeedPrefix)) fail(`not under ${webSeedPrefix}`)
  const q = target.indexOf('?')
  const raw = target.slice(webSeedPrefix.length, q === -1 ? target.length : q)
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i)
    // Clients percent-encode spaces, controls, `\` and non-ASCII (none is a URI character,
    // RFC 3986 section 2); a raw one is a malformed target, not a file name.
    if (c <= 0x20 || c >= 0x7f || c === 0x5c) fail('a raw control, space, backslash or non-ASCII')
  }
  const segments = raw.split('/')
  for (let i = 0; i < segments.length; i++) segments[i] = decodeSegment(segments[i])
  return segments.join('/')
}
