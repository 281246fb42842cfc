import { WebSeed, webSeedPrefix } from '../../../lib/webseed/index.ts'
import type { Role } from './context.ts'
import { crowdPolicy } from './egress.ts'

/** The origin web seed: `/webseed/<release dir>/…` answered before hono, from the mirror tree. */
export const webSeedRole: Role = async ({ config, feed, live, fastPrefixes, services }) => {
  const crowded = crowdPolicy({ config, services })
  const webSeed = new WebSeed({
    root: config.root,
    stepBack: crowded && { crowded, retryAfterSeconds: config.egress.retryAfterSeconds },
  })
  services.webSeed = webSeed
  // Active torrents only: a superseded torrent's paths may already hold its successor's bytes.
  for (const t of live) if (t.active) webSeed.add(t)
  feed.subscribe({
    published: (t) => webSeed.add(t),
    superseded: (infoHash) => webSeed.remove(infoHash),
    removed: (infoHash) => webSeed.remove(infoHash),
  })
  fastPrefixes.set(webSeedPrefix, webSeed.handle)
  return async () => webSeed.close()
}
