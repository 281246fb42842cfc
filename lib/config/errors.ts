/** Bad configuration: one line naming the key and what is wrong with it. */
export class ConfigError extends Error {
  readonly code = 'config'
}
