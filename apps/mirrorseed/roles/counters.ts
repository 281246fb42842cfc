import type { DatabaseHandle } from '../../../lib/db/index.ts'
import { StatsFlusher } from '../../../lib/stats/index.ts'
import type { RoleContext } from './context.ts'

/** Bytes served by the seeder and the web seed, and peak swarm sizes, into `torrent_stats`. */
export function startCounters(
  database: DatabaseHandle,
  services: RoleContext['services'],
  flushMs: number,
): () => Promise<void> {
  const { seeder, webSeed, tracker } = services
  const flusher = new StatsFlusher(database, {
    uploadedPeer: seeder && (() => seeder.stats().torrents.map((t) => [t.infoHash, t.uploaded])),
    uploadedWebseed:
      webSeed && (() => webSeed.stats().torrents.map((t) => [t.infoHash, t.bytesServed])),
    peers:
      tracker &&
      seeder &&
      (() =>
        seeder.stats().torrents.map((t) => {
          const swarm = tracker.stats(t.infoHash)
          return [t.infoHash, swarm ? swarm.complete + swarm.incomplete : 0]
        })),
  })
  flusher.start(flushMs)
  return () => flusher.close()
}
