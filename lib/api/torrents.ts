import { z } from 'zod'
import {
  countersOf,
  filesOf,
  findTorrent,
  torrentPage,
  type TorrentCounters,
  type TorrentRecord,
} from '../catalog/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { magnetLink, parseTorrent } from '../metainfo/index.ts'
import { ApiError } from './errors.ts'
import { endpoint, type Endpoint } from './route.ts'

const whole = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .describe(`${name}, ${min} to ${max}`)

/** A cursor is the last row's id, opaque to clients so the order can change without breaking them. */
const cursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,16}$/, 'is not a cursor this API gave')
  .transform((text, ctx) => {
    const id = Number(Buffer.from(text, 'base64url').toString('latin1').replace(/^t/, ''))
    if (!Number.isSafeInteger(id) || id < 0) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API gave' })
      return z.NEVER
    }
    return id
  })
const cursorFor = (id: number) => Buffer.from(`t${id}`, 'latin1').toString('base64url')

const listQuery = z
  .strictObject({
    status: z.enum(['active', 'superseded', 'removed']).optional(),
    releaseDir: z.string().max(4096).optional().describe('only torrents of this release folder'),
    limit: whole('rows per page', 1, 500).optional(),
    cursor: cursor.optional().describe('`nextCursor` of the page before'),
    offset: whole('rows to skip', 0, 1_000_000).optional(),
  })
  .refine(
    (q) => q.cursor === undefined || q.offset === undefined,
    'give cursor or offset, not both',
  )

const statsJson = z.object({
  completed: z.number().int(),
  uploadedPeer: z.number().int(),
  uploadedWebseed: z.number().int(),
  peakPeers: z.number().int(),
})

export const torrentJson = z.object({
  infoHash: z.string().describe('the 20-byte tracker key, hex (v2: the truncated SHA-256)'),
  infoHashV2: z.string().nullable(),
  name: z.string(),
  releaseDir: z.string(),
  profile: z
    .string()
    .nullable()
    .describe('the layout whose rules made the release (arch, fedora, …; profile: auto)'),
  format: z.enum(['v1', 'v2', 'hybrid']),
  pieceLength: z.number().int(),
  size: z.number().int(),
  status: z.enum(['active', 'superseded', 'removed']),
  createdAt: z.string(),
  updatedAt: z.string(),
  supersededAt: z.string().nullable(),
  removedAt: z.string().nullable(),
  stats: statsJson,
})

const detailJson = torrentJson.extend({
  files: z.array(
    z.object({
      path: z.string(),
      size: z.number().int(),
      role: z.enum(['artifact', 'companion']),
      sha256: z.string().nullable(),
    }),
  ),
  magnet: z.string(),
  webSeeds: z.array(z.string()),
  trackers: z.array(z.array(z.string())),
})

/** A catalog record as the API shows it (dates as ISO text, no metainfo bytes). */
function toJson(
  row: TorrentRecord,
  stats: TorrentCounters | undefined,
): z.infer<typeof torrentJson> {
  return {
    infoHash: row.infoHash,
    infoHashV2: row.infoHashV2,
    name: row.name,
    releaseDir: row.releaseDir,
    profile: row.profile,
    format: row.format,
    pieceLength: row.pieceLength,
    size: row.size,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    supersededAt: row.supersededAt?.toISOString() ?? null,
    removedAt: row.removedAt?.toISOString() ?? null,
    stats: stats ?? { completed: 0, uploadedPeer: 0, uploadedWebseed: 0, peakPeers: 0 },
  }
}

/** `GET /torrents` (paginated, filtered) and `GET /torrents/{infohash}`. */
export function torrentEndpoints(database: DatabaseHandle): Endpoint[] {
  const db = database.db
  return [
    endpoint({
      method: 'get',
      path: '/torrents',
      summary: 'Published torrents, oldest first, a page at a time',
      query: listQuery,
      responses: {
        200: {
          description: 'a page; `nextCursor` is null on the last one',
          schema: z.object({
            torrents: z.array(torrentJson),
            total: z.number().int(),
            nextCursor: z.string().nullable(),
          }),
        },
      },
      handler: async ({ query }, c) => {
        const limit = query.limit ?? 50
        const { rows, total, more } = await torrentPage(db, {
          status: query.status,
          releaseDir: query.releaseDir?.replace(/^\/+|\/+$/g, ''),
          limit,
          after: query.cursor,
          offset: query.offset,
        })
        const stats = await countersOf(
          db,
          rows.map((r) => r.id),
        )
        return c.json({
          torrents: rows.map((r) => toJson(r, stats.get(r.id))),
          total,
          nextCursor: more ? cursorFor(rows[rows.length - 1].id) : null,
        })
      },
    }),
    endpoint({
      method: 'get',
      path: '/torrents/{infohash}',
      summary: 'One torrent: files, stats, magnet link and web seeds',
      params: z.object({
        infohash: z
          .string()
          .regex(
            /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/,
            'must be a hex info-hash: 40 digits (v1, or the tracker key) or 64 (v2)',
          )
          .transform((h) => h.toLowerCase()),
      }),
      responses: {
        200: { description: 'the torrent', schema: z.object({ torrent: detailJson }) },
        404: { description: 'no torrent with that info-hash' },
      },
      handler: async ({ params }, c) => {
        const hash = params.infohash
        const row = await findTorrent(db, hash)
        if (!row) throw new ApiError('not-found', `no torrent with info-hash ${hash}`)
        const files = await filesOf(db, row.id)
        const stats = await countersOf(db, [row.id])
        const torrent = parseTorrent(row.metainfo)
        return c.json({
          torrent: {
            ...toJson(row, stats.get(row.id)),
            files: files.map((f) => ({
              path: f.path,
              size: f.size,
              role: f.role,
              sha256: f.sha256,
            })),
            magnet: magnetLink(torrent),
            webSeeds: torrent.urlList,
            trackers:
              torrent.announceList.length > 0
                ? torrent.announceList
                : torrent.announce
                  ? [[torrent.announce]]
                  : [],
          },
        })
      },
    }),
  ]
}
