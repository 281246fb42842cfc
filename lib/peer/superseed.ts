/**
 * BEP 16 super-seeding for one torrent, so that in a crowd each piece leaves the origin about
 * once and the downloaders hand it on to each other.
 *
 * A super-seeded peer is told we have nothing (have_none, or no bitfield), then offered pieces
 * one `have` at a time: at most `offersPerPeer` pieces it has not yet passed on. A piece counts
 * as passed on once another peer we see has it too (BEP 16's rule), or `forwardWaitMs` after
 * the peer completed it, so a peer that never uploads (or whose downloaders cannot reach it)
 * stalls nobody. The piece offered next is the rarest we know of: fewest copies among our peers
 * plus offers still in flight, so every piece goes out once before any goes out twice.
 *
 * libtorrent's own super-seeding offers a new piece as soon as the peer has the last one (its
 * default, non-strict) and measured 1.6 copies per crowd in `npm run bench:egress`; waiting
 * for the hand-on is what brings the origin near one copy.
 *
 * Peers that are not super-seeded (a lone downloader gets everything at once) are tracked too:
 * their `have`s count as copies in the swarm. When a crowd forms around such a peer, `retract`
 * super-seeds it from then on if it can be told we no longer have a piece (lt_donthave): without
 * that, a peer that came before the crowd would fetch the whole release from the origin.
 */

/** The connection side of a super-seeded peer. */
export interface SuperSeedPeer {
  /** Sends a BEP 3 `have` for `index`. */
  have(index: number): void
  /** Sends lt_donthave for `index`; absent or false `canRetract` when the peer does not take it. */
  dontHave?(index: number): void
  readonly canRetract?: boolean
}

export interface SuperSeedOptions {
  /** Pieces offered to one peer and not yet passed on, at most. */
  offersPerPeer: number
  /** A completed piece counts as passed on after this long even if no other peer has it. */
  forwardWaitMs: number
  now?: () => number
}

interface PeerState {
  superSeeded: boolean
  has: Uint8Array
  /** Offered pieces not yet passed on → when the peer completed them (0: not yet). */
  offered: Map<number, number>
  /** Where the rarest-piece scan starts, so peers are not all offered the same piece. */
  cursor: number
}

export class SuperSeed {
  /** Copies of each piece among the peers connected to us. */
  private readonly copies: Uint16Array
  /** Offers of each piece to peers that do not have it yet. */
  private readonly inFlight: Uint16Array
  private readonly peers = new Map<SuperSeedPeer, PeerState>()
  private readonly now: () => number

  constructor(
    readonly pieceCount: number,
    private readonly options: SuperSeedOptions,
  ) {
    this.copies = new Uint16Array(pieceCount)
    this.inFlight = new Uint16Array(pieceCount)
    this.now = options.now ?? Date.now
  }

  /** Registers a peer; a super-seeded one is offered its first pieces at once. */
  join(peer: SuperSeedPeer, superSeeded: boolean): void {
    this.peers.set(peer, {
      superSeeded,
      has: new Uint8Array(this.pieceCount),
      offered: new Map(),
      cursor: Math.floor(Math.random() * this.pieceCount),
    })
    if (superSeeded) this.refill(peer)
  }

  /** Whether `peer` is being super-seeded (and so may only ask for what it was offered). */
  superSeeded(peer: SuperSeedPeer): boolean {
    return this.peers.get(peer)?.superSeeded ?? false
  }

  /** Whether `peer` may request `index` from us. */
  mayRequest(peer: SuperSeedPeer, index: number): boolean {
    const state = this.peers.get(peer)
    return !state?.superSeeded || state.offered.has(index)
  }

  leave(peer: SuperSeedPeer): void {
    const state = this.peers.get(peer)
    if (!state) return
    this.peers.delete(peer)
    for (let i = 0; i < this.pieceCount; i++) if (state.has[i]) this.copies[i]--
    for (const index of state.offered.keys()) if (!state.has[index]) this.inFlight[index]--
  }

  /** A `have` from `peer`. Out-of-range indexes are the wire parser's business, ignored here. */
  have(peer: SuperSeedPeer, index: number): void {
    const state = this.peers.get(peer)
    if (!state || index >= this.pieceCount || state.has[index]) return
    state.has[index] = 1
    this.copies[index]++
    if (state.offered.has(index)) {
      state.offered.set(index, this.now())
      this.inFlight[index]--
    }
    // This copy may be the hand-on another peer was waiting for, and frees this peer's offer.
    this.refillAll()
  }

  /** A `bitfield` from `peer` (only sent before anything else, BEP 3). */
  bitfield(peer: SuperSeedPeer, bits: Buffer): void {
    for (let i = 0; i < this.pieceCount; i++)
      if ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) this.have(peer, i)
  }

  /** Periodic: offers that waited `forwardWaitMs` for a hand-on move on. */
  tick(): void {
    this.refillAll()
  }

  /**
   * Stops super-seeding every peer (the crowd is gone): each is told of every piece it lacks,
   * so a downloader left alone gets the rest at full speed.
   */
  revealAll(): void {
    for (const [peer, state] of this.peers) {
      if (!state.superSeeded) continue
      state.superSeeded = false
      for (const index of state.offered.keys()) if (!state.has[index]) this.inFlight[index]--
      for (let i = 0; i < this.pieceCount; i++)
        if (!state.has[i] && !state.offered.has(i)) peer.have(i)
      state.offered.clear()
    }
  }

  /**
   * The crowd is here: each peer shown every piece that takes lt_donthave is told we no longer
   * have the pieces it lacks, and is super-seeded from now on (offered pieces one at a time).
   */
  retract(): void {
    for (const [peer, state] of this.peers) {
      if (state.superSeeded || !peer.canRetract || !peer.dontHave) continue
      state.superSeeded = true
      for (let i = 0; i < this.pieceCount; i++) if (!state.has[i]) peer.dontHave(i)
      this.refill(peer)
    }
  }

  get superSeededPeers(): number {
    let n = 0
    for (const state of this.peers.values()) if (state.superSeeded) n++
    return n
  }

  private refillAll(): void {
    for (const peer of this.peers.keys()) this.refill(peer)
  }

  private refill(peer: SuperSeedPeer): void {
    const state = this.peers.get(peer)
    if (!state?.superSeeded) return
    const now = this.now()
    let pending = 0
    for (const [index, completedAt] of state.offered) {
      const passedOn =
        completedAt > 0 &&
        (this.copies[index] >= 2 || now - completedAt >= this.options.forwardWaitMs)
      if (passedOn) state.offered.delete(index)
      else pending++
    }
    while (pending < this.options.offersPerPeer) {
      const index = this.rarest(state)
      if (index < 0) return
      state.offered.set(index, 0)
      this.inFlight[index]++
      pending++
      peer.have(index)
    }
  }

  /** The piece `state`'s peer lacks with the fewest copies and offers out; -1 if none. */
  private rarest(state: PeerState): number {
    let best = -1
    let bestScore = Infinity
    const n = this.pieceCount
    for (let k = 0; k < n; k++) {
      const i = (state.cursor + k) % n
      if (state.has[i] || state.offered.has(i)) continue
      const score = this.copies[i] + this.inFlight[i]
      if (score < bestScore) {
        best = i
        bestScore = score
        if (score === 0) break
      }
    }
    if (best >= 0) state.cursor = (best + 1) % n
    return best
  }
}
