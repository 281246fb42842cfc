import { Command, CommanderError } from 'commander'
import { createRequire } from 'node:module'
// The error classes alone: yaml and the database drivers load only for the commands that
// use them (`info` and `create` start in well under 0.3 s).
import { ConfigError } from '../../lib/config/errors.ts'
import { DatabaseError } from '../../lib/db/errors.ts'
import { CliError } from './errors.ts'
import { registerCommands } from './commands/index.ts'

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

const program = new Command('mirrorseed')
  .description('A seeding appliance for Linux-distribution mirrors.')
  .version(version)
  .configureOutput({
    // One line, in the same voice as every other error the program prints.
    outputError: (text, write) => write(text.replace(/^error: /, 'mirrorseed: ')),
  })
  .exitOverride()

/** Bad input exits 2, a failure 1; the user sees one line, a stack only when debugging. */
function fail(err: unknown): never {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2)
  }
  const known =
    err instanceof CliError || err instanceof ConfigError || err instanceof DatabaseError
  const message = err instanceof Error ? err.message : String(err)
  process.stderr.write(`mirrorseed: ${message}\n`)
  if (!known && process.env.MIRRORSEED_DEBUG === '1') console.error(err)
  process.exit(err instanceof CliError ? err.exitCode : known ? 2 : 1)
}

try {
  await registerCommands(program, process.argv)
  await program.parseAsync(process.argv)
} catch (err) {
  fail(err)
}
