import { z } from 'zod'
import { activeCounters, counterTotals, statusTotals } from '../catalog/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { mirrorHealthCounts } from '../mirrors/index.ts'
import { dailyTotals } from '../stats/index.ts'
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
        const status = await statusTotals(db)
        const totals = await counterTotals(db)
        const egress = (await activeCounters(db)).map((t) => {
          const originBytes = t.uploadedPeer + t.uploadedWebseed
          return {
            infoHash: t.infoHash,
            name: t.name,
            originBytes,
            swarmBytes: t.completed * t.size,
            completed: t.completed,
            copies: t.size > 0 ? originBytes / t.size : 0,
          }
        })
        const total = (key: 'originBytes' | 'swarmBytes' | 'completed') =>
          egress.reduce((s, t) => s + t[key], 0)
        const activeBytes = status.active.bytes
        const health = await mirrorHealthCounts(db)
        const since = new Date(Date.now() - (query.days ?? 30) * 86_400_000)
          .toISOString()
          .slice(0, 10)
        const daily = await dailyTotals(database, since)
        return c.json({
          stats: {
            torrents: {
              active: status.active.torrents,
              superseded: status.superseded.torrents,
              removed: status.removed.torrents,
              activeBytes,
            },
            completed: totals.completed,
            uploaded: { peer: totals.uploadedPeer, webseed: totals.uploadedWebseed },
            egress: {
              originBytes: total('originBytes'),
              swarmBytes: total('swarmBytes'),
              completed: total('completed'),
              // Over all active releases: origin bytes per byte of release published.
              copies: activeBytes > 0 ? total('originBytes') / activeBytes : 0,
              torrents: egress,
            },
            mirrors: health,
            daily,
          },
        })
      },
    }),
  ]
}
