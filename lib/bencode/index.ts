export { encode, type Encodable } from './encode.ts'
export {
  decode,
  decodeWithSpans,
  type BencodeValue,
  type BencodeDict,
  type DecodeOptions,
  type Span,
} from './decode.ts'
export { BencodeError, type BencodeErrorCode } from './errors.ts'
