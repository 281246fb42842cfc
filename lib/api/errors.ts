import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { log } from '../log/index.ts'
import { MirrorseedError } from '../errors/index.ts'

export const errorCodes = {
  unauthorized: 401,
  'bad-request': 400,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  unavailable: 503,
  internal: 500,
} as const satisfies Record<string, ContentfulStatusCode>

export type ErrorCode = keyof typeof errorCodes

/** An API error: answered as `{ "error": { "code", "message" } }` with the code's status. */
export class ApiError extends MirrorseedError<ErrorCode> {}

/** The one place an error becomes a response; anything unexpected is logged, never shown. */
export function onApiError(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    return c.json({ error: { code: err.code, message: err.message } }, errorCodes[err.code])
  }
  log.error('api request failed', { method: c.req.method, path: c.req.path, error: err })
  return c.json({ error: { code: 'internal', message: 'internal error' } }, 500)
}
