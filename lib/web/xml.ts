/** Text and attribute values for XML (RSS, Metalink): the five predefined entities. */
export function escapeXml(value: string | number): string {
  return String(value).replace(/[<>&'"]/g, (c) => xmlEntities[c])
}

const xmlEntities: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  "'": '&apos;',
  '"': '&quot;',
}

/**
 * A URL path for `/torrents/…` or `/metalink/…`: each segment percent-encoded, so a release dir
 * or name with spaces or `#` survives the round trip through a feed reader.
 */
export function encodeSegments(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter((s) => s !== '')
    .map(encodeURIComponent)
    .join('/')
}
