import { decodeWithSpans, encode } from '../bencode/index.ts'
import { MetainfoError } from './errors.ts'

/**
 * The same `.torrent` with `url-list` (BEP 19) replaced. Every other key of the outer dict is
 * re-encoded as it was, and `info` is copied byte for byte from the original, never re-encoded,
 * so the info-hash cannot change whatever the encoder does.
 */
export function withWebSeeds(metainfo: Buffer, urls: readonly string[]): Buffer {
  const { value, spans } = decodeWithSpans(metainfo, { allowUnsortedKeys: true })
  const span = spans.get('info')
  if (!span) throw new MetainfoError('missing-key', 'the torrent has no info dictionary')
  const outer: Record<string, unknown> = {
    ...value,
    'url-list': urls.length ? [...urls] : undefined,
  }
  const keys = Object.keys(outer)
    .filter((k) => outer[k] !== undefined)
    .sort()
  const parts: Buffer[] = [Buffer.from('d')]
  for (const key of keys) {
    parts.push(encode(Buffer.from(key, 'latin1')))
    parts.push(
      key === 'info'
        ? metainfo.subarray(span.start, span.end)
        : encode(outer[key] as Parameters<typeof encode>[0]),
    )
  }
  parts.push(Buffer.from('e'))
  return Buffer.concat(parts)
}
