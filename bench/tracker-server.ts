/**
 * Our tracker alone in its own process, for `bench/tracker.ts`: the same node:http + dgram
 * front ends `mirrorseed serve` uses, whitelisted to the info-hashes in a file.
 *
 *   npx tsx bench/tracker-server.ts HASHES_FILE        prints {"http":PORT,"udp":PORT} and serves
 *   npx tsx bench/tracker-server.ts --floor [front]    the same, answering a constant reply
 *   npx tsx bench/tracker-server.ts --memory P T       fills P peers over T torrents, prints RSS
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Hono } from 'hono'
import { createHttpServer } from '../lib/http/index.ts'
import { handleHttp, startUdp, Tracker } from '../lib/tracker/index.ts'

if (process.argv[2] === '--memory') {
  const peers = Number(process.argv[3] ?? 1_000_000)
  const torrents = Number(process.argv[4] ?? 10_000)
  global.gc?.()
  const before = process.memoryUsage().rss
  const tracker = new Tracker({ rateLimit: null, maxPeers: peers * 2 })
  const hashes = Array.from({ length: torrents }, (_, i) => {
    const hash = Buffer.alloc(20)
    hash.writeUInt32BE(i, 0)
    tracker.allow(hash)
    return hash
  })
  const address = new Uint8Array(4)
  const announce = {
    infoHash: hashes[0],
    peerId: Buffer.alloc(20),
    port: 0,
    uploaded: 0,
    downloaded: 0,
    left: 1 as number | undefined,
    event: 0 as const,
    numWant: 0,
    compact: true,
    ip: undefined,
  }
  for (let i = 0; i < peers; i++) {
    // Distinct address + port per peer, spread over the torrents like a real tracker's.
    address[0] = 10 + (i >>> 24)
    address[1] = (i >>> 16) & 0xff
    address[2] = (i >>> 8) & 0xff
    address[3] = i & 0xff
    announce.infoHash = hashes[i % torrents]
    announce.port = 1024 + (i % 60000)
    announce.left = i % 3 === 0 ? 0 : 1000
    tracker.announce(announce, address, 4, false)
  }
  global.gc?.()
  const rss = process.memoryUsage().rss
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  console.log(
    JSON.stringify({
      peers: tracker.peerTotal,
      torrents,
      rss,
      baseline: before,
      heapUsed,
      arrayBuffers,
    }),
  )
  process.exit(0)
}

if (process.argv[2] === '--floor') {
  // The ceiling of any Node tracker here: node:http and dgram answering a constant reply with
  // no tracker work at all. The distance from it to our figures is what the tracker code costs.
  const body = Buffer.from(
    'd8:completei1e10:incompletei1e8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e',
    'latin1',
  )
  // `--floor front`: the appliance's own HTTP front (lib/http: bare handles first, then node:net,
  // then node:http) with a constant announce route: serve's path from socket to tracker, without
  // the tracker.
  let port: number
  if (process.argv[3] === 'front') {
    const front = createHttpServer(
      new Hono(),
      new Map(),
      new Map(),
      new Map([['/announce', () => body]]),
    )
    port = await front.listen(0, '127.0.0.1')
  } else {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length })
      res.end(body)
    })
    server.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    port = (server.address() as AddressInfo).port
  }
  const { createSocket } = await import('node:dgram')
  const socket = createSocket('udp4')
  socket.on('message', (packet, remote) => {
    if (packet.length < 16) return
    const reply = Buffer.alloc(packet.readUInt32BE(8) === 0 ? 16 : 26)
    reply.writeUInt32BE(packet.readUInt32BE(8), 0)
    reply.writeUInt32BE(packet.readUInt32BE(12), 4)
    socket.send(reply, remote.port, remote.address)
  })
  socket.bind(0, '127.0.0.1')
  await new Promise((resolve) => socket.once('listening', resolve))
  console.log(JSON.stringify({ http: port, udp: socket.address().port }))
  process.on('SIGTERM', () => process.exit(0))
} else {
  const file = process.argv[2]
  if (!file) throw new Error('usage: tracker-server.ts HASHES_FILE | --memory PEERS TORRENTS')
  const tracker = new Tracker({ rateLimit: null })
  for (const line of readFileSync(file, 'utf8').split('\n'))
    if (line.trim()) tracker.allow(line.trim())
  await tracker.start()
  const server = createServer((req, res) => {
    if (!handleHttp(tracker, req, res)) {
      res.statusCode = 404
      res.end()
    }
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const udp = await startUdp(tracker, { host: '127.0.0.1', port: 0 })
  console.log(JSON.stringify({ http: (server.address() as AddressInfo).port, udp: udp.port }))
  process.on('SIGTERM', () => process.exit(0))
}
