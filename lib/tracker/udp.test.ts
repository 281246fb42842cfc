import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Tracker } from './tracker.ts'
import { startUdp, type UdpServer } from './udp.ts'

const infoHash = Buffer.alloc(20, 0x42)
let tracker: Tracker
let server: UdpServer

beforeAll(async () => {
  // Every client here is ::1 or 127.0.0.1: the per-address cap is per-address.test.ts's subject.
  tracker = new Tracker({ rateLimit: null, interval: 900, maxPeersPerAddress: 1000 })
  tracker.allow(infoHash)
  server = await startUdp(tracker, { host: '127.0.0.1', port: 0 })
})
afterAll(() => server.close())

async function client(): Promise<Socket> {
  const socket = createSocket('udp4')
  socket.bind(0, '127.0.0.1')
  await once(socket, 'listening')
  return socket
}

/** Send and wait for one reply, or null after `ms` of silence. */
async function ask(socket: Socket, packet: Buffer, ms = 300): Promise<Buffer | null> {
  const reply = new Promise<Buffer | null>((resolve) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage)
      resolve(null)
    }, ms)
    const onMessage = (msg: Buffer) => {
      clearTimeout(timer)
      resolve(msg)
    }
    socket.once('message', onMessage)
  })
  socket.send(packet, server.port, '127.0.0.1')
  return reply
}

function connectPacket(transactionId: number): Buffer {
  const p = Buffer.alloc(16)
  p.writeUInt32BE(0x417, 0)
  p.writeUInt32BE(0x27101980, 4)
  p.writeUInt32BE(0, 8)
  p.writeUInt32BE(transactionId, 12)
  return p
}

function announcePacket(connectionId: Buffer, port: number, left: number, event = 0): Buffer {
  const p = Buffer.alloc(98 + 14)
  connectionId.copy(p, 0)
  p.writeUInt32BE(1, 8)
  p.writeUInt32BE(0xabcd, 12)
  infoHash.copy(p, 16)
  Buffer.alloc(20, port & 0xff).copy(p, 36)
  p.writeUInt32BE(left, 68)
  p.writeUInt32BE(event, 80)
  p.writeInt32BE(-1, 92)
  p.writeUInt16BE(port, 96)
  // BEP 41: URLData '/dir?a=b&c=d', then a NOP and EndOfOptions.
  Buffer.from([2, 12, ...Buffer.from('/dir?a=b&c=d')]).copy(p, 98)
  return p
}

async function connect(socket: Socket): Promise<Buffer> {
  const reply = (await ask(socket, connectPacket(7)))!
  expect(reply.length).toBe(16)
  expect(reply.readUInt32BE(0)).toBe(0)
  expect(reply.readUInt32BE(4)).toBe(7)
  return reply.subarray(8, 16)
}

describe('UDP tracker (BEP 15) over a real socket', () => {
  it('connects, announces and lets two peers find each other', async () => {
    const a = await client()
    const b = await client()
    const idA = await connect(a)
    const idB = await connect(b)
    const first = (await ask(a, announcePacket(idA, 7001, 0)))!
    expect(first.readUInt32BE(0)).toBe(1)
    expect(first.readUInt32BE(4)).toBe(0xabcd)
    expect(first.readUInt32BE(8)).toBeGreaterThanOrEqual(900)
    expect(first.length).toBe(20)
    const second = (await ask(b, announcePacket(idB, 7002, 1000)))!
    expect(second.readUInt32BE(12)).toBe(1) // leechers
    expect(second.readUInt32BE(16)).toBe(1) // seeders
    expect(second.length).toBe(26)
    expect([...second.subarray(20, 24)]).toEqual([127, 0, 0, 1])
    expect(second.readUInt16BE(24)).toBe(7001)
    a.close()
    b.close()
  })

  it('scrapes, with zeros for a torrent it does not track', async () => {
    const s = await client()
    const id = await connect(s)
    const p = Buffer.alloc(16 + 40)
    id.copy(p, 0)
    p.writeUInt32BE(2, 8)
    p.writeUInt32BE(99, 12)
    infoHash.copy(p, 16)
    Buffer.alloc(20, 0xee).copy(p, 36)
    const reply = (await ask(s, p))!
    expect(reply.length).toBe(8 + 24)
    expect(reply.readUInt32BE(0)).toBe(2)
    expect(reply.readUInt32BE(4)).toBe(99)
    expect([reply.readUInt32BE(8), reply.readUInt32BE(16)]).toEqual([1, 1]) // seeders, leechers
    expect([reply.readUInt32BE(20), reply.readUInt32BE(24), reply.readUInt32BE(28)]).toEqual([
      0, 0, 0,
    ])
    s.close()
  })

  it('answers an unknown torrent with an error packet no larger than the request', async () => {
    const s = await client()
    const id = await connect(s)
    const p = announcePacket(id, 7003, 5).subarray(0, 98)
    Buffer.alloc(20, 0x01).copy(p, 16)
    const reply = (await ask(s, p))!
    expect(reply.readUInt32BE(0)).toBe(3)
    expect(reply.readUInt32BE(4)).toBe(0xabcd)
    expect(reply.subarray(8).toString()).toMatch(/not tracked/)
    expect(reply.length).toBeLessThanOrEqual(98)
    const short = Buffer.from(p.subarray(0, 40))
    const shortReply = (await ask(s, short))!
    expect(shortReply.readUInt32BE(0)).toBe(3)
    expect(shortReply.length).toBeLessThanOrEqual(40)
    s.close()
  })

  it('serves IPv6 clients with 18-byte peers, kept to one datagram', async () => {
    const v6 = await startUdp(tracker, { host: '::1', port: 0 })
    try {
      const sockets: Socket[] = []
      for (let i = 0; i < 100; i++) {
        const s = createSocket('udp6')
        s.bind(0, '::1')
        await once(s, 'listening')
        sockets.push(s)
      }
      const ask6 = async (s: Socket, packet: Buffer) => {
        const reply = once(s, 'message') as Promise<[Buffer]>
        s.send(packet, v6.port, '::1')
        return (await reply)[0]
      }
      let last: Buffer | undefined
      for (const [i, s] of sockets.entries()) {
        const id = (await ask6(s, connectPacket(i))).subarray(8, 16)
        const p = announcePacket(id, 9000 + i, 5)
        p.writeInt32BE(200, 92)
        last = await ask6(s, p)
      }
      expect(last!.readUInt32BE(0)).toBe(1)
      expect((last!.length - 20) % 18).toBe(0)
      expect((last!.length - 20) / 18).toBe(76)
      expect(
        last!.subarray(20, 36).equals(Buffer.from('00000000000000000000000000000001', 'hex')),
      ).toBe(true)
      for (const s of sockets) s.close()
    } finally {
      await v6.close()
    }
  })

  it('stays silent for a bad connection id, junk and runt packets', async () => {
    const s = await client()
    expect(await ask(s, announcePacket(Buffer.alloc(8, 1), 7004, 5))).toBeNull()
    expect(await ask(s, Buffer.alloc(15))).toBeNull()
    expect(await ask(s, Buffer.alloc(64, 0x41))).toBeNull()
    const id = await connect(s)
    // An id is bound to the address and port it was issued to.
    const t = await client()
    expect(await ask(t, announcePacket(id, 7005, 5))).toBeNull()
    s.close()
    t.close()
  })
})

describe('startUdp', () => {
  it('starts on a given port and answers there (as serve binds its configured port)', async () => {
    const probe = await client()
    const port = probe.address().port
    probe.close()
    const other = await startUdp(tracker, { host: '127.0.0.1', port })
    try {
      expect(other.port).toBe(port)
      const socket = await client()
      const connect = Buffer.from('0000041727101980000000000000abcd', 'hex')
      socket.send(connect, port, '127.0.0.1')
      const [reply] = (await once(socket, 'message')) as [Buffer]
      expect(reply.readUInt32BE(4)).toBe(0xabcd)
      socket.close()
    } finally {
      await other.close()
    }
  })
})
