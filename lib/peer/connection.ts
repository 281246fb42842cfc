import type { Duplex } from 'node:stream'
import { log } from '../log/index.ts'
import { truncatedV2 } from '../metainfo/index.ts'
import { WireError } from './errors.ts'
import { MessageFramer } from './framer.ts'
import { classifyHandshake, MseResponder } from './mse.ts'
import { ALLOWED_FAST_SET_SIZE, allowedFastSet } from './allowed-fast.ts'
import { PEX_INTERVAL_MS, PexFeed, PexFlag, pexContact, type PexContact } from './pex.ts'
import { Rc4Stream } from './rc4-stream.ts'
import type { Choker, ChokePeer } from './choker.ts'
import type { ChunkCache, TorrentStorage } from './storage.ts'
import type { FileTree } from './merkle.ts'
import type { SuperSeed } from './superseed.ts'
import type { TokenBucket } from './rate.ts'
import type { SeedTorrent } from './torrent.ts'
import type { BlockRef, HashRequest, Message } from './wire.ts'
import {
  CHOKE,
  encodeAllowedFast,
  encodeExtended,
  encodeHandshake,
  encodeHashes,
  encodeHashReject,
  encodePieceHeader,
  encodePort,
  encodeReject,
  encodeHave,
  HAVE_ALL,
  HAVE_NONE,
  KEEPALIVE,
  UNCHOKE,
} from './encode.ts'
import {
  encodeExtensionHandshake,
  encodeMetadataData,
  encodeMetadataReject,
  METADATA_PIECE,
  parseExtensionHandshake,
  parseMetadataMessage,
  UT_METADATA_ID,
} from './extension.ts'

/** A torrent as the seeder holds it: what a connection needs to serve it. */
export interface Seeded {
  torrent: SeedTorrent
  storage: TorrentStorage
  /** Prefix for this torrent's chunks in the shared cache, and their size. */
  key: string
  chunk: number
  bitfield: Buffer
  fileTree(piecesRoot: Buffer): FileTree | null
  /** BEP 16 piece revelation, when the seeder super-seeds crowds; `crowded` is asked at handshake. */
  superSeed: SuperSeed | null
  crowded(): boolean
  uploaded: number
  peers: Set<PeerConnection>
}

export interface ConnectionContext {
  peerId: Buffer
  version: string
  lookup(infoHash: Buffer): Seeded | undefined
  /** MSE: the stream key (an info-hash we serve) whose HASH('req2', SKEY) is this, in hex. */
  streamKey(req2Hex: string): Buffer | undefined
  cache: ChunkCache
  bucket: TokenBucket | null
  choker: Choker
  closed(conn: PeerConnection): void
  /** Counts BEP 52 hash requests answered with hashes. */
  hashesServed: number
  /** Our DHT node's UDP port when the DHT is on (BEP 5 handshake bit and `port` message). */
  dhtPort: number | null
  /** Peer exchange (BEP 11) on: offered in the extension handshake and sent. */
  pex: boolean
}

/** Requests we queue per peer; libtorrent and aria2 keep well under this outstanding. */
export const MAX_QUEUE = 500
/** Disk reads in flight per peer; enough to keep a loopback socket full. */
const MAX_INFLIGHT = 8
/** Distinct chunks ahead in a peer's queue to start reading before they are due. */
const READ_AHEAD = 2
/**
 * Back-pressure: stop serving once this much is waiting in the socket's buffer, resume on
 * 'drain'. Stop reading from the peer at twice that (rejects and hashes answers pile up too).
 */
const HIGH_WATER = 1024 * 1024

let arrivals = 0

/**
 * One peer connection, seed side. Every protocol violation throws a WireError that closes this
 * connection and nothing else.
 *
 * It reads and writes a Duplex, not a net.Socket, so the same code serves a TCP socket, a uTP
 * stream (BEP 29) and a decrypting MSE/PE stream. For a TCP socket nothing is wrapped: cork,
 * writev and back-pressure act on the socket itself, so the plaintext hot path is unchanged.
 */
export class PeerConnection implements ChokePeer {
  interested = false
  choked = true
  seeded: Seeded | null = null
  uploaded = 0
  readonly connectedAt = Date.now()
  /** Order of arrival among all connections, for peer exchange (see `pex`). */
  readonly arrival = ++arrivals
  lastReceived = Date.now()
  lastSent = Date.now()

  private readonly framer = new MessageFramer()
  private fast = false
  private peerMetadataId = 0
  /** BEP 11: the id the peer takes ut_pex under (0: it does not), and what it has been told. */
  private peerPexId = 0
  /** The id the peer takes lt_donthave under (0: it does not); see `SuperSeed.retract`. */
  private peerDontHaveId = 0
  private retracted = false
  /** libtorrent's `upload_only` message id (0: none): how it learns we stopped being a seed. */
  private peerUploadOnlyId = 0
  /** The peer speaks BEP 10 (its handshake said so). */
  private extended = false
  private pexFeed: PexFeed | null = null
  /** How other peers reach this one (BEP 11), once its extension handshake says; null if never. */
  contact: PexContact | null = null
  private metadataRequests = 0
  /**
   * What the peer may fetch while choked (BEP 6 allowed fast): these pieces, up to this many
   * bytes over the connection's life. The queue holds only requests we will serve, so a choked
   * peer's queue holds only these.
   */
  private allowedFast: number[] = []
  private allowedFastBytes = 0
  private queue: BlockRef[] = []
  private inflight = 0
  /** Bumped on every choke: reads started before it are answered with reject, not data. */
  private chokeEpoch = 0
  private waitingForDrain = false
  private waitingForTokens = false
  private corked = false
  private closed = false
  /** Whether the peer has heard from us since its first bytes after the handshake (see onData). */
  private nudged = false
  /** Before the BitTorrent handshake: telling plaintext from MSE, then the MSE exchange. */
  private opening: 'sniff' | 'mse' | 'wire' = 'sniff'
  private head: Buffer | null = null
  private mse: MseResponder | null = null
  /**
   * What the connection reads and writes: the transport (TCP socket, uTP stream) itself, or an
   * RC4 layer over it once the peer negotiated RC4 (MSE). Replaced at most once, before the
   * BitTorrent handshake; a plaintext peer keeps the bare socket, so its hot path is unchanged.
   */
  stream: Duplex
  /** How the peer's handshake came: plain, MSE with a plaintext payload, or MSE with RC4. */
  encryption: 'none' | 'plaintext' | 'rc4' = 'none'

  /**
   * `address` is the peer's IP, which the seeder's per-IP limit counts; a Duplex does not know
   * it (a uTP stream or an MSE wrapper has no `remoteAddress`), so the caller passes it.
   */
  constructor(
    stream: Duplex,
    readonly address: string,
    private readonly ctx: ConnectionContext,
    /**
     * How the peer came: over uTP its packets come from the port it listens on (libtorrent and
     * Transmission use one port for TCP and uTP); a TCP connection's port is ephemeral.
     */
    private readonly transport: { utp: boolean; port: number } = { utp: false, port: 0 },
  ) {
    this.stream = stream
    this.listen(stream)
    stream.on('error', () => this.close())
    stream.on('close', () => this.close())
  }

  private readonly dataListener = (chunk: Buffer) => this.onData(chunk)
  private readonly drainListener = () => this.onDrain()

  private listen(stream: Duplex): void {
    stream.on('data', this.dataListener)
    stream.on('drain', this.drainListener)
  }

  get handshaken(): boolean {
    return this.seeded !== null
  }

  close(reason?: string): void {
    if (this.closed) return
    this.closed = true
    if (reason) log.debug('peer closed', { peer: this.address, reason })
    this.queue = []
    this.stream.destroy()
    this.seeded?.peers.delete(this)
    this.seeded?.superSeed?.leave(this)
    this.ctx.choker.update(this, true)
    this.ctx.closed(this)
  }

  choke(): void {
    if (this.choked || this.closed) return
    this.choked = true
    this.chokeEpoch++
    this.send(CHOKE)
    // BEP 6: with the fast extension a choke does not drop requests silently; reject each,
    // but for those in the allowed fast set, which a choked peer may still fetch.
    const kept: BlockRef[] = []
    for (const ref of this.queue) {
      if (this.allowedFast.includes(ref.index)) kept.push(ref)
      else if (this.fast) this.send(encodeReject(ref))
    }
    this.queue = kept
  }

  unchoke(): void {
    if (!this.choked || this.closed) return
    this.choked = false
    this.send(UNCHOKE)
  }

  /** A BEP 3 `have`: a super-seeded peer learns of a piece it may now ask for. */
  have(index: number): void {
    if (!this.closed) this.send(encodeHave(index))
  }

  /**
   * BEP 21 `upload_only` says we are a seed. A super-seeded peer must not be told so: libtorrent
   * closes an upload-only peer it has nothing to ask of ("uninteresting upload-only peer"), which
   * a super-seeded peer is between two offers. BEP 10 lets a later handshake change it.
   */
  private sendExtensionHandshake(uploadOnly: boolean): void {
    const torrent = this.seeded?.torrent
    if (!torrent) return
    const payload = encodeExtensionHandshake({
      metadataSize: torrent.info.length,
      version: this.ctx.version,
      reqq: MAX_QUEUE,
      uploadOnly,
      pex: this.ctx.pex,
    })
    this.send(encodeExtended(0, payload))
  }

  get canRetract(): boolean {
    return this.peerDontHaveId !== 0
  }

  /** lt_donthave: the peer is to stop asking us for `index` (the crowd has it; see SuperSeed). */
  dontHave(index: number): void {
    if (this.closed || this.peerDontHaveId === 0) return
    // Once, before the first: from now on we are not a seed to this peer (see above).
    if (!this.retracted) {
      this.retracted = true
      // libtorrent reads upload_only from a later handshake only to set it, never to clear it;
      // its own `upload_only` message (one byte) clears it.
      if (this.peerUploadOnlyId !== 0)
        this.send(encodeExtended(this.peerUploadOnlyId, Buffer.from([0])))
      else if (this.extended) this.sendExtensionHandshake(false)
    }
    const body = Buffer.alloc(4)
    body.writeUInt32BE(index)
    this.send(encodeExtended(this.peerDontHaveId, body))
  }

  keepAlive(): void {
    this.send(KEEPALIVE)
  }

  private send(buf: Buffer): void {
    this.lastSent = Date.now()
    this.stream.write(buf)
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return
    this.lastReceived = Date.now()
    // Transmission before 4.1 leaves the bytes that came in the same read as our handshake in
    // its buffer until more bytes arrive (transmission#6913): our extension handshake and
    // have_all sit there unread, so it never learns we are a seed and never says "interested".
    // Its own first messages after the handshake prove it has read ours, so a keep-alive
    // answering them arrives in a read of its own and makes it parse what waits. One 4-byte
    // message per connection; every client ignores keep-alives.
    if (this.seeded && !this.nudged) {
      this.nudged = true
      this.send(KEEPALIVE)
    }
    try {
      if (this.opening !== 'wire') {
        const opened = this.open(chunk)
        if (!opened) return
        chunk = opened
      }
      this.framer.push(chunk)
      if (!this.seeded && !this.readHandshake()) return
      for (let m = this.framer.readMessage(); m; m = this.framer.readMessage()) {
        this.onMessage(m)
        if (this.closed) return
      }
    } catch (err) {
      if (err instanceof WireError) return this.close(`${err.code}: ${err.message}`)
      throw err
    }
    this.pump()
    // A peer that sends faster than it reads would make us buffer without end: stop reading.
    if (this.stream.writableLength > 2 * HIGH_WATER) this.stream.pause()
  }

  /**
   * The first bytes decide: "\x13BitTorrent protocol" is a plaintext handshake, anything else is
   * an MSE key exchange (BEP-less, but every major client sends one first or retries with one).
   * Returns the bytes for the wire framer once there are any.
   */
  private open(chunk: Buffer): Buffer | null {
    if (this.opening === 'mse') return this.negotiate(chunk)
    const head = this.head ? Buffer.concat([this.head, chunk]) : chunk
    const kind = classifyHandshake(head)
    this.head = kind === 'more' ? head : null
    if (kind === 'more') return null
    if (kind === 'plaintext') {
      this.opening = 'wire'
      return head
    }
    this.opening = 'mse'
    this.mse = new MseResponder(this.ctx.streamKey)
    return this.negotiate(head)
  }

  private negotiate(chunk: Buffer): Buffer | null {
    if (!this.mse) throw new WireError('bad-encryption', 'no MSE handshake under way')
    const { send, accepted } = this.mse.push(chunk)
    if (send) this.send(send)
    if (!accepted) return null
    this.mse = null
    this.opening = 'wire'
    this.encryption = accepted.method
    let rest = accepted.rest
    if (accepted.method === 'rc4') {
      const transport = this.stream
      transport.off('data', this.dataListener)
      transport.off('drain', this.drainListener)
      this.stream = new Rc4Stream(transport, accepted.encrypt, accepted.decrypt)
      this.stream.on('error', () => this.close())
      this.listen(this.stream)
      rest = accepted.decrypt.update(rest)
    }
    // The initial payload is, for every client we know, its BitTorrent handshake.
    return Buffer.concat([accepted.initialPayload, rest])
  }

  private readHandshake(): boolean {
    const hs = this.framer.readHandshake()
    if (!hs) return false
    const seeded = this.ctx.lookup(hs.infoHash)
    if (!seeded)
      throw new WireError(
        'unknown-torrent',
        `no torrent with info-hash ${hs.infoHash.toString('hex')}`,
      )
    if (hs.peerId.equals(this.ctx.peerId))
      throw new WireError('bad-handshake', 'connected to ourselves')
    const { torrent } = seeded
    this.seeded = seeded
    this.fast = hs.fast
    this.framer.limits = torrent
    seeded.peers.add(this)
    this.stream.cork()
    // BEP 52 upgrade: a peer that sets the v2 bit on a hybrid torrent gets the truncated v2 hash
    // back, which is what makes libtorrent treat the connection as v2 and ask us for piece layers.
    // Otherwise echo the hash it used. The v2 bit is never set for a v1-only torrent: libtorrent
    // disconnects a peer that claims v2 on a torrent without v2 metadata.
    const v2Hash = torrent.infoHashV2
    const v2 = v2Hash !== null
    const reply = v2Hash && hs.v2 ? truncatedV2(v2Hash) : hs.infoHash
    const { dhtPort } = this.ctx
    const dht = dhtPort !== null
    this.send(encodeHandshake(reply, this.ctx.peerId, { fast: true, extended: true, v2, dht }))
    const superSeeded = seeded.superSeed !== null && seeded.crowded()
    this.extended = hs.extended
    if (hs.extended) this.sendExtensionHandshake(!superSeeded)
    // A super-seeded peer is told we have nothing (BEP 6 wants have_none said; without the fast
    // extension a bitfield may be left out, BEP 3), then offered pieces one `have` at a time.
    if (!superSeeded) this.send(this.fast ? HAVE_ALL : seeded.bitfield)
    else if (this.fast) this.send(HAVE_NONE)
    // BEP 6 allowed fast: a newcomer may start on a few pieces while every unchoke slot is
    // taken. Not for a super-seeded peer: it gets only the pieces we offer it, one at a time.
    if (this.fast && !superSeeded) {
      this.allowedFast = allowedFastSet(
        ALLOWED_FAST_SET_SIZE,
        torrent.pieceCount,
        torrent.infoHash ?? hs.infoHash,
        this.address,
      )
      this.allowedFastBytes = this.allowedFast.length * torrent.pieceLength
      for (const index of this.allowedFast) this.send(encodeAllowedFast(index))
    }
    seeded.superSeed?.join(this, superSeeded)
    // BEP 5: a peer that runs a DHT node learns ours from the `port` message and adds it.
    if (dhtPort !== null && hs.dht) this.send(encodePort(dhtPort))
    this.stream.uncork()
    return true
  }

  private onMessage(m: Message): void {
    switch (m.type) {
      case 'interested':
        this.interested = true
        this.ctx.choker.update(this)
        return
      case 'not_interested':
        this.interested = false
        this.ctx.choker.update(this)
        return
      case 'request':
        return this.onRequest(m)
      case 'cancel':
        return this.onCancel(m)
      case 'extended':
        return this.onExtended(m.extId, m.payload)
      case 'hash_request':
        return this.onHashRequest(m.request)
      case 'have':
        return this.seeded?.superSeed?.have(this, m.index)
      case 'bitfield':
        return this.seeded?.superSeed?.bitfield(this, m.bitfield)
      case 'have_all':
        // Two seeds have nothing to trade; free the slot for a downloader.
        throw new WireError('bad-request', 'peer is a seed too')
      case 'piece':
        throw new WireError('bad-request', 'unsolicited piece: a seed never requests')
      case 'hashes':
        throw new WireError('bad-request', 'unsolicited hashes: a seed never asks for them')
      default:
        // keep-alive, choke, port, suggest, allowed_fast, reject, unknown ids:
        // nothing for a seed to do.
        return
    }
  }

  private onRequest(ref: BlockRef): void {
    // Messages arrive only after the handshake, which sets `seeded`.
    const seeded = this.seeded
    if (!seeded) return
    const offered = seeded.superSeed?.mayRequest(this, ref.index) ?? true
    if (
      (this.choked && !this.allowedWhileChoked(ref)) ||
      this.queue.length >= MAX_QUEUE ||
      !offered
    ) {
      // BEP 6: a request we will not serve gets a reject; without fast it is dropped (BEP 3).
      if (this.fast) this.send(encodeReject(ref))
      return
    }
    this.queue.push({ index: ref.index, begin: ref.begin, length: ref.length })
  }

  /** BEP 6: a block of an allowed fast piece, while the set's bytes last; takes them. */
  private allowedWhileChoked(ref: BlockRef): boolean {
    if (ref.length > this.allowedFastBytes || !this.allowedFast.includes(ref.index)) return false
    this.allowedFastBytes -= ref.length
    return true
  }

  private onCancel(ref: BlockRef): void {
    const at = this.queue.findIndex(
      (q) => q.index === ref.index && q.begin === ref.begin && q.length === ref.length,
    )
    if (at < 0) return
    this.queue.splice(at, 1)
    // BEP 6: a cancelled request is still answered, with piece or reject.
    if (this.fast) this.send(encodeReject(ref))
  }

  private onExtended(extId: number, payload: Buffer): void {
    const seeded = this.seeded
    if (!seeded) return
    if (extId === 0) {
      const hs = parseExtensionHandshake(payload)
      this.peerMetadataId = hs.m.get('ut_metadata') ?? 0
      this.peerPexId = hs.m.get('ut_pex') ?? 0
      this.peerDontHaveId = hs.m.get('lt_donthave') ?? 0
      this.peerUploadOnlyId = hs.m.get('upload_only') ?? 0
      const port = hs.port ?? (this.transport.utp ? this.transport.port : null)
      const flags =
        (hs.prefersEncryption || this.encryption !== 'none' ? PexFlag.encryption : 0) |
        (hs.uploadOnly ? PexFlag.seed : 0) |
        (this.transport.utp ? PexFlag.utp : 0)
      this.contact = pexContact(this.address, port, flags)
      return
    }
    if (extId !== UT_METADATA_ID) return // an extension we did not offer: ignore (BEP 10)
    const msg = parseMetadataMessage(payload)
    if (msg.msgType !== 0 || this.peerMetadataId === 0) return
    const info = seeded.torrent.info
    const pieces = Math.ceil(info.length / METADATA_PIECE)
    // BEP 9 flood protection: a peer needs each metadata piece once; allow a few retries.
    this.metadataRequests++
    const ok = msg.piece < pieces && this.metadataRequests <= pieces * 4
    this.send(
      encodeExtended(
        this.peerMetadataId,
        ok ? encodeMetadataData(msg.piece, info) : encodeMetadataReject(msg.piece),
      ),
    )
  }

  /**
   * BEP 11: tells the peer about the other peers of its torrent we are connected to, at most
   * once a minute (the seeder's sweep calls this). Downloaders that find each other trade
   * pieces among themselves instead of each fetching them from the origin.
   */
  pex(now: number): void {
    const seeded = this.seeded
    if (this.closed || !seeded || this.peerPexId === 0 || !this.ctx.pex) return
    this.pexFeed ??= new PexFeed()
    // The sweep comes round every few seconds; the list of others is built only when a message
    // may go out, not on every sweep for every peer (n peers, n x n contacts looked at).
    if (!this.pexFeed.due(now)) return
    const others: PexContact[] = []
    for (const peer of seeded.peers) {
      if (peer === this || !peer.contact || peer.contact.key === this.contact?.key) continue
      // A newcomer hears of those already here at once and dials them; they hear of it only a
      // minute later. Telling both sides in the same sweep made them dial each other at the same
      // moment, and libtorrent then drops both connections as duplicates.
      if (peer.arrival > this.arrival && now - peer.connectedAt < PEX_INTERVAL_MS) continue
      others.push(peer.contact)
    }
    const body = this.pexFeed.next(others, now)
    if (body) this.send(encodeExtended(this.peerPexId, body))
  }

  private onHashRequest(req: HashRequest): void {
    const tree = this.seeded?.fileTree(req.piecesRoot)
    const hashes = tree?.answer(req) ?? null
    if (hashes) this.ctx.hashesServed++
    this.send(hashes ? encodeHashes(req, hashes) : encodeHashReject(req))
  }

  private onDrain(): void {
    this.waitingForDrain = false
    if (this.stream.isPaused()) this.stream.resume()
    this.pump()
  }

  /**
   * Serves queued requests while the socket drains and the rate limit allows. Hot path (see
   * `npm run bench:seed`): blocks already in the shared chunk cache are written synchronously,
   * as a 13-byte header plus a view of the chunk, many per corked write (one writev); only cache
   * misses go through a promise and the disk.
   */
  private pump(): void {
    if (this.waitingForDrain || this.waitingForTokens) return
    const seeded = this.seeded
    if (!seeded) return
    const { cache, bucket } = this.ctx
    const { pieceLength } = seeded.torrent
    this.batch()
    while (this.queue.length > 0) {
      if (this.stream.writableLength >= HIGH_WATER) {
        this.waitingForDrain = true
        break
      }
      const ref = this.queue[0]
      const offset = ref.index * pieceLength + ref.begin
      const hit = cache.peek(seeded.key, seeded.chunk, offset, ref.length)
      if (!hit && this.inflight >= MAX_INFLIGHT) break
      if (bucket) {
        const wait = bucket.take(ref.length)
        if (wait > 0) {
          hit?.release()
          this.waitingForTokens = true
          setTimeout(() => {
            this.waitingForTokens = false
            this.pump()
          }, wait).unref()
          break
        }
      }
      this.queue.shift()
      if (hit) {
        const at = offset - hit.start
        this.writeBlock(seeded, ref, hit.loaded.subarray(at, at + ref.length), hit.release)
      } else {
        this.serve(seeded, ref)
      }
    }
    this.readAhead(seeded)
  }

  /**
   * Starts the disk reads for the next chunks this peer has asked for, so they are in memory
   * by the time the socket has room: a read overlaps with sending the chunk before it.
   */
  private readAhead(seeded: Seeded): void {
    const { pieceLength } = seeded.torrent
    let last = -1
    let started = 0
    for (let i = 0; i < this.queue.length && i < 256 && started < READ_AHEAD; i++) {
      const ref = this.queue[i]
      const chunk = Math.floor((ref.index * pieceLength + ref.begin) / seeded.chunk)
      if (chunk === last) continue
      last = chunk
      started++
      this.ctx.cache.prefetch(seeded.key, seeded.chunk, seeded.storage, chunk * seeded.chunk)
    }
  }

  /**
   * Corks the socket until the end of this event-loop turn, so every block produced in it (from
   * all the requests that arrived, and all the disk reads that completed) leaves in one writev.
   * Fewer, larger syscalls are most of what it costs to push bytes through the kernel.
   */
  private batch(): void {
    if (this.corked) return
    this.corked = true
    this.stream.cork()
    setImmediate(() => {
      this.corked = false
      this.stream.uncork()
    })
  }

  /** `release` hands the chunk back once the socket has flushed the block. */
  private writeBlock(seeded: Seeded, ref: BlockRef, block: Buffer, release: () => void): void {
    this.send(encodePieceHeader(ref.index, ref.begin, ref.length))
    this.stream.write(block, release)
    this.uploaded += ref.length
    seeded.uploaded += ref.length
  }

  private serve(seeded: Seeded, ref: BlockRef): void {
    const epoch = this.chokeEpoch
    const offset = ref.index * seeded.torrent.pieceLength + ref.begin
    this.inflight++
    this.ctx.cache.block(seeded.key, seeded.chunk, seeded.storage, offset, ref.length).then(
      ({ view, release }) => {
        this.inflight--
        if (this.closed) return release()
        if (epoch !== this.chokeEpoch) {
          release()
          if (this.fast) this.send(encodeReject(ref))
        } else {
          this.batch()
          this.writeBlock(seeded, ref, view, release)
        }
        this.pump()
      },
      (err: Error) => {
        this.inflight--
        log.warn('seeder read failed', { torrent: seeded.torrent.name, error: err })
        this.close('read failed')
      },
    )
  }
}
