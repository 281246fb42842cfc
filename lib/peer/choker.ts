/**
 * Who may download from us. A seed has no tit-for-tat to go by (BEP 3 "Choking and
 * optimistic unchoking"), so slots go round robin: an interested peer gets a free slot at once,
 * and when peers wait, the ones unchoked longest give way to the ones waiting longest after
 * `rotateAfterMs`. One extra optimistic slot goes to a random waiting peer every
 * `optimisticMs`, as BEP 3 describes, so a newcomer gets data even when every regular slot
 * is busy. No interested peer waits for ever.
 */

export interface ChokePeer {
  readonly interested: boolean
  readonly choked: boolean
  choke(): void
  unchoke(): void
}

interface Slot {
  since: number
  optimistic: boolean
}

export class Choker {
  private peers = new Map<ChokePeer, Slot | { waitingSince: number }>()
  private lastOptimistic = 0

  constructor(
    private readonly slots: number,
    private readonly rotateAfterMs = 30_000,
    private readonly optimisticMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Call when a peer becomes interested, stops being interested, or leaves. */
  update(peer: ChokePeer, gone = false): void {
    const state = this.peers.get(peer)
    if (gone || !peer.interested) {
      this.peers.delete(peer)
      if (!gone && !peer.choked) peer.choke()
      if (state && 'since' in state) this.fill()
      return
    }
    if (state) return
    this.peers.set(peer, { waitingSince: this.now() })
    this.fill()
  }

  /** Periodic round: rotate regular slots and move the optimistic one. */
  rotate(): void {
    const now = this.now()
    let waiting = this.waiting().length
    // The optimistic slot moves on first, so a waiter that gets it is not also counted below.
    if (waiting > 0 && now - this.lastOptimistic >= this.optimisticMs) {
      for (const [peer, s] of this.peers)
        if ('since' in s && s.optimistic) this.chokePeer(peer, now)
      const pool = this.waiting()
      const pick = pool[Math.floor(Math.random() * pool.length)]
      this.unchokePeer(pick, now, true)
      this.lastOptimistic = now
    }
    waiting = this.waiting().length
    const stale = [...this.peers]
      .filter(([, s]) => 'since' in s && !s.optimistic && now - s.since >= this.rotateAfterMs)
      .sort((a, b) => (a[1] as Slot).since - (b[1] as Slot).since)
    for (const [peer] of stale.slice(0, waiting)) this.chokePeer(peer, now)
    this.fill()
  }

  get unchoked(): number {
    let n = 0
    for (const s of this.peers.values()) if ('since' in s) n++
    return n
  }

  private waiting(): ChokePeer[] {
    return [...this.peers]
      .filter((e): e is [ChokePeer, { waitingSince: number }] => 'waitingSince' in e[1])
      .sort((a, b) => a[1].waitingSince - b[1].waitingSince)
      .map(([peer]) => peer)
  }

  /** Unchoke the longest-waiting peers into free regular slots. */
  private fill(): void {
    let regular = 0
    for (const s of this.peers.values()) if ('since' in s && !s.optimistic) regular++
    if (regular >= this.slots) return
    const now = this.now()
    for (const peer of this.waiting()) {
      if (regular >= this.slots) break
      this.unchokePeer(peer, now, false)
      regular++
    }
  }

  private chokePeer(peer: ChokePeer, now: number): void {
    this.peers.set(peer, { waitingSince: now })
    peer.choke()
  }

  private unchokePeer(peer: ChokePeer, now: number, optimistic: boolean): void {
    this.peers.set(peer, { since: now, optimistic })
    peer.unchoke()
  }
}
