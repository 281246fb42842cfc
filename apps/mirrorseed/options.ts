import { Option, type Command } from 'commander'
import {
  formats,
  loadConfig,
  profiles,
  type ConfigOverrides,
  type ResolvedConfig,
} from '../../lib/config/index.ts'
import { CliError } from './errors.ts'

function integer(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new CliError(`${name} must be a whole number, not "${value}"`)
    return Number(value)
  }
}

/**
 * The flags `serve` and `scan` share, so scripts and tests can drive them without a config
 * file. Each beats the environment and the config file.
 */
export function addSharedOptions(command: Command): Command {
  return command
    .option('--config <file>', 'configuration file (default: ./mirrorseed.yaml if present)')
    .option('--root <dir>', 'the mirror tree')
    .option('--data-dir <dir>', 'data folder for the embedded database and state')
    .addOption(new Option('--profile <name>', 'release layout').choices(profiles))
    .option('--min-size <bytes>', 'smallest file that is an artifact', integer('--min-size'))
    .addOption(new Option('--format <format>', 'torrent format').choices(formats))
    .option('--public-url <url>', 'how clients reach this appliance')
    .option('--http-port <n>', 'tracker, web seed, pages and API port', integer('--http-port'))
    .option('--udp-port <n>', 'UDP tracker port', integer('--udp-port'))
    .option('--peer-port <n>', 'seeder port', integer('--peer-port'))
    .option('--host <addr>', 'address to listen on')
    .option('--peer-host <addr>', 'address the seeder listens on (default: --host)')
}

export interface SharedOptions {
  config?: string
  root?: string
  dataDir?: string
  profile?: ConfigOverrides['profile']
  minSize?: number
  format?: ConfigOverrides['format']
  publicUrl?: string
  httpPort?: number
  udpPort?: number
  peerPort?: number
  host?: string
  peerHost?: string
}

/** The configuration with the shared flags applied on top of file and environment. */
export function configFrom(options: SharedOptions): ResolvedConfig {
  const { config: file, minSize, peerHost, ...rest } = options
  const overrides: ConfigOverrides = { ...rest }
  if (minSize !== undefined) overrides.release = { minSize }
  if (peerHost !== undefined) overrides.seeder = { host: peerHost }
  return loadConfig({ file, overrides })
}
