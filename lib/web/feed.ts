import { escapeXml } from './xml.ts'

export interface FeedItem {
  infoHash: string
  name: string
  releaseDir: string
  size: number
  /** Absolute URL of the `.torrent`, and its length in bytes (RSS 2.0 `<enclosure>`). */
  torrentUrl: string
  torrentLength: number
  magnet: string
  published: Date
}

export interface FeedChannel {
  title: string
  /** The index page. */
  link: string
  /** This feed's own URL (Atom `rel="self"`, which feed validators ask for). */
  selfUrl: string
  description: string
}

/**
 * An RSS 2.0 feed of published torrents, newest first. Each item's `<enclosure>` is the
 * `.torrent` with type `application/x-bittorrent`: what qBittorrent's, Transmission's (via
 * flexget) and rtorrent's RSS downloaders look for to fetch and start a torrent with no human
 * step. `<guid>` is the info-hash, so a reader never takes a rewritten `.torrent` (new `url-list`,
 * same info-hash) for a new release.
 */
export function renderFeed(channel: FeedChannel, items: readonly FeedItem[]): string {
  const sorted = [...items].sort((a, b) => b.published.getTime() - a.published.getTime())
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
    '  <channel>',
    `    <title>${escapeXml(channel.title)}</title>`,
    `    <link>${escapeXml(channel.link)}</link>`,
    `    <description>${escapeXml(channel.description)}</description>`,
    `    <atom:link href="${escapeXml(channel.selfUrl)}" rel="self" type="application/rss+xml"/>`,
    '    <generator>mirrorseed</generator>',
  ]
  if (sorted[0]) lines.push(`    <lastBuildDate>${rfc822(sorted[0].published)}</lastBuildDate>`)
  for (const item of sorted) {
    const where = item.releaseDir || '/'
    lines.push(
      '    <item>',
      `      <title>${escapeXml(item.name)}</title>`,
      `      <link>${escapeXml(item.torrentUrl)}</link>`,
      `      <description>${escapeXml(`${where}: ${item.size} bytes; magnet: ${item.magnet}`)}</description>`,
      `      <category>${escapeXml(where)}</category>`,
      `      <guid isPermaLink="false">${escapeXml(item.infoHash)}</guid>`,
      `      <pubDate>${rfc822(item.published)}</pubDate>`,
      `      <enclosure url="${escapeXml(item.torrentUrl)}" length="${item.torrentLength}" type="application/x-bittorrent"/>`,
      '    </item>',
    )
  }
  lines.push('  </channel>', '</rss>', '')
  return lines.join('\n')
}

/** RSS 2.0 dates are RFC 822; `toUTCString` gives exactly that form, in GMT. */
function rfc822(date: Date): string {
  return date.toUTCString()
}
