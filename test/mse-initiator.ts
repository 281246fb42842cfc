import net from 'node:net'
import { createDiffieHellman, createHash, randomBytes } from 'node:crypto'
import { MSE_PRIME } from '../lib/peer/mse.ts'
import { Rc4 } from '../lib/peer/rc4.ts'

const sha1 = (...parts: Array<string | Uint8Array>) => {
  const h = createHash('sha1')
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p) : p)
  return h.digest()
}

/** Creating a DH object checks the prime (slow); key pairs from one object are cheap. */
const group = createDiffieHellman(MSE_PRIME, 2)

/**
 * The initiating side of MSE, written from the spec independently of the seeder's responder, as
 * a client does it: Ya+PadA, then (after Yb) HASH('req1', S), HASH('req2', SKEY) xor
 * HASH('req3', S), ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA).
 */
export function mseInitiator(skey: Buffer, provide: number, ia: Buffer, padA = 37, padC = 5) {
  group.setPrivateKey(randomBytes(20))
  group.generateKeys()
  const priv = group.getPrivateKey()
  const ya = Buffer.alloc(96)
  const pub = group.getPublicKey()
  pub.copy(ya, 96 - pub.length)
  return {
    first: Buffer.concat([ya, randomBytes(padA)]),
    third(yb: Buffer) {
      group.setPrivateKey(priv)
      const s = Buffer.alloc(96)
      const raw = group.computeSecret(yb)
      raw.copy(s, 96 - raw.length)
      const mask = sha1('req3', s)
      const obf = sha1('req2', skey).map((b, i) => b ^ mask[i])
      const encrypt = new Rc4(sha1('keyA', s, skey), 1024)
      const decrypt = new Rc4(sha1('keyB', s, skey), 1024)
      const body = Buffer.alloc(8 + 4 + 2 + padC + 2)
      body.writeUInt32BE(provide, 8)
      body.writeUInt16BE(padC, 12)
      body.writeUInt16BE(ia.length, 14 + padC)
      const msg = Buffer.concat([
        sha1('req1', s),
        Buffer.from(obf),
        encrypt.update(body),
        encrypt.update(Buffer.from(ia)),
      ])
      // ENCRYPT(VC) as the responder sends it: how its reply is found after PadB.
      const vc = new Rc4(sha1('keyB', s, skey), 1024).update(Buffer.alloc(8))
      return { msg, encrypt, decrypt, vc }
    },
  }
}

/** An MSE connection from the initiating side, after the handshake: payload in and out. */
export interface MseConnection {
  socket: net.Socket
  method: 'plaintext' | 'rc4'
  /** Sends payload bytes (encrypted when RC4 was selected). */
  write(buf: Buffer): void
  /** Payload bytes as they arrive, decrypted, from the first byte after the handshake. */
  onData(listener: (chunk: Buffer) => void): void
}

/**
 * Connects to `host:port` and runs the initiator's MSE handshake over TCP, with `ia` (the
 * BitTorrent handshake, as clients send it) as the initial payload. It finds the seeder's reply
 * by its encrypted verification constant after PadB of unknown length, as clients do.
 */
export function mseConnect(
  port: number,
  skey: Buffer,
  provide: number,
  ia: Buffer,
  host = '127.0.0.1',
): Promise<MseConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host)
    const a = mseInitiator(skey, provide, ia)
    socket.write(a.first)
    let got = Buffer.alloc(0)
    let keys: ReturnType<typeof a.third> | null = null
    socket.on('error', reject)
    socket.on('close', () => reject(new Error('the seeder closed the MSE connection')))
    socket.on('data', function handshake(chunk: Buffer) {
      got = Buffer.concat([got, chunk])
      if (!keys) {
        if (got.length < 96) return
        keys = a.third(got.subarray(0, 96))
        socket.write(keys.msg)
        got = got.subarray(96)
      }
      const at = got.indexOf(keys.vc)
      if (at < 0 || got.length < at + 14) return
      const header = keys.decrypt.update(Buffer.from(got.subarray(at, at + 14)))
      const padD = header.readUInt16BE(12)
      if (got.length < at + 14 + padD) return
      keys.decrypt.update(Buffer.from(got.subarray(at + 14, at + 14 + padD)))
      const method = header.readUInt32BE(8) === 2 ? 'rc4' : 'plaintext'
      const { encrypt, decrypt } = keys
      const open = (buf: Buffer) => (method === 'rc4' ? decrypt.update(Buffer.from(buf)) : buf)
      let pending: Buffer[] = [open(got.subarray(at + 14 + padD))]
      let listener: ((chunk: Buffer) => void) | null = null
      socket.off('data', handshake)
      socket.removeAllListeners('close')
      socket.on('data', (c: Buffer) => (listener ? listener(open(c)) : pending.push(open(c))))
      resolve({
        socket,
        method,
        write: (buf) => socket.write(method === 'rc4' ? encrypt.update(Buffer.from(buf)) : buf),
        onData(l) {
          listener = l
          for (const c of pending) if (c.length > 0) l(c)
          pending = []
        },
      })
    })
  })
}
