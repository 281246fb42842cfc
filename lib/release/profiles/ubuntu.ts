import type { ReleaseProfile } from '../profile.ts'
import { defaultMinSize } from './shared.ts'

/**
 * Ubuntu, `ubuntu-releases/<version>/`: `SHA256SUMS` and its detached `SHA256SUMS.gpg` list every
 * image; beside each image Ubuntu's own `.iso.torrent` and `.iso.zsync`, and the `.list` and
 * `.manifest` package lists: none of those is an artifact or a companion.
 */
export const ubuntu: ReleaseProfile = {
  name: 'ubuntu',
  artifacts: ['*.iso', '*.img.xz', '*.img'],
  companionSuffixes: [],
  directoryCompanions: ['SHA256SUMS', 'SHA256SUMS.gpg'],
  exclude: [],
  include: [],
  minSize: defaultMinSize,
  // `.gpg` is Ubuntu's suffix for the sums signature; Debian's is `.sign`.
  recognise: ({ names }) =>
    names.includes('SHA256SUMS.gpg') ||
    (names.includes('SHA256SUMS') && names.some((n) => n.endsWith('.iso.zsync'))),
  // ubuntu-releases holds the version folders (`24.04.3/`; `noble` is a folder symlink).
  distributionRoot: /^(?:(.*?)\/)?\d+\.\d+(?:\.\d+)?(?:\/|$)/,
}
