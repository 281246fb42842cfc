import net from 'node:net'
import type { Duplex } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { DhtNode } from '../dht/index.ts'
import { log } from '../log/index.ts'
import { swarmKeys, trackerKeyHex } from '../metainfo/index.ts'
import { UtpServer } from '../utp/index.ts'
import { Choker } from './choker.ts'
import { PeerConnection, type Seeded } from './connection.ts'
import { encodeFullBitfield } from './encode.ts'
import { hostKey } from './host-key.ts'
import { FileTree } from './merkle.ts'
import { streamKeyHash } from './mse.ts'
import { SuperSeed } from './superseed.ts'
import { listenPeerPort } from './port.ts'
import { TokenBucket } from './rate.ts'
import { ChunkCache, FileHandles, TorrentStorage } from './storage.ts'
import type { SeedTorrent } from './torrent.ts'

export interface SeederOptions {
  host?: string
  /** The mirror root: files whose realpath leaves it are refused (see {@link FileHandles}). */
  root?: string
  /** TCP port; 6881 by default, 0 for an ephemeral one (tests). */
  port?: number
  /** Connections in total; more are closed at accept. */
  maxConnections?: number
  /** Connections from one address (an IPv6 /64 counts as one, see {@link hostKey}). */
  maxPerIp?: number
  /** Regular unchoke slots (one optimistic slot comes on top). */
  uploadSlots?: number
  /** Global upload limit in bytes per second; none by default. */
  uploadRate?: number
  /** Open file descriptors kept for reading. */
  openFiles?: number
  /** Bytes of torrent data kept in the read cache shared by all peers. */
  cacheBytes?: number
  /** Close a peer that sent nothing for this long (BEP 3 peers send keep-alives every 2 min). */
  idleTimeoutMs?: number
  handshakeTimeoutMs?: number
  /** How often timeouts, keep-alives and peer exchange are looked at (tests shorten it). */
  sweepMs?: number
  /** Round length for unchoke rotation. */
  rotateMs?: number
  /**
   * Super-seed (BEP 16) a torrent's newcomers while `crowded(infoHash)` says its swarm can pass
   * pieces on; once it no longer does, every peer is shown every piece. Off when unset.
   */
  superSeed?: {
    crowded(infoHash: string): boolean
    offersPerPeer: number
    forwardWaitMs: number
  }
  /** Tell downloaders of each other (BEP 11 peer exchange); on by default. */
  pex?: boolean
  /** Accept uTP (BEP 29) on the peer port's UDP socket; on by default. */
  utp?: boolean
  /** Be a DHT node (BEP 5) on the peer port's UDP socket; off unless given. */
  dht?: {
    /** host:port of the nodes to start from. */
    bootstrap: string[]
    /** The address get_peers answers with for our torrents: the seeder's public IP. */
    address: string
  } | null
}

export interface TorrentStats {
  infoHash: string
  name: string
  uploaded: number
  /** Bytes of the torrent's data. */
  size: number
  peers: number
  /** Peers being super-seeded now. */
  superSeeded: number
}

export interface SeederStats {
  connections: number
  unchoked: number
  uploaded: number
  /** BEP 52 hash requests answered with hashes. */
  hashesServed: number
  /** Bytes waiting in our socket buffers: bounded by back-pressure however slow the peers. */
  buffered: number
  torrents: TorrentStats[]
}

export interface Seeder {
  /** The port actually listened on, TCP and UDP (useful with port 0). */
  readonly port: number
  /** Our DHT node's id, null when the DHT is off. */
  readonly dhtNodeId: Buffer | null
  readonly peerId: Buffer
  /** Seed `torrent`; `filePaths[i]` is the file on disk of `torrent.files[i]`, null for pad files. */
  add(torrent: SeedTorrent, filePaths: ReadonlyArray<string | null>): void
  /** Stop seeding a torrent (by v1 or v2 info-hash) and close its connections. */
  remove(infoHash: Buffer): void
  /** Totals and per-torrent counts now; changes nothing, so any number of readers may call it. */
  stats(): SeederStats
  /**
   * Bytes sent so far for the torrent seeded under `infoHash` (any of its swarm keys), 0 for one
   * not seeded: what the announcer reports. One lookup, where {@link stats} counts every torrent:
   * an announce of each of N torrents through stats() cost O(N) each, O(N²) at start.
   */
  uploaded(infoHash: Buffer): number
  /**
   * For the one stats flush: every seeded torrent's counts, and each torrent removed since the
   * previous call one last time with its final `uploaded`, then forgotten. Without it the bytes a
   * torrent sent between the last flush and its removal never reached `torrent_stats`.
   */
  takeCounters(): TorrentStats[]
  close(): Promise<void>
}

const VERSION = 'mirrorseed 0.1.0'

/** Azureus-style peer id (BEP 20): client `MS`, version 0100, then random bytes. */
function makePeerId(): Buffer {
  return Buffer.concat([Buffer.from('-MS0100-'), randomBytes(12)])
}

function countsOf(s: Seeded): TorrentStats {
  return {
    // The tracker key, 40 hex digits in every format: the stats flush and the tracker use it.
    infoHash: trackerKeyHex(s.torrent),
    name: s.torrent.name,
    uploaded: s.uploaded,
    size: s.torrent.length,
    peers: s.peers.size,
    superSeeded: s.superSeed?.superSeededPeers ?? 0,
  }
}

function hex(infoHash: Buffer): string {
  return infoHash.toString('hex')
}

/**
 * Starts the seed-only peer. It handshakes for any torrent added, by its v1 info-hash or the
 * 20-byte truncation of its v2 one (BEP 52).
 *
 * @example
 * const seeder = await startSeeder({ port: 6881, uploadSlots: 8 })
 * seeder.add(torrent, torrent.files.map((f) => (f.pad ? null : path.join(dir, ...f.path))))
 */
export async function startSeeder(options: SeederOptions = {}): Promise<Seeder> {
  const maxConnections = options.maxConnections ?? 200
  const maxPerIp = options.maxPerIp ?? 8
  const idleTimeoutMs = options.idleTimeoutMs ?? 150_000
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000
  const peerId = makePeerId()
  const handles = new FileHandles(options.openFiles ?? 128, options.root)
  const cache = new ChunkCache(options.cacheBytes ?? 64 * 1024 * 1024)
  const bucket = options.uploadRate ? new TokenBucket(options.uploadRate) : null
  const choker = new Choker(options.uploadSlots ?? 8)
  const superSeed = options.superSeed
  const byHash = new Map<string, Seeded>()
  /** MSE: HASH('req2', info-hash) in hex, for every hash a peer may use, to that info-hash. */
  const streamKeys = new Map<string, Buffer>()
  const connections = new Set<PeerConnection>()
  const perIp = new Map<string, number>()
  let removedUploaded = 0
  /** Torrents removed since the flush last took the counters (`takeCounters`), as they ended. */
  let removedCounts: TorrentStats[] = []

  const ctx = {
    peerId,
    version: VERSION,
    cache,
    bucket,
    choker,
    hashesServed: 0,
    dhtPort: null as number | null,
    pex: options.pex ?? true,
    lookup: (infoHash: Buffer) => byHash.get(hex(infoHash)),
    streamKey: (req2Hex: string) => streamKeys.get(req2Hex),
    closed(conn: PeerConnection) {
      if (!connections.delete(conn)) return
      const host = hostKey(conn.address)
      const n = (perIp.get(host) ?? 1) - 1
      if (n <= 0) perIp.delete(host)
      else perIp.set(host, n)
    },
  }

  /** Every transport (TCP, uTP, an MSE stream over either) comes in here, under one set of limits. */
  function accept(
    stream: Duplex,
    address: string,
    transport: { utp: boolean; port: number },
  ): void {
    const host = hostKey(address)
    const fromIp = perIp.get(host) ?? 0
    if (connections.size >= maxConnections || fromIp >= maxPerIp) {
      stream.destroy()
      return
    }
    perIp.set(host, fromIp + 1)
    connections.add(new PeerConnection(stream, address, ctx, transport))
  }

  const { server, udp, port } = await listenPeerPort(options.host, options.port ?? 6881, (socket) =>
    accept(socket, socket.remoteAddress ?? '?', { utp: false, port: socket.remotePort ?? 0 }),
  )
  server.on('error', (err) => log.error('seeder listener failed', { error: err }))
  udp.on('error', (err) => log.warn('seeder udp socket error', { error: err }))

  const utp =
    options.utp === false
      ? null
      : new UtpServer({
          send: (buf, toPort, toHost) => udp.send(buf, toPort, toHost),
          maxConnections,
          maxPerIp,
        })
  utp?.on('connection', (stream) =>
    accept(stream, stream.remoteAddress, { utp: true, port: stream.remotePort }),
  )
  // BEP 5's compact peers are IPv4; the DHT runs on an IPv4 socket only (BEP 32 is not done).
  if (options.dht && !net.isIPv4(options.dht.address))
    log.warn('dht off: the seeder address is not IPv4', { address: options.dht.address })
  const dht =
    options.dht && udp.address().family === 'IPv4' && net.isIPv4(options.dht.address)
      ? new DhtNode({ socket: udp, port, ...options.dht })
      : null
  ctx.dhtPort = dht ? port : null
  // One socket, three kinds of datagram (as libtorrent tells them apart): a bencoded DHT
  // message starts with 'd', a uTP packet with its type and version 1 (0x01 ... 0x41);
  // anything else is nobody's.
  udp.on('message', (buf, rinfo) => {
    if (buf.length === 0) return
    try {
      if (buf[0] === 0x64) dht?.receive(buf, rinfo.address, rinfo.port)
      else utp?.receive(buf, rinfo.address, rinfo.port)
    } catch (err) {
      // A datagram is a stranger's input: whatever it trips over loses that datagram only.
      log.warn('peer port datagram dropped', { from: rinfo.address, error: err as Error })
    }
  })

  // One sweep for every connection instead of a timer each: handshake and idle timeouts,
  // keep-alives (BEP 3: "Keepalives are generally sent once every two minutes"), peer exchange
  // (BEP 11: at most a message a minute per peer; a newcomer hears of the others within a sweep).
  const sweep = setInterval(() => {
    const now = Date.now()
    for (const conn of connections) {
      if (!conn.handshaken && now - conn.connectedAt > handshakeTimeoutMs)
        conn.close('handshake timeout')
      else if (now - conn.lastReceived > idleTimeoutMs) conn.close('idle')
      else if (conn.handshaken) {
        conn.pex(now)
        if (now - conn.lastSent > 60_000) conn.keepAlive()
      }
    }
  }, options.sweepMs ?? 5_000)
  sweep.unref()
  const rotation = setInterval(() => choker.rotate(), options.rotateMs ?? 10_000)
  rotation.unref()
  // Super-seeding moves on when an offer waited long enough for its hand-on, takes in the peers
  // that came before the crowd, and stops when the crowd has gone, so a downloader left alone
  // is never held to one piece at a time. No timer at all when the seeder does not super-seed.
  // Only torrents with a peer have anything to move on, found through the connections (at most
  // maxConnections): walking every seeded torrent four times a second cost an idle `serve` with
  // 10,000 torrents 5 % of a core (node --cpu-prof).
  const revelation = superSeed
    ? setInterval(() => {
        // A connection's `seeded` is set as it joins `seeded.peers` and both are undone at close.
        const withPeers = new Set<Seeded>()
        for (const conn of connections) if (conn.seeded) withPeers.add(conn.seeded)
        for (const seeded of withPeers) {
          const superSeed = seeded.superSeed
          if (!superSeed) continue
          if (seeded.crowded()) {
            superSeed.retract()
            superSeed.tick()
          } else if (superSeed.superSeededPeers > 0) superSeed.revealAll()
        }
      }, 250)
    : undefined
  revelation?.unref()

  log.info('seeder listening', {
    host: options.host ?? '::',
    port,
    utp: utp !== null,
    dht: dht !== null,
  })

  return {
    port,
    peerId,
    dhtNodeId: dht?.nodeId ?? null,
    add(torrent, filePaths) {
      const storage = new TorrentStorage(torrent, filePaths, handles)
      const trees = new Map<string, FileTree | null>()
      const trackerKey = trackerKeyHex(torrent)
      const key = trackerKey + ':'
      const seeded: Seeded = {
        torrent,
        storage,
        key,
        chunk: ChunkCache.chunkSize(torrent.pieceLength),
        bitfield: encodeFullBitfield(torrent.pieceCount),
        superSeed: superSeed ? new SuperSeed(torrent.pieceCount, superSeed) : null,
        crowded: () => superSeed?.crowded(trackerKey) ?? false,
        uploaded: 0,
        peers: new Set(),
        fileTree(piecesRoot) {
          // Only roots of this torrent's piece layers are ever remembered: a peer sends any 32
          // bytes it likes as `pieces root`, and caching a miss per unknown root grew the seeder
          // by ~110 bytes per 53-byte request, forever.
          const id = hex(piecesRoot)
          const layer = torrent.pieceLayers.get(id)
          if (!layer) return null
          let tree = trees.get(id)
          if (tree === undefined) {
            tree = FileTree.build(piecesRoot, torrent.pieceLength, layer)
            if (!tree)
              log.warn('piece layer does not match its root', { torrent: torrent.name, root: id })
            trees.set(id, tree)
          }
          return tree
        },
      }
      // BEP 52: a hybrid torrent is reached by either hash, in plaintext and under MSE alike,
      // and announced to the DHT under both (libtorrent looks up the truncated v2 hash too).
      for (const h of swarmKeys(torrent)) {
        byHash.set(hex(h), seeded)
        streamKeys.set(hex(streamKeyHash(h)), Buffer.from(h))
        dht?.announce(Buffer.from(h))
      }
    },
    remove(infoHash) {
      const seeded = byHash.get(hex(infoHash.subarray(0, 20)))
      if (!seeded) return
      for (const [k, v] of byHash)
        if (v === seeded) {
          byHash.delete(k)
          dht?.unannounce(Buffer.from(k, 'hex'))
        }
      for (const [k, v] of streamKeys) if (byHash.get(hex(v)) === undefined) streamKeys.delete(k)
      for (const conn of [...seeded.peers]) conn.close('torrent removed')
      cache.drop(seeded.key)
      removedUploaded += seeded.uploaded
      removedCounts.push(countsOf(seeded))
    },
    stats() {
      const torrents = [...new Set(byHash.values())].map(countsOf)
      const uploaded = torrents.reduce((sum, t) => sum + t.uploaded, removedUploaded)
      let buffered = 0
      for (const conn of connections) buffered += conn.stream.writableLength
      return {
        connections: connections.size,
        unchoked: choker.unchoked,
        uploaded,
        hashesServed: ctx.hashesServed,
        buffered,
        torrents,
      }
    },
    uploaded(infoHash) {
      return byHash.get(hex(infoHash))?.uploaded ?? 0
    },
    takeCounters() {
      const counts = [...removedCounts, ...[...new Set(byHash.values())].map(countsOf)]
      removedCounts = []
      return counts
    },
    async close() {
      clearInterval(sweep)
      clearInterval(rotation)
      clearInterval(revelation)
      const closing = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const conn of [...connections]) conn.close('seeder closing')
      utp?.close()
      await dht?.close()
      await closing
      await new Promise<void>((resolve) => udp.close(() => resolve()))
      handles.closeAll()
    },
  }
}
