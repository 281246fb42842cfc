import { log } from '../log/index.ts'
import { parseAddress } from './address.ts'
import { Completions } from './completions.ts'
import { ConnectionIds, type ConnectionIdOptions } from './connection-id.ts'
import type { CounterStore } from './counter-store.ts'
import { TrackerError } from './errors.ts'
import { EVENT_STOPPED, type Announce } from './query.ts'
import { AnnounceRateLimit } from './rate-limit.ts'
import type { AnnounceReply, ScrapeEntry } from './response.ts'
import { applyAnnounce, samplePeers, type Swarm } from './swarm.ts'
import { Swarms } from './swarms.ts'

export interface TrackerOptions {
  /** Seconds between announces asked of clients (a random 0-10 % is added per reply). */
  interval?: number
  /** Seconds a client must wait at least (BEP 3 `min interval`). */
  minInterval?: number
  /** Peers returned when the client does not say (`numwant`). */
  numWant?: number
  /** Most peers returned whatever the client asks. */
  maxNumWant?: number
  /** Seconds without an announce after which a peer is dropped; default two intervals. */
  peerTimeout?: number
  /** Whether `GET /scrape` without info_hash lists every tracked torrent. */
  fullScrape?: boolean
  /** Addresses whose `ip` parameter or `X-Forwarded-For` names the real peer. */
  trustedProxies?: string[]
  /** Announces allowed per address (IPv6: per /64) per window; null for no limit. */
  rateLimit?: { announces: number; windowSeconds: number } | null
  /** The appliance's own seeder, a permanent seed in every swarm. */
  selfPeer?: { ip: string; port: number }
  /** Where `downloaded` counts persist; without one they live only as long as the process. */
  counterStore?: CounterStore
  /** How often pending completions are written to the counter store. */
  flushIntervalMs?: number
  /** Peers stored over all swarms at most; announces past it are answered but not stored. */
  maxPeers?: number
  /** Peers one address (IPv6: one /64) may have in one swarm; more are answered, not stored. */
  maxPeersPerAddress?: number
  connectionIds?: ConnectionIdOptions
  /** Clock in epoch ms, for tests. */
  now?: () => number
}

export interface SwarmStats {
  complete: number
  incomplete: number
  downloaded: number
}

// Thrown as shared instances: building an Error (and its stack) per refused request would make
// the cheap refusals the expensive part of a flood.
const unknownTorrent = new TrackerError('unknown-torrent', 'torrent is not tracked here')
const rateLimited = new TrackerError('rate-limited', 'too many announces, slow down', 1)

/**
 * The tracker core: the whitelisted {@link Swarms}, their {@link Completions}, and the policy
 * between them and a request (rate limit, peer cap, numwant, our own seeder). It knows no wire:
 * the HTTP and UDP front ends (`http.ts`, `udp.ts`) parse a request, call {@link announce} or
 * {@link scrape}, and write the reply.
 *
 * @example
 * const tracker = new Tracker({ selfPeer: { ip: '203.0.113.7', port: 6881 }, counterStore })
 * await tracker.start()
 * tracker.allow('c12fe1c06bba254a9dc9f519b335aa7c1367a88a')
 * server.on('request', (req, res) => handleHttp(tracker, req, res) || app(req, res))
 * const udp = await startUdp(tracker, { host: '0.0.0.0', port: 6969 })
 */
export class Tracker {
  readonly interval: number
  readonly minInterval: number
  readonly numWant: number
  readonly maxNumWant: number
  readonly fullScrape: boolean
  readonly trustedProxies: ReadonlySet<string>
  readonly connectionIds: ConnectionIds
  readonly now: () => number
  private readonly peerTimeout: number
  private readonly maxPeers: number
  private readonly maxPeersPerAddress: number
  private readonly started: number
  private readonly swarms = new Swarms()
  private readonly completions: Completions
  private readonly rateLimit: AnnounceRateLimit | null
  private readonly rateWindowMs: number
  private readonly flushIntervalMs: number
  private readonly self: { record: Uint8Array; family: 4 | 6 } | null
  private readonly peers4: Uint8Array
  private readonly peers6: Uint8Array
  private readonly record = new Uint8Array(18)
  /** `record` as an IPv4 peer's 6 bytes: one view made here, not a subarray per announce. */
  private readonly record6 = this.record.subarray(0, 6)
  private timers: NodeJS.Timeout[] = []
  /** Adds loaded counts to the swarms that exist already (bound once, for load and flush). */
  private readonly addLoaded = (counts: Map<string, number>): void => {
    for (const swarm of this.swarms.values()) swarm.downloaded += counts.get(swarm.infoHashHex) ?? 0
  }
  private readonly downloadedOf = (hex: string): number => this.completions.of(hex)

  constructor(options: TrackerOptions = {}) {
    this.interval = options.interval ?? 1800
    this.minInterval = options.minInterval ?? Math.min(300, this.interval)
    this.numWant = options.numWant ?? 50
    this.maxNumWant = options.maxNumWant ?? 200
    this.peerTimeout = options.peerTimeout ?? this.interval * 2
    this.fullScrape = options.fullScrape ?? true
    this.maxPeers = options.maxPeers ?? 4_000_000
    this.maxPeersPerAddress = options.maxPeersPerAddress ?? 16
    this.now = options.now ?? Date.now
    this.started = this.now()
    this.connectionIds = new ConnectionIds({ now: this.now, ...options.connectionIds })
    this.completions = new Completions(options.counterStore ?? null)
    this.flushIntervalMs = options.flushIntervalMs ?? 10_000
    const limit =
      options.rateLimit === undefined ? { announces: 60, windowSeconds: 60 } : options.rateLimit
    this.rateLimit = limit ? new AnnounceRateLimit(limit.announces) : null
    this.rateWindowMs = (limit?.windowSeconds ?? 60) * 1000
    const proxies = new Set<string>()
    for (const proxy of options.trustedProxies ?? []) {
      const bytes = new Uint8Array(16)
      const family = parseAddress(proxy, bytes)
      if (family === 0) throw new TypeError(`trusted proxy "${proxy}" is not an IP address`)
      proxies.add(Buffer.from(bytes.subarray(0, family === 4 ? 4 : 16)).toString('hex'))
    }
    this.trustedProxies = proxies
    this.self = null
    if (options.selfPeer) {
      const bytes = new Uint8Array(18)
      const family = parseAddress(options.selfPeer.ip, bytes)
      if (family === 0)
        throw new TypeError(`selfPeer ip "${options.selfPeer.ip}" is not an IP address`)
      const length = family === 4 ? 4 : 16
      bytes[length] = options.selfPeer.port >> 8
      bytes[length + 1] = options.selfPeer.port & 0xff
      this.self = { record: bytes.slice(0, length + 2), family }
    }
    this.peers4 = new Uint8Array((this.maxNumWant + 1) * 6)
    this.peers6 = new Uint8Array((this.maxNumWant + 1) * 18)
  }

  /**
   * Track this torrent from now on; with `until`, only to that moment (a superseded torrent).
   * `v2` is a hybrid torrent's v2 info-hash (32 bytes, or its 20-byte truncation), tracked as a
   * second swarm that follows the first (see {@link Swarms.allow}).
   */
  allow(
    infoHash: string | Uint8Array,
    options: { until?: Date | number; v2?: string | Uint8Array | null } = {},
  ): void {
    const until = options.until === undefined ? 0 : Number(options.until)
    this.swarms.allow(infoHash, until, options.v2, this.downloadedOf)
  }

  /** Stop tracking this torrent (and a hybrid's v2 swarm) at once; counts are kept. */
  disallow(infoHash: string | Uint8Array): void {
    this.swarms.disallow(infoHash)
  }

  isAllowed(infoHash: string | Uint8Array): boolean {
    return this.swarms.of(infoHash) !== undefined
  }

  /** Seeders (our own included), leechers and completions of one tracked torrent. */
  stats(infoHash: string | Uint8Array): SwarmStats | undefined {
    const swarm = this.swarms.of(infoHash)
    return swarm && this.swarmStats(swarm)
  }

  private swarmStats(swarm: Swarm): SwarmStats {
    return {
      complete: swarm.seeders + (this.self ? 1 : 0),
      incomplete: swarm.leechers,
      downloaded: swarm.downloaded,
    }
  }

  /** Torrents tracked; a hybrid's second (v2) swarm is not a second torrent. */
  get torrentCount(): number {
    return this.swarms.torrentCount
  }

  /** Peers stored over all swarms (our own seeder not included). */
  get peerTotal(): number {
    return this.swarms.peerCount
  }

  /**
   * Apply one announce from `address` (4 or 16 bytes) and build the reply's fields. With
   * `bothFamilies` false (UDP, BEP 15) only peers of the asker's family are returned.
   * The returned peer arrays are views of scratch memory, valid until the next call.
   */
  announce(
    announce: Announce,
    address: Uint8Array,
    family: 4 | 6,
    bothFamilies: boolean,
  ): AnnounceReply {
    if (this.rateLimit && !this.rateLimit.take(address, family)) throw rateLimited
    const swarm = this.swarms.get(announce.infoHash.toString('latin1', 0, 20))
    if (!swarm) throw unknownTorrent
    const length = family === 4 ? 4 : 16
    const record = family === 4 ? this.record6 : this.record
    for (let i = 0; i < length; i++) record[i] = address[i]
    record[length] = announce.port >> 8
    record[length + 1] = announce.port & 0xff
    const seconds = Math.floor((this.now() - this.started) / 1000)
    const update = applyAnnounce(
      swarm,
      record,
      announce.left === 0,
      announce.event,
      seconds,
      this.swarms.peerCount < this.maxPeers,
      this.maxPeersPerAddress,
    )
    this.swarms.peerCount += update.added
    if (update.completed) {
      swarm.downloaded++
      this.completions.add(swarm.infoHashHex)
    }

    let want = announce.numWant < 0 ? this.numWant : Math.min(announce.numWant, this.maxNumWant)
    if (announce.event === EVENT_STOPPED) want = 0
    const own = family === 4 ? this.peers4 : this.peers6
    const other = family === 4 ? this.peers6 : this.peers4
    let ownEnd = 0
    let otherEnd = 0
    const self = this.self
    if (self && want > 0) {
      const isAsker = self.family === family && Buffer.compare(self.record, record) === 0
      if (!isAsker && (self.family === family || bothFamilies)) {
        if (self.family === family) {
          own.set(self.record)
          ownEnd = self.record.length
        } else {
          other.set(self.record)
          otherEnd = self.record.length
        }
        want--
      }
    }
    const ownTable = family === 4 ? swarm.v4 : swarm.v6
    const before = ownEnd
    ownEnd = samplePeers(ownTable, update.slot, want, own, ownEnd)
    want -= (ownEnd - before) / (family === 4 ? 6 : 18)
    if (bothFamilies)
      otherEnd = samplePeers(family === 4 ? swarm.v6 : swarm.v4, -1, want, other, otherEnd)
    const stats = this.swarmStats(swarm)
    return {
      complete: stats.complete,
      incomplete: stats.incomplete,
      downloaded: stats.downloaded,
      interval: this.interval + Math.floor(Math.random() * (this.interval / 10)),
      minInterval: this.minInterval,
      externalIp: address.subarray(0, length),
      peers: family === 4 ? own.subarray(0, ownEnd) : other.subarray(0, otherEnd),
      peers6: family === 4 ? other.subarray(0, otherEnd) : own.subarray(0, ownEnd),
    }
  }

  /**
   * Counts for each asked info-hash. Unknown ones are left out, or with `keepUnknown` (UDP,
   * where replies are positional) given as zeros. No info-hash asks for a full scrape.
   */
  scrape(infoHashes: Uint8Array[], keepUnknown = false): ScrapeEntry[] {
    if (infoHashes.length === 0) {
      if (!this.fullScrape) {
        throw new TrackerError('full-scrape-disabled', 'full scrape is disabled; ask for info_hash')
      }
      const all: ScrapeEntry[] = []
      for (const [key, swarm] of this.swarms.entries()) {
        all.push({ infoHash: Buffer.from(key, 'latin1'), ...this.swarmStats(swarm) })
      }
      return all
    }
    const entries: ScrapeEntry[] = []
    for (const infoHash of infoHashes) {
      const swarm = this.swarms.get(Buffer.from(infoHash).toString('latin1'))
      if (swarm) entries.push({ infoHash, ...this.swarmStats(swarm) })
      else if (keepUnknown) entries.push({ infoHash, complete: 0, incomplete: 0, downloaded: 0 })
    }
    return entries
  }

  /** Drop peers not seen for the peer timeout, and superseded torrents past their grace. */
  sweep(): void {
    const now = this.now()
    this.swarms.sweep(Math.floor((now - this.started) / 1000) - this.peerTimeout, now)
  }

  /** Read the stored counts; retried on every flush tick until it works. */
  loadCounters(): Promise<boolean> {
    return this.completions.load(this.addLoaded)
  }

  /**
   * Write pending completions to the store in one batch; a failed batch is kept and written on
   * a later tick (see {@link Completions.flush}).
   */
  flush(): Promise<void> {
    return this.completions.flush(this.addLoaded)
  }

  /** Completions not yet in the store (for tests and /metrics). */
  get pendingCompletions(): number {
    return this.completions.pendingCount
  }

  /** Load stored counts and start the sweep, flush and rate-window timers. */
  async start(): Promise<void> {
    await this.loadCounters()
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms)
      timer.unref()
      this.timers.push(timer)
    }
    every(Math.max(1000, Math.min(this.peerTimeout * 1000, 60_000)), () => this.sweep())
    if (this.completions.hasStore) every(this.flushIntervalMs, () => void this.flush())
    const rateLimit = this.rateLimit
    if (rateLimit) every(this.rateWindowMs, () => rateLimit.reset())
  }

  /** Stop the timers and write what is pending (a last try: it may fail if the DB is away). */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    await this.flush()
    if (this.pendingCompletions > 0) {
      log.warn('tracker closed with unwritten completions', { count: this.pendingCompletions })
    }
  }
}
