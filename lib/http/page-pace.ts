import { hostKey } from '../peer/index.ts'

/**
 * How fast one address (IPv6: one /64, as the tracker and the seeder count) may fetch public
 * pages (`/`, `/feed.xml`, metalinks, `.torrent` files): a token bucket of `perSecond`, `burst`
 * deep. A request over it is not refused but answered later: `wait` says how many ms, and the
 * caller reads nothing more from that connection meanwhile. A client in a loop, the flood of
 * issue 14 (three loops of metalink requests), then costs a timer instead of the event loop
 * the tracker and the seeder share (`npm run bench:flood`); a refusal would be answered at once
 * and asked again at once, costing as much as the page. People and feed readers never notice.
 *
 * @example
 * const pace = new PagePace(20, 100)
 * const ms = pace.wait(socket.remoteAddress ?? '')
 * if (ms > 0) setTimeout(answer, ms)
 */
export class PagePace {
  private buckets = new Map<string, { tokens: number; at: number }>()
  private readonly trusted: ReadonlySet<string>

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    options: {
      /**
       * `tracker.trustedProxies`: behind one of them the client is the last `X-Forwarded-For`
       * hop (the one the proxy added), as for announces; else every visitor would share the
       * proxy's one budget.
       */
      trustedProxies?: readonly string[]
      now?: () => number
      /** Addresses remembered at most; past it the buckets start over rather than grow. */
      maxAddresses?: number
    } = {},
  ) {
    this.trusted = new Set((options.trustedProxies ?? []).map(unmapped))
    this.now = options.now ?? performance.now.bind(performance)
    this.maxAddresses = options.maxAddresses ?? 100_000
  }

  private readonly now: () => number
  private readonly maxAddresses: number

  /**
   * Takes a token for `address` (or, from a trusted proxy, for the address it forwards) and
   * returns 0, or the ms until one is there (nothing taken).
   */
  wait(address: string, forwardedFor?: () => string | undefined): number {
    let client = address
    if (this.trusted.size > 0 && this.trusted.has(unmapped(address))) {
      const hop = forwardedFor?.()?.split(',').pop()?.trim()
      if (hop) client = hop
    }
    const key = hostKey(client)
    const now = this.now()
    let bucket = this.buckets.get(key)
    if (!bucket) {
      if (this.buckets.size >= this.maxAddresses) this.buckets.clear()
      bucket = { tokens: this.burst, at: now }
      this.buckets.set(key, bucket)
    }
    bucket.tokens = Math.min(
      this.burst,
      bucket.tokens + ((now - bucket.at) * this.perSecond) / 1000,
    )
    bucket.at = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / this.perSecond)
  }
}

/** `::ffff:192.0.2.1` on a dual-stack socket is `192.0.2.1`. */
function unmapped(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address
}
