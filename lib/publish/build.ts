import { createHash } from 'node:crypto'
import path from 'node:path'
import type { ResolvedConfig } from '../config/index.ts'
import { HashError } from '../hashing/index.ts'
import { createTorrent, type Torrent } from '../metainfo/index.ts'
import {
  digestAlgorithms,
  readExpectedDigests,
  type DigestAlgorithm,
  type ExpectedDigests,
  type FileRef,
  type Release,
} from '../release/index.ts'
import { trackerTiers, webSeeds, type WebSeedMirror } from './announce.ts'
import type { OutputLayout } from './placement.ts'

/** A built torrent and the whole-file digests computed in the same read pass. */
export interface Built {
  torrent: Torrent
  bytes: Buffer
  /** Path relative to the root -> algorithm -> hex digest. */
  computed: Record<string, Record<string, string>>
  size: number
  multiFile: boolean
}

/** What a release's torrent is made from, besides the configuration. */
export interface BuildInputs {
  release: Release
  /** The artifact, then its companions. */
  files: FileRef[]
  /** The listed digests to compute along with the pieces ({@link digestsToCompute}). */
  listed: DigestAlgorithm[]
  /** Healthy mirrors, each a web seed of the torrent. */
  mirrors: readonly WebSeedMirror[]
}

/**
 * The digests the release's digest files list, and which algorithms to compute: the preferred
 * one, or with release.verifyAll every one listed (Arch's sha256sums.txt and b2sums.txt both).
 * Held for want of a digest with release.requireDigest.
 */
export async function digestsToCompute(
  config: ResolvedConfig,
  release: Release,
): Promise<
  { held: string } | { held?: undefined; digests: ExpectedDigests; listed: DigestAlgorithm[] }
> {
  const digests = await readExpectedDigests(release)
  const listed = digestAlgorithms
    .filter((a) => digests.artifact[a] !== undefined)
    .slice(0, config.release.verifyAll ? undefined : 1)
  if (listed.length === 0 && config.release.requireDigest) {
    return { held: `no digest of ${release.artifact.path} is listed (release.requireDigest)` }
  }
  return { digests, listed }
}

/**
 * Hashes the files once (pieces and whole-file digests in one read pass) and builds the torrent.
 * Held for the next pass when a file changed while it was read.
 */
export async function buildTorrent(
  config: ResolvedConfig,
  layout: OutputLayout,
  { release, files, listed, mirrors }: BuildInputs,
  threads?: number,
): Promise<Built | { held: string }> {
  const multiFile = release.companions.length > 0
  const digests: DigestAlgorithm[] = ['sha256', ...listed.filter((a) => a !== 'sha256')]
  let created
  try {
    created = await createTorrent({
      name: release.name,
      files: files.map((f) => ({ path: [path.posix.basename(f.path)], source: f.absPath })),
      multiFile,
      format: config.format,
      pieceLength: config.pieceLength,
      digests,
      threads,
      trackers: trackerTiers(config),
      webSeeds: webSeeds(config, { releaseDir: release.releaseDir, multiFile }, mirrors, layout),
      comment: config.comment,
      creationDate: Math.floor(release.artifact.mtimeMs / 1000),
    })
  } catch (err) {
    if (err instanceof HashError && err.code === 'changed') {
      // Still being written (rsync --inplace, a copy in progress): the next pass takes it.
      return { held: `a file changed while it was read: ${err.message}` }
    }
    throw err
  }
  const size = files.reduce((sum, f) => sum + f.size, 0)
  const computed = Object.fromEntries(
    created.digests.map((d, i) => [
      files[i].path,
      Object.fromEntries(
        Object.entries(d.digests).flatMap(([a, b]) => (b ? [[a, b.toString('hex')]] : [])),
      ),
    ]),
  )
  return { torrent: created.torrent, bytes: created.bytes, computed, size, multiFile }
}

/** The files' identity (path, size, mtime, inode): a failed release is retried when it changes. */
export function fingerprintOf(files: FileRef[]): string {
  const text = files
    .map((f) => `${f.path}\0${f.size}\0${Math.floor(f.mtimeMs)}\0${f.ino}`)
    .sort()
    .join('\n')
  return createHash('sha1').update(text).digest('hex')
}
