import type { ReleaseProfile } from '../profile.ts'
import { defaultMinSize, someEndsWith } from './shared.ts'

/**
 * Gentoo, `releases/<arch>/autobuilds/<stamp>/`: every artifact has its own `.DIGESTS`
 * (BLAKE2B and SHA512 under `# ALGO HASH` headers), `.sha256`, `.asc` and `.CONTENTS.gz`.
 */
export const gentoo: ReleaseProfile = {
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
  recognise: ({ names }) => someEndsWith(names, '.DIGESTS', '.DIGESTS.asc', '.CONTENTS.gz'),
  // The gentoo module's root holds `releases/`.
  distributionRoot: /^(?:(.*?)\/)?releases\/[^/]+\/autobuilds(?:\/|$)/,
}
