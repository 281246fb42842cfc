import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import path from 'node:path'
import { digestAlgorithms, digestFileKind, parseDigests } from './digests.ts'
import type { DigestAlgorithm } from './digests.ts'
import { ReleaseError } from './errors.ts'
import type { Release } from './scan.ts'

/** Hex digests of one file, by algorithm. */
export type Digests = Partial<Record<DigestAlgorithm, string>>

/** A digest as a digest file lists it, and which file (path relative to the root) said so. */
export interface ListedDigest {
  hex: string
  source: string
}

export interface ExpectedDigests {
  /** What the artifact must hash to; empty when no digest file lists it. */
  artifact: Digests
  /** Every file of the release that a digest file lists (the artifact too), by path. */
  files: Record<string, Partial<Record<DigestAlgorithm, ListedDigest>>>
  /** Two digest files listing different hashes of one file in one algorithm: cannot pass. */
  conflicts: { path: string; algorithm: DigestAlgorithm; sources: string[] }[]
  /** The digest files read, by path. */
  sources: string[]
}

export interface DigestFailure {
  path: string
  algorithm: DigestAlgorithm
  expected: string
  actual: string
  source: string
}

export type Verification =
  | { status: 'verified'; checked: { path: string; algorithm: DigestAlgorithm }[] }
  | { status: 'unverified'; message: string }
  | { status: 'failed'; failures: DigestFailure[]; message: string }

/** A digest file is read whole; one this large is not a digest file. */
const maxDigestFileSize = 16 * 1024 * 1024

/**
 * The digests the release's own digest companions list for its files. Pure: `digestFiles` holds
 * the text of each of the release's digest companions (see {@link readExpectedDigests}).
 */
export function expectedDigests(
  release: Release,
  digestFiles: { path: string; text: string }[],
): ExpectedDigests {
  const members = new Set([release.artifact.path, ...release.companions.map((c) => c.path)])
  const expected: ExpectedDigests = { artifact: {}, files: {}, conflicts: [], sources: [] }
  for (const { path: source, text } of digestFiles) {
    expected.sources.push(source)
    const dir = path.posix.dirname(source)
    for (const line of parseDigests(text, path.posix.basename(source))) {
      const listed = path.posix.normalize(dir === '.' ? line.fileName : `${dir}/${line.fileName}`)
      if (!members.has(listed)) continue
      const digests = (expected.files[listed] ??= {})
      const before = digests[line.algorithm]
      if (before === undefined) {
        digests[line.algorithm] = { hex: line.hex, source }
      } else if (before.hex !== line.hex) {
        const sources = before.source === source ? [source] : [before.source, source]
        expected.conflicts.push({ path: listed, algorithm: line.algorithm, sources })
      }
    }
  }
  for (const [algorithm, listed] of Object.entries(expected.files[release.artifact.path] ?? {})) {
    expected.artifact[algorithm as DigestAlgorithm] = listed.hex
  }
  return expected
}

/**
 * Reads the release's digest companions and returns what they list.
 *
 * @example
 * const expected = await readExpectedDigests(release)
 * const algorithm = preferredAlgorithm(expected.artifact) // hash this one with the pieces
 */
export async function readExpectedDigests(release: Release): Promise<ExpectedDigests> {
  const texts: { path: string; text: string }[] = []
  for (const companion of release.companions) {
    if (digestFileKind(path.posix.basename(companion.path)) === undefined) continue
    const text = await readSmall(companion.absPath, companion.path)
    if (text !== undefined) texts.push({ path: companion.path, text })
  }
  return expectedDigests(release, texts)
}

/** The one whole-file digest worth computing: SHA-256, else SHA-512, else BLAKE2B. */
export function preferredAlgorithm(
  digests: Partial<Record<DigestAlgorithm, unknown>>,
): DigestAlgorithm | undefined {
  return digestAlgorithms.find((a) => digests[a] !== undefined)
}

/**
 * Strict: every computed digest that a digest file also lists must match it. The release is
 * `unverified` when nothing checked its artifact; the caller applies `requireDigest`.
 *
 * @example
 * const v = checkDigests(release, expected, { [release.artifact.path]: { sha256: hex } })
 * if (v.status === 'failed') log.warn('verification failed', { release: release.name, why: v.message })
 */
export function checkDigests(
  release: Release,
  expected: ExpectedDigests,
  computed: Record<string, Digests>,
): Verification {
  const failures: DigestFailure[] = []
  const checked: { path: string; algorithm: DigestAlgorithm }[] = []
  for (const [filePath, digests] of Object.entries(computed)) {
    for (const [algorithm, actual] of Object.entries(digests) as [DigestAlgorithm, string][]) {
      const listed = expected.files[filePath]?.[algorithm]
      if (listed === undefined) continue
      if (listed.hex === actual.toLowerCase()) checked.push({ path: filePath, algorithm })
      else
        failures.push({
          path: filePath,
          algorithm,
          expected: listed.hex,
          actual,
          source: listed.source,
        })
    }
  }
  const messages = failures.map(
    (f) => `${f.algorithm} of ${f.path} does not match the one listed in ${f.source}`,
  )
  for (const c of expected.conflicts) {
    messages.push(`${c.sources.join(' and ')} list different ${c.algorithm} digests of ${c.path}`)
  }
  if (messages.length > 0) {
    return { status: 'failed', failures, message: messages.join('; ') }
  }
  const artifact = release.artifact.path
  if (!checked.some((c) => c.path === artifact)) {
    const listed = Object.keys(expected.artifact)
    const message =
      listed.length === 0
        ? `no digest of ${artifact} is listed`
        : `${artifact} lists ${listed.join(', ')} but none of them was computed`
    return { status: 'unverified', message }
  }
  return { status: 'verified', checked }
}

/**
 * Whole-file digests of one file in one read. The hasher computes the artifact's digest in its
 * piece pass; this is for companions and for tools that hold no pieces.
 */
export async function computeDigests(
  absPath: string,
  algorithms: readonly DigestAlgorithm[],
): Promise<Digests> {
  const hashes = algorithms.map((a) => createHash(a))
  for await (const chunk of createReadStream(absPath, { highWaterMark: 1024 * 1024 })) {
    for (const h of hashes) h.update(chunk as Buffer)
  }
  const digests: Digests = {}
  algorithms.forEach((a, i) => (digests[a] = hashes[i].digest('hex')))
  return digests
}

async function readSmall(absPath: string, relPath: string): Promise<string | undefined> {
  let handle
  try {
    handle = await open(absPath, 'r')
  } catch (error) {
    // Gone since the scan: the next pass will not list it.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const { size } = await handle.stat()
    if (size > maxDigestFileSize) {
      throw new ReleaseError(
        'bad-digest-file',
        `${relPath} is ${size} bytes, too large for a digest file`,
      )
    }
    return (await handle.readFile()).toString('utf8')
  } finally {
    await handle.close()
  }
}
