import { MirrorseedError } from '../errors/index.ts'

/** Why a bencoded input was refused; stable strings that callers may switch on. */
export type BencodeErrorCode =
  | 'truncated'
  | 'syntax'
  | 'leading-zero'
  | 'negative-zero'
  | 'too-deep'
  | 'too-long'
  | 'trailing'
  | 'unsorted-keys'
  | 'duplicate-key'
  | 'unencodable'

/**
 * The one error type of the bencode boundary. `offset` is the byte position of the problem in the
 * input (decoding only), so a message can point at it.
 */
export class BencodeError extends MirrorseedError<BencodeErrorCode> {
  readonly offset: number | null

  constructor(code: BencodeErrorCode, message: string, offset: number | null = null) {
    super(code, offset === null ? message : `${message} at byte ${offset}`)
    this.offset = offset
  }
}
