/**
 * The long fuzz run (not in CI; the *fuzz.test.ts files are its short form):
 *
 *   npm run fuzz                 (FUZZ_RUNS inputs per parser, 1,000,000 by default;
 *                                 FUZZ_SEED to replay; FUZZ_ONLY=name to run one target)
 *
 * Every server-facing parser gets random bytes and mutations of valid inputs, and must answer
 * each with its value or its own error type: anything else is a crash. The heap is measured
 * after a full collection before and after each target: parsers keep no state, so it must not
 * grow. Then the seeder gets FUZZ_RUNS BEP 52 hash requests with random roots over a real socket
 * and must not grow by 25 MB. Each line gives the inputs, the time, the heap's growth and the
 * process's peak RSS while that parser ran. Exit status 1 on any crash or growth.
 */
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import { readFileSync, readdirSync } from 'node:fs'
import net from 'node:net'
import v8 from 'node:v8'
import vm from 'node:vm'
import { BencodeError, decode, encode } from '../lib/bencode/index.ts'
import { MetainfoError, parseTorrent } from '../lib/metainfo/index.ts'
import {
  TrackerError,
  parseAnnounceQuery,
  parseScrapeQuery,
  parseUdpPacket,
} from '../lib/tracker/index.ts'
import { WireError } from '../lib/peer/errors.ts'
import { MessageFramer } from '../lib/peer/framer.ts'
import { MseResponder, streamKeyHash } from '../lib/peer/mse.ts'
import { parseHandshake, parseMessage } from '../lib/peer/wire.ts'
import {
  encodeExtended,
  encodeHandshake,
  encodeHashRequest,
  encodeRequest,
} from '../lib/peer/encode.ts'
import { startSeeder } from '../lib/peer/index.ts'
import { DhtNode } from '../lib/dht/index.ts'
import { UtpPacketError, UtpServer, encodePacket, parsePacket } from '../lib/utp/index.ts'
import { makeSeedFixture } from '../test/seed-fixture.ts'

const runs = Number(process.env.FUZZ_RUNS ?? 1_000_000)
const seed = Number(process.env.FUZZ_SEED ?? Date.now() >>> 0)
const only = process.env.FUZZ_ONLY

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void
const heap = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

let s = seed >>> 0 || 1
const rand = () => {
  s ^= s << 13
  s ^= s >>> 17
  s ^= s << 5
  return (s >>> 0) / 4294967296
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!

function mutate(src: Buffer): Buffer {
  let buf = Buffer.from(src)
  const edits = 1 + Math.floor(rand() * 4)
  for (let i = 0; i < edits && buf.length > 0; i++) {
    const at = Math.floor(rand() * buf.length)
    switch (Math.floor(rand() * 5)) {
      case 0:
        buf[at] = Math.floor(rand() * 256)
        break
      case 1:
        buf = buf.subarray(0, at)
        break
      case 2:
        buf = Buffer.concat([
          buf.subarray(0, at),
          randomBytes(1 + Math.floor(rand() * 8)),
          buf.subarray(at),
        ])
        break
      case 3:
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + Math.floor(rand() * 8))])
        break
      default:
        buf[at] = pick([0x30, 0x39, 0x3a, 0x64, 0x65, 0x69, 0x6c, 0x2d, 0x25, 0x26, 0x3d])
    }
  }
  return buf
}

interface Target {
  name: string
  seeds: Buffer[]
  run(input: Buffer): void
  expected(err: unknown): boolean
}

const corpusDir = new URL('../test/fixtures/libtorrent-corpus/', import.meta.url)
const torrents = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.torrent'))
  .map((f) => readFileSync(new URL(f, corpusDir)))
  .filter((b) => b.length < 64 * 1024)

const limits = { pieceCount: 37, pieceLength: 65536, length: 36 * 65536 + 12345 }
const skey = Buffer.alloc(20, 7)
const keys = new Map([[streamKeyHash(skey).toString('hex'), skey]])
const udpConnect = Buffer.alloc(16)
udpConnect.writeBigUInt64BE(0x41727101980n, 0)
const udpAnnounce = Buffer.alloc(98)
udpAnnounce.writeUInt32BE(1, 8)

// The DHT node answers on a real loopback socket (to ports nobody listens on), as on the peer
// port: what is fuzzed is everything a datagram meets, our gate and k-rpc-socket behind it.
const dhtSocket = dgram.createSocket('udp4')
await new Promise<void>((r) => dhtSocket.bind(0, '127.0.0.1', r))
const dht = new DhtNode({
  socket: dhtSocket,
  bootstrap: [],
  address: '127.0.0.1',
  port: dhtSocket.address().port,
  maxPeers: 1000,
})
const dhtId = Buffer.alloc(20, 3)
const dhtHash = Buffer.alloc(20, 9)
// The uTP server as the seeder runs it, minus the socket: SYNs open streams (up to its limits),
// everything else meets a stream's state machine or is dropped.
const utp = new UtpServer({ send: () => {} })
utp.on('connection', (stream) => stream.on('error', () => {}))
const utpHeader = {
  connectionId: 4242,
  timestamp: 1,
  timestampDiff: 2,
  windowSize: 3,
  seqNr: 4,
  ackNr: 5,
}
let datagrams = 0

const targets: Target[] = [
  {
    name: 'bencode',
    seeds: [...torrents.slice(0, 20), encode({ a: [1, 'b', { c: -5 }], z: 'x' })],
    run: (b) => void decode(b),
    expected: (e) => e instanceof BencodeError,
  },
  {
    name: 'metainfo',
    seeds: torrents,
    run: (b) => void parseTorrent(b),
    expected: (e) => e instanceof MetainfoError,
  },
  {
    name: 'announce query',
    seeds: [
      Buffer.from(
        `info_hash=${'%ab'.repeat(20)}&peer_id=-qB4650-000000000001&port=6881&uploaded=0&downloaded=0&left=5&compact=1&event=started&numwant=50&key=1a2b&ip=198.51.100.1`,
      ),
      Buffer.from(`info_hash=${'%01'.repeat(20)}&info_hash=${'%02'.repeat(20)}`),
    ],
    run: (b) => {
      const q = b.toString('latin1')
      if (b[0]! & 1) parseScrapeQuery(q)
      else parseAnnounceQuery(q)
    },
    expected: (e) => e instanceof TrackerError,
  },
  {
    name: 'UDP packet',
    seeds: [
      udpConnect,
      udpAnnounce,
      Buffer.concat([udpAnnounce.subarray(0, 16), Buffer.alloc(20, 3)]),
    ],
    run: (b) => void parseUdpPacket(b),
    expected: (e) => e instanceof TrackerError,
  },
  {
    name: 'peer wire',
    seeds: [
      encodeHandshake(Buffer.alloc(20, 1), Buffer.alloc(20, 2), {
        fast: true,
        extended: true,
        v2: true,
      }),
      encodeRequest({ index: 3, begin: 16384, length: 16384 }),
      encodeExtended(0, Buffer.from('d1:md11:ut_metadatai3eee')),
      encodeHashRequest({
        piecesRoot: Buffer.alloc(32, 9),
        baseLayer: 2,
        index: 0,
        length: 8,
        proofLayers: 4,
      }),
    ],
    run: (b) => {
      if (b.length === 68) parseHandshake(b)
      const framer = new MessageFramer()
      framer.limits = limits
      framer.push(b)
      for (let i = 0; i < 100 && framer.readMessage(); i++);
      if (b.length >= 5) parseMessage(b.subarray(4), limits)
    },
    expected: (e) => e instanceof WireError,
  },
  {
    name: 'MSE handshake',
    seeds: [randomBytes(96 + 200), Buffer.concat([randomBytes(96), Buffer.alloc(600)])],
    run: (b) => {
      const mse = new MseResponder((h) => keys.get(h))
      for (let at = 0; at < b.length; at += 97) mse.push(b.subarray(at, at + 97))
    },
    expected: (e) => e instanceof WireError,
  },
  {
    name: 'DHT message',
    seeds: [
      { t: 'aa', y: 'q', q: 'ping', a: { id: dhtId } },
      { t: 'ab', y: 'q', q: 'find_node', a: { id: dhtId, target: dhtHash } },
      { t: 'ac', y: 'q', q: 'get_peers', a: { id: dhtId, info_hash: dhtHash } },
      {
        t: 'ad',
        y: 'q',
        q: 'announce_peer',
        a: { id: dhtId, info_hash: dhtHash, port: 6881, token: 'xx' },
      },
      { t: 'ae', y: 'q', q: 'get', a: { id: dhtId, target: dhtHash } },
      { t: 'af', y: 'r', r: { id: dhtId, nodes: Buffer.alloc(26) } },
      { t: 'ag', y: 'e', e: [201, 'error'] },
    ].map((m) => encode(m)),
    // From a thousand source ports, so the node sees many "nodes", as from the network.
    run: (b) => dht.receive(b, '127.0.0.2', 1024 + (datagrams++ % 1000)),
    expected: () => false,
  },
  {
    name: 'uTP packet',
    seeds: [
      encodePacket({ ...utpHeader, type: 4, payload: Buffer.alloc(0) }),
      encodePacket({
        ...utpHeader,
        type: 2,
        sack: Buffer.from([1, 2, 3, 4]),
        payload: Buffer.alloc(0),
      }),
      encodePacket({ ...utpHeader, type: 0, payload: Buffer.from('0000000d0600000001', 'hex') }),
      encodePacket({ ...utpHeader, type: 1, payload: Buffer.alloc(0) }),
    ],
    run: (b) => {
      if (b.length > 0 && b[0]! & 1) {
        const p = parsePacket(b)
        if (p.payload.length > b.length - 20) throw new Error('payload past the datagram')
      } else utp.receive(b, `127.0.0.${2 + (datagrams & 7)}`, 1024 + (datagrams++ % 1000))
    },
    expected: (e) => e instanceof UtpPacketError,
  },
]

let failed = false
for (const t of targets) {
  if (only && t.name !== only) continue
  const before = heap()
  const started = Date.now()
  let crashes = 0
  let refused = 0
  let peakRss = process.memoryUsage().rss
  for (let i = 0; i < runs; i++) {
    if (i % 10_000 === 0) {
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
      // Let timers and socket callbacks run, as they would between datagrams.
      if (t.name === 'DHT message' || t.name === 'uTP packet') await new Promise(setImmediate)
    }
    const input = i % 4 === 0 ? randomBytes(Math.floor(rand() * 600)) : mutate(pick(t.seeds))
    try {
      t.run(input)
    } catch (err) {
      if (t.expected(err)) {
        refused++
        continue
      }
      if (++crashes <= 3)
        console.log(
          `  crash in ${t.name}: ${String(err)}\n    input ${input.toString('hex').slice(0, 400)}`,
        )
    }
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
  const grown = (heap() - before) / 1024 / 1024
  const secs = (Date.now() - started) / 1000
  console.log(
    `${t.name.padEnd(16)} ${runs} inputs in ${secs.toFixed(0)} s: ${crashes} crashes, ` +
      `${refused} refused, heap ${grown >= 0 ? '+' : ''}${grown.toFixed(1)} MB, ` +
      `peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MB`,
  )
  if (crashes > 0 || grown > 16) failed = true
}

await dht.close()
dhtSocket.close()
utp.close()

if (!only || only === 'seeder') {
  // BEP 52 hash requests with random pieces roots over a real socket (the leak of issue 14).
  const fx = await makeSeedFixture('mktorrent')
  const seeder = await startSeeder({ host: '127.0.0.1', port: 0, root: fx.dataDir })
  seeder.add(fx.torrent, fx.paths)
  const socket = net.connect(seeder.port, '127.0.0.1')
  await new Promise((r) => socket.once('connect', r))
  let received = 0
  socket.on('data', (d) => (received += d.length))
  socket.write(
    encodeHandshake(fx.torrent.infoHash!, Buffer.alloc(20, 5), {
      fast: true,
      extended: false,
      v2: true,
    }),
  )
  const rss0 = process.memoryUsage().rss
  const before = heap()
  const batch = 10_000
  for (let sent = 0; sent < runs; sent += batch) {
    const parts: Buffer[] = []
    for (let i = 0; i < batch; i++)
      parts.push(
        encodeHashRequest({
          piecesRoot: randomBytes(32),
          baseLayer: 0,
          index: 0,
          length: 2,
          proofLayers: 0,
        }),
      )
    if (!socket.write(Buffer.concat(parts))) await new Promise((r) => socket.once('drain', r))
    // Wait for the answers (a 49-byte hash reject each) so the seeder is not just buffering.
    while (received < (sent + batch) * 49 * 0.99 && !socket.destroyed)
      await new Promise((r) => setTimeout(r, 5))
  }
  const grown = (heap() - before) / 1024 / 1024
  const rss = (process.memoryUsage().rss - rss0) / 1024 / 1024
  console.log(
    `seeder           ${runs} hash requests, random roots: heap ${grown >= 0 ? '+' : ''}${grown.toFixed(1)} MB, ` +
      `rss ${rss >= 0 ? '+' : ''}${rss.toFixed(1)} MB, connection ${socket.destroyed ? 'closed' : 'open'}`,
  )
  if (grown > 25) failed = true
  socket.destroy()
  await seeder.close()
  await fx.remove()
}

console.log(`seed ${seed}${failed ? ': FAILED' : ''}`)
process.exit(failed ? 1 : 0)
