import type { IncomingMessage, ServerResponse } from 'node:http'
import { log } from '../log/index.ts'
import { parseAddress } from './address.ts'
import { ConnectionIds, type ConnectionIdOptions } from './connection-id.ts'
import type { CounterStore } from './counter-store.ts'
import { TrackerError } from './errors.ts'
import { answer, handleHttp } from './http.ts'
import { EVENT_STOPPED, type Announce } from './query.ts'
import { AnnounceRateLimit } from './rate-limit.ts'
import type { AnnounceReply, ScrapeEntry } from './response.ts'
import { applyAnnounce, samplePeers, Swarm } from './swarm.ts'
import { handleUdpPacket, startUdp, type UdpServer } from './udp.ts'

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
const unknownTorrent = new TrackerError('unknown_torrent', 'torrent is not tracked here')
const rateLimited = new TrackerError('rate_limited', 'too many announces, slow down', 1)

/** Drizzle wraps driver errors in one that quotes the whole query: log what actually failed. */
function rootCause(err: unknown): unknown {
  return err instanceof Error && err.cause instanceof Error ? err.cause : err
}

/** BEP 52: trackers and peers know a v2 info-hash by its first 20 bytes. */
function truncateV2(v2: string | Uint8Array): string | Uint8Array {
  if (typeof v2 === 'string') return v2.length === 64 ? v2.slice(0, 40) : v2
  return v2.length === 32 ? v2.subarray(0, 20) : v2
}

function hexKey(infoHash: string | Uint8Array): string {
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

/**
 * The tracker: whitelist, swarms and counters in memory, HTTP and UDP front ends over them.
 * Swarms are keyed by the raw 20-byte info-hash (as a latin1 string, so a lookup allocates
 * nothing but that key).
 *
 * @example
 * const tracker = new Tracker({ selfPeer: { ip: '203.0.113.7', port: 6881 }, counterStore })
 * await tracker.start()
 * tracker.allow('c12fe1c06bba254a9dc9f519b335aa7c1367a88a')
 * server.on('request', (req, res) => tracker.handleHttp(req, res) || app(req, res))
 * const udp = await tracker.startUdp({ host: '0.0.0.0', port: 6969 })
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
  private readonly swarms = new Map<string, Swarm>()
  /** A hybrid torrent's truncated v2 key, by its v1 key (both binary strings). */
  private readonly aliases = new Map<string, string>()
  private readonly rateLimit: AnnounceRateLimit | null
  private readonly rateWindowMs: number
  private readonly store: CounterStore | null
  private readonly flushIntervalMs: number
  private readonly self: { record: Uint8Array; family: 4 | 6 } | null
  private peerCount = 0
  private readonly peers4: Uint8Array
  private readonly peers6: Uint8Array
  private readonly record = new Uint8Array(18)
  /** Completions counted by the store already (loaded at start). */
  private loaded: Map<string, number> | null = null
  /** Completions seen since start, per hex info-hash (survives disallow + allow). */
  private readonly session = new Map<string, number>()
  /** Completions not yet written to the store. */
  private pending = new Map<string, number>()
  private flushing: Promise<void> | null = null
  private timers: NodeJS.Timeout[] = []

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
    this.store = options.counterStore ?? null
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
   * `v2` is a hybrid torrent's v2 info-hash (32 bytes, or its 20-byte truncation): BEP 52 peers
   * "join both swarms", announcing the truncated v2 hash beside the v1 one, so it is tracked
   * too, as a swarm of its own (a v1-only peer handed to a v2 announcer could not talk to it in
   * v2), and follows the v1 hash through supersede and removal.
   */
  allow(
    infoHash: string | Uint8Array,
    options: { until?: Date | number; v2?: string | Uint8Array | null } = {},
  ): void {
    const key = hexKey(infoHash)
    if (options.v2) this.aliases.set(key, hexKey(truncateV2(options.v2)))
    const until = options.until === undefined ? 0 : Number(options.until)
    this.track(key, until)
    const alias = this.aliases.get(key)
    if (alias) this.track(alias, until)
  }

  private track(key: string, until: number): void {
    let swarm = this.swarms.get(key)
    if (!swarm) {
      const hex = Buffer.from(key, 'latin1').toString('hex')
      swarm = new Swarm(hex, (this.loaded?.get(hex) ?? 0) + (this.session.get(hex) ?? 0))
      this.swarms.set(key, swarm)
    }
    swarm.until = until
  }

  /** Stop tracking this torrent (and a hybrid's v2 swarm) at once; counts are kept. */
  disallow(infoHash: string | Uint8Array): void {
    const key = hexKey(infoHash)
    const alias = this.aliases.get(key)
    this.aliases.delete(key)
    for (const k of alias ? [key, alias] : [key]) {
      const swarm = this.swarms.get(k)
      if (!swarm) continue
      this.peerCount -= swarm.peers
      this.swarms.delete(k)
    }
  }

  isAllowed(infoHash: string | Uint8Array): boolean {
    return this.swarms.has(hexKey(infoHash))
  }

  /** Seeders (our own included), leechers and completions of one tracked torrent. */
  stats(infoHash: string | Uint8Array): SwarmStats | undefined {
    const swarm = this.swarms.get(hexKey(infoHash))
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
    return this.swarms.size - this.aliases.size
  }

  /** Peers stored over all swarms (our own seeder not included). */
  get peerTotal(): number {
    return this.peerCount
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
    const record = this.record.subarray(0, length + 2)
    record.set(address.subarray(0, length))
    record[length] = announce.port >> 8
    record[length + 1] = announce.port & 0xff
    const seconds = Math.floor((this.now() - this.started) / 1000)
    const update = applyAnnounce(
      swarm,
      record,
      announce.left === 0,
      announce.event,
      seconds,
      this.peerCount < this.maxPeers,
      this.maxPeersPerAddress,
    )
    this.peerCount += update.added
    if (update.completed) this.countCompletion(swarm)

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
        throw new TrackerError('full_scrape_disabled', 'full scrape is disabled; ask for info_hash')
      }
      const all: ScrapeEntry[] = []
      for (const [key, swarm] of this.swarms) {
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

  private countCompletion(swarm: Swarm): void {
    swarm.downloaded++
    const hex = swarm.infoHashHex
    this.session.set(hex, (this.session.get(hex) ?? 0) + 1)
    if (this.store) this.pending.set(hex, (this.pending.get(hex) ?? 0) + 1)
  }

  /** Drop peers not seen for the peer timeout, and superseded torrents past their grace. */
  sweep(): void {
    const cutoff = Math.floor((this.now() - this.started) / 1000) - this.peerTimeout
    const now = this.now()
    for (const [key, swarm] of this.swarms) {
      if (swarm.until !== 0 && now >= swarm.until) {
        this.peerCount -= swarm.peers
        this.swarms.delete(key)
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

  /** Read the stored counts; retried on every flush tick until it works. */
  async loadCounters(): Promise<boolean> {
    if (!this.store || this.loaded) return true
    try {
      const counts = await this.store.load()
      this.loaded = counts
      for (const swarm of this.swarms.values())
        swarm.downloaded += counts.get(swarm.infoHashHex) ?? 0
      return true
    } catch (err) {
      log.warn('tracker counters not loaded, will retry', { error: rootCause(err) })
      return false
    }
  }

  /**
   * Write pending completions to the store in one batch. On failure the batch goes back to
   * pending, merged with what came meanwhile, and is written on a later tick: none is lost while
   * the database is away. Nothing is written before the stored counts were loaded, so the counts
   * shown are always stored + seen since start.
   */
  async flush(): Promise<void> {
    const store = this.store
    if (!store) return
    if (this.flushing) return this.flushing
    this.flushing = (async () => {
      if (!(await this.loadCounters()) || this.pending.size === 0) return
      const batch = this.pending
      this.pending = new Map()
      try {
        await store.addCompleted(batch)
      } catch (err) {
        for (const [hex, n] of batch) this.pending.set(hex, (this.pending.get(hex) ?? 0) + n)
        log.warn('tracker counters not written, will retry', {
          error: rootCause(err),
          torrents: batch.size,
        })
      }
    })().finally(() => {
      this.flushing = null
    })
    return this.flushing
  }

  /** Completions not yet in the store (for tests and /metrics). */
  get pendingCompletions(): number {
    let n = 0
    for (const count of this.pending.values()) n += count
    return n
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
    if (this.store) every(this.flushIntervalMs, () => void this.flush())
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

  /**
   * Answer `GET /announce` and `GET /scrape`; returns false (and touches nothing) for any other
   * path, so the caller can hand the request on.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean {
    return handleHttp(this, req, res)
  }

  /**
   * The bencoded body answering `target` (`/announce?…` or `/scrape?…`) from `remote`, for a
   * front end that reads HTTP itself; `forwardedFor` is asked only when `remote` is a trusted
   * proxy.
   */
  answerHttp(target: string, remote: string, forwardedFor: () => string | undefined): Buffer {
    return answer(this, target, remote, forwardedFor)
  }

  /** Answer one UDP packet (BEP 15); null when it gets no answer. */
  handleUdp(packet: Buffer, address: string, port: number): Buffer | null {
    return handleUdpPacket(this, packet, address, port)
  }

  /** Listen for BEP 15 on a UDP port (0 picks one). */
  startUdp(options: { host?: string; port: number }): Promise<UdpServer> {
    return startUdp(this, options)
  }
}
