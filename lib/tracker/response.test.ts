import bencode from 'bencode'
import { describe, expect, it } from 'vitest'
import { announceReply, failureReply, scrapeReply } from './response.ts'

const text = (value: unknown) => Buffer.from(value as Uint8Array).toString()

function rawKeys(reply: Buffer): string[] {
  // The decoder hands back a plain object; key order in the bytes is what BEP 3 constrains.
  const keys: string[] = []
  const re = /(\d+):([a-z ]+?)(?=[ild0-9])/g
  let m: RegExpExecArray | null
  while ((m = re.exec(reply.toString('latin1')))) if (Number(m[1]) === m[2].length) keys.push(m[2])
  return keys
}

const v4 = Buffer.from([10, 0, 0, 1, 0x1a, 0xe1, 192, 168, 1, 2, 0x00, 0x50])
const v6 = Buffer.from([0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1, 0x1a, 0xe1])

const reply = {
  complete: 3,
  incomplete: 12,
  downloaded: 1234567890123,
  interval: 1800,
  minInterval: 300,
  externalIp: Buffer.from([203, 0, 113, 7]),
  peers: v4,
  peers6: v6,
}

describe('announceReply', () => {
  it('writes a compact reply an independent decoder reads back', () => {
    const body = announceReply(reply, true)
    const d = bencode.decode(body)
    expect(d.complete).toBe(3)
    expect(d.incomplete).toBe(12)
    expect(d.downloaded).toBe(1234567890123)
    expect(d.interval).toBe(1800)
    expect(d['min interval']).toBe(300)
    expect(Buffer.from(d.peers)).toEqual(v4)
    expect(Buffer.from(d.peers6)).toEqual(v6)
    expect(Buffer.from(d['external ip'])).toEqual(Buffer.from([203, 0, 113, 7]))
    // Re-encoding with a generic encoder (which sorts keys) gives the same bytes.
    expect(Buffer.from(bencode.encode(d))).toEqual(body)
  })

  it('leaves peers6 out when there are none, and keeps keys sorted', () => {
    const body = announceReply({ ...reply, peers6: new Uint8Array(0) }, true)
    expect(bencode.decode(body).peers6).toBeUndefined()
    const keys = rawKeys(body)
    expect(keys).toEqual([...keys].sort())
  })

  it('writes the BEP 3 list of dicts for compact=0, IPv6 peers included', () => {
    const d = bencode.decode(announceReply(reply, false))
    expect(d.peers.map((p: { ip: Uint8Array; port: number }) => [text(p.ip), p.port])).toEqual([
      ['10.0.0.1', 6881],
      ['192.168.1.2', 80],
      ['2001:db8::1', 6881],
    ])
    expect(d.peers6).toBeUndefined()
  })
})

describe('scrapeReply', () => {
  it('keys files by raw info-hash, sorted by bytes, without duplicates', () => {
    // Printable hashes, because the decoder reads dict keys as UTF-8 text.
    const a = Buffer.alloc(20, 'z')
    const b = Buffer.alloc(20, 'B')
    const entry = (infoHash: Buffer, n: number) => ({
      infoHash,
      complete: n,
      incomplete: n + 1,
      downloaded: n + 2,
    })
    const body = scrapeReply([entry(a, 1), entry(b, 5), entry(a, 1)])
    const d = bencode.decode(body)
    expect(Object.keys(d.files)).toHaveLength(2)
    expect(body.indexOf(b)).toBeLessThan(body.indexOf(a))
    expect(Buffer.from(bencode.encode(d))).toEqual(body)
    expect(d.files[b.toString()]).toEqual({ complete: 5, incomplete: 6, downloaded: 7 })
  })

  it('writes a full scrape larger than one chunk', () => {
    const entries = Array.from({ length: 1000 }, (_, i) => {
      const infoHash = Buffer.alloc(20, 'A')
      infoHash.write(String((i * 7919) % 1000).padStart(3, '0') + String(i).padStart(4, '0'))
      return { infoHash, complete: i, incomplete: 0, downloaded: 0 }
    })
    const body = scrapeReply(entries)
    const d = bencode.decode(body)
    expect(Object.keys(d.files)).toHaveLength(1000)
    expect(Buffer.from(bencode.encode(d)).equals(body)).toBe(true)
  })

  it('writes an empty files dict', () => {
    expect(scrapeReply([]).toString()).toBe('d5:filesdee')
  })
})

describe('failureReply', () => {
  it('carries the reason and BEP 31 retry in', () => {
    const d = bencode.decode(failureReply('too many announces', 5))
    expect(text(d['failure reason'])).toBe('too many announces')
    expect(d['retry in']).toBe(5)
    expect(Object.hasOwn(bencode.decode(failureReply('no')), 'retry in')).toBe(false)
  })
})
