import { decode, encode, type BencodeDict, type BencodeValue } from '../bencode/index.ts'
import { WireError } from './errors.ts'
import { UT_PEX_ID } from './pex.ts'

/** BEP 10 extension handshake and BEP 9 ut_metadata messages, pure bytes in and out. */

/** The id peers use to send us ut_metadata messages (ours to choose, BEP 10). */
export const UT_METADATA_ID = 3
/** libtorrent's lt_donthave: a 4-byte piece index the sender no longer has; we only send it. */
export const LT_DONTHAVE_ID = 7
/** BEP 9 metadata pieces are 16 KiB. */
export const METADATA_PIECE = 16384

export interface ExtensionHandshake {
  /** Extension name -> the id that peer wants to receive it under; 0 means disabled. */
  m: Map<string, number>
  uploadOnly: boolean
  /** `p`: the TCP port the peer listens on, if it said. */
  port: number | null
  /** `e`: the peer prefers encrypted connections (MSE). */
  prefersEncryption: boolean
}

function dict(payload: Buffer, what: string): BencodeDict {
  let value: BencodeValue
  try {
    // Sorted keys are a BEP 3 rule for .torrent files; some clients send unsorted extension dicts.
    value = decode(payload, { allowUnsortedKeys: true, maxDepth: 8 })
  } catch (err) {
    throw new WireError('bad-extended', `${what} is not valid bencode: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || Buffer.isBuffer(value) || Array.isArray(value)) {
    throw new WireError('bad-extended', `${what} is not a dictionary`)
  }
  return value as BencodeDict
}

function int(value: BencodeValue | undefined): number | null {
  return typeof value === 'number' ? value : null
}

export function parseExtensionHandshake(payload: Buffer): ExtensionHandshake {
  const d = dict(payload, 'extension handshake')
  const m = new Map<string, number>()
  const raw = d.m
  if (
    raw !== undefined &&
    typeof raw === 'object' &&
    !Buffer.isBuffer(raw) &&
    !Array.isArray(raw)
  ) {
    for (const [name, id] of Object.entries(raw as BencodeDict)) {
      const n = int(id)
      if (n !== null && n >= 0 && n <= 255) m.set(name, n)
    }
  }
  const port = int(d.p)
  return {
    m,
    uploadOnly: int(d.upload_only) === 1,
    port: port !== null && port > 0 && port <= 65535 ? port : null,
    prefersEncryption: int(d.e) === 1,
  }
}

export function encodeExtensionHandshake(opts: {
  metadataSize: number
  version: string
  reqq: number
  uploadOnly: boolean
  pex: boolean
}): Buffer {
  return encode({
    m: {
      ut_metadata: UT_METADATA_ID,
      ut_pex: opts.pex ? UT_PEX_ID : undefined,
      lt_donthave: LT_DONTHAVE_ID,
    },
    metadata_size: opts.metadataSize,
    reqq: opts.reqq,
    // BEP 21: a seed tells peers it will not download, so they need not send us haves; a
    // super-seeding one does not (see PeerConnection.sendExtensionHandshake).
    upload_only: opts.uploadOnly ? 1 : 0,
    v: opts.version,
  })
}

export interface MetadataMessage {
  msgType: number
  piece: number
}

/** A ut_metadata message sent to us; only `request` (0) matters to a seed. */
export function parseMetadataMessage(payload: Buffer): MetadataMessage {
  // A data message carries the piece after the dict; requests and rejects are the dict alone.
  const d = dict(payload, 'ut_metadata message')
  const msgType = int(d.msg_type)
  const piece = int(d.piece)
  if (msgType === null || piece === null || piece < 0) {
    throw new WireError('bad-extended', 'ut_metadata message without integer msg_type and piece')
  }
  return { msgType, piece }
}

export function encodeMetadataData(piece: number, info: Buffer): Buffer {
  const head = encode({ msg_type: 1, piece, total_size: info.length })
  const start = piece * METADATA_PIECE
  return Buffer.concat([head, info.subarray(start, start + METADATA_PIECE)])
}

export function encodeMetadataReject(piece: number): Buffer {
  return encode({ msg_type: 2, piece })
}
