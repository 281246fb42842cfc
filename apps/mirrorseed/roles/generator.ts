import { log } from '../../../lib/log/index.ts'
import { Publisher, type ReconcileSummary } from '../../../lib/publish/index.ts'
import { watchMirror, watchTimings } from '../../../lib/watch/index.ts'
import type { Role } from './context.ts'

/** A line per pass that changed something; the first pass always says what it found. */
function logSummary(summary: ReconcileSummary, always = false): void {
  const changed =
    summary.published.length +
    summary.failed.length +
    summary.problems.length +
    summary.retired.length +
    summary.removed.length
  if (!changed && !always) return
  log.info('reconciled', {
    scope: summary.scope || '/',
    releases: summary.releases,
    published: summary.published.length,
    unchanged: summary.unchanged,
    failed: summary.failed.length,
    held: summary.held.length,
    problems: summary.problems.length,
    seconds: summary.seconds.toFixed(2),
  })
}

/**
 * The generator: a first full pass at start (the appliance is ready once it is done), then
 * the watcher's dirty folders, its periodic reconcile, and rescans asked through the API.
 */
export const generatorRole: Role = async ({
  config,
  database,
  readiness,
  feed,
  services,
  scans,
}) => {
  const publisher = new Publisher({ config, database, events: feed })
  const pass = async (under?: string, first = false) => {
    try {
      const summary = await publisher.reconcile({ under })
      scans.record(summary)
      logSummary(summary, first)
      return summary
    } catch (err) {
      scans.scanFailed()
      throw err
    }
  }
  services.rescan = pass

  readiness.require('first scan')
  let closed = false
  // Ready once the first pass ends, whatever it found: an entry it could not read is that
  // entry's problem, and a pass that failed (the database went away) is retried by the watcher's
  // periodic reconcile, while /readyz reports the database itself.
  const first = pass(undefined, true)
    .catch((err) => log.error('first scan failed', { error: err }))
    .finally(() => readiness.done('first scan'))

  const watcher = config.watch.enabled
    ? await watchMirror({
        root: config.root,
        outputDirs: [config.output.torrents, config.output.symlinks],
        ...watchTimings(config.watch),
        onDirty: async (dirs, context) => {
          if (closed) return
          await first
          for (const dir of context.full ? [''] : dirs) {
            try {
              await pass(dir || undefined)
            } catch (err) {
              log.error('reconcile failed', { scope: dir || '/', error: err })
            }
          }
        },
      })
    : undefined

  return async () => {
    closed = true
    await watcher?.close()
    // Let a pass in flight finish: its outputs are renamed into place and recorded together.
    await publisher.idle()
  }
}
