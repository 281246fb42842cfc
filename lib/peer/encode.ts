import { MessageId, PROTOCOL, type BlockRef, type HashRequest } from './wire.ts'

/** Builders for the messages a seed sends; each returns the whole frame with its length prefix. */

export function encodeHandshake(
  infoHash: Buffer,
  peerId: Buffer,
  opts: { fast: boolean; extended: boolean; v2: boolean; dht?: boolean },
): Buffer {
  const buf = Buffer.alloc(68)
  buf[0] = 19
  PROTOCOL.copy(buf, 1)
  if (opts.extended) buf[20 + 5] |= 0x10 // BEP 10
  if (opts.fast) buf[20 + 7] |= 0x04 // BEP 6
  if (opts.v2) buf[20 + 7] |= 0x10 // BEP 52 upgrade bit
  if (opts.dht) buf[20 + 7] |= 0x01 // BEP 5
  infoHash.copy(buf, 28)
  peerId.copy(buf, 48)
  return buf
}

export const KEEPALIVE = Buffer.alloc(4)

function simple(id: number): Buffer {
  return Buffer.from([0, 0, 0, 1, id])
}

export const CHOKE = simple(MessageId.choke)
export const UNCHOKE = simple(MessageId.unchoke)
export const INTERESTED = simple(MessageId.interested)
export const NOT_INTERESTED = simple(MessageId.notInterested)
export const HAVE_ALL = simple(MessageId.haveAll)
export const HAVE_NONE = simple(MessageId.haveNone)

function indexMessage(id: number, index: number): Buffer {
  const buf = Buffer.alloc(9)
  buf.writeUInt32BE(5, 0)
  buf[4] = id
  buf.writeUInt32BE(index, 5)
  return buf
}

export function encodeHave(index: number): Buffer {
  return indexMessage(MessageId.have, index)
}

/** BEP 6 `allowed fast`: the peer may request this piece while choked. */
export function encodeAllowedFast(index: number): Buffer {
  return indexMessage(MessageId.allowedFast, index)
}

/** BEP 5 `port`: the UDP port our DHT node listens on. */
export function encodePort(port: number): Buffer {
  const buf = Buffer.alloc(7)
  buf.writeUInt32BE(3, 0)
  buf[4] = MessageId.port
  buf.writeUInt16BE(port, 5)
  return buf
}

/** A full bitfield: a seed has every piece; spare bits stay zero (BEP 3). */
export function encodeFullBitfield(pieceCount: number): Buffer {
  const bytes = Math.ceil(pieceCount / 8)
  const buf = Buffer.alloc(5 + bytes, 0xff)
  buf.writeUInt32BE(1 + bytes, 0)
  buf[4] = MessageId.bitfield
  const spare = bytes * 8 - pieceCount
  if (spare > 0) buf[buf.length - 1] = (0xff << spare) & 0xff
  return buf
}

function blockMessage(id: number, ref: BlockRef): Buffer {
  const buf = Buffer.alloc(17)
  buf.writeUInt32BE(13, 0)
  buf[4] = id
  buf.writeUInt32BE(ref.index, 5)
  buf.writeUInt32BE(ref.begin, 9)
  buf.writeUInt32BE(ref.length, 13)
  return buf
}

export function encodeRequest(ref: BlockRef): Buffer {
  return blockMessage(MessageId.request, ref)
}

export function encodeCancel(ref: BlockRef): Buffer {
  return blockMessage(MessageId.cancel, ref)
}

export function encodeReject(ref: BlockRef): Buffer {
  return blockMessage(MessageId.reject, ref)
}

/** The 13-byte head of a piece message; the block itself is written after it, uncopied. */
export function encodePieceHeader(index: number, begin: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(13)
  buf.writeUInt32BE(9 + length, 0)
  buf[4] = MessageId.piece
  buf.writeUInt32BE(index, 5)
  buf.writeUInt32BE(begin, 9)
  return buf
}

export function encodeExtended(extId: number, payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(6 + payload.length)
  buf.writeUInt32BE(2 + payload.length, 0)
  buf[4] = MessageId.extended
  buf[5] = extId
  payload.copy(buf, 6)
  return buf
}

function hashHead(id: number, req: HashRequest, extra: number): Buffer {
  const buf = Buffer.alloc(4 + 49 + extra)
  buf.writeUInt32BE(49 + extra, 0)
  buf[4] = id
  req.piecesRoot.copy(buf, 5)
  buf.writeUInt32BE(req.baseLayer, 37)
  buf.writeUInt32BE(req.index, 41)
  buf.writeUInt32BE(req.length, 45)
  buf.writeUInt32BE(req.proofLayers, 49)
  return buf
}

export function encodeHashRequest(req: HashRequest): Buffer {
  return hashHead(MessageId.hashRequest, req, 0)
}

export function encodeHashReject(req: HashRequest): Buffer {
  return hashHead(MessageId.hashReject, req, 0)
}

export function encodeHashes(req: HashRequest, hashes: Buffer): Buffer {
  const buf = hashHead(MessageId.hashes, req, hashes.length)
  hashes.copy(buf, 53)
  return buf
}
