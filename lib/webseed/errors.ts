import { MirrorseedError } from '../errors/index.ts'

/** Why a web-seed request was refused; `code` is stable for logs and tests. */
export type WebSeedErrorCode = 'bad-path' | 'bad-range' | 'unsatisfiable'

/**
 * The one error of the web-seed boundary. The path and range parsers throw it; the handler turns
 * `bad-path` into 404 (a client learns nothing about what exists) and the range codes into 416.
 */
export class WebSeedError extends MirrorseedError<WebSeedErrorCode> {}
