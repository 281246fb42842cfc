import { randomBytes } from 'node:crypto'
import { siphash24 } from './siphash.ts'

/**
 * BEP 15 connection ids as SYN cookies: nothing is stored per client. An id is
 *   byte 0      the time slot it was issued in (15 s slots, low 8 bits)
 *   bytes 1..7  SipHash-2-4(key, slot ‖ address ‖ port), truncated
 * so a spoofed source never learns one, and checking one costs exactly one keyed hash (SipHash,
 * a MAC for short inputs, 15x cheaper here than node's createHmac: see siphash.ts). The id is
 * accepted for `lifetimeMs` (BEP 15: clients use an id up to one minute, trackers accept it for
 * two). The key is random, replaced every `rotateMs`; ids made under the previous key stay
 * valid to the end of their lifetime, older keys are forgotten.
 */
const SLOT_MS = 15_000

export interface ConnectionIdOptions {
  lifetimeMs?: number
  rotateMs?: number
  now?: () => number
}

export class ConnectionIds {
  private readonly lifetimeSlots: number
  private readonly rotateSlots: number
  private readonly now: () => number
  private epoch = -1
  private key: Buffer = randomBytes(16)
  private previousKey: Buffer | null = null
  private readonly message = Buffer.alloc(4 + 18)
  /** `message` for an IPv4 client's 6-byte record: one view, not a subarray per packet. */
  private readonly message6 = this.message.subarray(0, 4 + 6)
  private readonly digest = Buffer.alloc(8)

  constructor(options: ConnectionIdOptions = {}) {
    this.lifetimeSlots = Math.ceil((options.lifetimeMs ?? 120_000) / SLOT_MS)
    this.rotateSlots = Math.max(
      this.lifetimeSlots,
      Math.ceil((options.rotateMs ?? 600_000) / SLOT_MS),
    )
    this.now = options.now ?? Date.now
  }

  private keyFor(slot: number, current: number): Buffer | null {
    const epoch = Math.floor(current / this.rotateSlots)
    if (epoch !== this.epoch) {
      this.previousKey = epoch === this.epoch + 1 ? this.key : null
      this.key = randomBytes(16)
      this.epoch = epoch
    }
    const slotEpoch = Math.floor(slot / this.rotateSlots)
    if (slotEpoch === epoch) return this.key
    return slotEpoch === epoch - 1 ? this.previousKey : null
  }

  private mac(key: Buffer, slot: number, record: Uint8Array): Buffer {
    this.message.writeUInt32BE(slot >>> 0, 0)
    this.message.set(record, 4)
    const message =
      record.length === 6
        ? this.message6
        : record.length === 18
          ? this.message
          : this.message.subarray(0, 4 + record.length)
    siphash24(key, message, this.digest, 0)
    return this.digest
  }

  /** A new id for the client whose address + port is `record` (6 or 18 bytes). */
  issue(record: Uint8Array, out: Buffer, offset: number): void {
    const slot = Math.floor(this.now() / SLOT_MS)
    const key = this.keyFor(slot, slot) as Buffer
    out[offset] = slot & 0xff
    this.mac(key, slot, record).copy(out, offset + 1, 0, 7)
  }

  /** Whether the 8 bytes at `id[offset…]` were issued to `record` and are still valid. */
  verify(record: Uint8Array, id: Uint8Array, offset: number): boolean {
    const current = Math.floor(this.now() / SLOT_MS)
    const age = (current - id[offset]) & 0xff
    if (age > this.lifetimeSlots) return false
    const slot = current - age
    const key = this.keyFor(slot, current)
    if (key === null) return false
    const mac = this.mac(key, slot, record)
    let diff = 0
    for (let i = 0; i < 7; i++) diff |= mac[i] ^ id[offset + 1 + i]
    return diff === 0
  }
}
