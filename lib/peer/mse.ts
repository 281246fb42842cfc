import { createDiffieHellman, createHash, randomBytes, type DiffieHellman } from 'node:crypto'
import { WireError } from './errors.ts'
import { Rc4 } from './rc4.ts'

/**
 * Message Stream Encryption (MSE/PE), the receiving side, as a pure state machine: bytes in,
 * bytes to send and at last the negotiated stream out. No I/O here, so it can be fuzzed; the
 * connection moves the bytes. The spec is Vuze's "Message Stream Encryption" page; libtorrent's
 * bt_peer_connection and Transmission's handshake.c are what clients actually do.
 *
 *   A->B: Ya, PadA
 *   B->A: Yb, PadB
 *   A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
 *         ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 *   B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload)
 */

/** The 768-bit safe prime every MSE peer uses; the generator is 2. */
export const MSE_PRIME = Buffer.from(
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
  'hex',
)
export const CRYPTO_PLAINTEXT = 0x01
export const CRYPTO_RC4 = 0x02
const KEY_LENGTH = 96
const MAX_PAD = 512
/** VC (8 zero bytes), crypto_provide (4), len(PadC) (2): the first encrypted bytes. */
const HEADER_LENGTH = 14
/** Both hashes after the sync point, then the header: what must be in before we decide. */
const AFTER_SYNC = 20 + 20 + HEADER_LENGTH
/**
 * The most a peer may make us hold before the handshake is done: Ya, PadA, both hashes, the
 * header, PadC, len(IA) and IA (whose length is a 16-bit field), plus one chunk on top.
 */
export const MSE_MAX_BUFFERED = KEY_LENGTH + MAX_PAD + AFTER_SYNC + MAX_PAD + 2 + 0xffff

export interface MseAccepted {
  /** The stream key the peer chose: a torrent's v1 info-hash or truncated v2 info-hash. */
  skey: Buffer
  method: 'plaintext' | 'rc4'
  /** Our key stream (keyB), already past our reply; for 'rc4', everything we send goes through it. */
  encrypt: Rc4
  /** The peer's key stream (keyA), past the initial payload; for 'rc4', everything it sends. */
  decrypt: Rc4
  /** The initial payload (IA), decrypted: what clients put there is their BitTorrent handshake. */
  initialPayload: Buffer
  /** Bytes that followed IA in the same chunk, as received (still encrypted for 'rc4'). */
  rest: Buffer
}

export interface MseStep {
  /** Bytes to send to the peer now (as they are: they are our side of the handshake). */
  send: Buffer | null
  /** Set once the handshake is done. */
  accepted: MseAccepted | null
}

function sha1(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha1')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** HASH('req2', SKEY): what a peer's obfuscated stream key is matched against. */
export function streamKeyHash(skey: Uint8Array): Buffer {
  return sha1(Buffer.from('req2'), skey)
}

/** Left-pads a big-endian number to the 96 bytes MSE puts on the wire. */
function pad96(n: Buffer): Buffer {
  if (n.length === KEY_LENGTH) return n
  const out = Buffer.alloc(KEY_LENGTH)
  n.copy(out, KEY_LENGTH - n.length)
  return out
}

/**
 * One DiffieHellman object for every handshake: Node checks the prime when one is created,
 * which costs tens of milliseconds, while a key pair and a secret from it take about one.
 * Handshakes use it synchronously, one at a time, so sharing it is safe.
 */
let group: DiffieHellman | null = null

/** A key pair with a 160-bit private exponent (the spec's recommendation) and the secret S. */
function exchange(
  peerKey: Buffer,
  random: (n: number) => Buffer,
): { ours: Buffer; secret: Buffer } {
  group ??= createDiffieHellman(MSE_PRIME, 2)
  group.setPrivateKey(random(20))
  group.generateKeys()
  let secret: Buffer
  try {
    secret = group.computeSecret(peerKey)
  } catch (err) {
    throw new WireError('bad-encryption', `invalid DH key: ${(err as Error).message}`)
  }
  return { ours: pad96(group.getPublicKey()), secret: pad96(secret) }
}

type State = 'key' | 'sync' | 'pad' | 'payload' | 'done'

/**
 * The receiving side of one MSE handshake. `streamKey` maps HASH('req2', SKEY) (hex) to the
 * SKEY of a torrent we serve. Every malformed input throws a WireError; what it buffers is
 * bounded by {@link MSE_MAX_BUFFERED}.
 *
 * @example
 * const mse = new MseResponder((h) => keys.get(h))
 * const { send, accepted } = mse.push(chunk)
 */
export class MseResponder {
  private buffered: Buffer = Buffer.alloc(0)
  private state: State = 'key'
  private secret: Buffer = Buffer.alloc(0)
  private syncHash: Buffer = Buffer.alloc(0)
  private skey: Buffer = Buffer.alloc(0)
  private decrypt: Rc4 | null = null
  private encrypt: Rc4 | null = null
  private provide = 0
  private padLength = 0
  private payloadLength = 0

  constructor(
    private readonly streamKey: (req2Hex: string) => Buffer | undefined,
    private readonly random: (n: number) => Buffer = randomBytes,
  ) {}

  push(chunk: Buffer): MseStep {
    if (this.state === 'done') throw new Error('MseResponder.push after the handshake')
    this.buffered = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk
    let send: Buffer | null = null
    if (this.state === 'key') {
      if (this.buffered.length < KEY_LENGTH) return { send, accepted: null }
      send = this.readKey()
    }
    if (this.state === 'sync' && !this.readSync()) return { send, accepted: null }
    if (this.state === 'pad' && !this.readPad()) return { send, accepted: null }
    if (this.state === 'payload' && this.buffered.length >= this.payloadLength) {
      const { reply, accepted } = this.finish()
      return { send: send ? Buffer.concat([send, reply]) : reply, accepted }
    }
    return { send, accepted: null }
  }

  private take(n: number): Buffer {
    const out = this.buffered.subarray(0, n)
    this.buffered = this.buffered.subarray(n)
    return out
  }

  /** Ya in; Yb and PadB out. */
  private readKey(): Buffer {
    const { ours, secret } = exchange(this.take(KEY_LENGTH), this.random)
    this.secret = secret
    this.syncHash = sha1(Buffer.from('req1'), secret)
    this.state = 'sync'
    return Buffer.concat([ours, this.random(Math.floor(Math.random() * (MAX_PAD + 1)))])
  }

  /**
   * Finds HASH('req1', S) after PadA (at most 512 bytes in), then reads the stream key and the
   * encrypted header. libtorrent gives up at the same bound.
   */
  private readSync(): boolean {
    const at = this.buffered.indexOf(this.syncHash)
    if (at < 0) {
      if (this.buffered.length >= MAX_PAD + 20)
        throw new WireError('bad-encryption', 'no MSE sync hash within 512 bytes of padding')
      return false
    }
    if (at > MAX_PAD) throw new WireError('bad-encryption', 'MSE padding longer than 512 bytes')
    if (this.buffered.length < at + AFTER_SYNC) return false
    this.take(at + 20)
    const obfuscated = this.take(20)
    const mask = sha1(Buffer.from('req3'), this.secret)
    for (let i = 0; i < 20; i++) obfuscated[i] ^= mask[i]
    const skey = this.streamKey(obfuscated.toString('hex'))
    if (!skey) throw new WireError('unknown-torrent', 'MSE stream key names no torrent we serve')
    this.skey = skey
    this.decrypt = new Rc4(sha1(Buffer.from('keyA'), this.secret, skey), 1024)
    this.encrypt = new Rc4(sha1(Buffer.from('keyB'), this.secret, skey), 1024)
    const header = this.decrypt.update(Buffer.from(this.take(HEADER_LENGTH)))
    for (let i = 0; i < 8; i++)
      if (header[i] !== 0)
        throw new WireError('bad-encryption', 'MSE verification constant is wrong')
    this.provide = header.readUInt32BE(8)
    this.padLength = header.readUInt16BE(12)
    if (this.padLength > MAX_PAD)
      throw new WireError('bad-encryption', `MSE PadC of ${this.padLength} bytes exceeds 512`)
    if ((this.provide & (CRYPTO_PLAINTEXT | CRYPTO_RC4)) === 0)
      throw new WireError(
        'bad-encryption',
        `MSE crypto_provide ${this.provide} offers nothing we speak`,
      )
    this.state = 'pad'
    return true
  }

  /** The two RC4 streams, made once the stream key names a torrent (from state `pad` on). */
  private keys(): { encrypt: Rc4; decrypt: Rc4 } {
    if (!this.encrypt || !this.decrypt) throw new WireError('bad-encryption', 'MSE keys not made')
    return { encrypt: this.encrypt, decrypt: this.decrypt }
  }

  /** PadC (discarded) and len(IA). */
  private readPad(): boolean {
    if (this.buffered.length < this.padLength + 2) return false
    const padAndLength = this.keys().decrypt.update(Buffer.from(this.take(this.padLength + 2)))
    this.payloadLength = padAndLength.readUInt16BE(this.padLength)
    this.state = 'payload'
    return true
  }

  /**
   * Picks plaintext when the peer offers it (libtorrent's default, prefer_rc4 off): the payload
   * then bypasses RC4 entirely, as fast as a plaintext handshake; RC4 only for peers that offer
   * nothing else (qBittorrent's "require encryption", libtorrent's allowed_enc_level rc4).
   */
  private finish(): { reply: Buffer; accepted: MseAccepted } {
    const { encrypt, decrypt } = this.keys()
    const initialPayload = decrypt.update(Buffer.from(this.take(this.payloadLength)))
    const select = this.provide & CRYPTO_PLAINTEXT ? CRYPTO_PLAINTEXT : CRYPTO_RC4
    const padLength = Math.floor(Math.random() * (MAX_PAD + 1))
    const reply = Buffer.alloc(HEADER_LENGTH + padLength)
    reply.writeUInt32BE(select, 8)
    reply.writeUInt16BE(padLength, 12)
    this.random(padLength).copy(reply, HEADER_LENGTH)
    encrypt.update(reply)
    this.state = 'done'
    const rest = this.buffered
    this.buffered = Buffer.alloc(0)
    return {
      reply,
      accepted: {
        skey: this.skey,
        method: select === CRYPTO_RC4 ? 'rc4' : 'plaintext',
        encrypt,
        decrypt,
        initialPayload,
        rest,
      },
    }
  }

  /** Bytes held while the handshake is under way (bounded, see {@link MSE_MAX_BUFFERED}). */
  get bufferedLength(): number {
    return this.buffered.length
  }
}

const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1')

/**
 * What the first bytes of an incoming connection are: a plaintext BitTorrent handshake, an MSE
 * DH key (anything else), or too few bytes to tell. A random Ya starts with byte 19 one time in
 * 256, so the whole 20-byte protocol string is compared, not the first byte.
 */
export function classifyHandshake(head: Buffer): 'plaintext' | 'encrypted' | 'more' {
  const n = Math.min(head.length, PROTOCOL.length)
  for (let i = 0; i < n; i++) if (head[i] !== PROTOCOL[i]) return 'encrypted'
  return n === PROTOCOL.length ? 'plaintext' : 'more'
}
