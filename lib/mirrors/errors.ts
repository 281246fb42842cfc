import { MirrorseedError } from '../errors/index.ts'

export type MirrorErrorCode = 'not-found' | 'exists' | 'bad-input' | 'no-piece-layer'

/**
 * A mirror operation refused: no such mirror, a name taken, a name or URL that cannot be one, a
 * torrent that gives a check nothing to verify a piece against.
 */
export class MirrorError extends MirrorseedError<MirrorErrorCode> {}
