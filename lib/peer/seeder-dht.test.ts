import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import dgram from 'node:dgram'
import net from 'node:net'
import bencode from 'bencode'
import { startSeeder, type Seeder } from './index.ts'
import { MessageFramer } from './framer.ts'
import { encodeHandshake } from './encode.ts'
import type { Message } from './wire.ts'
import { makeSeedFixture, type SeedFixture } from '../../test/seed-fixture.ts'
import { tool } from '../../test/tools.ts'

/** One KRPC query (BEP 5) over a real UDP socket; resolves with the decoded answer. */
async function krpc(port: number, q: string, a: Record<string, unknown>): Promise<any> {
  const socket = dgram.createSocket('udp4')
  try {
    return await new Promise((resolve, reject) => {
      socket.on('message', (buf) => resolve(bencode.decode(buf)))
      setTimeout(() => reject(new Error(`no answer to ${q}`)), 3000)
      const id = Buffer.alloc(20, 7)
      socket.send(
        bencode.encode({ t: Buffer.from('aa'), y: 'q', q, a: { id, ...a } }),
        port,
        '127.0.0.1',
      )
    })
  } finally {
    socket.close()
  }
}

describe.skipIf(!tool('mktorrent').found)('seeder as a DHT node', () => {
  let fx: SeedFixture
  let seeder: Seeder

  beforeAll(async () => {
    fx = await makeSeedFixture('mktorrent')
    seeder = await startSeeder({
      host: '127.0.0.1',
      port: 0,
      dht: { bootstrap: [], address: '127.0.0.1' },
    })
    seeder.add(fx.torrent, fx.paths)
  })
  afterAll(async () => {
    await seeder?.close()
    await fx?.remove()
  })

  it('answers ping on the peer port with its node id', async () => {
    const r = await krpc(seeder.port, 'ping', {})
    expect(Buffer.from(r.y).toString()).toBe('r')
    expect(Buffer.from(r.r.id).equals(seeder.dhtNodeId!)).toBe(true)
  })

  it('answers get_peers for a torrent it seeds with its own address, and a token', async () => {
    const r = await krpc(seeder.port, 'get_peers', { info_hash: fx.torrent.infoHash })
    const values: Uint8Array[] = r.r.values
    const want = Buffer.from([127, 0, 0, 1, seeder.port >> 8, seeder.port & 0xff])
    expect(values.map((v) => Buffer.from(v).toString('hex'))).toContain(want.toString('hex'))
    expect(r.r.token.length).toBeGreaterThan(0)
  })

  it('gives no values for a torrent it does not seed, and an error for a broken query', async () => {
    const other = await krpc(seeder.port, 'get_peers', { info_hash: Buffer.alloc(20, 1) })
    expect(other.r.values).toBeUndefined()
    const broken = await krpc(seeder.port, 'get_peers', {})
    expect(Buffer.from(broken.y).toString()).toBe('e')
  })

  it('sets the DHT bit in its handshake and sends its port to a peer that set it (BEP 5)', async () => {
    const socket = net.connect(seeder.port, '127.0.0.1')
    const framer = new MessageFramer()
    const messages: Message[] = []
    let reserved: Buffer | null = null
    socket.on('data', (chunk) => {
      framer.push(chunk)
      if (!reserved) {
        const hs = framer.readHandshake()
        if (!hs) return
        reserved = hs.reserved
        framer.limits = fx.torrent
      }
      for (let m = framer.readMessage(); m; m = framer.readMessage()) messages.push(m)
    })
    const hs = encodeHandshake(fx.torrent.infoHash!, Buffer.from('-TS0001-000000000000'), {
      fast: true,
      extended: false,
      v2: false,
      dht: true,
    })
    socket.write(hs)
    const deadline = Date.now() + 3000
    while (!messages.some((m) => m.type === 'port') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    socket.destroy()
    expect(reserved![7] & 0x01).toBe(1)
    expect(messages.find((m) => m.type === 'port')).toEqual({ type: 'port', port: seeder.port })
  })
})
