import { describe, expect, it } from 'vitest'
import { MAX_HEAD, parsePlainRequest } from './plain-request.ts'

const paths = new Set(['/announce', '/scrape'])
const parse = (text: string) => parsePlainRequest(Buffer.from(text, 'latin1'), paths)

describe('parsePlainRequest', () => {
  it('reads a GET for a tracker path: target, keep-alive by version and header, head length', () => {
    const head = 'GET /announce?info_hash=%aa&port=1 HTTP/1.1\r\nHost: t\r\n\r\n'
    const request = parse(head + 'GET /scrape HTTP/1.1\r\n\r\n')
    expect(request).toMatchObject({ target: '/announce?info_hash=%aa&port=1', keepAlive: true })
    expect(request !== null && request !== 'partial' && request.length).toBe(head.length)
    expect(parse('GET /scrape HTTP/1.1\r\nConnection: close\r\n\r\n')).toMatchObject({
      keepAlive: false,
    })
    expect(parse('GET /scrape HTTP/1.0\r\n\r\n')).toMatchObject({ keepAlive: false })
    expect(parse('GET /scrape HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n')).toMatchObject({
      keepAlive: true,
    })
  })

  it('gives X-Forwarded-For, every line of it', () => {
    const request = parse(
      'GET /announce?a HTTP/1.1\r\nX-Forwarded-For: 192.0.2.1\r\nx-forwarded-for: 192.0.2.9\r\n\r\n',
    )
    expect(request !== null && request !== 'partial' && request.forwardedFor()).toBe(
      '192.0.2.1, 192.0.2.9',
    )
  })

  it('waits for the rest of a head cut anywhere', () => {
    const head = 'GET /announce?info_hash=%aa HTTP/1.1\r\nHost: t\r\n\r\n'
    for (let cut = 0; cut < head.length; cut++) expect(parse(head.slice(0, cut))).toBe('partial')
  })

  it('leaves to node:http anything that is not a bodiless GET of a tracker path', () => {
    for (const text of [
      'POST /announce HTTP/1.1\r\nContent-Length: 0\r\n\r\n',
      'GET / HTTP/1.1\r\n\r\n',
      'GET /announce/x HTTP/1.1\r\n\r\n',
      'GET /announcements HTTP/1.1\r\n\r\n',
      'GET /announce HTTP/2.0\r\n\r\n',
      'GET /announce HTTP/1.1 \r\n\r\n',
      'GET  /announce HTTP/1.1\r\n\r\n',
      'GET /announce?a\tb HTTP/1.1\r\n\r\n',
      'GET /announce HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello',
      'GET /announce HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /announce HTTP/1.1\r\nno colon here\r\n\r\n',
      'GET /announce HTTP/1.1\r\nA: b\r\n folded\r\n\r\n',
      'GET /announce HTTP/1.1\nHost: t\r\n\r\n',
      'GET /announce?' + 'a'.repeat(MAX_HEAD) + ' HTTP/1.1\r\n\r\n',
    ])
      expect(parse(text), JSON.stringify(text)).toBeNull()
    // A head that never ends is not waited for past MAX_HEAD.
    expect(parse('GET /announce?' + 'a'.repeat(MAX_HEAD))).toBeNull()
  })
})

describe('fuzz: plain request parser', () => {
  // Bounded in count and in time, so a slow machine shortens the run instead of failing it.
  const ROUNDS = 200_000
  const BUDGET_MS = 8_000
  const seeds = [
    'GET /announce?info_hash=%aa%bb&peer_id=x&port=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
    'GET /scrape?info_hash=%aa HTTP/1.0\r\nX-Forwarded-For: 192.0.2.1\r\n\r\nGET /scrape HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n',
  ]
  const alphabet = 'GET /?&=%:\r\n\t HTTP1.0xX-aznc'
  const random = (n: number) => Math.floor(Math.random() * n)

  it('returns a request, partial or null for any bytes, never throws, never reads past the head', () => {
    const deadline = Date.now() + BUDGET_MS
    let requests = 0
    let rounds = 0
    for (; rounds < ROUNDS && Date.now() < deadline; rounds++) {
      const chars = [...seeds[rounds % seeds.length]]
      for (let k = random(4) + 1; k > 0; k--) {
        const at = random(chars.length + 1)
        if (random(2) === 0) chars.splice(at, random(6))
        else chars.splice(at, 0, alphabet[random(alphabet.length)])
      }
      const data = Buffer.from(chars.join(''), 'latin1')
      const request = parsePlainRequest(data, paths)
      if (request === null || request === 'partial') continue
      requests++
      const head = data.toString('latin1', 0, request.length)
      expect(head.endsWith('\r\n\r\n')).toBe(true)
      expect(head.indexOf('\r\n\r\n')).toBe(request.length - 4)
      expect(head.startsWith(`GET ${request.target} HTTP/1.`)).toBe(true)
      expect(paths.has(request.target.split('?')[0])).toBe(true)
      request.forwardedFor()
    }
    expect(rounds).toBeGreaterThan(10_000)
    expect(requests).toBeGreaterThan(100)
  })
})
