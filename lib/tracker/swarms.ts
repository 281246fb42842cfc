import { truncatedV2 } from '../metainfo/index.ts'
import { Swarm } from './swarm.ts'

/**
 * The binary key (latin1 string of the 20 raw bytes) of an info-hash given as 40 hex digits or
 * 20 bytes. Swarms are keyed by it, so a lookup from a parsed announce allocates nothing but the
 * key itself.
 */
export function swarmKey(infoHash: string | Uint8Array): string {
  if (typeof infoHash === 'string') {
    if (!/^[0-9a-fA-F]{40}$/.test(infoHash)) {
      throw new TypeError(`info-hash must be 40 hex digits, got "${infoHash}"`)
    }
    return Buffer.from(infoHash, 'hex').toString('latin1')
  }
  if (infoHash.length !== 20)
    throw new TypeError(`info-hash must be 20 bytes, got ${infoHash.length}`)
  return Buffer.from(infoHash).toString('latin1')
}

/** A v2 info-hash (32 bytes or 64 hex digits, or already its 20-byte truncation) as a key. */
function v2Key(v2: string | Uint8Array): string {
  if (typeof v2 === 'string') {
    if (!/^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$/.test(v2)) {
      throw new TypeError(`v2 info-hash must be 64 hex digits, got "${v2}"`)
    }
    return swarmKey(truncatedV2(Buffer.from(v2, 'hex')))
  }
  if (v2.length !== 32 && v2.length !== 20)
    throw new TypeError(`v2 info-hash must be 32 bytes, got ${v2.length}`)
  return swarmKey(truncatedV2(Buffer.from(v2.buffer, v2.byteOffset, v2.length)))
}

/**
 * The whitelist and its swarms: which info-hashes are tracked (and until when), a hybrid
 * torrent's second swarm, and the peer count over all of them. Knows nothing of the wire or of
 * the database.
 */
export class Swarms {
  private readonly byKey = new Map<string, Swarm>()
  /** A hybrid torrent's truncated v2 key, by its v1 key (both binary strings). */
  private readonly aliases = new Map<string, string>()
  /** Peers stored over all swarms. */
  peerCount = 0

  /**
   * Track this torrent, until `until` (epoch ms; 0 for no end). `v2` is a hybrid's v2 info-hash:
   * BEP 52 peers "join both swarms", announcing the truncated v2 hash beside the v1 one, so it is
   * tracked too, as a swarm of its own (a v1-only peer handed to a v2 announcer could not talk to
   * it in v2), and follows the v1 hash through supersede and removal. `downloaded` gives a new
   * swarm's completions so far (by hex info-hash).
   */
  allow(
    infoHash: string | Uint8Array,
    until: number,
    v2: string | Uint8Array | null | undefined,
    downloaded: (hex: string) => number,
  ): void {
    const key = swarmKey(infoHash)
    if (v2) this.aliases.set(key, v2Key(v2))
    this.track(key, until, downloaded)
    const alias = this.aliases.get(key)
    if (alias) this.track(alias, until, downloaded)
  }

  private track(key: string, until: number, downloaded: (hex: string) => number): void {
    let swarm = this.byKey.get(key)
    if (!swarm) {
      const hex = Buffer.from(key, 'latin1').toString('hex')
      swarm = new Swarm(hex, downloaded(hex))
      this.byKey.set(key, swarm)
    }
    swarm.until = until
  }

  /** Stop tracking this torrent (and a hybrid's v2 swarm) at once. */
  disallow(infoHash: string | Uint8Array): void {
    const key = swarmKey(infoHash)
    const alias = this.aliases.get(key)
    this.aliases.delete(key)
    this.drop(key)
    if (alias) this.drop(alias)
  }

  private drop(key: string): void {
    const swarm = this.byKey.get(key)
    if (!swarm) return
    this.peerCount -= swarm.peers
    this.byKey.delete(key)
  }

  /** The swarm of a binary key (see {@link swarmKey}). */
  get(key: string): Swarm | undefined {
    return this.byKey.get(key)
  }

  /** The swarm of an info-hash given as hex or bytes. */
  of(infoHash: string | Uint8Array): Swarm | undefined {
    return this.byKey.get(swarmKey(infoHash))
  }

  /** Every swarm with its binary key (a hybrid's v2 swarm too). */
  entries(): IterableIterator<[string, Swarm]> {
    return this.byKey.entries()
  }

  values(): IterableIterator<Swarm> {
    return this.byKey.values()
  }

  /** Torrents tracked; a hybrid's second (v2) swarm is not a second torrent. */
  get torrentCount(): number {
    return this.byKey.size - this.aliases.size
  }

  /**
   * Drop peers last seen before `cutoff` (tracker seconds), and superseded torrents whose grace
   * ended before `now` (epoch ms).
   */
  sweep(cutoff: number, now: number): void {
    for (const [key, swarm] of this.byKey) {
      if (swarm.until !== 0 && now >= swarm.until) {
        this.peerCount -= swarm.peers
        this.byKey.delete(key)
        this.aliases.delete(key)
        continue
      }
      if (swarm.v4) {
        this.peerCount -= swarm.v4.expire(cutoff)
        if (swarm.v4.count === 0) swarm.v4 = null
      }
      if (swarm.v6) {
        this.peerCount -= swarm.v6.expire(cutoff)
        if (swarm.v6.count === 0) swarm.v6 = null
      }
    }
  }
}
