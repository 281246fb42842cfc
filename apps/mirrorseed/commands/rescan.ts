import { Command } from 'commander'
import type { Job } from '../../../lib/api/index.ts'
import type { ReconcileSummary } from '../../../lib/publish/index.ts'
import { apiClient } from '../api-client.ts'
import { CliError } from '../errors.ts'

/**
 * Asks a running appliance for a pass now: what an rsync or ftpsync post-hook runs. It returns
 * once the appliance has accepted the job (`--wait` to wait for its result).
 */
export function register(program: Command): void {
  program
    .command('rescan')
    .description('ask a running appliance to rescan the tree, or one folder of it')
    .argument('[path]', 'folder relative to the mirror root (default: the whole tree)')
    .option('--config <file>', 'configuration file')
    .option('--data-dir <dir>', 'data folder (where serve keeps the admin token)')
    .option('--url <url>', 'the appliance (default: http://127.0.0.1:<httpPort>)')
    .option('--wait', 'wait for the pass to finish and print its summary')
    .option('--json', 'print the job as JSON')
    .action(
      async (
        path: string | undefined,
        options: {
          config?: string
          dataDir?: string
          url?: string
          wait?: boolean
          json?: boolean
        },
      ) => {
        const call = apiClient(options)
        let { job } = await call<{ job: Job<ReconcileSummary> }>(
          'POST',
          '/rescan',
          path ? { path } : {},
        )
        while (options.wait && (job.status === 'queued' || job.status === 'running')) {
          await new Promise((r) => setTimeout(r, 500))
          ;({ job } = await call<{ job: Job<ReconcileSummary> }>('GET', `/jobs/${job.id}`))
        }
        if (options.json) console.log(JSON.stringify(job))
        else if (!options.wait)
          console.log(`rescan of ${path ?? 'the whole tree'} accepted: job ${job.id}`)
        else if (job.status === 'failed') throw new CliError(`rescan failed: ${job.error}`, 1)
        else if (job.result) {
          // A job that is done carries its summary.
          const s = job.result
          console.log(
            `${s.releases} releases: ${s.published.length} published, ${s.unchanged} unchanged, ${s.failed.length} failed, ${s.held.length} held`,
          )
        }
        if (options.wait && job.result?.failed?.length) process.exitCode = 1
      },
    )
}
