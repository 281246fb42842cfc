/**
 * A rendered page kept for a moment and shared by everyone who asks meanwhile: a release
 * announcement sends many people to `/` at once, and the index costs a few database queries and
 * a render (bench/web.ts: about 45 pages/s uncached with 200 torrents on PGlite). Requests that
 * arrive while it renders wait for that render rather than starting their own. A failed render is
 * not kept.
 */
export class Snapshot<T> {
  private current?: { at: number; value: Promise<T> }

  constructor(
    private readonly maxAgeMs: number,
    private readonly render: () => Promise<T>,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    const at = this.now()
    if (this.current && at - this.current.at < this.maxAgeMs) return this.current.value
    const value = this.render()
    const entry = { at, value }
    this.current = entry
    value.catch(() => {
      if (this.current === entry) this.current = undefined
    })
    return value
  }
}
