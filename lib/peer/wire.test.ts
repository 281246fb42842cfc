import { describe, it, expect } from 'vitest'
import { WireError } from './errors.ts'
import { MessageFramer } from './framer.ts'
import { parseHandshake, parseMessage, type WireLimits } from './wire.ts'
import {
  encodeCancel,
  encodeExtended,
  encodeFullBitfield,
  encodeHandshake,
  encodeHashes,
  encodeHashRequest,
  encodeRequest,
  HAVE_ALL,
  INTERESTED,
  KEEPALIVE,
} from './encode.ts'

// 10 pieces of 32 KiB, the last one 5000 bytes.
const torrent: WireLimits = { pieceCount: 10, pieceLength: 32768, length: 9 * 32768 + 5000 }

function frame(bytes: number[]): Buffer {
  return Buffer.from(bytes)
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
}

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof WireError) return err.code
    throw err
  }
  return 'no error'
}

describe('handshake', () => {
  it('reads the reserved bits for fast, extension protocol and v2 upgrade', () => {
    const hash = Buffer.alloc(20, 7)
    const id = Buffer.from('-TR3000-abcdefghijkl')
    const hs = parseHandshake(encodeHandshake(hash, id, { fast: true, extended: true, v2: true }))
    expect(hs).toMatchObject({ fast: true, extended: true, v2: true })
    expect(hs.infoHash.equals(hash)).toBe(true)
    expect(hs.peerId.equals(id)).toBe(true)
    const plain = parseHandshake(
      encodeHandshake(hash, id, { fast: false, extended: false, v2: false }),
    )
    expect(plain).toMatchObject({ fast: false, extended: false, v2: false })
  })

  it('refuses another protocol string', () => {
    const buf = encodeHandshake(Buffer.alloc(20), Buffer.alloc(20), {
      fast: true,
      extended: true,
      v2: false,
    })
    buf[5] ^= 0x20
    expect(code(() => parseHandshake(buf))).toBe('bad-handshake')
    const framer = new MessageFramer()
    framer.push(Buffer.from('GET / HTTP/1.1\r\n'))
    expect(code(() => framer.readHandshake())).toBe('bad-handshake')
  })
})

describe('parseMessage', () => {
  it('parses the messages a downloader sends', () => {
    expect(parseMessage(Buffer.alloc(0), torrent)).toEqual({ type: 'keepalive' })
    expect(parseMessage(INTERESTED.subarray(4), torrent)).toEqual({ type: 'interested' })
    expect(parseMessage(HAVE_ALL.subarray(4), torrent)).toEqual({ type: 'have_all' })
    expect(
      parseMessage(encodeRequest({ index: 9, begin: 4000, length: 1000 }).subarray(4), torrent),
    ).toEqual({
      type: 'request',
      index: 9,
      begin: 4000,
      length: 1000,
    })
    expect(
      parseMessage(encodeCancel({ index: 0, begin: 16384, length: 16384 }).subarray(4), torrent),
    ).toMatchObject({
      type: 'cancel',
    })
    const ext = parseMessage(encodeExtended(0, Buffer.from('de')).subarray(4), torrent)
    expect(ext).toMatchObject({ type: 'extended', extId: 0 })
    const req = {
      piecesRoot: Buffer.alloc(32, 1),
      baseLayer: 1,
      index: 4,
      length: 4,
      proofLayers: 3,
    }
    expect(parseMessage(encodeHashRequest(req).subarray(4), torrent)).toEqual({
      type: 'hash_request',
      request: req,
    })
    const hashes = parseMessage(encodeHashes(req, Buffer.alloc(64, 2)).subarray(4), torrent)
    expect(hashes).toMatchObject({ type: 'hashes', hashes: Buffer.alloc(64, 2) })
    expect(parseMessage(encodeFullBitfield(10).subarray(4), torrent)).toMatchObject({
      type: 'bitfield',
    })
    expect(parseMessage(frame([99, 1, 2]), torrent)).toEqual({ type: 'unknown', id: 99, length: 2 })
  })

  it('refuses requests larger than 16 KiB, empty, or outside the torrent', () => {
    const req = (index: number, begin: number, length: number) =>
      frame([6, ...u32(index), ...u32(begin), ...u32(length)])
    expect(code(() => parseMessage(req(0, 0, 16385), torrent))).toBe('bad-request')
    expect(code(() => parseMessage(req(0, 0, 0), torrent))).toBe('bad-request')
    expect(code(() => parseMessage(req(10, 0, 16384), torrent))).toBe('out-of-range')
    expect(code(() => parseMessage(req(0, 32768 - 100, 16384), torrent))).toBe('out-of-range')
    // the last piece is short: 5000 bytes
    expect(code(() => parseMessage(req(9, 0, 5001), torrent))).toBe('out-of-range')
    expect(code(() => parseMessage(req(0xffffffff, 0xffffffff, 16384), torrent))).toBe(
      'out-of-range',
    )
  })

  it('refuses wrong lengths, spare bitfield bits, oversized and malformed messages', () => {
    expect(code(() => parseMessage(frame([2, 0]), torrent))).toBe('bad-length')
    expect(code(() => parseMessage(frame([6, 0, 0, 0, 1]), torrent))).toBe('bad-length')
    expect(code(() => parseMessage(frame([4, ...u32(10)]), torrent))).toBe('out-of-range')
    expect(code(() => parseMessage(frame([5, 0xff, 0xff]), torrent))).toBe('out-of-range')
    expect(code(() => parseMessage(frame([5, 0xff]), torrent))).toBe('bad-length')
    expect(
      code(() => parseMessage(Buffer.concat([frame([20, 1]), Buffer.alloc(65 * 1024)]), torrent)),
    ).toBe('too-large')
    expect(code(() => parseMessage(frame([20]), torrent))).toBe('bad-length')
    expect(
      code(() => parseMessage(Buffer.concat([frame([200]), Buffer.alloc(5000)]), torrent)),
    ).toBe('too-large')
    const badHash = encodeHashRequest({
      piecesRoot: Buffer.alloc(32),
      baseLayer: 0,
      index: 2,
      length: 3,
      proofLayers: 0,
    })
    expect(code(() => parseMessage(badHash.subarray(4), torrent))).toBe('bad-request')
  })
})

describe('MessageFramer', () => {
  it('reassembles messages split at every byte boundary', () => {
    const hs = encodeHandshake(Buffer.alloc(20, 1), Buffer.alloc(20, 2), {
      fast: true,
      extended: true,
      v2: false,
    })
    const stream = Buffer.concat([
      hs,
      INTERESTED,
      KEEPALIVE,
      encodeRequest({ index: 1, begin: 0, length: 16384 }),
      encodeRequest({ index: 9, begin: 0, length: 5000 }),
    ])
    for (let cut = 1; cut < stream.length; cut++) {
      const framer = new MessageFramer()
      const seen: string[] = []
      for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
        framer.push(part)
        if (!framer.limits) {
          if (!framer.readHandshake()) continue
          framer.limits = torrent
        }
        for (let m = framer.readMessage(); m; m = framer.readMessage()) seen.push(m.type)
      }
      expect(seen).toEqual(['interested', 'keepalive', 'request', 'request'])
    }
  })

  it('refuses a length prefix larger than any legitimate message before buffering it', () => {
    const framer = new MessageFramer()
    framer.limits = torrent
    framer.push(Buffer.from(u32(1 << 30)))
    expect(code(() => framer.readMessage())).toBe('too-large')
  })
})
