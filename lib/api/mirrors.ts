import { z } from 'zod'
import type { ResolvedConfig } from '../config/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { log } from '../log/index.ts'
import {
  addMirror,
  checkMirrors,
  getMirror,
  listMirrors,
  MirrorError,
  removeMirror,
  updateMirror,
  type MirrorRow,
} from '../mirrors/index.ts'
import { mirrorName, mirrorUrl } from '../mirrors/fields.ts'
import { mirrorCheckHooks, refreshWebSeeds, type PublishEvents } from '../publish/index.ts'
import { ApiError } from './errors.ts'
import { endpoint, type Endpoint } from './route.ts'

export const mirrorJson = z.object({
  name: z.string(),
  baseUrl: z.string(),
  enabled: z.boolean(),
  /** `unknown` until the first check; only `up` mirrors are web seeds. */
  status: z.enum(['unknown', 'up', 'down']),
  lastCheckAt: z.string().nullable(),
  latencyMs: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
})

const checkJson = z.object({
  status: z.enum(['unknown', 'up', 'down']),
  before: z.enum(['unknown', 'up', 'down']),
  latencyMs: z.number().int().nullable(),
  problem: z
    .enum([
      'unreachable',
      'timeout',
      'redirect',
      'http-status',
      'no-range',
      'bad-range',
      'wrong-size',
      'wrong-bytes',
    ])
    .nullable(),
  error: z.string().nullable(),
})

function toJson(row: MirrorRow): z.infer<typeof mirrorJson> {
  return {
    name: row.name,
    baseUrl: row.baseUrl,
    enabled: row.enabled,
    status: row.status,
    lastCheckAt: row.lastCheckAt?.toISOString() ?? null,
    latencyMs: row.latencyMs,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

/** The mirrors area's refusals, as the API's. */
async function mirrorCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call
  } catch (err) {
    if (!(err instanceof MirrorError)) throw err
    const code =
      err.code === 'not-found' ? 'not-found' : err.code === 'exists' ? 'conflict' : 'bad-request'
    throw new ApiError(code, err.message)
  }
}

const nameParam = z.object({ name: mirrorName })

const notFound = { description: 'no mirror of that name' }

/**
 * `GET|POST /mirrors`, `PATCH|DELETE /mirrors/{name}`, `POST /mirrors/{name}/check`. A change
 * that can take a web seed away (removed, disabled, moved) rewrites the torrents' `url-list` at
 * once when this node has the tree; otherwise the next check round does.
 */
export function mirrorEndpoints(options: {
  database: DatabaseHandle
  config?: ResolvedConfig | (() => ResolvedConfig)
  /** Where a `url-list` rewrite is told (the torrent feed). */
  events?: Partial<PublishEvents>
}): Endpoint[] {
  const { database, events } = options
  const db = database.db
  const configNow = () => (typeof options.config === 'function' ? options.config() : options.config)
  const rewrite = (config: ResolvedConfig) => refreshWebSeeds({ config, database, events })
  const refresh = async () => {
    const config = configNow()
    if (!config?.root) return
    await rewrite(config).catch((err) =>
      log.error('could not rewrite the web seeds', { error: err }),
    )
  }
  const endpoints = [
    endpoint({
      method: 'get',
      path: '/mirrors',
      summary: 'Every mirror with its health',
      responses: {
        200: {
          description: 'the mirrors, by name',
          schema: z.object({ mirrors: z.array(mirrorJson) }),
        },
      },
      handler: async (_input, c) => c.json({ mirrors: (await listMirrors(db)).map(toJson) }),
    }),
    endpoint({
      method: 'post',
      path: '/mirrors',
      summary: 'Add a mirror; it becomes a web seed once a check sees it serve the right bytes',
      body: z.strictObject({
        name: mirrorName,
        baseUrl: mirrorUrl.describe('where the mirror carries the tree: http(s), no query'),
        enabled: z.boolean().optional(),
      }),
      responses: {
        201: { description: 'added', schema: z.object({ mirror: mirrorJson }) },
        409: { description: 'a mirror of that name exists' },
      },
      handler: async ({ body }, c) => {
        const row = await mirrorCall(addMirror(db, body))
        return c.json({ mirror: toJson(row) }, 201)
      },
    }),
    endpoint({
      method: 'patch',
      path: '/mirrors/{name}',
      summary: 'Enable, disable or move a mirror (a new URL is checked again before use)',
      params: nameParam,
      body: z
        .strictObject({ baseUrl: mirrorUrl.optional(), enabled: z.boolean().optional() })
        .refine((b) => b.baseUrl !== undefined || b.enabled !== undefined, 'nothing to change'),
      responses: {
        200: { description: 'changed', schema: z.object({ mirror: mirrorJson }) },
        404: notFound,
      },
      handler: async ({ params, body }, c) => {
        const row = await mirrorCall(updateMirror(db, params.name, body))
        await refresh()
        return c.json({ mirror: toJson(row) })
      },
    }),
    endpoint({
      method: 'delete',
      path: '/mirrors/{name}',
      summary: 'Remove a mirror; it leaves every url-list',
      params: nameParam,
      responses: {
        200: { description: 'removed', schema: z.object({ removed: z.string() }) },
        404: notFound,
      },
      handler: async ({ params }, c) => {
        await mirrorCall(removeMirror(db, params.name))
        await refresh()
        return c.json({ removed: params.name })
      },
    }),
  ]
  const { config } = options
  if (config) {
    const checkConfig = () => (typeof config === 'function' ? config() : config)
    endpoints.push(
      endpoint({
        method: 'post',
        path: '/mirrors/{name}/check',
        summary: 'Check a mirror now: HEAD and Range GETs of a published torrent, bytes hashed',
        params: nameParam,
        responses: {
          200: {
            description: 'the outcome (a mirror that fails is still a 200: the check ran)',
            schema: z.object({ check: checkJson, mirror: mirrorJson }),
          },
          404: notFound,
        },
        handler: async ({ params }, c) => {
          const [result] = await mirrorCall(
            checkMirrors({
              config: checkConfig(),
              database,
              names: [params.name],
              ...mirrorCheckHooks({ config: checkConfig(), database, events }),
            }),
          )
          const row = await mirrorCall(getMirror(db, params.name))
          const { status, before, latencyMs, problem, error } = result
          return c.json({
            check: { status, before, latencyMs, problem, error },
            mirror: toJson(row),
          })
        },
      }),
    )
  }
  return endpoints
}
