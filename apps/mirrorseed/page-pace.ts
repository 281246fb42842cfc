import { hostKey } from '../../lib/peer/index.ts'

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

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = performance.now.bind(performance),
    /** Addresses remembered at most; past it the buckets start over rather than grow. */
    private readonly maxAddresses = 100_000,
  ) {}

  /** Takes a token for `address` and returns 0, or the ms until one is there (nothing taken). */
  wait(address: string): number {
    const key = hostKey(address)
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
