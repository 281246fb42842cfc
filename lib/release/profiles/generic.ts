import type { ReleaseProfile } from '../profile.ts'
import { defaultMinSize, diskImages, tarballs } from './shared.ts'

/** Anything else: the usual image and tarball names, the usual checksum and signature files. */
export const generic: ReleaseProfile = {
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
    '*-CHECKSUM',
    'CHECKSUM',
  ],
  exclude: [],
  include: [],
  minSize: defaultMinSize,
  recognise: () => false,
  distributionRoot: undefined,
}
