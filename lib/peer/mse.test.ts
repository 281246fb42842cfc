import { describe, it, expect } from 'vitest'
import { randomBytes } from 'node:crypto'
import { WireError } from './errors.ts'
import {
  classifyHandshake,
  CRYPTO_PLAINTEXT,
  CRYPTO_RC4,
  MseResponder,
  streamKeyHash,
} from './mse.ts'
import { mseInitiator as initiator } from '../../test/mse-initiator.ts'

const skey = Buffer.alloc(20, 0xab)
const keys = new Map([[streamKeyHash(skey).toString('hex'), skey]])
const lookup = (h: string) => keys.get(h)
const handshake = Buffer.concat([Buffer.from('\x13BitTorrent protocol'), Buffer.alloc(48, 1)])

/** Runs a whole handshake, the initiator's bytes cut into `chunk`-sized pieces. */
function negotiate(provide: number, chunk = 1 << 20, ia = handshake) {
  const a = initiator(skey, provide, ia)
  const b = new MseResponder(lookup)
  const feed = (bytes: Buffer) => {
    const out: Buffer[] = []
    for (let i = 0; i < bytes.length; i += chunk) {
      const step = b.push(bytes.subarray(i, i + chunk))
      if (step.send) out.push(step.send)
      // Done: what is left belongs to the payload stream, not the handshake.
      if (step.accepted) {
        const rest = Buffer.concat([step.accepted.rest, bytes.subarray(i + chunk)])
        return { sent: Buffer.concat(out), accepted: { ...step.accepted, rest } }
      }
    }
    return { sent: Buffer.concat(out), accepted: null }
  }
  const second = feed(a.first)
  expect(second.accepted).toBeNull()
  const yb = second.sent.subarray(0, 96)
  const { msg, encrypt, decrypt } = a.third(yb)
  const fourth = feed(Buffer.concat([msg, encrypt.update(Buffer.from('after'))]))
  return { fourth, decrypt, encrypt }
}

describe('MseResponder', () => {
  it('negotiates plaintext when the peer offers both, and hands over the initial payload', () => {
    const { fourth, decrypt } = negotiate(CRYPTO_PLAINTEXT | CRYPTO_RC4)
    const accepted = fourth.accepted!
    expect(accepted.method).toBe('plaintext')
    expect(accepted.skey.equals(skey)).toBe(true)
    expect(accepted.initialPayload.equals(handshake)).toBe(true)
    // Our reply decrypts to VC, crypto_select = plaintext, len(PadD), PadD.
    const reply = decrypt.update(Buffer.from(fourth.sent))
    expect(reply.subarray(0, 8).equals(Buffer.alloc(8))).toBe(true)
    expect(reply.readUInt32BE(8)).toBe(CRYPTO_PLAINTEXT)
    expect(reply.length).toBe(14 + reply.readUInt16BE(12))
  })

  it('negotiates RC4 when that is all the peer offers; both key streams continue', () => {
    const { fourth, decrypt } = negotiate(CRYPTO_RC4)
    const accepted = fourth.accepted!
    expect(accepted.method).toBe('rc4')
    expect(decrypt.update(Buffer.from(fourth.sent)).readUInt32BE(8)).toBe(CRYPTO_RC4)
    // What followed IA decrypts with the responder's stream; what it sends, with the peer's.
    expect(accepted.decrypt.update(Buffer.from(accepted.rest)).toString()).toBe('after')
    const data = accepted.encrypt.update(Buffer.from('piece'))
    expect(decrypt.update(data).toString()).toBe('piece')
  })

  it('works with the handshake delivered one byte at a time', () => {
    const { fourth } = negotiate(CRYPTO_RC4, 1)
    expect(fourth.accepted!.initialPayload.equals(handshake)).toBe(true)
  })

  it('accepts an empty initial payload (the peer sends its handshake afterwards)', () => {
    const { fourth } = negotiate(CRYPTO_PLAINTEXT, 7, Buffer.alloc(0))
    expect(fourth.accepted!.initialPayload.length).toBe(0)
  })

  it('refuses a stream key that names no torrent we serve', () => {
    const a = initiator(Buffer.alloc(20, 1), CRYPTO_RC4, handshake)
    const b = new MseResponder(lookup)
    const yb = b.push(a.first).send!.subarray(0, 96)
    expect(() => b.push(a.third(yb).msg)).toThrow(
      expect.objectContaining({ code: 'unknown-torrent' }),
    )
  })

  it('gives up when no sync hash comes within 512 bytes of padding', () => {
    const b = new MseResponder(lookup)
    b.push(initiator(skey, CRYPTO_RC4, handshake, 0).first)
    expect(() => b.push(randomBytes(600))).toThrow(WireError)
  })

  it('refuses a DH key outside the group', () => {
    const b = new MseResponder(lookup)
    expect(() => b.push(Buffer.alloc(96))).toThrow(WireError)
  })
})

describe('classifyHandshake', () => {
  it('tells a plaintext handshake from a DH key, reading the whole protocol string', () => {
    expect(classifyHandshake(handshake)).toBe('plaintext')
    expect(classifyHandshake(handshake.subarray(0, 5))).toBe('more')
    expect(classifyHandshake(Buffer.from([19, 66, 105, 0]))).toBe('encrypted')
    expect(classifyHandshake(Buffer.from([7]))).toBe('encrypted')
  })
})
