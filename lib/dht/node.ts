import { EventEmitter } from 'node:events'
import type { Socket as UdpSocket } from 'node:dgram'
import DHT from 'bittorrent-dht'
import { decode } from '../bencode/index.ts'
import { log } from '../log/index.ts'

/** Peers stored for other nodes' announces expire after this (BEP 5 leaves it open; 30 min). */
const PEER_MAX_AGE_MS = 30 * 60_000
/** Our own torrents are announced again this often, before other nodes forget us. */
const REANNOUNCE_MS = 15 * 60_000

export interface DhtNodeOptions {
  /** The peer port's UDP socket, already bound; only messages passed to `receive` reach the DHT. */
  socket: UdpSocket
  /** host:port of the nodes to start from; empty for none (tests). */
  bootstrap: string[]
  /** Our seeder's address as peers should dial it: get_peers for our torrents answers with it. */
  address: string
  /** The seeder's port (TCP and uTP). */
  port: number
  /** Bound on peers stored from other nodes' announces. */
  maxPeers?: number
}

/**
 * k-rpc-socket listens for 'message' on the socket it is given and sends with `send`; this
 * stand-in hands it only the datagrams the peer port's demultiplexer routes to the DHT, so the
 * one UDP socket serves uTP and DHT as libtorrent's does.
 */
class SharedSocket extends EventEmitter {
  constructor(private readonly socket: UdpSocket) {
    super()
  }
  send(buf: Buffer, offset: number, length: number, port: number, host: string, cb?: () => void) {
    this.socket.send(buf, offset, length, port, host, (err) => {
      if (err) log.debug('dht send failed', { host, port, error: err })
      cb?.()
    })
  }
  address() {
    return this.socket.address()
  }
  bind() {
    // The seeder bound the socket already.
    queueMicrotask(() => this.emit('listening'))
  }
  close() {
    this.emit('close')
  }
}

/**
 * The appliance as a DHT node (BEP 5): it keeps a routing table, answers other nodes, and
 * announces every torrent it seeds so a bare magnet (no tracker) resolves to our seeder.
 *
 * Built on webtorrent's bittorrent-dht (maintained, used by WebTorrent and many clients; routing
 * table, tokens, iterative lookups, bounded stores): it can share the peer port's socket because
 * k-rpc-socket takes a `socket` option, which we give a stand-in fed by our demultiplexer.
 *
 * @example
 * const dht = new DhtNode({ socket, bootstrap: ['router.bittorrent.com:6881'], address: '203.0.113.7', port })
 * dht.announce(infoHash)
 */
export class DhtNode {
  private readonly shared: SharedSocket
  private readonly dht: DHT
  private readonly announced = new Map<string, Buffer>()
  private readonly timer: NodeJS.Timeout

  constructor(private readonly options: DhtNodeOptions) {
    this.shared = new SharedSocket(options.socket)
    this.dht = new DHT({
      socket: this.shared,
      bootstrap: options.bootstrap.length > 0 ? options.bootstrap : false,
      // No `host`: announce() adds ourselves to the store explicitly (see add()).
      host: false,
      maxPeers: options.maxPeers ?? 10_000,
      maxAge: PEER_MAX_AGE_MS,
    })
    this.dht.on('warning', (err: Error) => log.debug('dht warning', { error: err }))
    this.dht.on('error', (err: Error) => log.warn('dht error', { error: err }))
    this.dht.on('ready', () => log.info('dht ready', { nodes: this.nodes }))
    this.shared.bind()
    this.timer = setInterval(() => {
      for (const infoHash of this.announced.values()) this.announceNow(infoHash)
    }, REANNOUNCE_MS)
    this.timer.unref()
  }

  get nodeId(): Buffer {
    return this.dht.nodeId
  }

  /** Nodes in the routing table. */
  get nodes(): number {
    return this.dht.toJSON().nodes.length
  }

  /**
   * A DHT datagram (a bencoded dictionary) from the peer port's socket. It reaches k-rpc-socket
   * only once our own bounded, fuzzed decoder has read it as one dictionary: the bencode 2.0.3
   * that k-rpc-socket decodes with steps backwards on a negative string length and never returns,
   * so one crafted datagram would hang the whole appliance (found by node.fuzz.test.ts).
   */
  receive(buf: Buffer, address: string, port: number): void {
    if (!isDictionary(buf)) return
    this.shared.emit('message', buf, { address, port, family: 'IPv4', size: buf.length })
  }

  /** Announce a 20-byte info-hash (v1, or a v2 hash truncated as BEP 52 says) as seeded by us. */
  announce(infoHash: Buffer): void {
    const key = infoHash.toString('hex')
    if (this.announced.has(key)) return
    this.announced.set(key, infoHash)
    this.announceNow(infoHash)
  }

  unannounce(infoHash: Buffer): void {
    // BEP 5 has no withdraw: other nodes forget us when their entry expires.
    this.announced.delete(infoHash.toString('hex'))
  }

  close(): Promise<void> {
    clearInterval(this.timer)
    return new Promise((resolve) => this.dht.destroy(() => resolve()))
  }

  private announceNow(infoHash: Buffer): void {
    const self = { host: this.options.address, port: this.options.port }
    // Our own store first, so a client that asks us directly (a magnet whose only route into
    // the DHT is this appliance) gets the seeder at once; bittorrent-dht only does this itself
    // once a lookup has found other nodes. _addPeer is its store's one entry point.
    this.dht._addPeer(self, infoHash, self)
    this.dht.announce(infoHash, this.options.port, (err) => {
      if (err)
        log.debug('dht announce incomplete', { infoHash: infoHash.toString('hex'), error: err })
    })
  }
}

/** A whole, well-formed bencoded dictionary; DHT clients do not always sort their keys. */
function isDictionary(buf: Buffer): boolean {
  if (buf[0] !== 0x64) return false
  try {
    decode(buf, { allowUnsortedKeys: true, maxDepth: 32 })
    return true
  } catch {
    return false
  }
}
