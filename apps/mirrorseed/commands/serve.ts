import { Command } from 'commander'
import { pgliteOnBaselineCompiler } from '../../../lib/db/index.ts'
import { backgroundFailure, log } from '../../../lib/log/index.ts'
import { startAppliance, type Appliance } from '../appliance.ts'
import { addSharedOptions, configFrom, type SharedOptions } from '../options.ts'

export function register(program: Command): void {
  addSharedOptions(
    program.command('serve').description('run the appliance: every configured role in one process'),
  ).action(async (options: SharedOptions) => {
    const config = configFrom(options)
    // Signals are taken before anything starts: a stop asked for during start-up waits for the
    // start to finish and then closes what was opened, so the data folder lock is never leaked.
    let appliance: Appliance | undefined
    let stopping: Promise<void> | undefined
    const stop = (signal: string) => {
      if (stopping) {
        // A second signal while draining means "now".
        log.warn('stopping at once', { signal })
        process.exit(130)
      }
      log.info('stopping', { signal })
      stopping = (async () => {
        await starting.catch(() => {})
        await appliance?.close()
        log.info('stopped')
        process.exit(0)
      })()
    }
    // The last net under background work (a timer, a flush, a check, a NOTIFY): a failure there
    // is logged and counted, each such task retries on its own next tick, and the appliance
    // keeps tracking and seeding.
    process.on('unhandledRejection', (err) => backgroundFailure('unhandled rejection', err))
    process.on('uncaughtException', (err) => backgroundFailure('uncaught exception', err))
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
    // Before the appliance opens its database, which compiles PGlite's WebAssembly.
    pgliteOnBaselineCompiler({ url: config.databaseUrl })
    const starting = startAppliance(config)
    appliance = await starting
  })
}
