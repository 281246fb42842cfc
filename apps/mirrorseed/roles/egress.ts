import type { RoleContext } from './context.ts'

/**
 * Whether a torrent's swarm can carry the load without the origin (config `egress`): at least
 * `crowd` peers in it besides our own seeder, as the tracker in this process counts them. Read
 * at request time, so the web seed and seeder started before the tracker still see it. Without
 * a tracker here (roles split over nodes) nobody is a crowd and the origin serves at full speed.
 */
export function crowdTest({
  config,
  services,
}: Pick<RoleContext, 'config' | 'services'>): ((infoHash: string) => boolean) | undefined {
  if (!config.egress.stepBack) return undefined
  // The tracker counts our seeder among a swarm's seeds when it runs beside it.
  const ours = config.roles.includes('seeder') ? 1 : 0
  return (infoHash) => {
    const swarm = services.tracker?.stats(infoHash)
    return swarm !== undefined && swarm.complete + swarm.incomplete - ours >= config.egress.crowd
  }
}

/**
 * Per torrent, what the origin sent (seeder + web seed, since start) and what the swarm
 * delivered by estimate (the tracker's completions × the torrent's size), for `/metrics`.
 */
export function egressByTorrent(
  services: RoleContext['services'],
): Array<{ infoHash: string; name: string; originBytes: number; swarmBytes: number }> | undefined {
  const { seeder, webSeed, tracker } = services
  if (!seeder && !webSeed) return undefined
  const rows = new Map<
    string,
    { infoHash: string; name: string; originBytes: number; swarmBytes: number }
  >()
  for (const t of seeder?.stats().torrents ?? []) {
    const completed = tracker?.stats(t.infoHash)?.downloaded ?? 0
    rows.set(t.infoHash, {
      infoHash: t.infoHash,
      name: t.name,
      originBytes: t.uploaded,
      swarmBytes: completed * t.size,
    })
  }
  for (const c of webSeed?.served() ?? []) {
    const row = rows.get(c.infoHash)
    if (row) row.originBytes += c.bytesServed
    else
      rows.set(c.infoHash, {
        infoHash: c.infoHash,
        name: c.name,
        originBytes: c.bytesServed,
        swarmBytes: 0,
      })
  }
  return [...rows.values()]
}
