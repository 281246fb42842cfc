/** Why a peer connection was closed; `code` is stable for logs and tests. */
export type WireErrorCode =
  | 'bad_handshake'
  | 'bad_length'
  | 'too_large'
  | 'out_of_range'
  | 'bad_request'
  | 'bad_extended'
  | 'unknown_torrent'
  | 'bad_encryption'

/**
 * The one error of the peer-wire boundary. A parser throws it on any malformed or out-of-range
 * input; the connection turns it into a close of that connection and nothing else.
 */
export class WireError extends Error {
  readonly code: WireErrorCode
  constructor(code: WireErrorCode, message: string) {
    super(message)
    this.name = 'WireError'
    this.code = code
  }
}
