/**
 * Where `downloaded` counts live between runs. The tracker core knows only this interface, so it
 * has no database import; `CompletionCounts` (lib/catalog) implements it over `torrent_stats`.
 */
export interface CounterStore {
  /** Every stored count: hex info-hash (the 20-byte tracker key) -> completions ever. */
  load(): Promise<Map<string, number>>
  /** Add these completions to the stored counts, all or none (a failed batch is retried whole). */
  addCompleted(batch: Map<string, number>): Promise<void>
}

/** A store in memory, for tests and for running without a database. */
export class MemoryCounterStore implements CounterStore {
  readonly counts = new Map<string, number>()

  async load(): Promise<Map<string, number>> {
    return new Map(this.counts)
  }

  async addCompleted(batch: Map<string, number>): Promise<void> {
    for (const [hex, n] of batch) this.counts.set(hex, (this.counts.get(hex) ?? 0) + n)
  }
}
