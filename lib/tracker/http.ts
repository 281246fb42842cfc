// The HTTP front end of the tracker (BEP 3, 23, 7): a request target in, a bencoded body out.
// `answerHttp` serves a front end that reads HTTP itself (the appliance's plain-http path),
// `handleHttp` a `node:http` server. It calls the core; the core never calls it.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { log } from '../log/index.ts'
import { parseAddress } from './address.ts'
import { TrackerError } from './errors.ts'
import { MAX_SCRAPE_QUERY, parseAnnounceQuery, parseScrapeQuery } from './query.ts'
import { announceReply, failureReply, scrapeReply } from './response.ts'
import type { Tracker } from './tracker.ts'

const address = new Uint8Array(16)

/** Which tracker path a request target names, or null for anything else. */
export function trackerPath(target: string): 'announce' | 'scrape' | null {
  const mark = target.indexOf('?')
  const path = mark < 0 ? target : target.slice(0, mark)
  return path === '/announce' ? 'announce' : path === '/scrape' ? 'scrape' : null
}

/**
 * The peer's address: the socket's, unless the socket is a trusted proxy, in which case the last
 * `X-Forwarded-For` entry (the one the proxy itself added). The client's own `ip=` parameter never
 * sets it: a client could name any address, handing other peers a reflection target and escaping
 * the per-address rate limit, which keys on this address.
 */
function peerAddress(
  tracker: Tracker,
  remote: string,
  forwardedFor: () => string | undefined,
): 4 | 6 {
  const family = parseAddress(remote, address)
  if (family === 0) throw new TrackerError('bad-request', 'no peer address')
  if (tracker.trustedProxies.size === 0) return family
  const key = Buffer.from(address.subarray(0, family === 4 ? 4 : 16)).toString('hex')
  if (!tracker.trustedProxies.has(key)) return family
  const claimed = (forwardedFor() ?? '').split(',').pop()?.trim()
  if (!claimed) return family
  const claimedFamily = parseAddress(claimed, address)
  if (claimedFamily === 0)
    throw new TrackerError('bad-request', 'X-Forwarded-For is not an address')
  return claimedFamily
}

/**
 * The bencoded body answering `target` (`/announce?…` or `/scrape?…`) from `remote`. Every
 * refusal becomes a `failure reason` here, and only here. `forwardedFor` is asked for the
 * X-Forwarded-For header only when `remote` is a trusted proxy.
 */
export function answerHttp(
  tracker: Tracker,
  target: string,
  remote: string,
  forwardedFor: () => string | undefined,
): Buffer {
  const mark = target.indexOf('?')
  const query = mark < 0 ? '' : target.slice(mark + 1)
  try {
    if (target.length > MAX_SCRAPE_QUERY + 16) {
      throw new TrackerError('too-large', 'request line is too long')
    }
    if (trackerPath(target) === 'announce') {
      const announce = parseAnnounceQuery(query)
      const family = peerAddress(tracker, remote, forwardedFor)
      return announceReply(tracker.announce(announce, address, family, true), announce.compact)
    }
    return scrapeReply(tracker.scrape(parseScrapeQuery(query)))
  } catch (err) {
    if (err instanceof TrackerError) return failureReply(err.message, err.retryIn)
    log.error('tracker request failed', { error: err, target: target.slice(0, 100) })
    return failureReply('internal tracker error', 5)
  }
}

/**
 * Answer `GET /announce` and `GET /scrape` through `node:http`; returns false (and touches
 * nothing) for any other path, so the caller can hand the request on.
 *
 * @example
 * server.on('request', (req, res) => handleHttp(tracker, req, res) || app(req, res))
 */
export function handleHttp(tracker: Tracker, req: IncomingMessage, res: ServerResponse): boolean {
  const target = req.url ?? ''
  if (trackerPath(target) === null) return false
  const body = answerHttp(tracker, target, req.socket.remoteAddress ?? '', () => {
    const header = req.headers['x-forwarded-for']
    return Array.isArray(header) ? header.join(',') : header
  })
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
  res.end(body)
  return true
}
