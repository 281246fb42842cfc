import { WireError } from './errors.ts'

/**
 * BEP 3 peer-wire messages (plus BEP 6 fast, BEP 10 extended, BEP 52 hash messages) as pure
 * functions from bytes to typed values. No I/O here: the framer feeds frames in, the connection
 * acts on what comes out, and anything malformed throws a {@link WireError}.
 */

export const PROTOCOL = Buffer.from('BitTorrent protocol', 'latin1')
export const HANDSHAKE_LENGTH = 68

/** Clients send 16 KiB requests and close on anything larger (BEP 52 "request"); so do we. */
export const MAX_BLOCK = 16384
/** BEP 10 messages we accept: an extension handshake or a ut_metadata request is tiny. */
export const MAX_EXTENDED = 64 * 1024
/** BEP 52: base-layer hashes per request SHOULD NOT exceed 512; proof adds one hash per layer. */
const MAX_HASHES = 512 + 64
/** Unknown message ids are ignored (BEP 3 forward compatibility) if their size is sane. */
const MAX_UNKNOWN = 1024

export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 13,
  haveAll: 14,
  haveNone: 15,
  reject: 16,
  allowedFast: 17,
  extended: 20,
  hashRequest: 21,
  hashes: 22,
  hashReject: 23,
} as const

export interface Handshake {
  infoHash: Buffer
  peerId: Buffer
  reserved: Buffer
  /** BEP 6: reserved[7] & 0x04 */
  fast: boolean
  /** BEP 10: reserved[5] & 0x10 */
  extended: boolean
  /** BEP 52: reserved[7] & 0x10, the peer can upgrade a hybrid torrent to v2 */
  v2: boolean
  /** BEP 5: reserved[7] & 0x01, the peer runs a DHT node and takes a `port` message */
  dht: boolean
}

export interface BlockRef {
  index: number
  begin: number
  length: number
}

/** BEP 52 hash request, also the payload of `hash reject` and the head of `hashes`. */
export interface HashRequest {
  piecesRoot: Buffer
  baseLayer: number
  index: number
  length: number
  proofLayers: number
}

export type Message =
  | { type: 'keepalive' }
  | { type: 'choke' | 'unchoke' | 'interested' | 'not_interested' | 'have_all' | 'have_none' }
  | { type: 'have' | 'suggest' | 'allowed_fast'; index: number }
  | { type: 'bitfield'; bitfield: Buffer }
  | ({ type: 'request' | 'cancel' | 'reject' } & BlockRef)
  | { type: 'piece'; index: number; begin: number; block: Buffer }
  | { type: 'port'; port: number }
  | { type: 'extended'; extId: number; payload: Buffer }
  | { type: 'hash_request' | 'hash_reject'; request: HashRequest }
  | { type: 'hashes'; request: HashRequest; hashes: Buffer }
  | { type: 'unknown'; id: number; length: number }

/** What the parser needs to know of a torrent to range-check a message. */
export interface WireLimits {
  pieceCount: number
  pieceLength: number
  length: number
}

/** Bytes in piece `index` (the last one is short). */
export function pieceSize(limits: WireLimits, index: number): number {
  if (index === limits.pieceCount - 1) return limits.length - index * limits.pieceLength
  return limits.pieceLength
}

/** The largest frame (id + payload) this torrent can legitimately carry. */
export function maxFrame(limits: WireLimits): number {
  return Math.max(
    9 + MAX_BLOCK,
    1 + MAX_EXTENDED,
    1 + Math.ceil(limits.pieceCount / 8),
    49 + 32 * MAX_HASHES,
  )
}

export function parseHandshake(buf: Buffer): Handshake {
  if (buf.length !== HANDSHAKE_LENGTH) {
    throw new WireError(
      'bad-handshake',
      `handshake must be ${HANDSHAKE_LENGTH} bytes, got ${buf.length}`,
    )
  }
  if (buf[0] !== 19 || !buf.subarray(1, 20).equals(PROTOCOL)) {
    throw new WireError('bad-handshake', 'handshake does not start with "\\x13BitTorrent protocol"')
  }
  const reserved = Buffer.from(buf.subarray(20, 28))
  return {
    reserved,
    infoHash: Buffer.from(buf.subarray(28, 48)),
    peerId: Buffer.from(buf.subarray(48, 68)),
    fast: (reserved[7] & 0x04) !== 0,
    extended: (reserved[5] & 0x10) !== 0,
    v2: (reserved[7] & 0x10) !== 0,
    dht: (reserved[7] & 0x01) !== 0,
  }
}

function expectLength(id: number, got: number, want: number): void {
  if (got !== want)
    throw new WireError('bad-length', `message id ${id} must be ${want} bytes long, got ${got}`)
}

function checkIndex(limits: WireLimits, index: number, what: string): void {
  if (index >= limits.pieceCount) {
    throw new WireError(
      'out-of-range',
      `${what} piece index ${index} >= piece count ${limits.pieceCount}`,
    )
  }
}

function parseBlockRef(frame: Buffer, limits: WireLimits, what: string): BlockRef {
  const index = frame.readUInt32BE(1)
  const begin = frame.readUInt32BE(5)
  const length = frame.readUInt32BE(9)
  checkIndex(limits, index, what)
  if (length === 0 || length > MAX_BLOCK) {
    throw new WireError('bad-request', `${what} length ${length} is not within 1..${MAX_BLOCK}`)
  }
  if (begin + length > pieceSize(limits, index)) {
    throw new WireError(
      'out-of-range',
      `${what} ${index}:${begin}+${length} runs past the end of the piece`,
    )
  }
  return { index, begin, length }
}

function parseHashRequest(frame: Buffer): HashRequest {
  const request = {
    piecesRoot: Buffer.from(frame.subarray(1, 33)),
    baseLayer: frame.readUInt32BE(33),
    index: frame.readUInt32BE(37),
    length: frame.readUInt32BE(41),
    proofLayers: frame.readUInt32BE(45),
  }
  // BEP 52: "Length MUST be equal-to-or-greater-than two and a power of two", "Index MUST be a
  // multiple of length".
  const { length, index } = request
  if (length < 2 || (length & (length - 1)) !== 0 || index % length !== 0) {
    throw new WireError(
      'bad-request',
      `hash request length ${length} / index ${index} break BEP 52 rules`,
    )
  }
  return request
}

/**
 * Parse one frame: the bytes after the 4-byte length prefix (an empty frame is a keep-alive).
 *
 * @example
 * parseMessage(Buffer.from([6, 0,0,0,1, 0,0,0,0, 0,0,0x40,0]), torrent) // request 1:0+16384
 */
export function parseMessage(frame: Buffer, limits: WireLimits): Message {
  if (frame.length === 0) return { type: 'keepalive' }
  const id = frame[0]
  const n = frame.length
  switch (id) {
    case MessageId.choke:
    case MessageId.unchoke:
    case MessageId.interested:
    case MessageId.notInterested:
    case MessageId.haveAll:
    case MessageId.haveNone:
      expectLength(id, n, 1)
      return { type: SIMPLE[id] }
    case MessageId.have:
    case MessageId.suggest:
    case MessageId.allowedFast: {
      expectLength(id, n, 5)
      const index = frame.readUInt32BE(1)
      const type =
        id === MessageId.have ? 'have' : id === MessageId.suggest ? 'suggest' : 'allowed_fast'
      checkIndex(limits, index, type)
      return { type, index }
    }
    case MessageId.bitfield: {
      const bytes = Math.ceil(limits.pieceCount / 8)
      expectLength(id, n, 1 + bytes)
      const spare = bytes * 8 - limits.pieceCount
      // BEP 3: "Spare bits at the end are set to zero."; anything else is a broken peer.
      if (spare > 0 && (frame[n - 1] & ((1 << spare) - 1)) !== 0) {
        throw new WireError('out-of-range', 'bitfield has spare bits set')
      }
      return { type: 'bitfield', bitfield: Buffer.from(frame.subarray(1)) }
    }
    case MessageId.request:
    case MessageId.cancel:
    case MessageId.reject: {
      expectLength(id, n, 13)
      const type =
        id === MessageId.request ? 'request' : id === MessageId.cancel ? 'cancel' : 'reject'
      return { type, ...parseBlockRef(frame, limits, type) }
    }
    case MessageId.piece: {
      if (n < 10 || n > 9 + MAX_BLOCK) {
        throw new WireError(
          'bad-length',
          `piece message of ${n} bytes is not within 10..${9 + MAX_BLOCK}`,
        )
      }
      const index = frame.readUInt32BE(1)
      const begin = frame.readUInt32BE(5)
      checkIndex(limits, index, 'piece')
      if (begin + (n - 9) > pieceSize(limits, index)) {
        throw new WireError(
          'out-of-range',
          `piece ${index}:${begin}+${n - 9} runs past the end of the piece`,
        )
      }
      return { type: 'piece', index, begin, block: frame.subarray(9) }
    }
    case MessageId.port:
      expectLength(id, n, 3)
      return { type: 'port', port: frame.readUInt16BE(1) }
    case MessageId.extended:
      if (n < 2) throw new WireError('bad-length', 'extended message without an extension id')
      if (n - 2 > MAX_EXTENDED) {
        throw new WireError(
          'too-large',
          `extended message of ${n - 2} bytes exceeds ${MAX_EXTENDED}`,
        )
      }
      return { type: 'extended', extId: frame[1], payload: frame.subarray(2) }
    case MessageId.hashRequest:
    case MessageId.hashReject:
      expectLength(id, n, 49)
      return {
        type: id === MessageId.hashRequest ? 'hash_request' : 'hash_reject',
        request: parseHashRequest(frame),
      }
    case MessageId.hashes: {
      const count = (n - 49) / 32
      if (n < 49 + 32 || !Number.isInteger(count) || count > MAX_HASHES) {
        throw new WireError(
          'bad-length',
          `hashes message of ${n} bytes is not a whole number of hashes`,
        )
      }
      return {
        type: 'hashes',
        request: parseHashRequest(frame),
        hashes: Buffer.from(frame.subarray(49)),
      }
    }
    default:
      if (n - 1 > MAX_UNKNOWN) {
        throw new WireError('too-large', `unknown message id ${id} with ${n - 1} bytes of payload`)
      }
      return { type: 'unknown', id, length: n - 1 }
  }
}

const SIMPLE = {
  [MessageId.choke]: 'choke',
  [MessageId.unchoke]: 'unchoke',
  [MessageId.interested]: 'interested',
  [MessageId.notInterested]: 'not_interested',
  [MessageId.haveAll]: 'have_all',
  [MessageId.haveNone]: 'have_none',
} as Record<
  number,
  'choke' | 'unchoke' | 'interested' | 'not_interested' | 'have_all' | 'have_none'
>
