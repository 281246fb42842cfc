import { existsSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { ConfigError } from './errors.ts'
import { configSchema, type Config } from './schema.ts'

export { ConfigError }

export type ResolvedConfig = Config & {
  publicUrl: string
  publicAddress: string
  /** True when publicUrl was not configured but derived from host and port (see withPorts). */
  publicUrlDerived: boolean
}

/** Overrides from the command line, in the config's own shape (`--min-size` → release.minSize). */
export type ConfigOverrides = Partial<Omit<Config, 'release' | 'seeder'>> & {
  release?: Partial<Config['release']>
  seeder?: Partial<Config['seeder']>
}

/**
 * Environment variables, each beating the same key in the file. Strings are converted by the
 * key's schema type, so `MIRRORSEED_HTTP_PORT=80` is a number and `MIRRORSEED_ROLES=a,b` a list.
 */
const envKeys: Record<string, string[]> = {
  MIRRORSEED_ROOT: ['root'],
  MIRRORSEED_DATA_DIR: ['dataDir'],
  MIRRORSEED_PROFILE: ['profile'],
  MIRRORSEED_FORMAT: ['format'],
  MIRRORSEED_PIECE_LENGTH: ['pieceLength'],
  MIRRORSEED_PUBLIC_URL: ['publicUrl'],
  MIRRORSEED_PUBLIC_ADDRESS: ['publicAddress'],
  MIRRORSEED_HOST: ['host'],
  MIRRORSEED_HTTP_PORT: ['httpPort'],
  MIRRORSEED_HTTP_MAX_CONNECTIONS: ['httpMaxConnections'],
  MIRRORSEED_UDP_PORT: ['udpPort'],
  MIRRORSEED_PEER_PORT: ['peerPort'],
  MIRRORSEED_PEER_HOST: ['seeder', 'host'],
  MIRRORSEED_ADMIN_TOKEN: ['adminToken'],
  MIRRORSEED_ROLES: ['roles'],
  MIRRORSEED_MIN_SIZE: ['release', 'minSize'],
  MIRRORSEED_STATS_FLUSH_SECONDS: ['stats', 'flushSeconds'],
  MIRRORSEED_DHT_ENABLED: ['dht', 'enabled'],
  MIRRORSEED_DHT_BOOTSTRAP: ['dht', 'bootstrap'],
  DATABASE_URL: ['databaseUrl'],
}

const numericKeys = new Set([
  'pieceLength',
  'httpPort',
  'httpMaxConnections',
  'udpPort',
  'peerPort',
  'minSize',
  'flushSeconds',
])

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, path] of Object.entries(envKeys)) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    const key = path[path.length - 1]
    let value: unknown = raw
    if (numericKeys.has(key)) value = /^\d+$/.test(raw) ? Number(raw) : raw
    if (key === 'roles' || key === 'bootstrap') value = raw.split(',').map((r) => r.trim())
    if (key === 'enabled') value = raw === 'true' ? true : raw === 'false' ? false : raw
    let target = out
    for (const segment of path.slice(0, -1))
      target = (target[segment] ??= {}) as Record<string, unknown>
    target[key] = value
  }
  return out
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Later layers win, key by key, down through nested sections. */
function merge(...layers: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue
      out[key] = isPlainObject(value) && isPlainObject(out[key]) ? merge(out[key], value) : value
    }
  }
  return out
}

/**
 * The YAML parser, loaded only when there is a file to read: ~40 ms of CPU that a command run
 * with flags alone (a cron `scan`, the benchmarks) spent for nothing (bench/scan.ts).
 */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  return yaml.parse(text)
}

function readFile(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (err) {
    throw new ConfigError(
      `config file ${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    )
  }
  if (doc === null || doc === undefined) return {}
  if (!isPlainObject(doc)) throw new ConfigError(`config file ${file}: must be a mapping of keys`)
  return doc
}

const wildcard = new Set(['0.0.0.0', '::', ''])

/**
 * Loads the configuration: the file (`file`, or `./mirrorseed.yaml` when it exists), then the
 * environment, then `overrides` from flags. Throws {@link ConfigError} naming the bad key.
 *
 * @example
 * const config = loadConfig({ overrides: { root: '/srv/mirror/gentoo', httpPort: 8080 } })
 */
export function loadConfig(
  options: { file?: string; overrides?: ConfigOverrides; env?: NodeJS.ProcessEnv } = {},
): ResolvedConfig {
  const env = options.env ?? process.env
  const file = options.file ?? (existsSync('mirrorseed.yaml') ? 'mirrorseed.yaml' : undefined)
  const layers = [file ? readFile(file) : {}, fromEnv(env), options.overrides ?? {}]
  const config = configSchema(merge(...layers), '')
  return withPorts(
    { ...config, publicUrlDerived: config.publicUrl === undefined } as ResolvedConfig,
    {},
  )
}

/**
 * The configuration with the ports actually bound (port 0 asks the kernel for one): the derived
 * public URL and the seeder's address follow them, so torrents never announce `:0`.
 */
export function withPorts(
  config: Omit<ResolvedConfig, 'publicUrl' | 'publicAddress'> & Partial<ResolvedConfig>,
  ports: { http?: number; udp?: number; peer?: number },
): ResolvedConfig {
  const httpPort = ports.http ?? config.httpPort
  const host = wildcard.has(config.host) ? '127.0.0.1' : config.host
  const publicUrl =
    config.publicUrlDerived || config.publicUrl === undefined
      ? `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`
      : config.publicUrl.replace(/\/+$/, '')
  const peerHost = config.seeder.host
  const publicAddress =
    config.publicAddress ??
    (peerHost && !wildcard.has(peerHost) ? peerHost : undefined) ??
    new URL(publicUrl).hostname.replace(/^\[|\]$/g, '')
  return {
    ...config,
    httpPort,
    udpPort: ports.udp ?? config.udpPort,
    peerPort: ports.peer ?? config.peerPort,
    publicUrl,
    publicAddress,
  } as ResolvedConfig
}

/**
 * The mirror tree, checked before anything starts: a missing or mistyped root is one clear line,
 * not a stack trace from the first scan.
 */
export function requireRoot(config: { root?: string }): string {
  if (!config.root) {
    throw new ConfigError(
      'config: root: the mirror tree is required (--root DIR, or MIRRORSEED_ROOT)',
    )
  }
  let stats
  try {
    stats = statSync(config.root)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read' : code
    throw new ConfigError(`config: root: ${config.root} ${why}`)
  }
  if (!stats.isDirectory()) throw new ConfigError(`config: root: ${config.root} is not a directory`)
  return config.root
}
