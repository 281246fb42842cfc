import { EventEmitter } from 'node:events'
import { looksLikeUtp, parsePacket, ST_SYN, type Packet } from './packet.ts'
import { UtpStream } from './stream.ts'

export interface UtpServerOptions {
  /** Sends a datagram on the shared UDP socket. */
  send(buf: Buffer, port: number, address: string): void
  /** Connections kept at most; SYNs beyond are dropped (the seeder applies its own limits too). */
  maxConnections?: number
  /** Connections from one address at most. */
  maxPerIp?: number
}

/** Timer resolution for retransmission timeouts; BEP 29's minimum timeout is 500 ms. */
const TICK_MS = 100

/**
 * Accepts uTP connections (BEP 29) from datagrams handed to it by the UDP socket's owner, and
 * emits each as a `connection` with a UtpStream. It never connects out: the seeder only seeds.
 *
 * @example
 * const utp = new UtpServer({ send: (buf, port, host) => socket.send(buf, port, host) })
 * utp.on('connection', (stream: UtpStream) => accept(stream, stream.remoteAddress))
 * socket.on('message', (buf, rinfo) => utp.receive(buf, rinfo.address, rinfo.port))
 */
export class UtpServer extends EventEmitter<{ connection: [UtpStream] }> {
  private readonly streams = new Map<string, UtpStream>()
  private readonly perIp = new Map<string, number>()
  private readonly timer: NodeJS.Timeout
  private readonly maxConnections: number
  private readonly maxPerIp: number

  constructor(private readonly options: UtpServerOptions) {
    super()
    this.maxConnections = options.maxConnections ?? 500
    this.maxPerIp = options.maxPerIp ?? 16
    this.timer = setInterval(() => {
      const now = performance.now()
      for (const s of this.streams.values()) s.tick(now)
    }, TICK_MS)
    this.timer.unref()
  }

  get connections(): number {
    return this.streams.size
  }

  /** One datagram; returns false if it is not uTP (so the caller may try DHT). */
  receive(buf: Buffer, address: string, port: number): boolean {
    if (!looksLikeUtp(buf)) return false
    let p: Packet
    try {
      p = parsePacket(buf)
    } catch {
      return true // malformed uTP: dropped, as a router would
    }
    // The initiator sends its SYN with its receive id and everything after with that id + 1,
    // which is our receive id (BEP 29 "connection setup").
    const recvId = p.type === ST_SYN ? (p.connectionId + 1) & 0xffff : p.connectionId
    const key = `${address}|${port}|${recvId}`
    const stream = this.streams.get(key)
    if (stream) stream.receive(p)
    else if (p.type === ST_SYN) this.accept(key, p, address, port)
    return true
  }

  close(): void {
    clearInterval(this.timer)
    for (const s of [...this.streams.values()]) s.destroy()
  }

  private accept(key: string, syn: Packet, address: string, port: number): void {
    const fromIp = this.perIp.get(address) ?? 0
    if (this.streams.size >= this.maxConnections || fromIp >= this.maxPerIp) return
    const stream = new UtpStream({
      send: (buf) => this.options.send(buf, port, address),
      remoteAddress: address,
      remotePort: port,
      syn,
    })
    this.streams.set(key, stream)
    this.perIp.set(address, fromIp + 1)
    stream.once('close', () => {
      if (this.streams.get(key) !== stream) return
      this.streams.delete(key)
      const n = (this.perIp.get(address) ?? 1) - 1
      if (n <= 0) this.perIp.delete(address)
      else this.perIp.set(address, n)
    })
    this.emit('connection', stream)
  }
}
