import { MirrorseedError } from '../errors/index.ts'

export type MirrorErrorCode = 'not-found' | 'exists' | 'bad-input'

/** A mirror operation refused: no such mirror, a name taken, a name or URL that cannot be one. */
export class MirrorError extends MirrorseedError<MirrorErrorCode> {}
