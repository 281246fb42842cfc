import { BencodeError } from './errors.ts'

/**
 * What {@link encode} accepts. Strings are written as UTF-8, `Uint8Array`s as raw bytes. Plain
 * object keys are byte strings (one char per byte, latin1), which is what {@link decode} gives
 * back, so a decoded value re-encodes to the same bytes; use a `Map` keyed by `Uint8Array` for
 * binary or UTF-8 keys (scrape's info-hash keys, BEP 52 file tree names). Object entries whose
 * value is `undefined` are left out, so optional keys can be written inline.
 */
export type Encodable =
  | Uint8Array
  | string
  | number
  | bigint
  | readonly Encodable[]
  | ReadonlyMap<Uint8Array | string, Encodable>
  | { readonly [key: string]: Encodable | undefined }

const D = 0x64 // 'd'
const L = 0x6c // 'l'
const E = 0x65 // 'e'
const I = 0x69 // 'i'
const COLON = 0x3a

/** Keys sort by raw bytes (BEP 3 "sorted as raw strings"), not by JavaScript string order. */
function byKeyBytes(a: [Uint8Array, Encodable], b: [Uint8Array, Encodable]): number {
  return Buffer.compare(a[0], b[0])
}

/**
 * Grows one buffer instead of collecting chunks: tracker replies and `info` dicts are encoded on
 * hot paths, and a single allocation per call keeps them cheap.
 */
class Writer {
  buf = Buffer.allocUnsafe(256)
  pos = 0

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  byte(b: number): void {
    this.reserve(1)
    this.buf[this.pos++] = b
  }

  ascii(s: string): void {
    this.reserve(s.length)
    this.pos += this.buf.write(s, this.pos, 'latin1')
  }

  bytes(b: Uint8Array): void {
    this.ascii(String(b.length))
    this.byte(COLON)
    this.reserve(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  utf8(s: string): void {
    const n = Buffer.byteLength(s, 'utf8')
    this.ascii(String(n))
    this.byte(COLON)
    this.reserve(n)
    this.pos += this.buf.write(s, this.pos, 'utf8')
  }
}

/**
 * Plain-object keys are byte strings (every char <= 0xFF), so JavaScript's default sort, which
 * compares UTF-16 code units, is already raw byte order: no Buffer per key. Tracker replies are
 * plain objects, and this keeps them cheap (`npm run bench:bencode`).
 */
function writeObject(w: Writer, value: Record<string, Encodable | undefined>, depth: number): void {
  const keys = Object.keys(value).sort()
  w.byte(D)
  for (const key of keys) {
    const v = value[key]
    if (v === undefined) continue
    for (let i = 0; i < key.length; i++) {
      if (key.charCodeAt(i) > 0xff) {
        throw new BencodeError(
          'unencodable',
          `object key ${JSON.stringify(key)} is not a byte string; use a Map with Buffer keys`,
        )
      }
    }
    w.ascii(String(key.length))
    w.byte(COLON)
    w.ascii(key)
    write(w, v, depth + 1)
  }
  w.byte(E)
}

function write(w: Writer, value: Encodable, depth: number): void {
  if (depth > 1000) throw new BencodeError('too-deep', 'value nested more than 1000 levels')
  if (value instanceof Uint8Array) return w.bytes(value)
  switch (typeof value) {
    case 'string':
      return w.utf8(value)
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new BencodeError(
          'unencodable',
          `${value} is not an integer bencode can carry exactly`,
        )
      }
      w.byte(I)
      w.ascii(String(value))
      return w.byte(E)
    case 'bigint':
      w.byte(I)
      w.ascii(value.toString())
      return w.byte(E)
    case 'object':
      break
    default:
      throw new BencodeError('unencodable', `cannot bencode a value of type ${typeof value}`)
  }
  if (value === null) throw new BencodeError('unencodable', 'cannot bencode null')
  if (Array.isArray(value)) {
    w.byte(L)
    for (const item of value as readonly Encodable[]) write(w, item, depth + 1)
    return w.byte(E)
  }
  if (!(value instanceof Map))
    return writeObject(w, value as Record<string, Encodable | undefined>, depth)
  const entries: Array<[Uint8Array, Encodable]> = []
  for (const [k, v] of value as ReadonlyMap<Uint8Array | string, Encodable>) {
    entries.push([typeof k === 'string' ? Buffer.from(k, 'utf8') : k, v])
  }
  entries.sort(byKeyBytes)
  w.byte(D)
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i]
    if (i > 0 && Buffer.compare(k, entries[i - 1][0]) === 0) {
      throw new BencodeError(
        'duplicate-key',
        `duplicate dictionary key ${JSON.stringify(Buffer.from(k).toString('latin1'))}`,
      )
    }
    w.bytes(k)
    write(w, v, depth + 1)
  }
  w.byte(E)
}

/**
 * Bencodes a value (BEP 3): dictionary keys sorted by raw bytes, integers exact (bigint welcome),
 * never a silently dropped value. Throws {@link BencodeError} with code `unencodable` for values
 * bencode has no form for (null, booleans, fractions).
 *
 * @example
 * encode({ interval: 1800, peers: Buffer.alloc(6) }) // d8:intervali1800e5:peers6:......e
 */
export function encode(value: Encodable): Buffer {
  const w = new Writer()
  write(w, value, 0)
  return Buffer.from(w.buf.subarray(0, w.pos))
}
