import { backgroundFailure } from '../../../lib/log/index.ts'
import { rollupDaily } from '../../../lib/stats/index.ts'
import type { Role } from './context.ts'

/** How often `stats_daily` takes in the day's counters (the same node that generates). */
const rollupMs = 5 * 60_000

/** The daily rollup of the counters into `stats_daily`, on a timer. */
export const rollupRole: Role = async ({ database }) => {
  const timer = setInterval(() => {
    rollupDaily(database).catch((err) => backgroundFailure('daily rollup', err))
  }, rollupMs)
  return async () => clearInterval(timer)
}
