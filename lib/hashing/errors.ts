import { MirrorseedError } from '../errors/index.ts'

export type HashErrorCode = 'changed' | 'io' | 'aborted'

/**
 * Why hashing gave no result. `changed`: a file's size, mtime or identity is not what it was when
 * hashing started (or not the expected length): the data is being written, try again later.
 * `io`: a read failed. `aborted`: the request's signal fired.
 */
export class HashError extends MirrorseedError<HashErrorCode> {}
