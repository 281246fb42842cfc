import { MirrorseedError } from '../errors/index.ts'

/** Why a peer connection was closed; `code` is stable for logs and tests. */
export type WireErrorCode =
  | 'bad-handshake'
  | 'bad-length'
  | 'too-large'
  | 'out-of-range'
  | 'bad-request'
  | 'bad-extended'
  | 'unknown-torrent'
  | 'bad-encryption'

/**
 * The one error of the peer-wire boundary. A parser throws it on any malformed or out-of-range
 * input; the connection turns it into a close of that connection and nothing else.
 */
export class WireError extends MirrorseedError<WireErrorCode> {}
