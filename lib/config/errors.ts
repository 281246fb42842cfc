import { MirrorseedError } from '../errors/index.ts'

/** Bad configuration: one line naming the key and what is wrong with it. */
export class ConfigError extends MirrorseedError<'bad-config'> {
  constructor(message: string) {
    super('bad-config', message)
  }
}
