import type { ResolvedConfig } from '../config/index.ts'
import { outputLayout, type OutputLayout } from './placement.ts'

/** A mirror that carries the tree and can serve as a web seed. */
export interface WebSeedMirror {
  baseUrl: string
}

function encodePath(releaseDir: string): string {
  return releaseDir.split('/').map(encodeURIComponent).join('/')
}

/**
 * `url-list` (BEP 19) of a release torrent: our own web seed first, then each mirror. Every URL
 * ends in `/`: Transmission appends the torrent name and file path only then (docs/architecture.md, "What real
 * clients do"). A multi-file torrent's files are reached through the symlink folder, whose name
 * is the torrent name, in the output folders that serve the release (its distribution's, or the
 * root's: {@link OutputLayout}); a single-file torrent's file sits in the release folder itself.
 */
export function webSeeds(
  config: ResolvedConfig,
  release: { releaseDir: string; multiFile: boolean },
  mirrors: readonly WebSeedMirror[],
  layout: OutputLayout = outputLayout(config),
): string[] {
  // A release at the top of the tree has no folder of its own: no empty segment in the URL.
  const dir = release.releaseDir ? `${encodePath(release.releaseDir)}/` : ''
  const seeds = [`${config.publicUrl}/webseed/${dir}`]
  const links = release.multiFile ? `${encodePath(layout.symlinksDir(release.releaseDir))}/` : ''
  for (const mirror of mirrors) {
    const base = mirror.baseUrl.replace(/\/+$/, '')
    seeds.push(release.multiFile ? `${base}/${links}` : `${base}/${dir}`)
  }
  return seeds
}

/**
 * Tracker tiers (BEP 12): our HTTP tracker, our UDP tracker (most clients prefer UDP when it is
 * listed), then the configured extra trackers, each in its own tier.
 */
export function trackerTiers(config: ResolvedConfig): string[][] {
  const host = new URL(config.publicUrl).host.replace(/:\d+$/, '')
  return [
    [`${config.publicUrl}/announce`],
    [`udp://${host}:${config.udpPort}/announce`],
    ...config.trackers.map((url) => [url]),
  ]
}
