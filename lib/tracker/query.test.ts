import { describe, expect, it } from 'vitest'
import { TrackerError } from './errors.ts'
import { parseAnnounceQuery, parseScrapeQuery } from './query.ts'

const infoHash = Buffer.from('c12fe1c06bba254a9dc9f519b335aa7c1367a88a', 'hex')
const peerId = Buffer.from('-TR4060-abcdefghijkl')

/** Escape the way Transmission and libtorrent do: everything but RFC 3986 unreserved. */
function escape(bytes: Buffer): string {
  let out = ''
  for (const b of bytes) {
    const c = String.fromCharCode(b)
    out += /[A-Za-z0-9.\-_~]/.test(c) ? c : '%' + b.toString(16).padStart(2, '0').toUpperCase()
  }
  return out
}

const base = `info_hash=${escape(infoHash)}&peer_id=${escape(peerId)}&port=51413`

function refused(query: string, parse: (query: string) => unknown = parseAnnounceQuery): string {
  try {
    parse(query)
  } catch (err) {
    expect(err).toBeInstanceOf(TrackerError)
    return (err as Error).message
  }
  throw new Error('expected the query to be refused')
}

describe('parseAnnounceQuery', () => {
  it('reads a Transmission-style announce', () => {
    const a = parseAnnounceQuery(
      `${base}&uploaded=10&downloaded=20&left=1073741824000&numwant=80&key=1a2b&compact=1&supportcrypto=1&event=started`,
    )
    expect(a.infoHash).toEqual(infoHash)
    expect(a.peerId).toEqual(peerId)
    expect(a).toMatchObject({ port: 51413, uploaded: 10, downloaded: 20, left: 1073741824000 })
    expect(a).toMatchObject({ numWant: 80, compact: true, event: 2, ip: undefined })
  })

  it('takes literal bytes and lower-case escapes alike', () => {
    const literal = Buffer.from('abcdefghij0123456789')
    const a = parseAnnounceQuery(
      `info_hash=${literal}&peer_id=${escape(peerId).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}&port=1`,
    )
    expect(a.infoHash).toEqual(literal)
    expect(a.peerId).toEqual(peerId)
  })

  it('defaults: compact, no event, numwant left to the tracker, left unknown', () => {
    const a = parseAnnounceQuery(base)
    expect(a).toMatchObject({ compact: true, event: 0, numWant: -1, left: undefined, uploaded: 0 })
  })

  it('reads compact=0, the other events, ip and a negative numwant', () => {
    expect(parseAnnounceQuery(`${base}&compact=0`).compact).toBe(false)
    expect(parseAnnounceQuery(`${base}&event=completed`).event).toBe(1)
    expect(parseAnnounceQuery(`${base}&event=stopped`).event).toBe(3)
    expect(parseAnnounceQuery(`${base}&event=paused`).event).toBe(0)
    expect(parseAnnounceQuery(`${base}&event=`).event).toBe(0)
    expect(parseAnnounceQuery(`${base}&ip=2001%3Adb8%3A%3A1`).ip).toBe('2001:db8::1')
    expect(parseAnnounceQuery(`${base}&numwant=-1`).numWant).toBe(-1)
  })

  it('refuses each kind of bad input with a message naming it', () => {
    expect(refused(`peer_id=${escape(peerId)}&port=1`)).toMatch(/info_hash is missing/)
    expect(refused(`info_hash=${escape(infoHash)}&port=1`)).toMatch(/peer_id is missing/)
    expect(refused(`info_hash=${escape(infoHash)}&peer_id=${escape(peerId)}`)).toMatch(
      /port is missing/,
    )
    expect(refused(`${base}&info_hash=%AB%CD`)).toMatch(/info_hash is 2 bytes, not 20/)
    expect(refused(`${base}&info_hash=${escape(infoHash)}00`)).toMatch(/longer than 20 bytes/)
    expect(refused(`${base}&info_hash=%ZZ${escape(infoHash)}`)).toMatch(/bad percent escape/)
    expect(refused(`${base}&info_hash=${escape(infoHash).slice(0, -2)}%A`)).toMatch(/percent/)
    expect(refused(`${base}&peer_id=\u0100${escape(peerId)}`)).toMatch(/not percent-encoded bytes/)
    expect(refused(`${base}&port=0`)).toMatch(/port is out of range/)
    expect(refused(`${base}&port=65536`)).toMatch(/port is out of range/)
    expect(refused(`${base}&left=-5`)).toMatch(/left is not a whole number/)
    expect(refused(`${base}&left=`)).toMatch(/left is not a whole number/)
    expect(refused(`${base}&uploaded=1e5`)).toMatch(/uploaded is not a whole number/)
    expect(refused(`${base}&downloaded=${'9'.repeat(21)}`)).toMatch(/downloaded/)
    expect(refused(`${base}&numwant=many`)).toMatch(/numwant/)
    expect(refused(`${base}&event=finished`)).toMatch(/event is not one of/)
    expect(refused(`${base}&ip=%E0%A4%A`)).toMatch(/ip has a bad percent escape/)
    expect(refused(`${base}&x=${'a'.repeat(2100)}`)).toMatch(/longer than 2048/)
  })
})

describe('parseScrapeQuery', () => {
  it('collects every info_hash, ignoring other keys', () => {
    const other = Buffer.alloc(20, 7)
    const hashes = parseScrapeQuery(`info_hash=${escape(infoHash)}&x=1&info_hash=${escape(other)}`)
    expect(hashes).toEqual([infoHash, other])
  })

  it('gives an empty list for a full scrape', () => {
    expect(parseScrapeQuery('')).toEqual([])
  })

  it('refuses bad hashes and oversized scrapes', () => {
    expect(refused('info_hash=abc', parseScrapeQuery)).toMatch(/info_hash is 3 bytes/)
    const many = Array.from({ length: 101 }, () => `info_hash=${'a'.repeat(20)}`).join('&')
    expect(refused(many, parseScrapeQuery)).toMatch(/more than 100 torrents/)
    expect(refused('x'.repeat(9000), parseScrapeQuery)).toMatch(/longer than 8192/)
  })
})
