import { Command } from 'commander'
import { loadConfig } from '../../../lib/config/index.ts'
import { openDatabase } from '../../../lib/db/index.ts'

export function register(program: Command): void {
  program
    .command('migrate')
    .description('apply database migrations (DATABASE_URL, or the embedded database in --data-dir)')
    .option('--config <file>', 'configuration file')
    .option('--data-dir <dir>', 'data folder of the embedded database')
    .option('--json', 'print the result as JSON')
    .action(async (options: { config?: string; dataDir?: string; json?: boolean }) => {
      const config = loadConfig({ file: options.config, overrides: { dataDir: options.dataDir } })
      const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir })
      try {
        await database.migrate()
      } finally {
        await database.close()
      }
      if (options.json) console.log(JSON.stringify({ migrated: true, database: database.kind }))
      else console.log(`migrations applied (${database.kind})`)
    })
}
