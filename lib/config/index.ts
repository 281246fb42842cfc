export {
  loadConfig,
  withPorts,
  requireRoot,
  ConfigError,
  type ResolvedConfig,
  type ConfigOverrides,
} from './load.ts'
export {
  configSchema,
  roles,
  profiles,
  formats,
  type Config,
  type Role,
  type Profile,
  type Format,
} from './schema.ts'
