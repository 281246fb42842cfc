import { Hono } from 'hono'
import { bearerAuth } from './auth.ts'
import { ApiError, onApiError } from './errors.ts'
import { Jobs } from './jobs.ts'
import { rescanRoutes } from './rescan.ts'

export { ApiError, onApiError, type ErrorCode } from './errors.ts'
export { adminToken, readAdminToken, tokenFile } from './token.ts'
export { Jobs, type Job } from './jobs.ts'

export interface ApiOptions {
  token: string
  /** Runs one reconcile pass (of `path`, relative to the root); absent without a generator. */
  rescan?: (path?: string) => Promise<unknown>
  jobs?: Jobs
}

/**
 * The admin REST API, mounted at `/api`: every route behind the bearer token.
 *
 * @example
 * app.route('/api', apiRoutes({ token, rescan: (path) => publisher.reconcile({ under: path }) }))
 */
export function apiRoutes(options: ApiOptions): Hono {
  const api = new Hono()
  api.onError(onApiError)
  api.use('*', bearerAuth(options.token))
  const jobs = options.jobs ?? new Jobs()
  if (options.rescan) api.route('/', rescanRoutes(jobs, options.rescan))
  api.all('*', () => {
    throw new ApiError('not_found', 'no such endpoint')
  })
  return api
}
