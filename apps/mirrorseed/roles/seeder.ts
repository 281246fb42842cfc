import { Announcer, startSeeder } from '../../../lib/peer/index.ts'
import type { LiveTorrent } from '../../../lib/publish/index.ts'
import { log } from '../../../lib/log/index.ts'
import type { Role } from './context.ts'
import { crowdPolicy } from './egress.ts'
import { seederAddress } from './tracker.ts'

/**
 * The DHT answers get_peers with the seeder's public IP. A name that does not resolve leaves the
 * DHT off with a warning rather than stopping the seeder, which works without it.
 */
async function dhtOptions(bootstrap: string[], publicAddress: string) {
  try {
    return { bootstrap, address: await seederAddress(publicAddress) }
  } catch (err) {
    log.warn('dht off: publicAddress does not resolve', { publicAddress, error: err as Error })
    return null
  }
}

export const seederRole: Role = async ({ config, feed, live, ports, services }) => {
  const crowded = crowdPolicy({ config, services })
  const seeder = await startSeeder({
    host: config.seeder.host ?? config.host,
    port: config.peerPort,
    root: config.root,
    maxConnections: config.seeder.maxConnections,
    maxPerIp: config.seeder.maxPerIp,
    uploadSlots: config.seeder.uploadSlots,
    uploadRate: config.seeder.uploadRate || undefined,
    openFiles: config.seeder.openFiles,
    superSeed: crowded && {
      crowded,
      offersPerPeer: config.egress.offersPerPeer,
      forwardWaitMs: config.egress.forwardWaitSeconds * 1000,
    },
    dht: config.dht.enabled ? await dhtOptions(config.dht.bootstrap, config.publicAddress) : null,
  })
  ports.peer = seeder.port
  services.seeder = seeder
  // Our own tracker lists a seeder in the same process by itself; a seeder node without the
  // tracker role announces to it like any peer (and always to the torrent's extra trackers).
  const ownTracker = `${config.publicUrl}/announce`
  const announcer = new Announcer({
    peerId: seeder.peerId,
    port: seeder.port,
    uploaded: (infoHash) => seeder.uploaded(infoHash),
    exclude: config.roles.includes('tracker') ? (url) => url === ownTracker : undefined,
  })
  // Only active torrents are seeded: a superseded one's files may already hold the new bytes.
  const seeded = new Map<string, LiveTorrent>()
  const add = (t: LiveTorrent) => {
    seeded.set(t.infoHash, t)
    seeder.add(t.torrent, t.filePaths)
    announcer.add(t.torrent)
  }
  const drop = (infoHash: string) => {
    if (!seeded.delete(infoHash)) return
    seeder.remove(Buffer.from(infoHash, 'hex'))
    void announcer.remove(Buffer.from(infoHash, 'hex'))
  }
  for (const t of live) if (t.active) add(t)
  feed.subscribe({ published: add, superseded: drop, removed: drop })
  return async () => {
    await announcer.close()
    await seeder.close()
  }
}
