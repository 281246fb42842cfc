import { MirrorseedError } from '../errors/index.ts'

/** Why a scan or a digest check could not go on; the message names the path or file at fault. */
export type ReleaseErrorCode = 'bad-root' | 'bad-path' | 'bad-profile' | 'bad-digest-file'

export class ReleaseError extends MirrorseedError<ReleaseErrorCode> {}
