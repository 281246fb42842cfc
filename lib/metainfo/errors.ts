/** Why a torrent could not be built or parsed; stable strings that callers may switch on. */
export type MetainfoErrorCode =
  | 'bad-bencode'
  | 'missing-key'
  | 'bad-type'
  | 'bad-piece-length'
  | 'bad-pieces'
  | 'bad-name'
  | 'bad-path'
  | 'bad-file-tree'
  | 'bad-piece-layers'
  | 'length-mismatch'
  | 'unsupported-version'
  | 'bad-input'
  | 'no-data'

/** The one error type of the metainfo boundary: the message names what is wrong. */
export class MetainfoError extends Error {
  readonly code: MetainfoErrorCode

  constructor(code: MetainfoErrorCode, message: string) {
    super(message)
    this.name = 'MetainfoError'
    this.code = code
  }
}
