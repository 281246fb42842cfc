import { startSeeder } from '../../../lib/peer/index.ts'
import type { LiveTorrent } from '../../../lib/publish/index.ts'
import type { Role } from './context.ts'

export const seederRole: Role = async ({ config, feed, live, ports }) => {
  const seeder = await startSeeder({
    host: config.host,
    port: config.peerPort,
    maxConnections: config.seeder.maxConnections,
    maxPerIp: config.seeder.maxPerIp,
    uploadSlots: config.seeder.uploadSlots,
    uploadRate: config.seeder.uploadRate || undefined,
    openFiles: config.seeder.openFiles,
  })
  ports.peer = seeder.port
  // Only active torrents are seeded: a superseded one's files may already hold the new bytes.
  const seeded = new Map<string, LiveTorrent>()
  const add = (t: LiveTorrent) => {
    seeded.set(t.infoHash, t)
    seeder.add(t.torrent, t.filePaths)
  }
  const drop = (infoHash: string) => {
    if (seeded.delete(infoHash)) seeder.remove(Buffer.from(infoHash, 'hex'))
  }
  for (const t of live) if (t.active) add(t)
  feed.subscribe({ published: add, superseded: drop, removed: drop })
  return () => seeder.close()
}
