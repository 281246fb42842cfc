/**
 * LEDBAT congestion control for one uTP connection (BEP 29 "congestion control", RFC 6817):
 * the window grows while the one-way queueing delay our packets see stays under the 100 ms
 * target and shrinks when it goes over, so a seeder behind a home router yields to the owner's
 * own traffic. Loss halves the window, a timeout drops it to one packet, as in TCP.
 */

/** CCONTROL_TARGET: the queueing delay uTP accepts on the up-link, microseconds. */
export const TARGET_DELAY_US = 100_000
/** MAX_CWND_INCREASE_BYTES_PER_RTT of libutp: the gain at zero delay with a full window. */
const GAIN_BYTES_PER_RTT = 3000
/** base_delay is the minimum of the last two minutes (BEP 29), kept as per-minute minima. */
const BASE_HISTORY = 2
const MINUTE_MS = 60_000

export class Ledbat {
  /** max_window: bytes that may be in flight. */
  window: number
  private slowStart = true
  private readonly minima: number[] = []
  private minuteStartedAt = -Infinity

  constructor(
    readonly packetSize: number,
    readonly maxWindow: number,
    initialPackets = 10,
  ) {
    this.window = Math.min(maxWindow, packetSize * initialPackets)
  }

  /**
   * An ack arrived for `ackedBytes`; `delaySample` is the peer's `timestamp_difference` (our
   * clock to theirs, so only differences mean anything), `inFlight` the bytes in flight before it.
   */
  onAck(ackedBytes: number, delaySample: number, inFlight: number, now: number): void {
    const ourDelay = delaySample - this.baseDelay(delaySample, now)
    const offTarget = TARGET_DELAY_US - ourDelay
    if (this.slowStart && offTarget > TARGET_DELAY_US / 2) {
      this.window += ackedBytes
    } else {
      this.slowStart = false
      // libutp's form: over one window of acks the window moves by at most the gain, up while
      // under the target and down while over it. An unused window is not grown.
      if (offTarget > 0 && inFlight < this.window / 2) return
      const delayFactor = offTarget / TARGET_DELAY_US
      const windowFactor = ackedBytes / Math.max(this.window, ackedBytes)
      this.window += GAIN_BYTES_PER_RTT * delayFactor * windowFactor
    }
    this.window = Math.max(this.packetSize, Math.min(this.maxWindow, this.window))
  }

  /** A packet was lost (three duplicate acks or selective acks past it): halve, like TCP. */
  onLoss(): void {
    this.slowStart = false
    this.window = Math.max(this.packetSize, this.window / 2)
  }

  /** Nothing came back within the timeout: one packet at a time until acks flow again. */
  onTimeout(): void {
    this.slowStart = false
    this.window = this.packetSize
  }

  private baseDelay(sample: number, now: number): number {
    if (now - this.minuteStartedAt >= MINUTE_MS) {
      this.minima.push(sample)
      if (this.minima.length > BASE_HISTORY) this.minima.shift()
      this.minuteStartedAt = now
    }
    const last = this.minima.length - 1
    if (sample < this.minima[last]) this.minima[last] = sample
    return Math.min(...this.minima)
  }
}
