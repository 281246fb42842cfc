import type { Profile as ProfileName } from '../config/index.ts'
import { ReleaseError } from './errors.ts'

/**
 * How one distribution lays out its releases: which files are artifacts (each gets a torrent),
 * which small files travel with an artifact (its companions), and what is never looked at.
 * DESIGN.md "Real layouts" is the source of every rule here.
 */
export interface ReleaseProfile {
  name: ProfileName
  /** File-name globs of artifacts, most specific first (`*.tar.xz` before `*.xz`). */
  artifacts: string[]
  /** Companions named after the artifact: `<artifact file name><suffix>`. */
  companionSuffixes: string[]
  /** Companions shared by every artifact of a directory (Debian's `SHA256SUMS`). */
  directoryCompanions: string[]
  /** Directories (globs) never walked: another tool's torrents, for instance. */
  exclude: string[]
  /** When not empty, only artifacts whose path matches one of these globs count. */
  include: string[]
  /** Smallest file, in bytes, that counts as an artifact. */
  minSize: number
}

/** What config may change on top of a profile; `artifacts` adds globs, the rest replace. */
export interface ProfileOverrides {
  minSize?: number
  include?: string[]
  exclude?: string[]
  artifacts?: string[]
  companionSuffixes?: string[]
  directoryCompanions?: string[]
}

const diskImages = ['*.iso', '*.img', '*.img.xz', '*.img.gz', '*.img.zst', '*.qcow2', '*.raw.xz']
const tarballs = ['*.tar.xz', '*.tar.bz2', '*.tar.gz', '*.tar.zst', '*.tar.lz', '*.tar']

/** Matches config's default (`release.minSize`): real artifacts are megabytes at least. */
const defaultMinSize = 1024 * 1024

const gentoo: ReleaseProfile = {
  name: 'gentoo',
  artifacts: ['*.iso', '*.tar.xz', '*.tar.bz2', '*.tar.gz', '*.tar.zst', '*.qcow2', '*.img'],
  // `.DIGESTS.asc` is the clearsigned DIGESTS of releases before 2021 or so.
  companionSuffixes: [
    '.DIGESTS',
    '.DIGESTS.asc',
    '.asc',
    '.sig',
    '.CONTENTS',
    '.CONTENTS.gz',
    '.sha256',
    '.sha512',
  ],
  directoryCompanions: [],
  exclude: [],
  include: [],
  minSize: defaultMinSize,
}

const debian: ReleaseProfile = {
  name: 'debian',
  artifacts: ['*.iso', '*.img'],
  companionSuffixes: [],
  // Each torrent carries the folder's sums, so `sha256sum -c --ignore-missing` works inside it.
  directoryCompanions: ['SHA256SUMS', 'SHA256SUMS.sign', 'SHA512SUMS', 'SHA512SUMS.sign'],
  // bt-cd/, bt-dvd/, bt-bd/, bt-dlbd/ hold Debian's own torrents; jigdo templates are not images.
  exclude: ['bt-*', 'jigdo-*'],
  include: [],
  minSize: defaultMinSize,
}

const generic: ReleaseProfile = {
  name: 'generic',
  artifacts: [...diskImages, ...tarballs],
  companionSuffixes: [
    '.DIGESTS',
    '.asc',
    '.sig',
    '.minisig',
    '.sha256',
    '.sha512',
    '.sha256sum',
    '.sha512sum',
    '.CONTENTS',
    '.CONTENTS.gz',
  ],
  directoryCompanions: [
    'SHA256SUMS',
    'SHA256SUMS.sign',
    'SHA256SUMS.asc',
    'SHA256SUMS.gpg',
    'SHA512SUMS',
    'SHA512SUMS.sign',
    'SHA512SUMS.asc',
    'SHA512SUMS.gpg',
    'sha256sums.txt',
    'sha512sums.txt',
    'b2sums.txt',
  ],
  exclude: [],
  include: [],
  minSize: defaultMinSize,
}

export const builtinProfiles: Readonly<Record<ProfileName, ReleaseProfile>> = {
  gentoo,
  debian,
  generic,
}

/**
 * A built-in profile with config applied.
 *
 * @example
 * const profile = resolveProfile(config.profile, config.release)
 */
export function resolveProfile(
  name: ProfileName,
  overrides: ProfileOverrides = {},
): ReleaseProfile {
  const base = builtinProfiles[name]
  if (!base) {
    throw new ReleaseError(
      'bad-profile',
      `unknown profile "${name}" (expected one of ${Object.keys(builtinProfiles).join(', ')})`,
    )
  }
  return {
    name,
    artifacts: [...(overrides.artifacts ?? []), ...base.artifacts],
    companionSuffixes: overrides.companionSuffixes ?? base.companionSuffixes,
    directoryCompanions: overrides.directoryCompanions ?? base.directoryCompanions,
    exclude: [...base.exclude, ...(overrides.exclude ?? [])],
    include: overrides.include ?? base.include,
    minSize: overrides.minSize ?? base.minSize,
  }
}
