import type { IncomingMessage, ServerResponse } from 'node:http'
import { log } from '../log/index.ts'
import { parseAddress } from './address.ts'
import { TrackerError } from './errors.ts'
import { MAX_SCRAPE_QUERY, parseAnnounceQuery, parseScrapeQuery } from './query.ts'
import { announceReply, failureReply, scrapeReply } from './response.ts'
import type { Tracker } from './tracker.ts'

const address = new Uint8Array(16)

/**
 * The peer's address: the socket's, unless the socket is a trusted proxy, in which case the `ip`
 * parameter or else the last `X-Forwarded-For` entry (the one the proxy itself added).
 */
function peerAddress(tracker: Tracker, req: IncomingMessage, ip: string | undefined): 4 | 6 {
  const remote = req.socket.remoteAddress ?? ''
  const family = parseAddress(remote, address)
  if (family === 0) throw new TrackerError('bad_request', 'no peer address')
  if (tracker.trustedProxies.size === 0) return family
  const key = Buffer.from(address.subarray(0, family === 4 ? 4 : 16)).toString('hex')
  if (!tracker.trustedProxies.has(key)) return family
  let claimed = ip
  if (claimed === undefined) {
    const forwarded = req.headers['x-forwarded-for']
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
      .split(',')
      .pop()
    claimed = last?.trim() || undefined
  }
  if (claimed === undefined) return family
  const claimedFamily = parseAddress(claimed, address)
  if (claimedFamily === 0) throw new TrackerError('bad_request', 'ip is not an IP address')
  return claimedFamily
}

function send(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
  res.end(body)
}

/** See {@link Tracker.handleHttp}. Every refusal becomes a bencoded failure here, and only here. */
export function handleHttp(tracker: Tracker, req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? ''
  const mark = url.indexOf('?')
  const path = mark < 0 ? url : url.slice(0, mark)
  const isAnnounce = path === '/announce'
  if (!isAnnounce && path !== '/scrape') return false
  const query = mark < 0 ? '' : url.slice(mark + 1)
  let body: Buffer
  try {
    if (url.length > MAX_SCRAPE_QUERY + 16) {
      throw new TrackerError('too_large', 'request line is too long')
    }
    if (isAnnounce) {
      const announce = parseAnnounceQuery(query)
      const family = peerAddress(tracker, req, announce.ip)
      body = announceReply(tracker.announce(announce, address, family, true), announce.compact)
    } else {
      body = scrapeReply(tracker.scrape(parseScrapeQuery(query)))
    }
  } catch (err) {
    if (err instanceof TrackerError) {
      body = failureReply(err.message, err.retryIn)
    } else {
      log.error('tracker request failed', { error: err, path })
      body = failureReply('internal tracker error', 5)
    }
  }
  send(res, body)
  return true
}
