import { and, eq } from 'drizzle-orm'
import { decodeWithSpans, encode } from '../bencode/index.ts'
import type { ResolvedConfig } from '../config/index.ts'
import { torrents, type DatabaseHandle } from '../db/index.ts'
import { log } from '../log/index.ts'
import { parseTorrent } from '../metainfo/index.ts'
import { outputsFor, webSeedMirrors, webSeeds, generatorLock } from '../publish/index.ts'

/**
 * The same `.torrent` with `url-list` (BEP 19) replaced. Every other key of the outer dict is
 * re-encoded as it was, and `info` is copied byte for byte from the original, never re-encoded,
 * so the info-hash cannot change whatever the encoder does.
 */
export function withWebSeeds(metainfo: Buffer, urls: readonly string[]): Buffer {
  const { value, spans } = decodeWithSpans(metainfo, { allowUnsortedKeys: true })
  const span = spans.get('info')
  if (!span) throw new Error('the torrent has no info dictionary')
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

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((url, i) => url === b[i])

/**
 * Brings the `url-list` of every active torrent in line with the mirrors that are healthy now:
 * our own web seed, then every enabled mirror whose last check passed. A torrent whose list
 * differs gets its `.torrent` rewritten atomically and its `metainfo` column updated; its
 * info-hash stays the same. Runs under the generator's lock, so it never interleaves with a
 * publish. Returns the info-hashes rewritten.
 *
 * @example
 * await refreshWebSeeds({ config, database }) // after a check changed a mirror's status
 */
export async function refreshWebSeeds(options: {
  config: ResolvedConfig
  database: DatabaseHandle
}): Promise<string[]> {
  const { config, database } = options
  if (!config.root) throw new Error('rewriting torrents needs the mirror root (--root)')
  const outputs = outputsFor({ ...config, root: config.root })
  return database.exclusive(generatorLock, async () => {
    const db = database.db
    const mirrors = await webSeedMirrors(db)
    const active = await db.select().from(torrents).where(eq(torrents.status, 'active'))
    const rewritten: string[] = []
    for (const row of active) {
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
      await db
        .update(torrents)
        .set({ metainfo: bytes, updatedAt: new Date() })
        .where(and(eq(torrents.id, row.id), eq(torrents.status, 'active')))
      rewritten.push(row.infoHash)
    }
    if (rewritten.length) {
      log.info('web seeds changed', { torrents: rewritten.length, mirrors: mirrors.length })
    }
    return rewritten
  })
}
