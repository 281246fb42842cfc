import { describe, expect, it } from 'vitest'
import { hostKey } from './host-key.ts'

describe('hostKey', () => {
  it('counts IPv6 peers per /64 and IPv4 peers per address', () => {
    expect(hostKey('2001:db8:0:1::5')).toBe(hostKey('2001:0db8:0000:0001:ffff:1:2:9'))
    expect(hostKey('2001:db8:0:1::5')).not.toBe(hostKey('2001:db8:0:2::5'))
    expect(hostKey('::1')).toBe('0:0:0:0::/64')
    expect(hostKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(hostKey('203.0.113.7')).toBe('203.0.113.7')
    expect(hostKey('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(hostKey('203.0.113.7')).not.toBe(hostKey('203.0.113.8'))
  })
})
