import type { ReleaseProfile } from '../profile.ts'
import { defaultMinSize } from './shared.ts'

/**
 * Arch Linux, `iso/<version>/`: the ISO and the bootstrap tarball, each with a detached `.sig`;
 * `sha256sums.txt` and `b2sums.txt` list both (and the unversioned names); Arch's own
 * `.torrent` of the ISO; `archlinux-x86_64.iso` and `archlinux-bootstrap-x86_64.tar.zst` are file
 * symlinks to the versioned files, and `iso/latest` a folder symlink. The `arch/` folder beside
 * them holds the boot files (a kernel, an initramfs `.img`): not artifacts.
 */
export const arch: ReleaseProfile = {
  name: 'arch',
  artifacts: ['*.iso', '*.tar.zst', '*.tar.gz', '*.qcow2'],
  companionSuffixes: ['.sig'],
  directoryCompanions: ['sha256sums.txt', 'b2sums.txt'],
  exclude: [],
  include: [],
  minSize: defaultMinSize,
  recognise: ({ names }) =>
    (names.includes('sha256sums.txt') || names.includes('b2sums.txt')) &&
    names.some((n) => n.startsWith('archlinux-')),
  // The archlinux module's root holds `iso/`.
  distributionRoot: /^(?:(.*?)\/)?iso\/[^/]+(?:\/|$)/,
}
