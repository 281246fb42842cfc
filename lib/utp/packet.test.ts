import { describe, it, expect } from 'vitest'
import {
  encodePacket,
  looksLikeUtp,
  parsePacket,
  seqDiff,
  ST_DATA,
  ST_STATE,
  ST_SYN,
  UtpPacketError,
} from './packet.ts'

describe('uTP packet codec', () => {
  it('round-trips a data packet with a selective ack', () => {
    const p = {
      type: ST_DATA,
      connectionId: 0xbeef,
      timestamp: 4_000_000_000,
      timestampDiff: 12345,
      windowSize: 1 << 20,
      seqNr: 65535,
      ackNr: 7,
      sack: Buffer.from([0b101, 0, 0, 0]),
      payload: Buffer.from('hello'),
    } as const
    const buf = encodePacket(p)
    expect(buf[0]).toBe(0x01) // ST_DATA, version 1
    expect(buf[1]).toBe(1) // first extension: selective ack
    expect(parsePacket(buf)).toEqual(p)
  })

  it('reads the header fields at the offsets BEP 29 gives', () => {
    // A SYN as libtorrent sends it: type 4 version 1, no extension, seq_nr 1.
    const buf = Buffer.from('41000a0b000000010000000000100000' + '00010000', 'hex')
    const p = parsePacket(buf)
    expect(p).toMatchObject({ type: ST_SYN, connectionId: 0x0a0b, timestamp: 1, seqNr: 1 })
    expect(p.windowSize).toBe(0x100000)
  })

  it("takes libtorrent's selective acks of any byte length and skips unknown extensions", () => {
    const header = encodePacket({
      type: ST_STATE,
      connectionId: 1,
      timestamp: 0,
      timestampDiff: 0,
      windowSize: 0,
      seqNr: 0,
      ackNr: 0,
      payload: Buffer.alloc(0),
    })
    header[1] = 3 // close-reason extension first, then a 3-byte selective ack
    const buf = Buffer.concat([header, Buffer.from([1, 4, 0, 0, 1, 5, 0, 3, 0xff, 0, 1])])
    const p = parsePacket(buf)
    expect(p.sack).toEqual(Buffer.from([0xff, 0, 1]))
    expect(p.payload.length).toBe(0)
  })

  it('rejects what is not a uTP packet with one error', () => {
    const bad = [
      Buffer.alloc(19, 0x01),
      Buffer.from('0200' + '00'.repeat(18), 'hex'), // version 2
      Buffer.from('5100' + '00'.repeat(18), 'hex'), // type 5
      Buffer.from('0101' + '00'.repeat(18), 'hex'), // extension header missing
      Buffer.from('0101' + '00'.repeat(18) + '0009', 'hex'), // extension longer than the packet
      Buffer.from('0101' + '00'.repeat(18) + '0000', 'hex'), // empty selective ack
    ]
    for (const buf of bad) expect(() => parsePacket(buf)).toThrow(UtpPacketError)
  })

  it('tells uTP from DHT and other datagrams by the first byte', () => {
    for (const b of [0x01, 0x11, 0x21, 0x31, 0x41])
      expect(looksLikeUtp(Buffer.alloc(20, b))).toBe(true)
    expect(looksLikeUtp(Buffer.from('d1:ad2:id20:' + 'x'.repeat(20) + 'e1:q4:pinge'))).toBe(false)
    expect(looksLikeUtp(Buffer.alloc(20, 0x51))).toBe(false)
    expect(looksLikeUtp(Buffer.alloc(10, 0x01))).toBe(false)
  })

  it('compares sequence numbers across the 16-bit wrap', () => {
    expect(seqDiff(2, 65534)).toBe(4)
    expect(seqDiff(65534, 2)).toBe(-4)
    expect(seqDiff(7, 7)).toBe(0)
  })
})
