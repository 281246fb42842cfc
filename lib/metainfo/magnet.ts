import type { Torrent } from './parse.ts'

export interface MagnetOptions {
  /** Trackers for `tr`; default: the torrent's announce-list, or its announce. */
  trackers?: readonly string[]
  /** Web seeds for `ws`; default: the torrent's url-list. */
  webSeeds?: readonly string[]
}

/**
 * A magnet link (BEP 9, BEP 53 for `ws`): `xt=urn:btih:` for v1 and hybrid, `xt=urn:btmh:1220…`
 * (a multihash: 0x12 SHA-256, 0x20 bytes) for v2 and hybrid, `dn`, `xl` (bytes of real data,
 * pads excluded), a `tr` per tracker and a `ws` per web seed. The seeder answers ut_metadata, so
 * the link resolves without the .torrent file.
 *
 * @example
 * magnetLink(torrent) // magnet:?xt=urn:btih:…&dn=debian-13.2.0-amd64-netinst.iso&xl=…&tr=…
 */
export function magnetLink(torrent: Torrent, options: MagnetOptions = {}): string {
  const parts: string[] = []
  if (torrent.infoHash) parts.push(`xt=urn:btih:${torrent.infoHash.toString('hex')}`)
  if (torrent.infoHashV2) parts.push(`xt=urn:btmh:1220${torrent.infoHashV2.toString('hex')}`)
  parts.push(`dn=${encodeURIComponent(torrent.name)}`)
  const size = torrent.files.reduce((sum, f) => sum + (f.pad ? 0 : f.length), 0)
  parts.push(`xl=${size}`)
  const trackers =
    options.trackers ??
    (torrent.announceList.length > 0
      ? torrent.announceList.flat()
      : torrent.announce
        ? [torrent.announce]
        : [])
  for (const url of new Set(trackers)) parts.push(`tr=${encodeURIComponent(url)}`)
  for (const url of new Set(options.webSeeds ?? torrent.urlList))
    parts.push(`ws=${encodeURIComponent(url)}`)
  return `magnet:?${parts.join('&')}`
}
