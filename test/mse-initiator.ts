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
      return { msg, encrypt, decrypt }
    },
  }
}
