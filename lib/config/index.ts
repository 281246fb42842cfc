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
  layoutProfiles,
  placements,
  formats,
  type Config,
  type Role,
  type Profile,
  type LayoutProfile,
  type Placement,
  type Format,
} from './schema.ts'
