import { activeRecords, replaceMetainfo } from '../catalog/index.ts'
import { requireRoot, type ResolvedConfig } from '../config/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { log } from '../log/index.ts'
import { parseTorrent, withWebSeeds } from '../metainfo/index.ts'
import { healthyMirrors } from '../mirrors/index.ts'
import { webSeeds } from './announce.ts'
import type { PublishEvents } from './live.ts'
import { outputsFor } from './outputs.ts'
import { outputLayout, type OutputLayout } from './placement.ts'
import { generatorLock } from './publisher.ts'

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((url, i) => url === b[i])

/**
 * Rewrites the `url-list` of every active torrent whose web seeds are not the healthy mirrors
 * (plus ours) any more: the `.torrent` in the tree (the same atomic write as a publish) and the
 * stored bytes, under the generator's lock so a reconcile never writes the same file at once.
 * Each rewritten torrent is told on the feed (`rewritten`), so the pages of every node serve the
 * new bytes. The info-hash never changes (`info` is copied byte for byte). Returns the tracker
 * keys of the torrents rewritten.
 *
 * @example
 * await refreshWebSeeds({ config, database, events: feed }) // after a check changed a mirror
 */
export async function refreshWebSeeds(options: {
  config: ResolvedConfig
  database: DatabaseHandle
  events?: Partial<PublishEvents>
}): Promise<string[]> {
  const { config, database } = options
  const outputs = outputsFor({ ...config, root: requireRoot(config) })
  return database.exclusive(generatorLock, async () => {
    const db = database.db
    const mirrors = await healthyMirrors(db)
    const rewritten: string[] = []
    for (const row of await activeRecords(db)) {
      const torrent = parseTorrent(row.metainfo)
      const wanted = webSeeds(
        config,
        { releaseDir: row.releaseDir, multiFile: torrent.multiFile },
        mirrors,
        outputs.layout,
      )
      if (same(torrent.urlList, wanted)) continue
      const bytes = withWebSeeds(row.metainfo, wanted)
      await outputs.writeTorrent(row.releaseDir, row.name, bytes)
      await replaceMetainfo(db, row.id, bytes)
      rewritten.push(row.infoHash)
      options.events?.rewritten?.(row.infoHash)
    }
    if (rewritten.length) {
      log.info('web seeds changed', { torrents: rewritten.length, mirrors: mirrors.length })
    }
    return rewritten
  })
}

/**
 * What mirror checks need of publish (lib/mirrors does not import it, since publish reads the
 * healthy mirrors): where the symlink folders are, and the `url-list` rewrite, on a node that
 * has the tree. Spread into `checkMirrors` and `startMirrorChecks` options.
 *
 * @example
 * startMirrorChecks({ config, database, ...mirrorCheckHooks({ config, database, events: feed }) })
 */
export function mirrorCheckHooks(options: {
  config: ResolvedConfig
  database: DatabaseHandle
  events?: Partial<PublishEvents>
}): { layout: OutputLayout; refreshWebSeeds?: () => Promise<string[]> } {
  return {
    layout: outputLayout(options.config),
    refreshWebSeeds: options.config.root ? () => refreshWebSeeds(options) : undefined,
  }
}
