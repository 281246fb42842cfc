import bencode from 'bencode'
import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { handleHttp } from './http.ts'
import { Tracker, type TrackerOptions } from './tracker.ts'

const infoHash = Buffer.alloc(20, 0xc3)
const escaped = [...infoHash].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')
let server: Server | undefined

afterEach(() => {
  server?.close()
  server = undefined
})

async function start(options: TrackerOptions = {}): Promise<{ tracker: Tracker; base: string }> {
  const tracker = new Tracker({ rateLimit: null, ...options })
  tracker.allow(infoHash)
  server = createServer((req, res) => {
    if (!handleHttp(tracker, req, res)) {
      res.statusCode = 404
      res.end('not the tracker')
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { tracker, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers })
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) }
}

const announce = (base: string, port: number, extra = '') =>
  `${base}/announce?info_hash=${escaped}&peer_id=-qB4650-${String(port).padStart(12, '0')}&port=${port}&left=5${extra}`

describe('HTTP tracker', () => {
  it('answers announce with compact peers and BEP 24 external ip', async () => {
    const { base } = await start()
    await get(announce(base, 7001))
    const { status, body } = await get(announce(base, 7002))
    expect(status).toBe(200)
    const d = bencode.decode(body)
    expect([...d.peers]).toEqual([127, 0, 0, 1, 7001 >> 8, 7001 & 0xff])
    expect([...d['external ip']]).toEqual([127, 0, 0, 1])
    expect(d.incomplete).toBe(2)
  })

  it('answers scrape for the asked torrents', async () => {
    const { base } = await start()
    await get(announce(base, 7001, '&left=0'))
    const d = bencode.decode((await get(`${base}/scrape?info_hash=${escaped}`)).body)
    expect(Object.values(d.files)).toEqual([{ complete: 1, downloaded: 0, incomplete: 0 }])
  })

  it('turns every refusal into a bencoded failure reason', async () => {
    const { base } = await start({ fullScrape: false })
    const reason = async (url: string) =>
      Buffer.from(bencode.decode((await get(url)).body)['failure reason']).toString()
    expect(
      await reason(
        `${base}/announce?info_hash=${'%01'.repeat(20)}&peer_id=${'a'.repeat(20)}&port=1`,
      ),
    ).toMatch(/not tracked/)
    expect(await reason(`${base}/announce?port=1`)).toMatch(/info_hash is missing/)
    expect(await reason(`${base}/scrape`)).toMatch(/full scrape is disabled/)
    expect(await reason(`${base}/announce?${'x'.repeat(9000)}`)).toMatch(/too long/)
  })

  it('leaves other paths to the caller', async () => {
    const { base } = await start()
    const res = await get(`${base}/announce/extra`)
    expect(res.status).toBe(404)
    expect(res.body.toString()).toBe('not the tracker')
  })

  it('ignores ip and X-Forwarded-For from an untrusted sender', async () => {
    const { tracker, base } = await start()
    await get(announce(base, 7001, '&ip=198.51.100.9'), { 'x-forwarded-for': '198.51.100.10' })
    const reply = tracker.announce(
      {
        infoHash,
        peerId: Buffer.alloc(20),
        port: 9,
        uploaded: 0,
        downloaded: 0,
        left: 1,
        event: 0,
        numWant: -1,
        compact: true,
        ip: undefined,
      },
      Uint8Array.of(10, 0, 0, 1),
      4,
      true,
    )
    expect([...reply.peers.subarray(0, 4)]).toEqual([127, 0, 0, 1])
  })

  it('believes a trusted proxy: the last X-Forwarded-For hop, never the client ip parameter', async () => {
    const { base } = await start({ trustedProxies: ['127.0.0.1'] })
    await get(announce(base, 7001), { 'x-forwarded-for': '203.0.113.50, 198.51.100.10' })
    await get(announce(base, 7002, '&ip=198.51.100.20'), { 'x-forwarded-for': '198.51.100.30' })
    await get(announce(base, 7004, '&ip=198.51.100.21'))
    const d = bencode.decode((await get(announce(base, 7003))).body)
    const peers: string[] = []
    for (let o = 0; o < d.peers.length; o += 6) peers.push(d.peers.subarray(o, o + 4).join('.'))
    expect(peers.sort()).toEqual(['127.0.0.1', '198.51.100.10', '198.51.100.30'])
  })

  it('rate-limits behind a trusted proxy by the address the proxy saw, whatever ip= says', async () => {
    const { base } = await start({
      trustedProxies: ['127.0.0.1'],
      rateLimit: { announces: 120, windowSeconds: 60 },
    })
    let refused = 0
    for (let i = 0; i < 300; i++) {
      const url = announce(base, 7001, `&ip=198.51.${i >> 8}.${i & 0xff}`)
      const d = bencode.decode((await get(url, { 'x-forwarded-for': '203.0.113.9' })).body)
      if (d['failure reason']) refused++
    }
    expect(refused).toBe(180)
  })

  it('returns the non-compact list for compact=0', async () => {
    const { base } = await start()
    await get(announce(base, 7001))
    const d = bencode.decode((await get(announce(base, 7002, '&compact=0'))).body)
    expect(d.peers).toHaveLength(1)
    expect(Buffer.from(d.peers[0].ip).toString()).toBe('127.0.0.1')
    expect(d.peers[0].port).toBe(7001)
  })
})
