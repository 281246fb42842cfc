import { log } from './index.ts'

const failures = new Map<string, number>()

/**
 * Work nobody waits on (a timer, a stats flush, a mirror check, a NOTIFY) that failed: one log
 * line, one count under its task name for `/metrics`, and the process goes on; each such task
 * tries again on its next tick. An appliance on a mirror host must not die of a hiccup nobody
 * asked about.
 *
 * @example
 * setInterval(() => rollup().catch((err) => backgroundFailure('rollup', err)), 300_000)
 */
export function backgroundFailure(task: string, error: unknown): void {
  failures.set(task, (failures.get(task) ?? 0) + 1)
  log.error('background task failed', { task, error, retry: 'next tick' })
}

/** Failures so far, by task. */
export function backgroundFailures(): ReadonlyMap<string, number> {
  return failures
}
