import { BencodeError } from './errors.ts'

/**
 * A decoded value. Byte strings stay `Buffer`s (views into the input, not copies); integers are
 * `number`s, or `bigint`s past 2^53; dictionaries are null-prototype objects whose keys are byte
 * strings (latin1: one char per byte, so ASCII keys read naturally and binary keys survive).
 */
export type BencodeValue = Buffer | number | bigint | BencodeValue[] | BencodeDict
export interface BencodeDict {
  [key: string]: BencodeValue
}

export interface DecodeOptions {
  /** Nesting limit; deeper input throws `too-deep` instead of exhausting the stack. Default 256. */
  maxDepth?: number
  /**
   * Accept dictionary keys out of byte order. Off by default (BEP 3 requires sorted keys). A
   * foreign .torrent may be unsorted; its info-hash is still right because {@link decodeWithSpans}
   * hashes the bytes as found, never a re-encoding (BEP 52 "infohash").
   */
  allowUnsortedKeys?: boolean
  /**
   * Ignore bytes after the value. Off by default. Distribution .torrent files often end in a
   * newline, and libtorrent's bdecode stops at the end of the first value.
   */
  allowTrailing?: boolean
}

/** Byte range `[start, end)` of a value inside the input. */
export interface Span {
  start: number
  end: number
}

// Integers longer than this are refused before any bigint parsing, so `i<1 MB of digits>e`
// cannot burn CPU. 2^64 has 20 digits; nothing legitimate comes close to 40.
const MAX_INTEGER_DIGITS = 40

class Decoder {
  pos = 0
  readonly spans = new Map<string, Span>()

  constructor(
    readonly buf: Buffer,
    readonly maxDepth: number,
    readonly allowUnsorted: boolean,
  ) {}

  fail(code: ConstructorParameters<typeof BencodeError>[0], message: string, at = this.pos): never {
    throw new BencodeError(code, message, at)
  }

  value(depth: number): BencodeValue {
    if (this.pos >= this.buf.length) this.fail('truncated', 'input ends where a value was expected')
    const c = this.buf[this.pos]
    if (c >= 0x30 && c <= 0x39) return this.string()
    if (c === 0x69) return this.integer()
    if (depth >= this.maxDepth) this.fail('too-deep', `nesting deeper than ${this.maxDepth} levels`)
    if (c === 0x6c) return this.list(depth + 1)
    if (c === 0x64) return this.dict(depth + 1)
    this.fail('syntax', `unexpected byte 0x${c.toString(16).padStart(2, '0')}`)
  }

  /** Reads the digits of a length or integer up to `end`; returns [start, stop) of the digits. */
  digits(terminator: number, what: string): number {
    const start = this.pos
    const buf = this.buf
    let i = start
    while (i < buf.length && buf[i] >= 0x30 && buf[i] <= 0x39) i++
    if (i >= buf.length) this.fail('truncated', `input ends inside ${what}`, start)
    if (buf[i] !== terminator) this.fail('syntax', `bad character in ${what}`, i)
    if (i === start) this.fail('syntax', `empty ${what}`, start)
    if (buf[start] === 0x30 && i - start > 1)
      this.fail('leading-zero', `${what} with a leading zero`, start)
    if (i - start > MAX_INTEGER_DIGITS) this.fail('too-long', `${what} has too many digits`, start)
    return i
  }

  string(): Buffer {
    const start = this.pos
    const colon = this.digits(0x3a, 'string length')
    // At most 16 digits here would already exceed any buffer; parse as a number safely.
    const length = colon - start > 15 ? Infinity : Number(this.buf.toString('latin1', start, colon))
    const from = colon + 1
    if (length > this.buf.length - from) {
      this.fail(
        'truncated',
        `string declares ${length} bytes but only ${this.buf.length - from} remain`,
        start,
      )
    }
    this.pos = from + length
    return this.buf.subarray(from, this.pos)
  }

  /** A dictionary key as a latin1 string; short keys built in JS, cheaper than a native call. */
  key(): string {
    const bytes = this.string()
    if (bytes.length > 32) return bytes.toString('latin1')
    let key = ''
    for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i])
    return key
  }

  integer(): number | bigint {
    const start = this.pos
    this.pos++ // 'i'
    const negative = this.buf[this.pos] === 0x2d
    if (negative) this.pos++
    const end = this.digits(0x65, 'integer')
    const text = this.buf.toString('latin1', start + 1, end)
    if (negative && text === '-0') this.fail('negative-zero', 'integer -0', start)
    this.pos = end + 1
    const n = Number(text)
    return Number.isSafeInteger(n) ? n : BigInt(text)
  }

  list(depth: number): BencodeValue[] {
    this.pos++ // 'l'
    const out: BencodeValue[] = []
    for (;;) {
      if (this.pos >= this.buf.length) this.fail('truncated', 'input ends inside a list')
      if (this.buf[this.pos] === 0x65) break
      out.push(this.value(depth))
    }
    this.pos++
    return out
  }

  dict(depth: number, spans?: Map<string, Span>): BencodeDict {
    this.pos++ // 'd'
    const out: BencodeDict = Object.create(null)
    let previous: string | null = null
    for (;;) {
      if (this.pos >= this.buf.length) this.fail('truncated', 'input ends inside a dictionary')
      const c = this.buf[this.pos]
      if (c === 0x65) break
      const keyAt = this.pos
      if (c < 0x30 || c > 0x39) this.fail('syntax', 'dictionary key is not a string')
      const key = this.key()
      if (key in out) {
        this.fail('duplicate-key', `duplicate dictionary key ${JSON.stringify(key)}`, keyAt)
      }
      // Keys are latin1 strings, one char per byte, so string order is raw byte order.
      if (previous !== null && !this.allowUnsorted && previous > key) {
        this.fail('unsorted-keys', `dictionary key ${JSON.stringify(key)} out of order`, keyAt)
      }
      previous = key
      const valueAt = this.pos
      out[key] = this.value(depth)
      spans?.set(key, { start: valueAt, end: this.pos })
    }
    this.pos++
    return out
  }
}

function decoder(bytes: Uint8Array, options: DecodeOptions): Decoder {
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  return new Decoder(buf, options.maxDepth ?? 256, options.allowUnsortedKeys ?? false)
}

function finish(d: Decoder): void {
  if (d.pos !== d.buf.length) d.fail('trailing', `${d.buf.length - d.pos} bytes of trailing data`)
}

/**
 * Decodes one complete bencoded value (BEP 3), strictly: no leading zeros, no `-0`, no trailing
 * bytes, sorted unique keys; anything else throws {@link BencodeError}.
 *
 * @example
 * const reply = decode(body) as BencodeDict
 * reply['failure reason'] // Buffer
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): BencodeValue {
  const d = decoder(bytes, options)
  const value = d.value(0)
  finish(d)
  return value
}

/**
 * Decodes a top-level dictionary and also returns where each of its values lies in the input, so
 * a .torrent's info-hash is the hash of the `info` bytes as found (BEP 3, BEP 52 "infohash") and
 * ut_metadata can serve them verbatim.
 *
 * @example
 * const { value, spans } = decodeWithSpans(torrentBytes)
 * const info = torrentBytes.subarray(spans.get('info')!.start, spans.get('info')!.end)
 */
export function decodeWithSpans(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): { value: BencodeDict; spans: Map<string, Span> } {
  const d = decoder(bytes, options)
  if (d.buf.length === 0) d.fail('truncated', 'empty input')
  if (d.buf[0] !== 0x64) d.fail('syntax', 'input is not a dictionary')
  const spans = new Map<string, Span>()
  const value = d.dict(1, spans)
  if (!options.allowTrailing) finish(d)
  return { value, spans }
}
