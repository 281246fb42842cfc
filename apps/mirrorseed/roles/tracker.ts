import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { CompletionCounts } from '../../../lib/catalog/index.ts'
import { answerHttp, startUdp, Tracker } from '../../../lib/tracker/index.ts'
import type { PlainRoute } from '../../../lib/http/index.ts'
import type { Role } from './context.ts'

/** The seeder's address as the tracker hands it out: an IP, so a hostname is resolved once. */
export async function seederAddress(address: string): Promise<string> {
  return isIP(address) ? address : (await lookup(address)).address
}

export const trackerRole: Role = async ({
  config,
  database,
  plainRoutes,
  feed,
  live,
  ports,
  services,
}) => {
  const tracker = new Tracker({
    interval: config.tracker.interval,
    minInterval: config.tracker.minInterval,
    numWant: config.tracker.numwant,
    maxNumWant: config.tracker.maxNumwant,
    fullScrape: config.tracker.fullScrape,
    trustedProxies: config.tracker.trustedProxies,
    rateLimit: { announces: config.tracker.rateLimitPerMinute, windowSeconds: 60 },
    maxPeersPerAddress: config.tracker.maxPeersPerAddress,
    selfPeer: config.roles.includes('seeder')
      ? { ip: await seederAddress(config.publicAddress), port: ports.peer ?? config.peerPort }
      : undefined,
    // `downloaded` survives restarts and database outages: flushed in batches, never awaited.
    counterStore: new CompletionCounts(database.db),
  })
  const graceMs = config.tracker.graceSeconds * 1000
  // A hybrid torrent is tracked under its truncated v2 info-hash too (BEP 52: clients join both).
  for (const t of live) {
    const until = t.supersededAt ? t.supersededAt.getTime() + graceMs : undefined
    tracker.allow(t.infoHash, { until, v2: t.torrent.infoHashV2 })
  }
  feed.subscribe({
    published: (t) => tracker.allow(t.infoHash, { v2: t.torrent.infoHashV2 }),
    superseded: (infoHash) => tracker.allow(infoHash, { until: Date.now() + graceMs }),
    removed: (infoHash) => tracker.disallow(infoHash),
  })
  await tracker.start()
  services.tracker = tracker
  const answer: PlainRoute = (target, remote, forwardedFor) =>
    answerHttp(tracker, target, remote, forwardedFor)
  plainRoutes.set('/announce', answer)
  plainRoutes.set('/scrape', answer)
  const udp = await startUdp(tracker, { host: config.host, port: config.udpPort })
  ports.udp = udp.port
  return async () => {
    await udp.close()
    await tracker.close()
  }
}
