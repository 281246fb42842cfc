import { describe, it, expect } from 'vitest'
import { allowedFastSet } from './allowed-fast.ts'

describe('allowed fast set (BEP 6)', () => {
  const infoHash = Buffer.alloc(20, 0xaa)

  it("gives BEP 6's own example results", () => {
    expect(allowedFastSet(7, 1313, infoHash, '80.4.4.200')).toEqual([
      1059, 431, 808, 1217, 287, 376, 1188,
    ])
    expect(allowedFastSet(9, 1313, infoHash, '80.4.4.200')).toEqual([
      1059, 431, 808, 1217, 287, 376, 1188, 353, 508,
    ])
  })

  it('gives one set per /24, also to an IPv4-mapped address, and none to IPv6', () => {
    const set = allowedFastSet(7, 1313, infoHash, '80.4.4.200')
    expect(allowedFastSet(7, 1313, infoHash, '80.4.4.1')).toEqual(set)
    expect(allowedFastSet(7, 1313, infoHash, '::ffff:80.4.4.9')).toEqual(set)
    expect(allowedFastSet(7, 1313, infoHash, '80.4.5.200')).not.toEqual(set)
    expect(allowedFastSet(7, 1313, infoHash, '2001:db8::1')).toEqual([])
  })

  it('gives every piece of a torrent with fewer pieces than the set size', () => {
    expect(allowedFastSet(5, 3, infoHash, '192.0.2.1').sort()).toEqual([0, 1, 2])
  })
})
