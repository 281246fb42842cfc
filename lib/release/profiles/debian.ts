import type { ReleaseProfile } from '../profile.ts'
import { defaultMinSize } from './shared.ts'

/**
 * Debian, `debian-cd/<version>/<arch>/iso-cd/`: the folder's `SHA256SUMS` and `SHA512SUMS`,
 * each signed in a detached `.sign`, list every image; Debian's own torrents sit in `bt-cd/`.
 */
export const debian: ReleaseProfile = {
  name: 'debian',
  artifacts: ['*.iso', '*.img'],
  companionSuffixes: [],
  // Each torrent carries the folder's sums, so `sha256sum -c --ignore-missing` works inside it.
  directoryCompanions: ['SHA256SUMS', 'SHA256SUMS.sign', 'SHA512SUMS', 'SHA512SUMS.sign'],
  // bt-cd/, bt-dvd/, bt-bd/, bt-dlbd/ hold Debian's own torrents; jigdo templates are not images.
  exclude: ['bt-*', 'jigdo-*'],
  include: [],
  minSize: defaultMinSize,
  // `.sign` is Debian's own suffix for the signature of its sums files.
  recognise: ({ names }) => names.includes('SHA256SUMS.sign') || names.includes('SHA512SUMS.sign'),
  // debian-cd's root holds the version folders.
  distributionRoot: /^(?:(.*?)\/)?[^/]+\/[^/]+\/(?:iso|bt|jigdo)-(?:cd|dvd|bd|dlbd|hybrid)(?:\/|$)/,
}
