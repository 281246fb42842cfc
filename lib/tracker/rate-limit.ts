/**
 * Per-address announce limit: a count per address in a fixed window, all counts dropped when the
 * window ends (one `clear()` on a timer, nothing per request but a Map update). IPv6 addresses
 * are counted per /64, since one host may own the whole /64. The Map is bounded: past
 * `maxAddresses` in one window it starts over rather than grow.
 */
export class AnnounceRateLimit {
  private counts = new Map<string, number>()
  private readonly limit: number
  private readonly maxAddresses: number

  constructor(limit: number, maxAddresses = 1_000_000) {
    this.limit = limit
    this.maxAddresses = maxAddresses
  }

  /** Count one announce from `address` (4 or 16 bytes); false when over the limit. */
  take(address: Uint8Array, family: 4 | 6): boolean {
    const key =
      family === 4
        ? String.fromCharCode(address[0], address[1], address[2], address[3])
        : String.fromCharCode(...address.subarray(0, 8))
    const count = (this.counts.get(key) ?? 0) + 1
    if (count === 1 && this.counts.size >= this.maxAddresses) this.counts.clear()
    this.counts.set(key, count)
    return count <= this.limit
  }

  /** Start a new window. */
  reset(): void {
    this.counts.clear()
  }
}
