import { describe, it, expect } from 'vitest'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Announcer, announceUrl, httpTrackers, parseAnnounceResponse } from './announce.ts'
import type { SeedTorrent } from './torrent.ts'

const infoHash = Buffer.from('00ff2041' + 'a5'.repeat(16), 'hex')
const peerId = Buffer.from('-MS0100-abcdefghijkl')

describe('announce', () => {
  it('percent-encodes the raw info-hash bytes and says left=0', () => {
    const url = announceUrl('http://t.example/announce', {
      infoHash,
      peerId,
      port: 6881,
      uploaded: 5,
      event: 'started',
    })
    const q = url.split('?')[1]
    expect(q.startsWith('info_hash=%00%ff%20A%a5')).toBe(true)
    expect(q).toContain('&left=0&')
    expect(q).toContain('&event=started')
    expect(q).toContain('&port=6881&')
  })

  it('reads interval or failure reason', () => {
    expect(parseAnnounceResponse(Buffer.from('d8:intervali900e5:peers0:e'))).toEqual({
      interval: 900,
    })
    expect(parseAnnounceResponse(Buffer.from('d14:failure reason9:not founde'))).toEqual({
      failure: 'not found',
    })
    expect(parseAnnounceResponse(Buffer.from('<html>'))).toHaveProperty('failure')
  })

  it('keeps only HTTP trackers, once each', () => {
    const t = {
      announce: 'http://a/ann',
      announceList: [['http://a/ann', 'udp://b:80'], ['https://c/ann']],
    }
    expect(httpTrackers(t)).toEqual(['http://a/ann', 'https://c/ann'])
  })

  it('announces started to extra trackers (not our own) and stopped on close', async () => {
    const seen: URLSearchParams[] = []
    const raw: string[] = []
    const server = http.createServer((req, res) => {
      raw.push(req.url!)
      seen.push(new URL(req.url!, 'http://x').searchParams)
      res.end('d8:intervali1800ee')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const torrent = {
      infoHash,
      infoHashV2: null,
      announce: `${base}/own/announce`,
      announceList: [[`${base}/own/announce`], [`${base}/extra/announce`]],
    } as unknown as SeedTorrent
    const announcer = new Announcer({
      peerId,
      port: 6881,
      uploaded: () => 1234,
      exclude: (u) => u.includes('/own/'),
    })
    try {
      announcer.add(torrent)
      for (let i = 0; i < 100 && seen.length < 1; i++) await new Promise((r) => setTimeout(r, 20))
      await announcer.close()
      expect(raw.every((u) => u.startsWith('/extra/announce?'))).toBe(true)
      expect(seen.map((q) => q.get('event'))).toEqual(['started', 'stopped'])
      expect(seen[1].get('uploaded')).toBe('1234')
      expect(raw[0]).toContain('info_hash=%00%ff%20A%a5')
    } finally {
      server.close()
    }
  })

  it('stops reading an external tracker that streams an endless reply', async () => {
    let sent = 0
    let closed!: () => void
    const done = new Promise<void>((r) => (closed = r))
    const server = http.createServer((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 0x31)
      res.write('d8:intervali1800e5:peers999999999:')
      const pump = () => {
        while (res.write(chunk)) {
          sent += chunk.length
          if (sent > 256 * 1024 * 1024) return res.end()
        }
      }
      res.on('drain', pump)
      res.on('close', closed)
      pump()
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const torrent = {
      infoHash,
      infoHashV2: null,
      announce: null,
      announceList: [[`${base}/announce`]],
    } as unknown as SeedTorrent
    const announcer = new Announcer({ peerId, port: 6881, uploaded: () => 0 })
    try {
      announcer.add(torrent)
      await done
      // Kernel buffers hold a few MB at most; reading on would have taken all 256 MB.
      expect(sent).toBeLessThan(32 * 1024 * 1024)
    } finally {
      server.close()
      server.closeAllConnections()
    }
  })
})
