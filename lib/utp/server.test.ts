import { describe, it, expect, afterEach } from 'vitest'
import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { UtpServer } from './server.ts'
import type { UtpStream } from './stream.ts'
import {
  encodePacket,
  parsePacket,
  ST_DATA,
  ST_FIN,
  ST_STATE,
  ST_SYN,
  type Packet,
} from './packet.ts'

/**
 * A minimal uTP initiator on a real UDP socket (what libtorrent does at the wire, without its
 * congestion control): SYN, then data, acking every in-order packet. `drop` loses chosen
 * incoming data packets the first time they arrive, to exercise retransmission.
 */
class Initiator {
  readonly socket = dgram.createSocket('udp4')
  readonly recvId = Math.floor(Math.random() * 0xfff0)
  private seq = 1
  ackNr = 0
  received: Buffer[] = []
  packets: Packet[] = []
  private dropped = new Set<number>()

  constructor(
    private readonly port: number,
    private readonly drop: (seq: number) => boolean = () => false,
  ) {
    this.socket.on('message', (buf) => this.onMessage(parsePacket(buf)))
  }

  async open(): Promise<void> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r))
    this.sendPacket(ST_SYN, Buffer.alloc(0), this.recvId)
    this.seq++
  }

  sendData(payload: Buffer): void {
    this.sendPacket(ST_DATA, payload, this.recvId + 1)
    this.seq++
  }

  private sendPacket(type: 0 | 1 | 2 | 3 | 4, payload: Buffer, connectionId: number): void {
    const buf = encodePacket({
      type,
      connectionId,
      timestamp: 1,
      timestampDiff: 1000,
      windowSize: 1 << 20,
      seqNr: type === ST_STATE ? this.seq : this.seq,
      ackNr: this.ackNr,
      payload,
    })
    this.socket.send(buf, this.port, '127.0.0.1')
  }

  private onMessage(p: Packet): void {
    this.packets.push(p)
    if (this.packets.length === 1) {
      // The answer to our SYN: its seq_nr is the first one the other side will send.
      this.ackNr = (p.seqNr - 1) & 0xffff
      return
    }
    if (p.type !== ST_DATA && p.type !== ST_FIN) return
    if (!this.dropped.has(p.seqNr) && this.drop(p.seqNr)) {
      this.dropped.add(p.seqNr)
      return
    }
    if (p.seqNr === ((this.ackNr + 1) & 0xffff)) {
      this.ackNr = p.seqNr
      if (p.type === ST_DATA) this.received.push(p.payload)
    }
    this.sendPacket(ST_STATE, Buffer.alloc(0), this.recvId + 1)
  }

  close(): void {
    this.socket.close()
  }
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('UtpServer', () => {
  let socket: dgram.Socket
  let server: UtpServer
  const streams: UtpStream[] = []

  async function start(opts: { maxPerIp?: number } = {}): Promise<number> {
    socket = dgram.createSocket('udp4')
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
    server = new UtpServer({ send: (buf, port, host) => socket.send(buf, port, host), ...opts })
    server.on('connection', (s) => streams.push(s))
    socket.on('message', (buf, rinfo) => server.receive(buf, rinfo.address, rinfo.port))
    return socket.address().port
  }

  afterEach(() => {
    streams.length = 0
    server?.close()
    socket?.close()
  })

  it('answers a SYN with ST_STATE on the initiator’s id and delivers its data in order', async () => {
    const client = new Initiator(await start())
    await client.open()
    await until(() => client.packets.length > 0)
    const state = client.packets[0]
    expect(state.type).toBe(ST_STATE)
    expect(state.connectionId).toBe(client.recvId)
    expect(state.ackNr).toBe(1) // the SYN's seq_nr
    expect(streams).toHaveLength(1)
    const got: Buffer[] = []
    streams[0].on('data', (d: Buffer) => got.push(d))
    client.sendData(Buffer.from('\x13BitTorrent protocol'))
    client.sendData(Buffer.from('...more'))
    await until(() => Buffer.concat(got).length === 27)
    expect(Buffer.concat(got).toString()).toBe('\x13BitTorrent protocol...more')
    client.close()
  })

  it('sends a large write whole and in order, resending what was lost', async () => {
    const client = new Initiator(await start(), (seq) => seq % 50 === 3)
    await client.open()
    await until(() => streams.length === 1)
    const data = randomBytes(600_000)
    streams[0].write(data.subarray(0, 100_000))
    streams[0].write(data.subarray(100_000))
    await until(() => client.received.reduce((n, b) => n + b.length, 0) === data.length, 20_000)
    expect(Buffer.concat(client.received).equals(data)).toBe(true)
    // Every packet fits the Ethernet MTU with room for tunnels.
    for (const p of client.packets) expect(p.payload.length).toBeLessThanOrEqual(1380)
    client.close()
  })

  it('limits connections per address and ignores garbage', async () => {
    const port = await start({ maxPerIp: 2 })
    const clients = [0, 1, 2].map(() => new Initiator(port))
    for (const c of clients) await c.open()
    await until(() => clients.filter((c) => c.packets.length > 0).length >= 2)
    await new Promise((r) => setTimeout(r, 100))
    expect(server.connections).toBe(2)
    expect(clients.filter((c) => c.packets.length > 0)).toHaveLength(2)
    // Not uTP, malformed uTP, and data for a connection that does not exist: all dropped.
    expect(server.receive(Buffer.from('d1:y1:qe'), '127.0.0.1', 1)).toBe(false)
    expect(server.receive(Buffer.from([0x01, 9, 9]), '127.0.0.1', 1)).toBe(false)
    expect(server.receive(Buffer.alloc(20, 0x01), '127.0.0.1', 1)).toBe(true)
    expect(server.connections).toBe(2)
    for (const c of clients) c.close()
  })

  it('frees the connection when the stream is destroyed', async () => {
    const client = new Initiator(await start())
    await client.open()
    await until(() => streams.length === 1)
    streams[0].destroy()
    await until(() => server.connections === 0)
    client.close()
  })
})
