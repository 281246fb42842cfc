import { startMirrorChecks } from '../../../lib/mirrors/index.ts'
import { mirrorCheckHooks } from '../../../lib/publish/index.ts'
import type { Role } from './context.ts'

/**
 * Mirror health checks every `mirrors.checkSeconds`. Health decides `url-list`, which the
 * generator writes: the same node checks, and tells a rewrite on the feed.
 */
export const mirrorChecksRole: Role = async ({ config, database, feed }) => {
  const checks = startMirrorChecks({
    config,
    database,
    ...mirrorCheckHooks({ config, database, events: feed }),
  })
  return () => checks.close()
}
