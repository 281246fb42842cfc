import { describe, it, expect } from 'vitest'
import { decode } from '../bencode/index.ts'
import { PEX_INTERVAL_MS, PexFeed, PexFlag, pexContact, type PexContact } from './pex.ts'

function body(buf: Buffer | null): Record<string, Buffer> {
  if (!buf) throw new Error('no message')
  return decode(buf) as Record<string, Buffer>
}

describe('peer exchange (BEP 11)', () => {
  it('writes IPv4 and IPv6 contacts in compact form, IPv4-mapped ones as IPv4', () => {
    expect(pexContact('192.0.2.7', 6881, 0)?.compact).toEqual(
      Buffer.from([192, 0, 2, 7, 0x1a, 0xe1]),
    )
    expect(pexContact('::ffff:192.0.2.7', 6881, 0)?.key).toBe('192.0.2.7:6881')
    const v6 = pexContact('2001:db8::1', 51413, 0)
    expect(v6?.compact.toString('hex')).toBe('20010db8000000000000000000000001c8d5')
    expect(pexContact('192.0.2.7', null, 0)).toBeNull()
    expect(pexContact('192.0.2.7', 0, 0)).toBeNull()
  })

  it('adds each contact once, drops it once it is gone, at most once a minute', () => {
    const a = pexContact('192.0.2.1', 1001, PexFlag.utp) as PexContact
    const b = pexContact('192.0.2.2', 1002, PexFlag.encryption) as PexContact
    const c = pexContact('2001:db8::3', 1003, PexFlag.seed) as PexContact
    const feed = new PexFeed()
    const first = body(feed.next([a, b, c], 0))
    expect(first.added).toEqual(Buffer.concat([a.compact, b.compact]))
    expect(first['added.f']).toEqual(Buffer.from([PexFlag.utp, PexFlag.encryption]))
    expect(first.added6).toEqual(c.compact)
    expect(first['added6.f']).toEqual(Buffer.from([PexFlag.seed]))
    expect(first.dropped).toHaveLength(0)
    // Within the minute nothing goes out, whatever changed.
    expect(feed.next([a], PEX_INTERVAL_MS - 1)).toBeNull()
    const second = body(feed.next([a], PEX_INTERVAL_MS))
    expect(second.added).toHaveLength(0)
    expect(second.dropped).toEqual(b.compact)
    expect(second.dropped6).toEqual(c.compact)
    // Nothing new: no message.
    expect(feed.next([a], 3 * PEX_INTERVAL_MS)).toBeNull()
  })

  it('adds at most 50 contacts per message', () => {
    const many = Array.from(
      { length: 120 },
      (_, i) => pexContact(`198.51.100.${i}`, 6881, 0) as PexContact,
    )
    const feed = new PexFeed()
    expect(body(feed.next(many, 0)).added).toHaveLength(50 * 6)
    expect(body(feed.next(many, PEX_INTERVAL_MS)).added).toHaveLength(50 * 6)
    expect(body(feed.next(many, 2 * PEX_INTERVAL_MS)).added).toHaveLength(20 * 6)
  })
})
