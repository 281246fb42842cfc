import {
  activeTorrents,
  catalogSignature,
  digestsOf,
  metainfoOf,
  type CatalogTorrent,
} from '../catalog/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { log } from '../log/index.ts'
import { magnetLink, parseTorrent, type Torrent } from '../metainfo/index.ts'
import { listMirrors, mirrorsSignature, type MirrorRow } from '../mirrors/index.ts'

/** One active torrent with everything its public answers need, held in memory. */
export interface PublicTorrent extends CatalogTorrent {
  metainfo: Buffer
  /** The same bytes as a response body (hono wants an ArrayBuffer-backed view). */
  body: Uint8Array<ArrayBuffer>
  torrent: Torrent
  magnet: string
  /** Whole-file SHA-256 by path relative to the mirror root (metalinks). */
  sha256: ReadonlyMap<string, string | null>
}

const key = (releaseDir: string, name: string) => `${releaseDir}\0${name}`

/**
 * The public pages' view of the database, in memory: `/`, `/feed.xml`, `/metalink/…` and
 * `/torrents/…` read it and never query per request. One database query on PGlite's thread costs
 * ~14 ms of event loop, so a flood of page requests starved the tracker and seeder sharing it;
 * now a flood costs rendering from memory only.
 *
 * It reloads when the torrent feed says something was published, superseded, removed or
 * rewritten with new web seeds, and every `refreshMs` as well, for what changes without an event
 * (completion and origin byte counts, mirror health). A reload reads the `.torrent` bytes and
 * digests only of torrents it has not seen in this version. If the database fails, the last good
 * view keeps being served.
 *
 * Events start at most one reload per `eventGapMs` (a second): an event after a quiet spell
 * reloads at once, a burst of them once more when the gap has passed. A reload still reads every
 * active row (and on PGlite on our own thread), and a first start publishing 1,000 releases
 * reloaded after each one: 1,000 reloads, 23 of its 36 s. A page asked for meanwhile does not
 * wait for the gap: it starts the reload and answers after it ({@link current}).
 */
export class PublicCatalog {
  private byPath = new Map<string, PublicTorrent>()
  private newestFirst: PublicTorrent[] = []
  private mirrorRows: MirrorRow[] = []
  private loading: Promise<void> | null = null
  private signature = ''
  private failing = false
  private timer?: NodeJS.Timeout
  /** The reload events asked for, waiting for the gap since the last one to pass. */
  private deferred?: NodeJS.Timeout
  /** When the last reload started (performance.now()). */
  private lastStart = -Infinity
  /** Feed events told since the last load started. */
  private dirty = false
  /** A load in flight that reads what feed events told; pages wait for it ({@link current}). */
  private eventsLoad: Promise<void> | null = null
  /** Bumped by every reload that changed something: renders keyed on it stay valid until then. */
  version = 0
  /** Whether a load has succeeded: from then on requests wait only for a reload owed to events. */
  loaded = false
  /** The first load; requests before it wait for it. */
  readonly ready: Promise<void>

  constructor(
    private readonly database: DatabaseHandle,
    refreshMs = 10_000,
    private readonly eventGapMs = 1_000,
  ) {
    this.ready = this.reload()
    if (refreshMs > 0) {
      this.timer = setInterval(() => void this.refresh().catch(() => {}), refreshMs)
      this.timer.unref()
    }
  }

  /** Feed events: published, superseded, removed, rewritten all mean "look again". */
  readonly events = {
    published: () => this.changed(),
    superseded: () => this.changed(),
    removed: () => this.changed(),
    rewritten: () => this.changed(),
  }

  changed(): void {
    this.dirty = true
    this.schedule()
  }

  /** Starts the reload events asked for: now, or once the gap since the last one has passed. */
  private schedule(): void {
    // A load in flight schedules the next as it ends; a deferred one covers this event too.
    if (this.loading || this.deferred !== undefined) return
    const wait = this.lastStart + this.eventGapMs - performance.now()
    if (wait <= 0) {
      void this.reload().catch(() => {})
      return
    }
    this.deferred = setTimeout(() => {
      this.deferred = undefined
      void this.reload().catch(() => {})
    }, wait)
    this.deferred.unref()
  }

  /** Whether feed events were told that the view may not show yet. */
  get behind(): boolean {
    return this.dirty || this.eventsLoad !== null
  }

  /**
   * Undefined when the view shows every feed event told so far; else a promise that resolves once
   * it does, after a reload started now. So a page asked for right after a publish (a user who
   * saw `scan` end or `/readyz` turn 200) shows it, and requests during a burst of publishes share
   * one reload. Never rejects: if the database fails, the last good view is served.
   */
  current(): Promise<void> | undefined {
    // Requests that catch up together share the loads: catchUp starts one only when none runs.
    return this.behind ? this.catchUp() : undefined
  }

  private async catchUp(): Promise<void> {
    // A few rounds at most: events that keep coming during each load do not hold a page forever.
    for (let round = 0; round < 3; round++) {
      if (this.dirty && !this.loading) void this.reload().catch(() => {})
      const load = this.dirty ? this.loading : this.eventsLoad
      if (!load) return
      await load.catch(() => {})
    }
  }

  /**
   * Reads the database again; concurrent calls share one reload and, if asked during one, one
   * more after it (so a change made meanwhile is never missed).
   */
  reload(): Promise<void> {
    if (this.loading) {
      // Asked during a load: one more after it, as for an event.
      this.dirty = true
      return this.loading
    }
    // This load reads whatever the events so far told: a deferred reload is no longer needed.
    const forEvents = this.dirty
    this.dirty = false
    clearTimeout(this.deferred)
    this.deferred = undefined
    this.lastStart = performance.now()
    const load: Promise<void> = this.load()
      .catch((err) => {
        // Once per outage: the last good view is still served meanwhile.
        if (!this.failing)
          log.warn('public pages could not reload from the database', { error: err })
        this.failing = true
        throw err
      })
      .finally(() => {
        this.loading = null
        if (this.eventsLoad === load) this.eventsLoad = null
        if (this.dirty) this.schedule()
      })
    this.loading = load
    if (forEvents) this.eventsLoad = load
    return load
  }

  /**
   * The periodic look: one small query (counts and newest `updated_at` of active torrents and of
   * mirrors), and a reload only when it moved. A full reload hashes every stored `.torrent`
   * (md5) on the database's side, which on PGlite runs on our own thread.
   */
  private async refresh(): Promise<void> {
    if ((await this.probe()) !== this.signature) await this.reload()
  }

  private async probe(): Promise<string> {
    const db = this.database.db
    return `${await catalogSignature(db)}/${await mirrorsSignature(db)}`
  }

  close(): void {
    clearInterval(this.timer)
    clearTimeout(this.deferred)
  }

  get(releaseDir: string, name: string): PublicTorrent | undefined {
    return this.byPath.get(key(releaseDir, name))
  }

  /** Active torrents, newest first. */
  get torrents(): readonly PublicTorrent[] {
    return this.newestFirst
  }

  get mirrors(): readonly MirrorRow[] {
    return this.mirrorRows
  }

  private async load(): Promise<void> {
    // Taken first, so a change made while this load reads is seen by the next refresh.
    const signature = await this.probe()
    const [rows, mirrorRows] = await Promise.all([
      activeTorrents(this.database.db),
      listMirrors(this.database.db),
    ])
    const known = new Map<number, PublicTorrent>()
    for (const t of this.newestFirst) known.set(t.id, t)
    const stale = rows.filter((r) => known.get(r.id)?.metainfoVersion !== r.metainfoVersion)
    const metainfo = await metainfoOf(
      this.database.db,
      stale.map((r) => r.id),
    )
    const digests = await digestsOf(
      this.database.db,
      stale.map((r) => r.id),
    )
    let changed = stale.length > 0 || rows.length !== this.newestFirst.length
    const next = rows.flatMap((r): PublicTorrent[] => {
      const old = known.get(r.id)
      if (old && old.metainfoVersion === r.metainfoVersion) {
        if (old.completed !== r.completed || old.originBytes !== r.originBytes) changed = true
        return [{ ...old, ...r }]
      }
      const bytes = metainfo.get(r.id)
      if (!bytes) return []
      const torrent = parseTorrent(bytes)
      return [
        {
          ...r,
          metainfo: bytes,
          body: new Uint8Array(bytes),
          torrent,
          magnet: magnetLink(torrent),
          sha256: digests.get(r.id) ?? new Map(),
        },
      ]
    })
    if (JSON.stringify(mirrorRows) !== JSON.stringify(this.mirrorRows)) changed = true
    this.newestFirst = next
    this.byPath = new Map(next.map((t) => [key(t.releaseDir, t.name), t]))
    this.mirrorRows = mirrorRows
    this.failing = false
    this.signature = signature
    this.loaded = true
    if (changed) this.version++
  }
}
