import type { Command } from 'commander'

/**
 * Every subcommand, each in its own module exporting `register(program)`. Only the command being
 * run is imported: `create` should not pay for loading the database driver and the web framework
 * (about a second of CPU and 60 MB on this machine, measured by bench/hash.ts).
 */
const commands: Record<string, () => Promise<{ register(program: Command): void }>> = {
  serve: () => import('./serve.ts'),
  scan: () => import('./scan.ts'),
  rescan: () => import('./rescan.ts'),
  create: () => import('./create.ts'),
  info: () => import('./info.ts'),
  verify: () => import('./verify.ts'),
  migrate: () => import('./migrate.ts'),
  mirrors: () => import('./mirrors.ts'),
}

/** Registers the command named in `argv`, or all of them (for `--help` and errors). */
export async function registerCommands(program: Command, argv: string[]): Promise<void> {
  const name = argv[2]
  const chosen = name && name in commands ? [name] : Object.keys(commands)
  for (const key of chosen) (await commands[key]()).register(program)
}
