/**
 * Text and attribute values for XML (RSS, Metalink). Besides the five predefined entities:
 * characters XML 1.0 cannot carry at all (C0 controls other than tab, LF and CR, U+FFFE, U+FFFF,
 * lone surrogates; XML 1.0 section 2.2 "Char") become U+FFFD, since even a character reference
 * to them is not well-formed and one such file name would break the feed for every reader. Tab,
 * LF and CR become character references so an attribute keeps them (attribute-value
 * normalization, section 3.3.3, would turn them into spaces).
 */
export function escapeXml(value: string | number): string {
  return wellFormed(String(value)).replace(
    /[<>&'"\t\n\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g,
    (c) => {
      return xmlEntities[c] ?? '\ufffd'
    },
  )
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** `text` with each lone surrogate as U+FFFD (`String.prototype.toWellFormed`, ES2024). */
export function wellFormed(text: string): string {
  return text.replace(loneSurrogate, '\ufffd')
}

const xmlEntities: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  "'": '&apos;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
}

/**
 * A URL path for `/torrents/…` or `/metalink/…`: each segment percent-encoded, so a release dir
 * or name with spaces or `#` survives the round trip through a feed reader. A lone surrogate
 * (which `encodeURIComponent` throws on) becomes U+FFFD first.
 */
export function encodeSegments(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter((s) => s !== '')
    .map((s) => encodeURIComponent(wellFormed(s)))
    .join('/')
}
