import { randomBytes } from 'node:crypto'
import { findTorrent } from '../catalog/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { backgroundFailure } from '../log/index.ts'
import { parseTorrent } from '../metainfo/index.ts'
import { liveTorrent, type PublishEvents } from './live.ts'

const channel = 'mirrorseed_torrents'

type Notice = { node: string; event: keyof PublishEvents; infoHash: string }

/**
 * Carries the generator's events to whoever serves torrents: the tracker, seeder and web seed of
 * this process at once, and those of other nodes on the same database through Postgres
 * LISTEN/NOTIFY (docs/architecture.md, "Scaling out"). A notice carries only the info-hash; a node that hears
 * of a new torrent reads it from the database and finds the files under its own root.
 *
 * @example
 * const feed = new TorrentFeed(database, config.root)
 * feed.subscribe({ published: (t) => tracker.allow(t.infoHash) })
 * new Publisher({ config, database, events: feed })
 */
export class TorrentFeed implements PublishEvents {
  private readonly subscribers: Array<Partial<PublishEvents>> = []
  private readonly node = randomBytes(8).toString('hex')
  private unlisten?: () => Promise<void>

  constructor(
    private readonly database: DatabaseHandle,
    private readonly root: string,
  ) {}

  subscribe(subscriber: Partial<PublishEvents>): void {
    this.subscribers.push(subscriber)
  }

  published(torrent: Parameters<PublishEvents['published']>[0]): void {
    for (const s of this.subscribers) s.published?.(torrent)
    this.tell('published', torrent.infoHash)
  }

  superseded(infoHash: string): void {
    for (const s of this.subscribers) s.superseded?.(infoHash)
    this.tell('superseded', infoHash)
  }

  removed(infoHash: string): void {
    for (const s of this.subscribers) s.removed?.(infoHash)
    this.tell('removed', infoHash)
  }

  rewritten(infoHash: string): void {
    for (const s of this.subscribers) s.rewritten?.(infoHash)
    this.tell('rewritten', infoHash)
  }

  /** Starts hearing other nodes' notices. */
  async listen(): Promise<void> {
    this.unlisten = await this.database.listen(channel, (payload) => {
      void this.heard(payload).catch((err) => backgroundFailure('torrent notice', err))
    })
  }

  async close(): Promise<void> {
    await this.unlisten?.()
  }

  private tell(event: Notice['event'], infoHash: string): void {
    const notice: Notice = { node: this.node, event, infoHash }
    this.database.notify(channel, JSON.stringify(notice)).catch((err) => {
      // Other nodes catch up on their next start or reconcile; this node already knows.
      backgroundFailure('notify other nodes', err)
    })
  }

  private async heard(payload: string): Promise<void> {
    const notice = JSON.parse(payload) as Notice
    if (notice.node === this.node || !/^[0-9a-f]{40}$/.test(notice.infoHash)) return
    if (notice.event !== 'published') {
      for (const s of this.subscribers) s[notice.event]?.(notice.infoHash)
      return
    }
    const row = await findTorrent(this.database.db, notice.infoHash)
    if (!row) return
    const live = liveTorrent(this.root, row, parseTorrent(row.metainfo))
    for (const s of this.subscribers) s.published?.(live)
  }
}
