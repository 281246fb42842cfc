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
