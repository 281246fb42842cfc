import { crowdTest } from '../../../lib/stats/index.ts'
import type { RoleContext } from './context.ts'

/** The egress policy (config `egress`) over this process's tracker: see `crowdTest`. */
export function crowdPolicy({
  config,
  services,
}: Pick<RoleContext, 'config' | 'services'>): ((infoHash: string) => boolean) | undefined {
  const { stepBack, crowd } = config.egress
  const seederHere = config.roles.includes('seeder')
  return crowdTest({ stepBack, crowd, seederHere }, () => services.tracker)
}
