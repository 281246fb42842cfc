import type { ReleaseProfile } from '../profile.ts'
import { defaultMinSize } from './shared.ts'

/**
 * Alpine, `v<major.minor>/releases/<arch>/`: each ISO and tarball has its `.sha256`, `.sha512`
 * and detached `.asc`; `latest-releases.yaml` beside them is not an artifact.
 */
export const alpine: ReleaseProfile = {
  name: 'alpine',
  artifacts: ['*.iso', '*.tar.gz', '*.img.gz'],
  companionSuffixes: ['.sha256', '.sha512', '.asc'],
  directoryCompanions: [],
  exclude: [],
  include: [],
  minSize: defaultMinSize,
  recognise: ({ names }) =>
    names.some((n) => n.startsWith('alpine-') && /\.(sha256|sha512)$/.test(n)),
  // The alpine module's root holds `v3.22/`, `edge/`, `latest-stable/`.
  distributionRoot: /^(?:(.*?)\/)?(?:v\d[^/]*|edge|latest-stable)\/releases(?:\/|$)/,
}
