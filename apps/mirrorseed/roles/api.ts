import { adminToken, apiRoutes, ApiError } from '../../../lib/api/index.ts'
import type { Role } from './context.ts'

/** The admin API under `/api`, behind the bearer token. */
export const apiRole: Role = async (context) => {
  const { config, database, app, feed, services } = context
  app.route(
    '/api',
    apiRoutes({
      token: adminToken(config),
      rescan: config.roles.includes('generator')
        ? (path) => {
            if (!services.rescan)
              throw new ApiError('unavailable', 'the generator is still starting')
            return services.rescan(path)
          }
        : undefined,
      database,
      events: feed,
      // Known once the ports are bound and the roles started; read at request time.
      config: () => context.config,
    }),
  )
  return async () => {}
}
