import type { LayoutProfile } from '../config/index.ts'
import { ReleaseError } from './errors.ts'
import {
  alpine,
  arch,
  debian,
  fedora,
  generic,
  gentoo,
  opensuse,
  ubuntu,
} from './profiles/index.ts'

/** What a folder looks like to auto-detection: its path and the names of its files. */
export interface FolderView {
  /** Posix, relative to the root. */
  dir: string
  /** Names of the files and symlinks in it (folders left out). */
  names: readonly string[]
}

/**
 * How one distribution lays out its releases: which files are artifacts (each gets a torrent),
 * which small files travel with an artifact (its companions), what is never looked at, and how
 * auto-detection recognises it. docs/profiles.md describes each; the fixtures in
 * test/fixtures/mirror-tree.ts are written from the real listings.
 */
export interface ReleaseProfile {
  name: LayoutProfile
  /** File-name globs of artifacts, most specific first (`*.tar.xz` before `*.xz`). */
  artifacts: string[]
  /** Companions named after the artifact: `<artifact file name><suffix>`. */
  companionSuffixes: string[]
  /** Companions shared by every artifact of a folder (Debian's `SHA256SUMS`); name globs. */
  directoryCompanions: string[]
  /** Directories (globs) never walked: another tool's torrents, for instance. */
  exclude: string[]
  /** When not empty, only artifacts whose path matches one of these globs count. */
  include: string[]
  /** Smallest file, in bytes, that counts as an artifact. */
  minSize: number
  /** Whether a folder's files are this distribution's release layout (names only, no I/O). */
  recognise(folder: FolderView): boolean
  /**
   * Where the distribution's own tree starts, from a release folder's path: group 1 is the
   * folder its downstream mirrors rsync (`archlinux` of `archlinux/iso/2026.11.01`).
   */
  distributionRoot: RegExp | undefined
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

/**
 * Every layout, in the order auto-detection asks: the most distinctive marker first (Gentoo's
 * `.DIGESTS`, Debian's `.sign`, Ubuntu's `.gpg`, a `CHECKSUM`), `generic` last.
 */
export const builtinProfiles: Readonly<Record<LayoutProfile, ReleaseProfile>> = {
  gentoo,
  debian,
  ubuntu,
  fedora,
  arch,
  opensuse,
  alpine,
  generic,
}

/**
 * A built-in profile with config applied.
 *
 * @example
 * const profile = resolveProfile('gentoo', config.release)
 */
export function resolveProfile(
  name: LayoutProfile,
  overrides: ProfileOverrides = {},
): ReleaseProfile {
  const base = Object.hasOwn(builtinProfiles, name) ? builtinProfiles[name] : undefined
  if (!base) {
    throw new ReleaseError(
      'BAD_PROFILE',
      `unknown profile "${name}" (expected one of ${Object.keys(builtinProfiles).join(', ')})`,
    )
  }
  return {
    ...base,
    artifacts: [...(overrides.artifacts ?? []), ...base.artifacts],
    companionSuffixes: overrides.companionSuffixes ?? base.companionSuffixes,
    directoryCompanions: overrides.directoryCompanions ?? base.directoryCompanions,
    exclude: [...base.exclude, ...(overrides.exclude ?? [])],
    include: overrides.include ?? base.include,
    minSize: overrides.minSize ?? base.minSize,
  }
}
