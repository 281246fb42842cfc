import { MirrorseedError } from '../../lib/errors/index.ts'

/**
 * A command that cannot do what was asked: printed as one line `mirrorseed: <message>`, exit
 * status `exitCode` (2 for bad input, 1 for a failure such as a bad piece).
 */
export class CliError extends MirrorseedError<'bad-input' | 'failed'> {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(exitCode === 2 ? 'bad-input' : 'failed', message)
  }
}
