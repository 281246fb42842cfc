import { describe, it, expect } from 'vitest'
import { encode } from './encode.ts'
import { BencodeError } from './errors.ts'

const text = (b: Buffer) => b.toString('latin1')

describe('encode', () => {
  it('writes the BEP 3 examples', () => {
    expect(text(encode('spam'))).toBe('4:spam')
    expect(text(encode(3))).toBe('i3e')
    expect(text(encode(-3))).toBe('i-3e')
    expect(text(encode(0))).toBe('i0e')
    expect(text(encode(['spam', 'eggs']))).toBe('l4:spam4:eggse')
    expect(text(encode({ cow: 'moo', spam: 'eggs' }))).toBe('d3:cow3:moo4:spam4:eggse')
    expect(text(encode({ spam: ['a', 'b'] }))).toBe('d4:spaml1:a1:bee')
  })

  it('sorts keys by raw bytes, not by JavaScript string order', () => {
    // An emoji is a surrogate pair in UTF-16 (D83D …), so JavaScript sorts it before U+E000; in
    // UTF-8 it starts F0, after U+E000's EE, so byte order puts it last.
    const emoji = Buffer.from('😀', 'utf8')
    const privateUse = Buffer.from('\uE000', 'utf8')
    const out = encode(
      new Map<Uint8Array, number>([
        [emoji, 1],
        [privateUse, 2],
      ]),
    )
    expect(out.indexOf(privateUse)).toBeLessThan(out.indexOf(emoji))
    // Binary keys, as in a scrape reply keyed by info-hashes.
    const high = Buffer.alloc(20, 0xff)
    const low = Buffer.alloc(20, 0x01)
    const scrape = encode(
      new Map([
        [high, 1],
        [low, 2],
      ]),
    )
    expect(scrape.subarray(1, 24).equals(Buffer.concat([Buffer.from('20:'), low]))).toBe(true)
  })

  it('keeps bigints and rejects numbers it cannot carry exactly', () => {
    expect(text(encode(2n ** 70n))).toBe('i1180591620717411303424e')
    expect(text(encode({ length: 5_000_000_000 }))).toBe('d6:lengthi5000000000ee')
    expect(() => encode(1.5)).toThrow(BencodeError)
    expect(() => encode(2 ** 60)).toThrow(/integer/)
    expect(() => encode(null as never)).toThrow(BencodeError)
    expect(() => encode(true as never)).toThrow(BencodeError)
  })

  it('leaves out undefined entries and writes buffers raw', () => {
    const out = encode({ comment: undefined, pieces: Buffer.from([0, 255]) })
    expect(out.equals(Buffer.from('d6:pieces2:\x00\xffe', 'latin1'))).toBe(true)
  })

  it('refuses object keys that are not byte strings and duplicate map keys', () => {
    expect(() => encode({ ключ: 1 })).toThrow(/Map with Buffer keys/)
    const dup = new Map<Uint8Array | string, number>([
      ['a', 1],
      [Buffer.from('a'), 2],
    ])
    expect(() => encode(dup)).toThrow(/duplicate/)
  })
})
