import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import net from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import v8 from 'node:v8'
import { symlink, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import vm from 'node:vm'
import { decode } from '../bencode/index.ts'
import { startSeeder, type Seeder } from './index.ts'
import { MessageFramer } from './framer.ts'
import { allowedFastSet } from './allowed-fast.ts'
import type { Message } from './wire.ts'
import {
  encodeExtended,
  encodeHandshake,
  encodeHashRequest,
  encodeRequest,
  HAVE_NONE,
  INTERESTED,
  NOT_INTERESTED,
} from './encode.ts'
import { makeSeedFixture, type SeedFixture } from '../../test/seed-fixture.ts'
import { libtorrent, tool } from '../../test/tools.ts'

/** A bare peer-wire client that records everything the seeder sends. */
class WireClient {
  readonly socket: net.Socket
  readonly framer = new MessageFramer()
  readonly messages: Message[] = []
  closed = false
  private waiters: Array<() => void> = []

  constructor(
    port: number,
    limits: { pieceCount: number; pieceLength: number; length: number },
    portLate?: number,
  ) {
    this.socket = net.connect(portLate ?? port, '127.0.0.1')
    this.socket.on('data', (chunk) => {
      this.framer.push(chunk)
      if (!this.framer.limits) {
        if (!this.framer.readHandshake()) return
        this.framer.limits = limits
        this.messages.push({ type: 'unknown', id: -1, length: 68 }) // marks the handshake
      }
      for (let m = this.framer.readMessage(); m; m = this.framer.readMessage())
        this.messages.push(m)
      this.wake()
    })
    this.socket.on('close', () => {
      this.closed = true
      this.wake()
    })
    this.socket.on('error', () => {})
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }

  async until(pred: () => boolean, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms
    while (!pred()) {
      if (Date.now() > deadline)
        throw new Error(`timed out; got ${this.messages.map((m) => m.type).join(',')}`)
      await new Promise<void>((r) => {
        this.waiters.push(r)
        setTimeout(r, 50)
      })
    }
  }

  find<T extends Message['type']>(type: T): Array<Message & { type: T }> {
    return this.messages.filter((m) => m.type === type) as Array<Message & { type: T }>
  }

  send(buf: Buffer): void {
    this.socket.write(buf)
  }

  end(): void {
    this.socket.destroy()
  }
}

const opts = { fast: true, extended: true, v2: false }

/** Heap in use after a full collection, so growth reads as what stays, not garbage. */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  gc()
  gc()
  return process.memoryUsage().heapUsed
}
const peerId = Buffer.from('-TS0001-000000000000')

describe.skipIf(!tool('mktorrent').found)('seeder on the wire', () => {
  let fx: SeedFixture
  let seeder: Seeder
  const clients: WireClient[] = []
  const connect = () => {
    const c = new WireClient(seeder.port, fx.torrent)
    clients.push(c)
    return c
  }
  const whole = () => Buffer.concat(fx.files.map((f) => f.bytes))

  beforeAll(async () => {
    fx = await makeSeedFixture('mktorrent')
    seeder = await startSeeder({ host: '127.0.0.1', port: 0, uploadSlots: 2, maxPerIp: 6 })
    seeder.add(fx.torrent, fx.paths)
  })
  afterAll(async () => {
    for (const c of clients) c.end()
    await seeder?.close()
    await fx?.remove()
  })

  it('handshakes, offers ut_metadata and serves the exact info bytes', async () => {
    const c = connect()
    c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
    c.send(encodeExtended(0, Buffer.from('d1:md11:ut_metadatai7eee')))
    await c.until(() => c.find('have_all').length === 1 && c.find('extended').length === 1)
    const hs = decode(c.find('extended')[0].payload) as Record<string, unknown>
    expect(hs.metadata_size).toBe(fx.torrent.info.length)
    expect(hs.upload_only).toBe(1)
    const metadataId = (hs.m as Record<string, number>).ut_metadata
    const pieces = Math.ceil(fx.torrent.info.length / 16384)
    for (let p = 0; p < pieces; p++)
      c.send(encodeExtended(metadataId, Buffer.from(`d8:msg_typei0e5:piecei${p}ee`)))
    await c.until(() => c.find('extended').length === 1 + pieces)
    const parts = c
      .find('extended')
      .slice(1)
      .map((m) => {
        expect(m.extId).toBe(7)
        const end = m.payload.indexOf('ee') + 2
        return m.payload.subarray(end)
      })
    const info = Buffer.concat(parts)
    expect(createHash('sha1').update(info).digest().equals(fx.torrent.infoHash!)).toBe(true)
  })

  it('serves every block byte for byte, across file boundaries, once unchoked', async () => {
    const c = connect()
    c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
    c.send(INTERESTED)
    await c.until(() => c.find('unchoke').length === 1)
    const { pieceLength, length } = fx.torrent
    let expected = 0
    for (let off = 0; off < length; off += 16384) {
      const index = Math.floor(off / pieceLength)
      c.send(
        encodeRequest({
          index,
          begin: off - index * pieceLength,
          length: Math.min(16384, length - off),
        }),
      )
      expected++
    }
    await c.until(() => c.find('piece').length === expected)
    const got = Buffer.alloc(length)
    for (const p of c.find('piece')) p.block.copy(got, p.index * pieceLength + p.begin)
    expect(got.equals(whole())).toBe(true)
    expect(seeder.stats().torrents[0].uploaded).toBeGreaterThanOrEqual(length)
    // What its announces report (lib/peer/announce.ts): the same count, under the torrent's key.
    expect(seeder.uploaded(fx.torrent.infoHash!)).toBe(seeder.stats().torrents[0].uploaded)
    expect(seeder.uploaded(Buffer.alloc(20))).toBe(0)
  })

  it('speaks again once the peer speaks after the handshake, so Transmission 3 reads our have_all', async () => {
    // Transmission before 4.1 parses what came in the same read as our handshake only when
    // more bytes arrive; it answers the handshake with its own messages and waits.
    const c = connect()
    c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
    await c.until(() => c.find('have_all').length === 1)
    expect(c.find('keepalive')).toHaveLength(0)
    c.send(HAVE_NONE)
    await c.until(() => c.find('keepalive').length === 1)
    c.send(HAVE_NONE)
    c.send(INTERESTED)
    await c.until(() => c.find('unchoke').length === 1)
    expect(c.find('keepalive')).toHaveLength(1)
    c.end()
  })

  it('rejects requests from a choked peer (BEP 6) and keeps the connection', async () => {
    const c = connect()
    c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
    await c.until(() => c.find('have_all').length === 1)
    const allowed = allowedFastSet(5, fx.torrent.pieceCount, fx.torrent.infoHash!, '127.0.0.1')
    const index = [...Array(fx.torrent.pieceCount).keys()].find((i) => !allowed.includes(i))
    c.send(encodeRequest({ index: index ?? 0, begin: 0, length: 16384 }))
    await c.until(() => c.find('reject').length === 1)
    expect(c.find('piece')).toHaveLength(0)
    expect(c.closed).toBe(false)
  })

  it('lets a choked newcomer fetch its allowed fast pieces (BEP 6), once each', async () => {
    const c = connect()
    c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
    const allowed = allowedFastSet(5, fx.torrent.pieceCount, fx.torrent.infoHash!, '127.0.0.1')
    await c.until(() => c.find('allowed_fast').length === allowed.length)
    expect(c.find('allowed_fast').map((m) => m.index)).toEqual(allowed)
    expect(c.find('unchoke')).toHaveLength(0)
    const { pieceLength } = fx.torrent
    const index = allowed[0]
    const blocks = Math.min(pieceLength, fx.torrent.length - index * pieceLength) / 16384
    for (let b = 0; b < Math.ceil(blocks); b++) {
      const begin = b * 16384
      const length = Math.min(16384, fx.torrent.length - index * pieceLength - begin)
      c.send(encodeRequest({ index, begin, length }))
    }
    await c.until(() => c.find('piece').length === Math.ceil(blocks))
    const piece = whole().subarray(index * pieceLength, (index + 1) * pieceLength)
    const got = Buffer.concat(c.find('piece').map((p) => p.block))
    expect(got.equals(piece)).toBe(true)
    expect(c.find('reject')).toHaveLength(0)
    c.end()
  })

  it('closes only the connection that sends an out-of-range or oversized request', async () => {
    const good = connect()
    good.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
    good.send(NOT_INTERESTED)
    const bad = connect()
    bad.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
    await bad.until(() => bad.find('have_all').length === 1)
    bad.send(encodeRequest({ index: fx.torrent.pieceCount, begin: 0, length: 16384 }))
    await bad.until(() => bad.closed)
    const big = connect()
    big.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
    const frame = Buffer.alloc(17)
    frame.writeUInt32BE(13, 0)
    frame[4] = 6
    frame.writeUInt32BE(32768, 13) // 32 KiB: more than any client asks
    big.send(frame)
    await big.until(() => big.closed)
    await good.until(() => good.find('have_all').length === 1)
    expect(good.closed).toBe(false)
  })

  it('refuses unknown info-hashes and connections past the per-IP limit', async () => {
    const stranger = connect()
    stranger.send(encodeHandshake(Buffer.alloc(20, 0xab), peerId, opts))
    await stranger.until(() => stranger.closed)
    const more = Array.from({ length: 8 }, () => connect())
    await Promise.all(more.map((c) => c.until(() => c.closed || c.socket.readyState === 'open')))
    await new Promise((r) => setTimeout(r, 200))
    const open = clients.filter((c) => !c.closed).length
    expect(open).toBeLessThanOrEqual(6)
  })

  it('sends a bitfield, not have_all, to a peer without the fast extension', async () => {
    for (const old of clients) old.end()
    await new Promise((r) => setTimeout(r, 100))
    const c = connect()
    c.send(
      encodeHandshake(fx.torrent.infoHash!, peerId, { fast: false, extended: false, v2: false }),
    )
    await c.until(() => c.find('bitfield').length === 1)
    const bits = c.find('bitfield')[0].bitfield
    expect(bits.length).toBe(Math.ceil(fx.torrent.pieceCount / 8))
    expect(c.find('have_all')).toHaveLength(0)
    expect(c.find('extended')).toHaveLength(0)
  })
})

describe.skipIf(!tool('mktorrent').found)('seeder counters for the stats flush', () => {
  it("keeps a removed torrent's last uploaded bytes for the flush, whatever /metrics read between", async () => {
    const fx = await makeSeedFixture('mktorrent')
    const seeder = await startSeeder({ host: '127.0.0.1', port: 0 })
    const c = new WireClient(seeder.port, fx.torrent)
    try {
      seeder.add(fx.torrent, fx.paths)
      c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
      c.send(INTERESTED)
      await c.until(() => c.find('unchoke').length === 1)
      c.send(encodeRequest({ index: 0, begin: 0, length: 16384 }))
      await c.until(() => c.find('piece').length === 1)

      const key = fx.torrent.infoHash!.toString('hex')
      const flushed = () => seeder.takeCounters().filter((t) => t.infoHash === key)
      expect(flushed().map((t) => t.uploaded)).toEqual([16384])
      c.send(encodeRequest({ index: 0, begin: 16384, length: 16384 }))
      await c.until(() => c.find('piece').length === 2)
      seeder.remove(fx.torrent.infoHash!)
      // A /metrics scrape between the removal and the flush.
      expect(seeder.stats().torrents).toEqual([])
      expect(seeder.stats().uploaded).toBe(32768)
      // The flush still gets the bytes sent since it last read, once.
      expect(flushed().map((t) => t.uploaded)).toEqual([32768])
      expect(flushed()).toEqual([])
    } finally {
      c.end()
      await seeder.close()
      await fx.remove()
    }
  })
})

describe.skipIf(!libtorrent().found)('seeder with a hybrid torrent', () => {
  it('answers BEP 52 hash requests for the piece layer under the truncated v2 info-hash', async () => {
    const fx = await makeSeedFixture('libtorrent', { artifactSize: 200_000, pieceLength: 16384 })
    const seeder = await startSeeder({ host: '127.0.0.1', port: 0 })
    try {
      seeder.add(fx.torrent, fx.paths)
      const iso = fx.torrent.files.find((f) => f.path[0].endsWith('.iso'))!
      const layer = fx.torrent.pieceLayers.get(iso.piecesRoot!.toString('hex'))!
      const c = new WireClient(seeder.port, fx.torrent)
      c.send(encodeHandshake(fx.torrent.infoHashV2!.subarray(0, 20), peerId, { ...opts, v2: true }))
      const req = { piecesRoot: iso.piecesRoot!, baseLayer: 0, index: 0, length: 4, proofLayers: 2 }
      c.send(encodeHashRequest(req))
      c.send(encodeHashRequest({ ...req, piecesRoot: Buffer.alloc(32, 1) }))
      await c.until(() => c.find('hashes').length + c.find('hash_reject').length === 2)
      const hashes = c.find('hashes')[0].hashes
      expect(hashes.subarray(0, 4 * 32).equals(layer.subarray(0, 4 * 32))).toBe(true)
      expect(c.find('hash_reject')[0].request.piecesRoot.equals(Buffer.alloc(32, 1))).toBe(true)
      c.end()
    } finally {
      await seeder.close()
      await fx.remove()
    }
  })
})

describe.skipIf(!tool('mktorrent').found)('seeder limits', () => {
  it('refuses a published file replaced by a symlink out of the mirror root', async () => {
    const fx = await makeSeedFixture('mktorrent')
    const seeder = await startSeeder({ host: '127.0.0.1', port: 0, root: fx.dataDir })
    const c = new WireClient(0, fx.torrent, seeder.port)
    try {
      const i = fx.torrent.files.findIndex((f) => f.path.at(-1)!.endsWith('.DIGESTS'))
      const file = fx.torrent.files[i]!
      const secret = Buffer.alloc(file.length, 's')
      await writeFile(path.join(fx.dir, 'secret'), secret)
      await unlink(fx.paths[i]!)
      await symlink(path.join(fx.dir, 'secret'), fx.paths[i]!)
      seeder.add(fx.torrent, fx.paths)
      c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
      c.send(INTERESTED)
      await c.until(() => c.find('unchoke').length === 1)
      const index = Math.floor(file.offset / fx.torrent.pieceLength)
      const begin = file.offset - index * fx.torrent.pieceLength
      const length = Math.min(file.length, fx.torrent.pieceLength - begin, 16384)
      c.send(encodeRequest({ index, begin, length }))
      await c.until(() => c.closed || c.find('piece').length > 0 || c.find('reject').length > 0)
      for (const m of c.find('piece')) expect(m.block.includes(secret.subarray(0, 64))).toBe(false)
      expect(c.find('piece')).toHaveLength(0)
    } finally {
      c.end()
      await seeder.close()
      await fx.remove()
    }
  })

  it('keeps no memory for BEP 52 hash requests naming roots the torrent does not have', async () => {
    const fx = await makeSeedFixture('mktorrent', { artifactSize: 400_000 })
    const seeder = await startSeeder({ host: '127.0.0.1', port: 0 })
    const c = new WireClient(0, fx.torrent, seeder.port)
    try {
      seeder.add(fx.torrent, fx.paths)
      c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
      await c.until(() => c.find('have_all').length === 1)
      const before = heapAfterGc()
      // 200k requests: the seeder that cached a miss per root kept ~22 MB of them.
      const count = 200_000
      for (let sent = 0; sent < count; sent += 10_000) {
        const batch: Buffer[] = []
        for (let i = 0; i < 10_000; i++) {
          const req = {
            piecesRoot: randomBytes(32),
            baseLayer: 0,
            index: 0,
            length: 2,
            proofLayers: 0,
          }
          batch.push(encodeHashRequest(req))
        }
        c.send(Buffer.concat(batch))
        await c.until(() => c.find('hash_reject').length >= 10_000, 20_000)
        c.messages.length = 0
      }
      expect(c.closed).toBe(false)
      expect(heapAfterGc() - before).toBeLessThan(4 * 1024 * 1024)
    } finally {
      c.end()
      await seeder.close()
      await fx.remove()
    }
  })

  it('holds bounded memory for a peer that requests much and reads nothing', async () => {
    const fx = await makeSeedFixture('mktorrent', { artifactSize: 4_000_000, pieceLength: 262144 })
    const seeder = await startSeeder({ host: '127.0.0.1', port: 0 })
    const c = new WireClient(0, fx.torrent, seeder.port)
    try {
      seeder.add(fx.torrent, fx.paths)
      c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
      c.send(INTERESTED)
      await c.until(() => c.find('unchoke').length === 1)
      c.socket.pause()
      // Ask for the whole torrent 4 times over: 60+ MB if the seeder buffered it all.
      const { pieceLength, length } = fx.torrent
      const requests: Buffer[] = []
      for (let round = 0; round < 4; round++) {
        for (let off = 0; off + 16384 <= length; off += 16384) {
          const index = Math.floor(off / pieceLength)
          requests.push(encodeRequest({ index, begin: off - index * pieceLength, length: 16384 }))
        }
      }
      c.send(Buffer.concat(requests))
      let peak = 0
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 50))
        peak = Math.max(peak, seeder.stats().buffered)
      }
      expect(peak).toBeGreaterThan(0)
      expect(peak).toBeLessThan(4 * 1024 * 1024)
      expect(seeder.stats().uploaded).toBeLessThan(40 * 1024 * 1024)
    } finally {
      c.end()
      await seeder.close()
      await fx.remove()
    }
  })

  it('keeps to the global upload rate', async () => {
    const fx = await makeSeedFixture('mktorrent', { artifactSize: 1_000_000, pieceLength: 65536 })
    const rate = 400_000
    const seeder = await startSeeder({ host: '127.0.0.1', port: 0, uploadRate: rate })
    const c = new WireClient(0, fx.torrent, seeder.port)
    try {
      seeder.add(fx.torrent, fx.paths)
      c.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
      c.send(INTERESTED)
      await c.until(() => c.find('unchoke').length === 1)
      const start = Date.now()
      const { pieceLength, length } = fx.torrent
      let count = 0
      for (let off = 0; off < length; off += 16384) {
        const index = Math.floor(off / pieceLength)
        c.send(
          encodeRequest({
            index,
            begin: off - index * pieceLength,
            length: Math.min(16384, length - off),
          }),
        )
        count++
      }
      await c.until(() => c.find('piece').length === count, 15_000)
      const seconds = (Date.now() - start) / 1000
      // A quarter second of burst, then the rate: the whole transfer cannot be much faster.
      expect(seconds).toBeGreaterThan((length - rate / 4) / rate - 0.2)
      expect(seconds).toBeLessThan(length / rate + 3)
    } finally {
      c.end()
      await seeder.close()
      await fx.remove()
    }
  })
})

describe.skipIf(!tool('mktorrent').found)('seeder peer exchange (BEP 11)', () => {
  it('tells each downloader of the others it is connected to, with their listen ports', async () => {
    const fx = await makeSeedFixture('mktorrent')
    const seeder = await startSeeder({ host: '127.0.0.1', port: 0, sweepMs: 50 })
    const clients: WireClient[] = []
    try {
      seeder.add(fx.torrent, fx.paths)
      // Three downloaders join one after the other, each once the seeder has read its
      // extension handshake (the keep-alive answering it says so): the third does not take
      // ut_pex, B prefers encryption.
      const join = async (ext: string) => {
        const w = await handshaken(seeder, fx, clients)
        w.send(encodeExtended(0, Buffer.from(ext)))
        await w.until(() => w.find('keepalive').length === 1)
        return w
      }
      const c = await join('d1:md11:ut_metadatai2ee1:pi7003ee')
      const b = await join('d1:md6:ut_pexi9ee1:ei1e1:pi7002ee')
      const a = await join('d1:md6:ut_pexi9ee1:pi7001ee')
      const pexOf = (w: WireClient) =>
        w
          .find('extended')
          .filter((m) => m.extId === 9)
          .map((m) => decode(m.payload))
      await a.until(() => pexOf(a).length === 1)
      await b.until(() => pexOf(b).length === 1)
      const compact = (port: number) => hexOf(Buffer.from([127, 0, 0, 1, port >> 8, port & 0xff]))
      const toA = pexOf(a)[0] as Record<string, Buffer>
      const toB = pexOf(b)[0] as Record<string, Buffer>
      // Every other peer, never the one told, with the port it listens on.
      expect(new Set(chunks(toA.added))).toEqual(new Set([compact(7002), compact(7003)]))
      expect(chunks(toB.added)).toContain(compact(7003))
      expect(chunks(toB.added)).not.toContain(compact(7002))
      const flagOfB = toA['added.f'][chunks(toA.added).indexOf(compact(7002))]
      expect(flagOfB & 0x01).toBe(1)
      // No peer exchange for a peer that did not ask for it.
      await new Promise((r) => setTimeout(r, 200))
      expect(c.find('extended').filter((m) => m.extId !== 0)).toHaveLength(0)
      // At most one message a minute, even as the sweep keeps coming round.
      expect(pexOf(a)).toHaveLength(1)
    } finally {
      for (const c of clients) c.end()
      await seeder.close()
      await fx.remove()
    }
  })
})

/** A downloader that has shaken hands and read our have_all; kept in `clients` to be ended. */
async function handshaken(
  seeder: Seeder,
  fx: SeedFixture,
  clients: WireClient[],
): Promise<WireClient> {
  const w = new WireClient(seeder.port, fx.torrent)
  clients.push(w)
  w.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
  await w.until(() => w.find('have_all').length === 1)
  return w
}

function hexOf(b: Buffer): string {
  return b.toString('hex')
}

/** The 6-byte IPv4 contacts of a compact list, in hex. */
function chunks(list: Buffer): string[] {
  const out: string[] = []
  for (let i = 0; i + 6 <= list.length; i += 6) out.push(hexOf(list.subarray(i, i + 6)))
  return out
}

describe.skipIf(!tool('mktorrent').found)('seeder with peer exchange off', () => {
  it('neither offers ut_pex nor sends it', async () => {
    const fx = await makeSeedFixture('mktorrent')
    const seeder = await startSeeder({ host: '127.0.0.1', port: 0, sweepMs: 50, pex: false })
    const clients: WireClient[] = []
    try {
      seeder.add(fx.torrent, fx.paths)
      for (const port of [7001, 7002]) {
        const w = new WireClient(seeder.port, fx.torrent)
        clients.push(w)
        w.send(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
        w.send(encodeExtended(0, Buffer.from(`d1:md6:ut_pexi9ee1:pi${port}ee`)))
        await w.until(() => w.find('extended').length === 1)
        const hs = decode(w.find('extended')[0].payload) as Record<string, Record<string, number>>
        expect(hs.m.ut_pex).toBeUndefined()
      }
      await new Promise((r) => setTimeout(r, 300))
      for (const w of clients) expect(w.find('extended')).toHaveLength(1)
    } finally {
      for (const c of clients) c.end()
      await seeder.close()
      await fx.remove()
    }
  })
})

describe.skipIf(!tool('mktorrent').found)('seeder when a crowd forms (lt_donthave)', () => {
  it('withdraws the pieces an early peer lacks and super-seeds it; a peer that cannot be told keeps them', async () => {
    const fx = await makeSeedFixture('mktorrent')
    let crowd = false
    const seeder = await startSeeder({
      host: '127.0.0.1',
      port: 0,
      superSeed: { crowded: () => crowd, offersPerPeer: 1, forwardWaitMs: 60_000 },
    })
    const clients: WireClient[] = []
    try {
      seeder.add(fx.torrent, fx.paths)
      const join = async (ext: string) => {
        const w = await handshaken(seeder, fx, clients)
        w.send(encodeExtended(0, Buffer.from(ext)))
        w.send(INTERESTED)
        await w.until(() => w.find('unchoke').length === 1)
        return w
      }
      const early = await join('d1:md11:lt_donthavei5eee')
      const plain = await join('d1:md11:ut_metadatai2eee')
      crowd = true
      const { pieceCount } = fx.torrent
      const withdrawn = () => early.find('extended').filter((m) => m.extId === 5)
      await early.until(() => withdrawn().length === pieceCount && early.find('have').length === 1)
      expect(withdrawn().map((m) => m.payload.readUInt32BE(0))).toEqual([
        ...Array(pieceCount).keys(),
      ])
      // No longer a seed to it (BEP 21): a second extension handshake says so.
      const handshakes = early.find('extended').filter((m) => m.extId === 0)
      expect(
        (decode(handshakes[handshakes.length - 1].payload) as Record<string, unknown>).upload_only,
      ).toBe(0)
      const offered = early.find('have')[0].index
      const other = offered === 0 ? 1 : 0
      early.send(encodeRequest({ index: other, begin: 0, length: 16384 }))
      early.send(encodeRequest({ index: offered, begin: 0, length: 16384 }))
      await early.until(() => early.find('reject').length === 1 && early.find('piece').length === 1)
      expect(early.find('reject')[0].index).toBe(other)
      expect(early.find('piece')[0].index).toBe(offered)
      // The peer without lt_donthave was shown every piece and may still fetch any.
      plain.send(encodeRequest({ index: other, begin: 0, length: 16384 }))
      await plain.until(() => plain.find('piece').length === 1)
      expect(plain.find('extended').filter((m) => m.extId !== 0)).toHaveLength(0)
    } finally {
      for (const c of clients) c.end()
      await seeder.close()
      await fx.remove()
    }
  })
})
