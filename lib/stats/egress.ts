import type { SeederStats } from '../peer/index.ts'
import type { SwarmStats } from '../tracker/index.ts'
import type { TorrentCounters as WebSeedCounters } from '../webseed/index.ts'

/** The running parts egress is read from; any may be absent on this node (roles split). */
export interface EgressSources {
  seeder?: { stats(): SeederStats }
  webSeed?: { served(): WebSeedCounters[] }
  tracker?: { stats(infoHash: string): SwarmStats | undefined }
}

/** One torrent's origin egress against what its swarm delivered. */
export interface TorrentEgress {
  infoHash: string
  name: string
  /** Bytes the origin sent since start: seeder and web seed. */
  originBytes: number
  /** Bytes downloaders got, by estimate: the tracker's completions × the torrent's size. */
  swarmBytes: number
}

/**
 * Per torrent, what the origin sent (seeder + web seed, since start) and what the swarm
 * delivered by estimate (the tracker's completions × the torrent's size), for `/metrics`.
 * Undefined when neither the seeder nor the web seed runs here.
 */
export function egressByTorrent(sources: EgressSources): TorrentEgress[] | undefined {
  const { seeder, webSeed, tracker } = sources
  if (!seeder && !webSeed) return undefined
  const rows = new Map<string, TorrentEgress>()
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

/**
 * Whether a torrent's swarm can carry the load without the origin (config `egress`): at least
 * `crowd` peers in it besides our own seeder, as the tracker in this process counts them. Read
 * at request time, so the web seed and seeder started before the tracker still see it. Without
 * a tracker here (roles split over nodes) nobody is a crowd and the origin serves at full speed.
 * Undefined when `egress.stepBack` is off.
 *
 * @example
 * const crowded = crowdTest({ stepBack: true, crowd: 20, seederHere: true }, () => tracker)
 */
export function crowdTest(
  policy: { stepBack: boolean; crowd: number; seederHere: boolean },
  tracker: () => { stats(infoHash: string): SwarmStats | undefined } | undefined,
): ((infoHash: string) => boolean) | undefined {
  if (!policy.stepBack) return undefined
  // The tracker counts our seeder among a swarm's seeds when it runs beside it.
  const ours = policy.seederHere ? 1 : 0
  return (infoHash) => {
    const swarm = tracker()?.stats(infoHash)
    return swarm !== undefined && swarm.complete + swarm.incomplete - ours >= policy.crowd
  }
}
