/**
 * Peer addresses as the bytes that go into compact records. Node gives a socket's address as
 * text ('203.0.113.7', '2001:db8::1', or '::ffff:203.0.113.7' on a dual-stack socket); this turns
 * it into 4 or 16 bytes without allocating. An IPv4-mapped IPv6 address is an IPv4 peer: it must
 * go into `peers`, not `peers6`, or IPv4-only clients never see it.
 */

function parseIPv4(text: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let part = 0
  let value = 0
  let digits = 0
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 46
    if (c === 46) {
      if (digits === 0 || value > 255 || part > 3) return false
      out[at + part++] = value
      value = 0
      digits = 0
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + c - 48
      digits++
    } else {
      return false
    }
  }
  return part === 4
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

function parseIPv6(text: string, end: number, out: Uint8Array): boolean {
  const groups = new Uint16Array(8)
  let count = 0
  let gap = -1
  let i = 0
  if (text.startsWith('::')) {
    gap = 0
    i = 2
  }
  while (i < end) {
    // An embedded IPv4 tail ('::ffff:1.2.3.4') takes the last two groups.
    const dot = text.indexOf('.', i)
    const colon = text.indexOf(':', i)
    if (dot >= 0 && dot < end && (colon < 0 || colon > dot)) {
      if (count > 6) return false
      const tail = new Uint8Array(4)
      if (!parseIPv4(text, i, end, tail, 0)) return false
      groups[count++] = (tail[0] << 8) | tail[1]
      groups[count++] = (tail[2] << 8) | tail[3]
      break
    }
    let value = 0
    let digits = 0
    while (i < end) {
      const d = hexDigit(text.charCodeAt(i))
      if (d < 0) break
      value = (value << 4) | d
      if (++digits > 4) return false
      i++
    }
    if (digits === 0 || count === 8) return false
    groups[count++] = value
    if (i === end) break
    if (text.charCodeAt(i) !== 58) return false
    i++
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return false
      gap = count
      i++
    } else if (i === end) {
      return false
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false
  const missing = 8 - count
  for (let g = 0, k = 0; g < 8; g++) {
    const value = gap >= 0 && g >= gap && g < gap + missing ? 0 : groups[k++]
    out[g * 2] = value >> 8
    out[g * 2 + 1] = value & 0xff
  }
  return true
}

/**
 * Write the address `text` into `out` (4 bytes for IPv4, 16 for IPv6) and return its family,
 * or 0 when it is not an address.
 *
 * @example
 * const bytes = new Uint8Array(18)
 * parseAddress('::ffff:10.0.0.1', bytes) // 4, bytes starts 10 0 0 1
 */
export function parseAddress(text: string, out: Uint8Array): 0 | 4 | 6 {
  if (text.length > 64) return 0
  if (text.indexOf(':') < 0) return parseIPv4(text, 0, text.length, out, 0) ? 4 : 0
  // The common case on a dual-stack listener, parsed without the general IPv6 path.
  if (text.startsWith('::ffff:') && text.indexOf('.') > 0) {
    return parseIPv4(text, 7, text.length, out, 0) ? 4 : 0
  }
  const zone = text.indexOf('%')
  if (!parseIPv6(text, zone < 0 ? text.length : zone, out)) return 0
  // ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket.
  for (let i = 0; i < 10; i++) if (out[i] !== 0) return 6
  if (out[10] !== 0xff || out[11] !== 0xff) return 6
  out.copyWithin(0, 12, 16)
  return 4
}

/** Dotted or RFC 5952-ish text for a 4- or 16-byte address (non-compact replies, BEP 3). */
export function formatAddress(bytes: Uint8Array, offset: number, family: 4 | 6): string {
  if (family === 4) {
    return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`
  }
  const groups: string[] = []
  for (let g = 0; g < 8; g++) {
    groups.push(((bytes[offset + g * 2] << 8) | bytes[offset + g * 2 + 1]).toString(16))
  }
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')
}
