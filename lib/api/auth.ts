import { createHash, timingSafeEqual } from 'node:crypto'
import { createMiddleware } from 'hono/factory'
import { ApiError } from './errors.ts'

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * `Authorization: Bearer <token>`, compared in constant time (over digests, so the token's
 * length leaks nothing either). A request without the right token learns nothing else: not
 * whether the path exists, not what was wrong with its body.
 */
export function bearerAuth(token: string) {
  const expected = digest(token)
  return createMiddleware(async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!match || !timingSafeEqual(digest(match[1]), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="mirrorseed"')
      throw new ApiError('unauthorized', 'a valid bearer token is required')
    }
    await next()
  })
}
