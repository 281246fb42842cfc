import type { PublishedRow } from '../lib/catalog/index.ts'

/**
 * A torrent as the generator would record it (`recordPublished`), for tests that need catalog
 * rows without hashing a tree: one artifact file, the metainfo a placeholder unless given.
 */
export function publishedRow(
  name: string,
  fields: Partial<Omit<PublishedRow, 'name'>> = {},
): PublishedRow {
  const releaseDir = fields.releaseDir ?? 'r'
  const size = fields.size ?? 1
  return {
    infoHash: Buffer.from(`${releaseDir}/${name}`).toString('hex').padEnd(40, '0').slice(0, 40),
    infoHashV2: null,
    profile: null,
    format: 'v1',
    pieceLength: 262144,
    metainfo: Buffer.from('d4:infode'),
    files: [
      { path: `${releaseDir}/${name}`, size, role: 'artifact', mtimeMs: 0, inode: 1, sha256: null },
    ],
    ...fields,
    name,
    releaseDir,
    size,
  }
}
