import { count, desc, eq, gte, max, sum } from 'drizzle-orm'
import { z } from 'zod'
import { mirrors, statsDaily, torrents, torrentStats, type DatabaseHandle } from '../db/index.ts'
import { endpoint, type Endpoint } from './route.ts'

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
