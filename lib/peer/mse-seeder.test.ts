import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import net from 'node:net'
import { startSeeder, type Seeder } from './index.ts'
import { MessageFramer } from './framer.ts'
import type { Message } from './wire.ts'
import { encodeHandshake, encodeRequest, INTERESTED } from './encode.ts'
import { CRYPTO_PLAINTEXT, CRYPTO_RC4 } from './mse.ts'
import { makeSeedFixture, type SeedFixture } from '../../test/seed-fixture.ts'
import { mseConnect } from '../../test/mse-initiator.ts'
import { tool } from '../../test/tools.ts'

const peerId = Buffer.from('-TS0001-000000000000')
const opts = { fast: true, extended: false, v2: false }

describe.skipIf(!tool('mktorrent').found)('seeder under message stream encryption', () => {
  let fx: SeedFixture
  let seeder: Seeder
  beforeAll(async () => {
    fx = await makeSeedFixture('mktorrent')
    seeder = await startSeeder({ host: '127.0.0.1', port: 0 })
    seeder.add(fx.torrent, fx.paths)
  })
  afterAll(async () => {
    await seeder?.close()
    await fx?.remove()
  })

  /** Handshakes under MSE, asks for the first 16 KiB, and returns them with the method used. */
  async function firstBlock(provide: number) {
    const ih = fx.torrent.infoHash!
    const conn = await mseConnect(seeder.port, ih, provide, encodeHandshake(ih, peerId, opts))
    const framer = new MessageFramer()
    const messages: Message[] = []
    let handshake = false
    const piece = new Promise<Message & { type: 'piece' }>((resolve, reject) => {
      conn.socket.on('close', () => reject(new Error('closed')))
      conn.onData((chunk) => {
        framer.push(chunk)
        if (!handshake) {
          if (!framer.readHandshake()) return
          handshake = true
          framer.limits = fx.torrent
          conn.write(INTERESTED)
        }
        for (let m = framer.readMessage(); m; m = framer.readMessage()) {
          messages.push(m)
          if (m.type === 'unchoke') conn.write(encodeRequest({ index: 0, begin: 0, length: 16384 }))
          if (m.type === 'piece') resolve(m)
        }
      })
    })
    try {
      const m = await piece
      return { method: conn.method, block: m.block, types: messages.map((x) => x.type) }
    } finally {
      conn.socket.destroy()
    }
  }

  const whole = () => Buffer.concat(fx.files.map((f) => f.bytes))

  it('serves a peer that requires RC4, every byte encrypted both ways', async () => {
    const r = await firstBlock(CRYPTO_RC4)
    expect(r.method).toBe('rc4')
    expect(r.types[0]).toBe('have_all')
    expect(r.block.equals(whole().subarray(0, 16384))).toBe(true)
  })

  it('picks plaintext after the key exchange when the peer offers both (the cheap path)', async () => {
    const r = await firstBlock(CRYPTO_PLAINTEXT | CRYPTO_RC4)
    expect(r.method).toBe('plaintext')
    expect(r.block.equals(whole().subarray(0, 16384))).toBe(true)
  })

  it('still answers plaintext handshakes on the same port', async () => {
    const socket = net.connect(seeder.port, '127.0.0.1')
    socket.write(encodeHandshake(fx.torrent.infoHash!, peerId, opts))
    const reply = await new Promise<Buffer>((resolve) => socket.once('data', resolve))
    socket.destroy()
    expect(reply.subarray(0, 20).toString('latin1')).toBe('\x13BitTorrent protocol')
  })

  it('closes a connection whose key exchange names no torrent, and keeps serving others', async () => {
    await expect(
      mseConnect(seeder.port, Buffer.alloc(20, 9), CRYPTO_RC4, Buffer.alloc(0)),
    ).rejects.toThrow(/closed/)
    expect((await firstBlock(CRYPTO_RC4)).method).toBe('rc4')
  })
})
