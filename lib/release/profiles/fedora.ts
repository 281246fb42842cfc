import type { ReleaseProfile } from '../profile.ts'
import { defaultMinSize } from './shared.ts'

/**
 * Fedora, `releases/<N>/<Edition>/<arch>/iso/` (and `images/`): one clearsigned
 * `Fedora-<Edition>-<N>-<compose>-<arch>-CHECKSUM` per folder, BSD-tagged `SHA256 (name) = hex`
 * lines covering every image of the folder. AlmaLinux and Rocky (`<version>/isos/<arch>/`) publish
 * a folder `CHECKSUM` the same way, and Rocky a `<image>.CHECKSUM` per image too.
 */
export const fedora: ReleaseProfile = {
  name: 'fedora',
  artifacts: ['*.iso', '*.raw.xz', '*.qcow2', '*.img.xz'],
  companionSuffixes: ['.CHECKSUM'],
  directoryCompanions: ['*-CHECKSUM', 'CHECKSUM', 'CHECKSUM.sig', 'CHECKSUM.asc'],
  exclude: [],
  include: [],
  minSize: defaultMinSize,
  recognise: ({ names }) => names.some((n) => n === 'CHECKSUM' || /[-.]CHECKSUM$/.test(n)),
  // fedora/linux holds `releases/`; almalinux/ and rocky/ hold the version folders.
  distributionRoot:
    /^(?:(.*?)\/)?(?:releases\/\d+\/[^/]+\/[^/]+\/(?:iso|images)|[^/]+\/isos\/[^/]+)(?:\/|$)/,
}
