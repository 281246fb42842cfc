import type { ReleaseProfile } from '../profile.ts'
import { defaultMinSize, someEndsWith } from './shared.ts'

/**
 * openSUSE, `distribution/leap/<version>/iso/` and `tumbleweed/iso/`: each image has its
 * `.iso.sha256` and the detached `.iso.sha256.asc` over it; `…-Current.iso` is a file symlink to
 * the newest build (with a `.sha256` of its own naming the symlink).
 */
export const opensuse: ReleaseProfile = {
  name: 'opensuse',
  artifacts: ['*.iso', '*.qcow2', '*.raw.xz', '*.tar.xz'],
  companionSuffixes: ['.sha256', '.sha256.asc'],
  directoryCompanions: [],
  exclude: [],
  include: [],
  minSize: defaultMinSize,
  recognise: ({ names }) => someEndsWith(names, '.sha256.asc', '-Current.iso'),
  // The opensuse module's root holds `distribution/` and `tumbleweed/`.
  distributionRoot: /^(?:(.*?)\/)?(?:distribution\/leap\/[^/]+|tumbleweed)\/iso(?:\/|$)/,
}
