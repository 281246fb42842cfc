import { bodyLimit } from 'hono/body-limit'
import { Hono } from 'hono'
import type { ResolvedConfig } from '../config/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import type { PublishEvents } from '../publish/index.ts'
import { bearerAuth } from './auth.ts'
import { ApiError, onApiError } from './errors.ts'
import { Jobs } from './jobs.ts'
import { mirrorEndpoints } from './mirrors.ts'
import { openApiDocument, openApiEndpoint } from './openapi.ts'
import { rescanEndpoints } from './rescan.ts'
import { mount, type Endpoint } from './route.ts'
import { statsEndpoints } from './stats.ts'
import { torrentEndpoints } from './torrents.ts'

export { ApiError, onApiError, errorCodes, type ErrorCode } from './errors.ts'
export { adminToken, readAdminToken, tokenFile } from './token.ts'
export { Jobs, type Job } from './jobs.ts'
export { openApiDocument } from './openapi.ts'
export type { Endpoint } from './route.ts'

export interface ApiOptions {
  token: string
  /** Runs one reconcile pass (of `path`, relative to the root); absent without a generator. */
  rescan?: (path?: string) => Promise<unknown>
  jobs?: Jobs
  /** Torrents, mirrors and stats; those endpoints are absent without it. */
  database?: DatabaseHandle
  /**
   * Mirror checks (`POST /mirrors/{name}/check`) and the `url-list` rewrite after a mirror
   * change (when `config.root` is set): the configuration with the ports actually bound, since
   * our own web-seed URL is built from `publicUrl`. A function when those are known only after
   * the routes are built (serve binds its port after mounting them).
   */
  config?: ResolvedConfig | (() => ResolvedConfig)
  /** Where a `url-list` rewrite after a mirror change is told (the torrent feed). */
  events?: Partial<PublishEvents>
}

/** The endpoints `options` allow, `openapi.json` included. */
export function apiEndpoints(options: Omit<ApiOptions, 'token'>): Endpoint[] {
  const endpoints: Endpoint[] = []
  if (options.rescan) endpoints.push(...rescanEndpoints(options.jobs ?? new Jobs(), options.rescan))
  if (options.database) {
    endpoints.push(...torrentEndpoints(options.database))
    endpoints.push(
      ...mirrorEndpoints({
        database: options.database,
        config: options.config,
        events: options.events,
      }),
    )
    endpoints.push(...statsEndpoints(options.database))
  }
  let document: Record<string, unknown> | undefined
  endpoints.push(openApiEndpoint(() => (document ??= openApiDocument(endpoints))))
  return endpoints
}

/** The largest admin API request body read. */
export const MAX_BODY_BYTES = 64 * 1024

/**
 * The admin REST API, mounted at `/api`: every route behind the bearer token, every input
 * validated by the endpoint's own schemas, described at `/api/openapi.json`.
 *
 * @example
 * app.route('/api', apiRoutes({ token, database, config, rescan: (path) => publisher.reconcile({ under: path }) }))
 */
export function apiRoutes(options: ApiOptions): Hono {
  const api = new Hono()
  api.onError(onApiError)
  api.use('*', bearerAuth(options.token))
  // Admin bodies are a path or a mirror, a few hundred bytes; a token holder streaming
  // gigabytes must not fill our memory (read before any handler parses it).
  api.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError('too-large', `request body is over ${MAX_BODY_BYTES} bytes`)
      },
    }),
  )
  mount(api, apiEndpoints(options))
  api.all('*', () => {
    throw new ApiError('not-found', 'no such endpoint')
  })
  return api
}
