import { isIP } from 'node:net'
import { describe, expect, it } from 'vitest'
import { formatAddress, parseAddress } from './address.ts'

describe('parseAddress', () => {
  it('reads IPv4, IPv6 and IPv4-mapped addresses', () => {
    const out = new Uint8Array(16)
    expect(parseAddress('203.0.113.7', out)).toBe(4)
    expect([...out.subarray(0, 4)]).toEqual([203, 0, 113, 7])
    expect(parseAddress('::ffff:10.1.2.3', out)).toBe(4)
    expect([...out.subarray(0, 4)]).toEqual([10, 1, 2, 3])
    expect(parseAddress('::ffff:a01:203', out)).toBe(4)
    expect([...out.subarray(0, 4)]).toEqual([10, 1, 2, 3])
    expect(parseAddress('2001:db8::1', out)).toBe(6)
    expect(Buffer.from(out).toString('hex')).toBe('20010db8000000000000000000000001')
    expect(parseAddress('fe80::1%eth0', out)).toBe(6)
    expect(parseAddress('::1', out)).toBe(6)
    expect(parseAddress('::', out)).toBe(6)
    expect(parseAddress('1:2:3:4:5:6:7:8', out)).toBe(6)
    expect(parseAddress('64:ff9b::192.0.2.33', out)).toBe(6)
    expect([...out.subarray(12)]).toEqual([192, 0, 2, 33])
  })

  it('refuses what is not an address, agreeing with node:net', () => {
    const bad = [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '1.2.3.04a',
      'example.org',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'g::1',
      '1:2:3:4:5:6:7:',
      '::ffff:1.2.3',
    ]
    for (const text of bad) {
      expect(parseAddress(text, new Uint8Array(16)), text).toBe(0)
      expect(isIP(text), text).toBe(0)
    }
  })

  it('round-trips through formatAddress as node:net reads it', () => {
    const out = new Uint8Array(16)
    for (const text of ['2001:db8::1', '::1', '2001:db8:0:1:0:0:0:1', 'fe80::abcd:1']) {
      expect(parseAddress(text, out)).toBe(6)
      const back = formatAddress(out, 0, 6)
      expect(isIP(back)).toBe(6)
      const again = new Uint8Array(16)
      parseAddress(back, again)
      expect(again).toEqual(out)
    }
  })
})
