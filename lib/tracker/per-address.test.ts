import bencode from 'bencode'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { handleHttp } from './http.ts'
import { parseAnnounceQuery } from './query.ts'
import { Tracker } from './tracker.ts'
import { startUdp, type UdpServer } from './udp.ts'

// One address may hold `maxPeersPerAddress` peers of a swarm (issue 14: fresh ports are free,
// and 560 addresses filled the tracker's whole store). Over real sockets, from 127.0.0.1 and
// 127.0.0.2 (both loopback), as a client on one host would announce from many ports.

const infoHash = Buffer.alloc(20, 0x5a)
const escaped = [...infoHash].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')
let http: Server | undefined
let udp: UdpServer | undefined

afterEach(async () => {
  http?.close()
  http = undefined
  await udp?.close()
  udp = undefined
})

function tracker(): Tracker {
  const t = new Tracker({ rateLimit: null, maxPeersPerAddress: 3 })
  t.allow(infoHash)
  return t
}

/** An HTTP announce sent from `from` (a loopback address), decoded. */
function announceFrom(
  port: number,
  from: string,
  peerPort: number,
  extra = '',
): Promise<Record<string, unknown>> {
  const path = `/announce?info_hash=${escaped}&peer_id=-qB4650-${String(peerPort).padStart(12, '0')}&port=${peerPort}&left=5&numwant=50${extra}`
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: from }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(bencode.decode(Buffer.concat(chunks))))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('peers per address in a swarm', () => {
  it('over HTTP: the fourth port of one address is answered but not stored; another address still gets in', async () => {
    const t = tracker()
    http = createServer((req, res) => void handleHttp(t, req, res))
    http.listen(0, '127.0.0.1')
    await once(http, 'listening')
    const port = (http.address() as AddressInfo).port

    for (let p = 7001; p <= 7010; p++) await announceFrom(port, '127.0.0.1', p)
    expect(t.stats(infoHash)?.incomplete).toBe(3)
    // The refused ones were answered like anyone: a peer list, the interval.
    const reply = await announceFrom(port, '127.0.0.1', 7011)
    expect(reply['failure reason']).toBeUndefined()
    expect((reply.peers as Uint8Array).length).toBe(3 * 6)

    await announceFrom(port, '127.0.0.2', 7001)
    expect(t.stats(infoHash)?.incomplete).toBe(4)
    // A stored peer that stops frees its place for the next port of the same address.
    await announceFrom(port, '127.0.0.1', 7001, '&event=stopped')
    await announceFrom(port, '127.0.0.1', 7020)
    expect(t.stats(infoHash)?.incomplete).toBe(4)
    const seen = (await announceFrom(port, '127.0.0.2', 7002)).peers as Uint8Array
    const ports = new Set<number>()
    for (let at = 0; at < seen.length; at += 6) ports.add((seen[at + 4] << 8) | seen[at + 5])
    expect(ports).toEqual(new Set([7002, 7003, 7020, 7001]))
  })

  it('over UDP: the same cap, per source address', async () => {
    const t = tracker()
    udp = await startUdp(t, { host: '127.0.0.1', port: 0 })
    const server = udp.port
    const socket = createSocket('udp4')
    socket.bind(0, '127.0.0.1')
    await once(socket, 'listening')
    const ask = async (packet: Buffer): Promise<Buffer> => {
      const reply = once(socket, 'message')
      socket.send(packet, server, '127.0.0.1')
      return (await reply)[0] as Buffer
    }
    const connect = Buffer.alloc(16)
    connect.writeBigUInt64BE(0x41727101980n, 0)
    connect.writeUInt32BE(9, 12)
    const connectionId = (await ask(connect)).subarray(8, 16)
    for (let p = 8001; p <= 8008; p++) {
      const a = Buffer.alloc(98)
      connectionId.copy(a, 0)
      a.writeUInt32BE(1, 8)
      a.writeUInt32BE(p, 12)
      infoHash.copy(a, 16)
      a.fill(p & 0xff, 36, 56)
      a.writeBigUInt64BE(5n, 64)
      a.writeInt32BE(-1, 92)
      a.writeUInt16BE(p, 96)
      const reply = await ask(a)
      expect(reply.readUInt32BE(0)).toBe(1) // an announce answer, never an error
    }
    socket.close()
    expect(t.stats(infoHash)?.incomplete).toBe(3)
  })

  it('counts IPv6 per /64, and a refused peer’s completion is not counted', () => {
    const t = tracker()
    const query = (port: number, event = '') =>
      parseAnnounceQuery(
        `info_hash=${escaped}&peer_id=-qB4650-000000000001&port=${port}&left=0${event}`,
      )
    const address = Buffer.from('20010db8000000010000000000000001', 'hex')
    for (let i = 0; i < 6; i++) {
      address[15] = i // other hosts of the same /64
      t.announce(query(6881, '&event=completed'), address, 6, true)
    }
    expect(t.stats(infoHash)).toMatchObject({ complete: 3, downloaded: 3 })
    address[7] = 2 // the next /64
    t.announce(query(6881), address, 6, true)
    expect(t.stats(infoHash)?.complete).toBe(4)
  })
})
