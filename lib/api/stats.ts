import { count, desc, eq, gte, max, sum } from 'drizzle-orm'
import { z } from 'zod'
import { mirrors, statsDaily, torrents, torrentStats, type DatabaseHandle } from '../db/index.ts'
import { endpoint, type Endpoint } from './route.ts'

const egressJson = z.object({
  originBytes: z.number().int(),
  swarmBytes: z.number().int(),
  completed: z.number().int(),
  /** originBytes / size: what the downloads cost the mirror, in copies of the release. */
  copies: z.number(),
})

const statsJson = z.object({
  torrents: z.object({
    active: z.number().int(),
    superseded: z.number().int(),
    removed: z.number().int(),
    /** Bytes of data in the active torrents. */
    activeBytes: z.number().int(),
  }),
  completed: z.number().int(),
  uploaded: z.object({ peer: z.number().int(), webseed: z.number().int() }),
  /**
   * What the swarm saved the mirror: bytes the origin sent (seeder + web seed), bytes the
   * downloaders got by estimate (completions × size), and origin copies per release size.
   */
  egress: egressJson.extend({
    torrents: z.array(egressJson.extend({ infoHash: z.string(), name: z.string() })),
  }),
  mirrors: z.object({
    up: z.number().int(),
    down: z.number().int(),
    unknown: z.number().int(),
    enabled: z.number().int(),
  }),
  /** Daily rollups over every torrent, newest first (empty until the rollup job has run). */
  daily: z.array(
    z.object({
      day: z.string(),
      completed: z.number().int(),
      uploaded: z.number().int(),
      peakPeers: z.number().int(),
    }),
  ),
})

// Postgres sums bigints to numeric, which both drivers hand over as a string.
const n = (v: unknown) => Number(v ?? 0)

/** `GET /stats`: totals over every torrent and mirror, and the daily rollups. */
export function statsEndpoints(database: DatabaseHandle): Endpoint[] {
  const db = database.db
  return [
    endpoint({
      method: 'get',
      path: '/stats',
      summary:
        'Totals: torrents, downloads completed, bytes uploaded, mirror health, daily rollups',
      query: z.strictObject({
        days: z
          .string()
          .regex(/^\d{1,4}$/, 'must be a whole number')
          .transform(Number)
          .pipe(z.number().int().min(1).max(3660))
          .optional()
          .describe('days of rollups, 30 by default'),
      }),
      responses: { 200: { description: 'the totals', schema: z.object({ stats: statsJson }) } },
      handler: async ({ query }, c) => {
        const byStatus = await db
          .select({ status: torrents.status, n: count(), bytes: sum(torrents.size) })
          .from(torrents)
          .groupBy(torrents.status)
        const status = Object.fromEntries(byStatus.map((r) => [r.status, r]))
        const [totals] = await db
          .select({
            completed: sum(torrentStats.completed),
            peer: sum(torrentStats.uploadedPeer),
            webseed: sum(torrentStats.uploadedWebseed),
          })
          .from(torrentStats)
        const perTorrent = await db
          .select({
            infoHash: torrents.infoHash,
            name: torrents.name,
            size: torrents.size,
            completed: torrentStats.completed,
            peer: torrentStats.uploadedPeer,
            webseed: torrentStats.uploadedWebseed,
          })
          .from(torrents)
          .innerJoin(torrentStats, eq(torrentStats.torrentId, torrents.id))
          .where(eq(torrents.status, 'active'))
          .orderBy(torrents.releaseDir, torrents.name)
        const egress = perTorrent.map((t) => {
          const originBytes = n(t.peer) + n(t.webseed)
          return {
            infoHash: t.infoHash,
            name: t.name,
            originBytes,
            swarmBytes: n(t.completed) * n(t.size),
            completed: n(t.completed),
            copies: n(t.size) > 0 ? originBytes / n(t.size) : 0,
          }
        })
        const total = (key: 'originBytes' | 'swarmBytes' | 'completed') =>
          egress.reduce((s, t) => s + t[key], 0)
        const activeBytes = n(status.active?.bytes)
        const health = await db
          .select({ status: mirrors.status, n: count() })
          .from(mirrors)
          .where(eq(mirrors.enabled, true))
          .groupBy(mirrors.status)
        const byHealth = Object.fromEntries(health.map((r) => [r.status, r.n]))
        const since = new Date(Date.now() - (query.days ?? 30) * 86_400_000)
          .toISOString()
          .slice(0, 10)
        const daily = await db
          .select({
            day: statsDaily.day,
            completed: sum(statsDaily.completed),
            uploaded: sum(statsDaily.uploaded),
            peakPeers: max(statsDaily.peakPeers),
          })
          .from(statsDaily)
          .where(gte(statsDaily.day, since))
          .groupBy(statsDaily.day)
          .orderBy(desc(statsDaily.day))
        return c.json({
          stats: {
            torrents: {
              active: n(status.active?.n),
              superseded: n(status.superseded?.n),
              removed: n(status.removed?.n),
              activeBytes: n(status.active?.bytes),
            },
            completed: n(totals?.completed),
            uploaded: { peer: n(totals?.peer), webseed: n(totals?.webseed) },
            egress: {
              originBytes: total('originBytes'),
              swarmBytes: total('swarmBytes'),
              completed: total('completed'),
              // Over all active releases: origin bytes per byte of release published.
              copies: activeBytes > 0 ? total('originBytes') / activeBytes : 0,
              torrents: egress,
            },
            mirrors: {
              up: n(byHealth.up),
              down: n(byHealth.down),
              unknown: n(byHealth.unknown),
              enabled: health.reduce((s, r) => s + n(r.n), 0),
            },
            daily: daily.map((d) => ({
              day: d.day,
              completed: n(d.completed),
              uploaded: n(d.uploaded),
              peakPeers: n(d.peakPeers),
            })),
          },
        })
      },
    }),
  ]
}
