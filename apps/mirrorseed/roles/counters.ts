import { StatsFlusher } from '../../../lib/stats/index.ts'
import type { Role } from './context.ts'

/** Bytes served by the seeder and the web seed, and peak swarm sizes, into `torrent_stats`. */
export const countersRole: Role = async ({ config, database, services }) => {
  const { seeder, webSeed, tracker } = services
  const flusher = new StatsFlusher(database, {
    uploadedPeer: seeder && (() => seeder.takeCounters().map((t) => [t.infoHash, t.uploaded])),
    uploadedWebseed:
      webSeed && (() => webSeed.takeCounters().map((t) => [t.infoHash, t.bytesServed])),
    peers:
      tracker &&
      seeder &&
      (() =>
        seeder.stats().torrents.map((t) => {
          const swarm = tracker.stats(t.infoHash)
          return [t.infoHash, swarm ? swarm.complete + swarm.incomplete : 0]
        })),
  })
  flusher.start(config.stats.flushSeconds * 1000)
  return () => flusher.close()
}
