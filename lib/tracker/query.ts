import { TrackerError } from './errors.ts'

/** BEP 15 numbering, used by the HTTP side too so the core sees one kind of event. */
export const EVENT_NONE = 0
export const EVENT_COMPLETED = 1
export const EVENT_STARTED = 2
export const EVENT_STOPPED = 3
export type AnnounceEvent = 0 | 1 | 2 | 3

/** One announce, as the HTTP (BEP 3) and UDP (BEP 15) parsers both give it. */
export interface Announce {
  /** The 20-byte tracker key: the v1 info-hash, or a v2 hash truncated to 20 bytes. */
  infoHash: Buffer
  peerId: Buffer
  port: number
  uploaded: number
  downloaded: number
  /** Bytes still missing; undefined when the client did not say (counted as a leecher). */
  left: number | undefined
  event: AnnounceEvent
  /** Peers wanted; -1 when the client left it to the tracker. */
  numWant: number
  /** BEP 23: the client's preference only; false only for an explicit `compact=0`. */
  compact: boolean
  /** The `ip` parameter, honoured only when the request came through a trusted proxy. */
  ip: string | undefined
}

/**
 * Real announces are 200 to 400 bytes; a scrape carries 71 bytes per percent-encoded info-hash.
 * Anything longer is not a client we need to understand.
 */
export const MAX_ANNOUNCE_QUERY = 2048
export const MAX_SCRAPE_QUERY = 8192
/** BEP 15 fits about 74 hashes in a packet; HTTP scrapes are held to a similar bound. */
export const MAX_SCRAPE_HASHES = 100

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/**
 * Clients send info_hash and peer_id as raw bytes, percent-encoded where not unreserved
 * (BEP 3; libtorrent and Transmission escape everything but `[A-Za-z0-9.-_~]`), so a value is
 * decoded byte by byte: `%xx` is one byte, any other character is its own code (Node hands the
 * request line over as latin1, one character per byte). `+` stays a plus: RFC 3986 gives it no
 * meaning in a query and no client sends it unescaped.
 */
function decodeBytes(
  query: string,
  start: number,
  end: number,
  name: string,
  size: number,
): Buffer {
  const out = Buffer.allocUnsafe(size)
  let n = 0
  for (let i = start; i < end; i++) {
    let c = query.charCodeAt(i)
    if (c === 37) {
      const hi = i + 2 < end ? hexValue(query.charCodeAt(i + 1)) : -1
      const lo = hi >= 0 ? hexValue(query.charCodeAt(i + 2)) : -1
      if (lo < 0) throw new TrackerError('bad-request', `${name} has a bad percent escape`)
      c = (hi << 4) | lo
      i += 2
    } else if (c > 0xff) {
      throw new TrackerError('bad-request', `${name} is not percent-encoded bytes`)
    }
    if (n === size) throw new TrackerError('bad-request', `${name} is longer than ${size} bytes`)
    out[n++] = c
  }
  if (n !== size) throw new TrackerError('bad-request', `${name} is ${n} bytes, not ${size}`)
  return out
}

function decodeText(query: string, start: number, end: number): string {
  const raw = query.slice(start, end)
  if (raw.indexOf('%') < 0) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new TrackerError('bad-request', 'ip has a bad percent escape')
  }
}

/** Up to 20 decimal digits (a 64-bit `left`); past 2^53 the value is approximate, which is fine. */
function decodeCount(
  query: string,
  start: number,
  end: number,
  name: string,
  signed = false,
): number {
  let i = start
  let negative = false
  if (signed && query.charCodeAt(i) === 45) {
    negative = true
    i++
  }
  if (i === end || end - i > 20) {
    throw new TrackerError('bad-request', `${name} is not a whole number`)
  }
  let value = 0
  for (; i < end; i++) {
    const d = query.charCodeAt(i) - 48
    if (d < 0 || d > 9) throw new TrackerError('bad-request', `${name} is not a whole number`)
    value = value * 10 + d
  }
  return negative ? -value : value
}

/**
 * Parse the query string of `GET /announce` (the part after `?`).
 *
 * @example
 * const announce = parseAnnounceQuery('info_hash=%12%34...&peer_id=-TR4060-...&port=51413&left=0')
 */
export function parseAnnounceQuery(query: string): Announce {
  if (query.length > MAX_ANNOUNCE_QUERY) {
    throw new TrackerError('too-large', `announce query is longer than ${MAX_ANNOUNCE_QUERY} bytes`)
  }
  let infoHash: Buffer | undefined
  let peerId: Buffer | undefined
  let port = -1
  let uploaded = 0
  let downloaded = 0
  let left: number | undefined
  let event: AnnounceEvent = EVENT_NONE
  let numWant = -1
  let compact = true
  let ip: string | undefined
  const length = query.length
  let i = 0
  while (i < length) {
    let end = query.indexOf('&', i)
    if (end < 0) end = length
    let eq = query.indexOf('=', i)
    if (eq < 0 || eq > end) eq = end
    const valueStart = eq < end ? eq + 1 : end
    switch (query.slice(i, eq)) {
      case 'info_hash':
        infoHash = decodeBytes(query, valueStart, end, 'info_hash', 20)
        break
      case 'peer_id':
        peerId = decodeBytes(query, valueStart, end, 'peer_id', 20)
        break
      case 'port':
        port = decodeCount(query, valueStart, end, 'port')
        if (port < 1 || port > 65535) throw new TrackerError('bad-request', 'port is out of range')
        break
      case 'uploaded':
        uploaded = decodeCount(query, valueStart, end, 'uploaded')
        break
      case 'downloaded':
        downloaded = decodeCount(query, valueStart, end, 'downloaded')
        break
      case 'left':
        left = decodeCount(query, valueStart, end, 'left')
        break
      case 'numwant':
        numWant = Math.max(-1, decodeCount(query, valueStart, end, 'numwant', true))
        break
      case 'compact':
        compact = !(end - valueStart === 1 && query.charCodeAt(valueStart) === 48)
        break
      case 'ip':
        ip = decodeText(query, valueStart, end)
        break
      case 'event':
        event = parseEvent(query.slice(valueStart, end))
        break
    }
    i = end + 1
  }
  if (infoHash === undefined) throw new TrackerError('bad-request', 'info_hash is missing')
  if (peerId === undefined) throw new TrackerError('bad-request', 'peer_id is missing')
  if (port < 0) throw new TrackerError('bad-request', 'port is missing')
  return { infoHash, peerId, port, uploaded, downloaded, left, event, numWant, compact, ip }
}

function parseEvent(value: string): AnnounceEvent {
  switch (value) {
    case 'started':
      return EVENT_STARTED
    case 'completed':
      return EVENT_COMPLETED
    case 'stopped':
      return EVENT_STOPPED
    // BEP 21 `paused` is a partial seed saying it is still here: a plain update for us.
    case '':
    case 'empty':
    case 'paused':
      return EVENT_NONE
    default:
      throw new TrackerError('bad-request', 'event is not one of started, completed, stopped')
  }
}

/**
 * Parse the query string of `GET /scrape` (BEP 48): zero or more `info_hash` values. An empty
 * list means a full scrape, which the caller may refuse.
 */
export function parseScrapeQuery(query: string): Buffer[] {
  if (query.length > MAX_SCRAPE_QUERY) {
    throw new TrackerError('too-large', `scrape query is longer than ${MAX_SCRAPE_QUERY} bytes`)
  }
  const infoHashes: Buffer[] = []
  const length = query.length
  let i = 0
  while (i < length) {
    let end = query.indexOf('&', i)
    if (end < 0) end = length
    if (query.startsWith('info_hash=', i) && i + 10 <= end) {
      if (infoHashes.length === MAX_SCRAPE_HASHES) {
        throw new TrackerError(
          'too-large',
          `scrape asks for more than ${MAX_SCRAPE_HASHES} torrents`,
        )
      }
      infoHashes.push(decodeBytes(query, i + 10, end, 'info_hash', 20))
    }
    i = end + 1
  }
  return infoHashes
}
