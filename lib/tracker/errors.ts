import { MirrorseedError } from '../errors/index.ts'

/**
 * Every bad request the tracker refuses, from the parsers or the core. The HTTP side turns one
 * into a bencoded `failure reason` (BEP 3, with BEP 31 `retry in` when `retryIn` is set) and the
 * UDP side into an error packet (BEP 15 action 3), each in exactly one place.
 */
export type TrackerErrorCode =
  | 'bad-request'
  | 'unknown-torrent'
  | 'rate-limited'
  | 'too-large'
  | 'bad-connection-id'
  | 'full-scrape-disabled'

export class TrackerError extends MirrorseedError<TrackerErrorCode> {
  /** Minutes before the client should ask again (BEP 31), when the refusal is temporary. */
  readonly retryIn: number | undefined

  constructor(code: TrackerErrorCode, message: string, retryIn?: number) {
    super(code, message)
    this.retryIn = retryIn
  }
}
