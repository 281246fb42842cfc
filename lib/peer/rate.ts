/**
 * A token bucket for the optional global upload limit: `bytesPerSecond` on average, bursts up to
 * a quarter second's worth (at least one 16 KiB block, so a block is always sendable).
 */
export class TokenBucket {
  private tokens: number
  private last: number
  private readonly burst: number

  constructor(
    readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(bytesPerSecond > 0))
      throw new RangeError(`upload rate must be > 0, got ${bytesPerSecond}`)
    this.burst = Math.max(16384, bytesPerSecond / 4)
    this.tokens = this.burst
    this.last = this.now()
  }

  /** Takes `n` tokens and returns 0, or returns how many ms to wait before asking again. */
  take(n: number): number {
    const now = this.now()
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000,
    )
    this.last = now
    if (this.tokens >= n) {
      this.tokens -= n
      return 0
    }
    return Math.max(1, Math.ceil(((n - this.tokens) * 1000) / this.bytesPerSecond))
  }
}
