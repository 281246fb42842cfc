import { describe, expect, it } from 'vitest'
import { PagePace } from './page-pace.ts'

describe('PagePace', () => {
  it('lets a burst through, then one request per 1/perSecond, per address', () => {
    let now = 0
    const pace = new PagePace(10, 3, { now: () => now })
    expect([1, 2, 3].map(() => pace.wait('192.0.2.1'))).toEqual([0, 0, 0])
    expect(pace.wait('192.0.2.1')).toBe(100)
    expect(pace.wait('192.0.2.2')).toBe(0) // another address has its own bucket
    now = 100
    expect(pace.wait('192.0.2.1')).toBe(0)
    expect(pace.wait('192.0.2.1')).toBe(100)
    now = 10_000 // refilled, never beyond the burst
    expect([1, 2, 3, 4].map(() => pace.wait('192.0.2.1'))).toEqual([0, 0, 0, 100])
  })

  it('behind a trusted proxy counts the address it forwards, never its own', () => {
    const pace = new PagePace(1, 1, { now: () => 0, trustedProxies: ['127.0.0.1'] })
    const via = (client: string) => () => `203.0.113.9, ${client}`
    expect(pace.wait('::ffff:127.0.0.1', via('198.51.100.1'))).toBe(0)
    expect(pace.wait('127.0.0.1', via('198.51.100.2'))).toBe(0)
    expect(pace.wait('127.0.0.1', via('198.51.100.1'))).toBe(1000)
    // An untrusted sender's header is not believed: it is paced as itself.
    expect(pace.wait('192.0.2.5', via('198.51.100.3'))).toBe(0)
    expect(pace.wait('192.0.2.5', via('198.51.100.4'))).toBe(1000)
  })

  it('counts an IPv6 /64 as one address, and a mapped IPv4 as the IPv4', () => {
    const pace = new PagePace(1, 1, { now: () => 0 })
    expect(pace.wait('2001:db8:0:1::5')).toBe(0)
    expect(pace.wait('2001:db8:0:1:ffff::9')).toBe(1000)
    expect(pace.wait('2001:db8:0:2::5')).toBe(0)
    expect(pace.wait('198.51.100.4')).toBe(0)
    expect(pace.wait('::ffff:198.51.100.4')).toBe(1000)
  })
})
