/**
 * The head of an HTTP/1.x request the plain path (plain-http.ts) answers itself: a GET with no
 * body, its target, whether the connection stays open, and the one header a route may ask for.
 */
export interface PlainRequest {
  target: string
  /** the target up to its query: the route's key */
  path: string
  keepAlive: boolean
  /** bytes of the head, the blank line included: where the next pipelined request starts */
  length: number
  /** `X-Forwarded-For` (several joined with commas), read only when asked for */
  forwardedFor: () => string | undefined
}

/** Longest head the plain path reads; a longer one goes to node:http, which refuses it. */
export const MAX_HEAD = 8192

const CR = 13
const LF = 10

/**
 * Parses the request head at the start of `data` when it is a `GET <path>[?…] HTTP/1.x` for one of
 * `paths` with no body. Returns null for anything else (another method or path, a body, a head
 * that is malformed or longer than MAX_HEAD), which then goes to node:http whole; and `'partial'`
 * while the head is not complete yet. Pure, no I/O: fuzzed in plain-request.test.ts.
 */
export function parsePlainRequest(
  data: Buffer,
  paths: { has(path: string): boolean },
): PlainRequest | 'partial' | null {
  const end = data.indexOf('\r\n\r\n', 0, 'latin1')
  if (end < 0) return data.length > MAX_HEAD ? null : 'partial'
  if (end > MAX_HEAD) return null
  // Request line: "GET " target " HTTP/1.x"
  if (data[0] !== 0x47 || data[1] !== 0x45 || data[2] !== 0x54 || data[3] !== 0x20) return null
  const lineEnd = data.indexOf(CR, 4)
  const space = data.lastIndexOf(0x20, lineEnd)
  if (space <= 4 || lineEnd - space !== 9) return null
  if (data.toString('latin1', space + 1, lineEnd - 1) !== 'HTTP/1.') return null
  const minor = data[lineEnd - 1]
  if (minor !== 0x30 && minor !== 0x31) return null
  const target = data.toString('latin1', 4, space)
  const mark = target.indexOf('?')
  const path = mark < 0 ? target : target.slice(0, mark)
  if (!paths.has(path)) return null
  // RFC 9112 §3.2: a target holds no control characters or spaces.
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c <= 0x20 || c === 0x7f) return null
  }

  let keepAlive = minor === 0x31
  let forwarded: string | undefined
  let at = lineEnd + 2
  while (at < end + 2) {
    const next = data.indexOf(CR, at)
    if (data[next + 1] !== LF) return null
    // obs-fold (a line starting with blank space) is for node:http to refuse.
    if (data[at] === 0x20 || data[at] === 0x09) return null
    const colon = data.indexOf(0x3a, at)
    if (colon < 0 || colon > next) return null
    // Only the names that change the answer are compared; the first letter rules out the rest.
    const first = data[at] | 0x20
    if (first === 0x63 || first === 0x74 || first === 0x78) {
      const name = data.toString('latin1', at, colon).toLowerCase()
      const value = data.toString('latin1', colon + 1, next).trim()
      if (name === 'connection') {
        const v = value.toLowerCase()
        if (v.includes('close')) keepAlive = false
        else if (v.includes('keep-alive')) keepAlive = true
      } else if (name === 'content-length') {
        if (value !== '0') return null
      } else if (name === 'transfer-encoding') {
        return null
      } else if (name === 'x-forwarded-for') {
        forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`
      }
    }
    at = next + 2
  }
  return { target, path, keepAlive, length: end + 4, forwardedFor: () => forwarded }
}
