import { describe, it, expect } from 'vitest'
import { createHash } from 'node:crypto'
import { decode, decodeWithSpans, type BencodeDict } from './decode.ts'
import { encode } from './encode.ts'
import { BencodeError } from './errors.ts'

const b = (s: string) => Buffer.from(s, 'latin1')
const code = (s: string, options = {}) => {
  try {
    decode(b(s), options)
  } catch (e) {
    expect(e).toBeInstanceOf(BencodeError)
    return (e as BencodeError).code
  }
  return 'accepted'
}

describe('decode', () => {
  it('reads the BEP 3 examples', () => {
    expect(decode(b('4:spam'))).toEqual(b('spam'))
    expect(decode(b('i3e'))).toBe(3)
    expect(decode(b('i-3e'))).toBe(-3)
    expect(decode(b('l4:spam4:eggse'))).toEqual([b('spam'), b('eggs')])
    const d = decode(b('d3:cow3:moo4:spam4:eggse')) as BencodeDict
    expect(d.cow).toEqual(b('moo'))
    expect(d.spam).toEqual(b('eggs'))
  })

  it('gives bigints past 2^53 and numbers below', () => {
    expect(decode(b('i9007199254740991e'))).toBe(9007199254740991)
    expect(decode(b('i9007199254740993e'))).toBe(9007199254740993n)
    expect(decode(b('i-18446744073709551616e'))).toBe(-18446744073709551616n)
  })

  it('keeps binary keys intact', () => {
    const key = Buffer.from([0xff, 0x00, 0x80, 0x41])
    const bytes = encode(new Map([[key, 1]]))
    const d = decode(bytes) as BencodeDict
    expect(Buffer.from(Object.keys(d)[0], 'latin1').equals(key)).toBe(true)
    expect(encode(d).equals(bytes)).toBe(true)
  })

  it('refuses hostile and malformed input with a reason', () => {
    expect(code('i03e')).toBe('leading-zero')
    expect(code('03:abc')).toBe('leading-zero')
    expect(code('i-0e')).toBe('negative-zero')
    expect(code('i-e')).toBe('syntax')
    expect(code('ie')).toBe('syntax')
    expect(code('i1.5e')).toBe('syntax')
    expect(code('i12')).toBe('truncated')
    expect(code('4:spa')).toBe('truncated')
    expect(code('99999999999999999999:x')).toBe('truncated')
    expect(code('l4:spam')).toBe('truncated')
    expect(code('d3:cow')).toBe('truncated')
    expect(code('')).toBe('truncated')
    expect(code('i1ei2e')).toBe('trailing')
    expect(code('4:spamx')).toBe('trailing')
    expect(code('x')).toBe('syntax')
    expect(code('di1ei2ee')).toBe('syntax')
    expect(code('d1:b1:x1:a1:ye')).toBe('unsorted-keys')
    expect(code('d1:a1:x1:a1:ye')).toBe('duplicate-key')
    expect(code('d1:b1:x1:a1:y1:b1:ze', { allowUnsortedKeys: true })).toBe('duplicate-key')
    expect(code('d1:b1:x1:a1:ye', { allowUnsortedKeys: true })).toBe('accepted')
    expect(code(`i${'1'.repeat(100)}e`)).toBe('too-long')
    expect(code('l'.repeat(100_000) + 'e'.repeat(100_000))).toBe('too-deep')
    expect(code('l'.repeat(10) + 'e'.repeat(10), { maxDepth: 5 })).toBe('too-deep')
  })

  it('names the byte where the problem is', () => {
    expect(() => decode(b('l4:spami03ee'))).toThrow(/leading zero at byte 8/)
  })

  it('reports the exact span of info, so the info-hash covers the bytes as found', () => {
    // Unsorted keys inside info: a re-encoding would sort them and change the hash.
    const info = 'd6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces0:e'
    const unsorted = 'd4:name1:x6:lengthi5e12:piece lengthi16384e6:pieces0:e'
    for (const inner of [info, unsorted]) {
      const file = b(`d8:announce3:url4:info${inner}e`)
      const { value, spans } = decodeWithSpans(file, { allowUnsortedKeys: true })
      const span = spans.get('info')!
      expect(file.subarray(span.start, span.end).toString('latin1')).toBe(inner)
      expect((value.info as BencodeDict).length).toBe(5)
      const hash = createHash('sha1').update(file.subarray(span.start, span.end)).digest('hex')
      expect(hash).toBe(createHash('sha1').update(inner, 'latin1').digest('hex'))
    }
    expect(() => decodeWithSpans(b('l1:ae'))).toThrow(/not a dictionary/)
  })
})
