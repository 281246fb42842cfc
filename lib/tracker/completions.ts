import { log } from '../log/index.ts'
import type { CounterStore } from './counter-store.ts'

/** Drizzle wraps driver errors in one that quotes the whole query: log what actually failed. */
function rootCause(err: unknown): unknown {
  return err instanceof Error && err.cause instanceof Error ? err.cause : err
}

/**
 * `downloaded` counts between the swarms and a {@link CounterStore}: what the store held at
 * start, what was seen since, and what is not written yet. An announce only ever adds to a map;
 * the store is written in batches off the request path, and a failed batch is kept, so no
 * completion is lost while the database is away. Keyed by hex info-hash, so counts survive a
 * torrent's disallow and allow.
 */
export class Completions {
  private readonly store: CounterStore | null
  /** Completions counted by the store already (loaded at start). */
  private loaded: Map<string, number> | null = null
  /** Completions seen since start. */
  private readonly session = new Map<string, number>()
  /** Completions not yet written to the store. */
  private pending = new Map<string, number>()
  private flushing: Promise<void> | null = null

  constructor(store: CounterStore | null) {
    this.store = store
  }

  get hasStore(): boolean {
    return this.store !== null
  }

  /** Completions of this torrent ever, as far as known: stored plus seen since start. */
  of(hex: string): number {
    return (this.loaded?.get(hex) ?? 0) + (this.session.get(hex) ?? 0)
  }

  /** One completion seen now. */
  add(hex: string): void {
    this.session.set(hex, (this.session.get(hex) ?? 0) + 1)
    if (this.store) this.pending.set(hex, (this.pending.get(hex) ?? 0) + 1)
  }

  /**
   * Read the stored counts once; `onLoaded` gets them, to add to the swarms that exist already.
   * Retried on every flush until it works.
   */
  async load(onLoaded: (counts: Map<string, number>) => void): Promise<boolean> {
    if (!this.store || this.loaded) return true
    try {
      const counts = await this.store.load()
      this.loaded = counts
      onLoaded(counts)
      return true
    } catch (err) {
      log.warn('tracker counters not loaded, will retry', { error: rootCause(err) })
      return false
    }
  }

  /**
   * Write pending completions to the store in one batch. On failure the batch goes back to
   * pending, merged with what came meanwhile, and is written on a later tick. Nothing is written
   * before the stored counts were loaded, so the counts shown are always stored + seen since start.
   */
  async flush(onLoaded: (counts: Map<string, number>) => void): Promise<void> {
    const store = this.store
    if (!store) return
    if (this.flushing) return this.flushing
    this.flushing = (async () => {
      if (!(await this.load(onLoaded)) || this.pending.size === 0) return
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

  /** Completions not yet in the store. */
  get pendingCount(): number {
    let n = 0
    for (const count of this.pending.values()) n += count
    return n
  }
}
