import { MirrorseedError } from '../errors/index.ts'

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
export class MetainfoError extends MirrorseedError<MetainfoErrorCode> {}
