import { setImmediate } from 'node:timers/promises'
import { addCounters, type CounterDelta } from '../catalog/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { backgroundFailure } from '../log/index.ts'

/** Torrents per statement of a flush (see StatsFlusher's write). */
const FLUSH_SLICE = 500

/** Cumulative counts per torrent (hex tracker key), as the seeder and web seed keep them. */
export type Totals = () => Iterable<[infoHash: string, count: number]>

export interface StatsSources {
  /** Bytes our seeder sent over the peer wire, since the process started. */
  uploadedPeer?: Totals
  /** Bytes our web seed served, since the process started. */
  uploadedWebseed?: Totals
  /** Peers in each swarm now (the tracker's seeds + leechers), for the peak. */
  peers?: Totals
}

/**
 * Writes upload counters and peak swarm sizes to `torrent_stats` in batches on a timer: the data
 * paths only bump counters in memory and never wait on the database. A batch that fails (the
 * database is away) stays pending and goes with the next one, so no byte is lost while the
 * process lives.
 *
 * @example
 * const stats = new StatsFlusher(database, {
 *   uploadedPeer: () => seeder.stats().torrents.map((t) => [t.infoHash, t.uploaded]),
 * })
 * stats.start(30_000)
 */
export class StatsFlusher {
  private readonly seen = {
    uploadedPeer: new Map<string, number>(),
    uploadedWebseed: new Map<string, number>(),
  }
  /**
   * The greatest swarm size collected per torrent since start: only a size above it is a new
   * peak worth writing. Without it every tick wrote every torrent's size (1,000 UPDATEs a tick on
   * a 1,000-torrent tracker, a fifth of serve's CPU under announce load on PGlite: node
   * --cpu-prof of serve under wrk, bench/tracker.ts).
   */
  private readonly peaks = new Map<string, number>()
  private readonly pending = new Map<string, CounterDelta>()
  private timer?: NodeJS.Timeout
  private flushing?: Promise<void>

  constructor(
    private readonly database: DatabaseHandle,
    private readonly sources: StatsSources,
    /** Torrents per statement (see write). */
    private readonly slice = FLUSH_SLICE,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(
      () => void this.flush().catch((err) => backgroundFailure('stats flush', err)),
      intervalMs,
    )
    this.timer.unref()
  }

  /** Collects what changed since the last call and writes it; safe to call at any time. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing
    this.flushing = this.write().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.flush()
  }

  private collect(): void {
    for (const key of ['uploadedPeer', 'uploadedWebseed'] as const) {
      const totals = this.sources[key]
      if (!totals) continue
      for (const [infoHash, total] of totals()) {
        const delta = total - (this.seen[key].get(infoHash) ?? 0)
        this.seen[key].set(infoHash, total)
        if (delta > 0) this.entry(infoHash)[key] += delta
      }
    }
    for (const [infoHash, peers] of this.sources.peers?.() ?? []) {
      if (peers <= (this.peaks.get(infoHash) ?? 0)) continue
      this.peaks.set(infoHash, peers)
      const entry = this.entry(infoHash)
      entry.peers = Math.max(entry.peers, peers)
    }
  }

  private entry(infoHash: string): CounterDelta {
    let entry = this.pending.get(infoHash)
    if (!entry)
      this.pending.set(infoHash, (entry = { uploadedPeer: 0, uploadedWebseed: 0, peers: 0 }))
    return entry
  }

  private async write(): Promise<void> {
    try {
      this.collect()
    } catch (err) {
      // A source that throws (it once handed the tracker a 64-hex v2 key) loses this tick's
      // reading only; the counts are cumulative, so the next tick catches up.
      backgroundFailure('stats flush', err)
      return
    }
    if (this.pending.size === 0) return
    const batch = [...this.pending]
    this.pending.clear()
    let written = 0
    try {
      // In slices, with a turn of the event loop between them: on PGlite a statement runs on the
      // main thread (and its promise settles without one), and the first flush after a start
      // writes every torrent's peak (our own seeder makes it 1), one 10,000-row UPDATE that held
      // announces up for 0.8 s at 10,000 torrents (node --cpu-prof of an idle serve).
      for (; written < batch.length; written += this.slice) {
        if (written > 0) await setImmediate()
        await addCounters(this.database.db, batch.slice(written, written + this.slice))
      }
    } catch (err) {
      // Put back what did not land, under whatever arrived meanwhile: it goes with the next flush.
      for (const [infoHash, p] of batch.slice(written)) {
        const entry = this.entry(infoHash)
        entry.uploadedPeer += p.uploadedPeer
        entry.uploadedWebseed += p.uploadedWebseed
        entry.peers = Math.max(entry.peers, p.peers)
      }
      backgroundFailure('stats flush', err)
    }
  }
}
