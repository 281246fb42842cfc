import type { Torrent } from '../metainfo/index.ts'
import { escapeXml, wellFormed } from './xml.ts'

export interface MetalinkInput {
  torrent: Torrent
  releaseDir: string
  /** Whole-file SHA-256 (hex) by path relative to the mirror root; missing ones are left out. */
  sha256: ReadonlyMap<string, string | null>
  /** Absolute URL of the `.torrent`, for `<metaurl mediatype="torrent">`. */
  torrentUrl: string
  /** Absolute URL of this document, for `<origin dynamic="true">`. */
  selfUrl: string
  published: Date
}

const encodePath = (parts: readonly string[]) =>
  parts.map((p) => encodeURIComponent(wellFormed(p))).join('/')

/**
 * A Metalink 4 document (RFC 5854) for one release torrent: one `<file>` per real file (pads
 * skipped, BEP 47), with its size, its SHA-256, a `<url>` per web seed and the torrent as a
 * `<metaurl>`. The web seeds are the torrent's own `url-list`, which the publisher keeps to our
 * web seed plus the healthy mirrors, so the metalink and the .torrent always agree.
 *
 * File URLs follow BEP 19 as clients build them: a multi-file seed URL gets
 * `<torrent name>/<path>` appended (libtorrent adds a missing `/` first); a single-file seed URL
 * ending in `/` gets the file name, one that does not is the file itself.
 */
export function renderMetalink(input: MetalinkInput): string {
  const { torrent } = input
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<metalink xmlns="urn:ietf:params:xml:ns:metalink">',
    `  <generator>${escapeXml(torrent.createdBy ?? 'mirrorseed')}</generator>`,
    `  <origin dynamic="true">${escapeXml(input.selfUrl)}</origin>`,
    `  <published>${input.published.toISOString().replace(/\.\d{3}Z$/, 'Z')}</published>`,
  ]
  for (const file of torrent.files) {
    if (file.pad) continue
    // RFC 5854 4.1.2.1: a relative path with `/`; it is also the file's path in the torrent
    // (BEP 3: the torrent name is the top folder of a multi-file torrent).
    const name = torrent.multiFile ? [torrent.name, ...file.path] : [torrent.name]
    const rootPath = [input.releaseDir, ...file.path].filter((s) => s !== '').join('/')
    lines.push(`  <file name="${escapeXml(name.join('/'))}">`)
    lines.push(`    <size>${file.length}</size>`)
    const sha256 = input.sha256.get(rootPath)
    if (sha256) lines.push(`    <hash type="sha-256">${escapeXml(sha256)}</hash>`)
    torrent.urlList.forEach((seed, i) => {
      let url: string
      if (torrent.multiFile) url = `${seed.replace(/\/?$/, '/')}${encodePath(name)}`
      else url = seed.endsWith('/') ? `${seed}${encodePath(name)}` : seed
      lines.push(`    <url priority="${i + 1}">${escapeXml(url)}</url>`)
    })
    const metaName = torrent.multiFile ? ` name="${escapeXml(name.join('/'))}"` : ''
    lines.push(
      `    <metaurl mediatype="torrent"${metaName}>${escapeXml(input.torrentUrl)}</metaurl>`,
    )
    lines.push('  </file>')
  }
  lines.push('</metalink>', '')
  return lines.join('\n')
}
