import type { LayoutProfile, Profile } from '../config/index.ts'
import { globToRegExp } from './glob.ts'
import {
  builtinProfiles,
  resolveProfile,
  type FolderView,
  type ProfileOverrides,
  type ReleaseProfile,
} from './profile.ts'

/**
 * How a folder's profile was chosen: `pinned` by a `profiles:` glob, `configured` by a top-level
 * `profile` other than `auto`, `detected` from its own files, `inherited` from the nearest folder
 * above it that was detected (Arch's `arch/boot/` under `iso/<version>/`), `fallback` to generic.
 */
export type ChoiceReason = 'pinned' | 'configured' | 'detected' | 'inherited' | 'fallback'

export interface ProfileChoice {
  profile: ReleaseProfile
  how: ChoiceReason
}

export interface SelectorOptions {
  /** `auto`, or one layout for the whole root. */
  profile: Profile
  /** Globs of folders under the root, to the profile they are pinned to. */
  pins?: Readonly<Record<string, LayoutProfile>>
  /** Config on top of every profile (`release.minSize`, `include`, …). */
  overrides?: ProfileOverrides
  /** Profiles already resolved, used as they are under their name. */
  resolved?: readonly ReleaseProfile[]
}

interface Pin {
  glob: string
  re: RegExp
  profile: LayoutProfile
}

/**
 * Picks the rules for each folder of the tree: a pin wins, then a fixed `profile`, then the
 * first layout (in {@link builtinProfiles} order) that recognises the folder's files, then the
 * profile of the folder above. Also says where each distribution's subtree starts, which is
 * where its output folders go. Pure: it sees names, never the disk.
 *
 * @example
 * const selector = new ProfileSelector({ profile: 'auto', pins: { archlinux: 'arch' } })
 * selector.choose({ dir: 'fedora/linux/releases/43/Server/x86_64/iso', names }).profile.name // 'fedora'
 */
export class ProfileSelector {
  private readonly pins: Pin[]
  private readonly resolved: Map<LayoutProfile, ReleaseProfile>

  constructor(private readonly options: SelectorOptions) {
    this.resolved = new Map((options.resolved ?? []).map((p) => [p.name, p]))
    this.pins = Object.entries(options.pins ?? {}).map(([glob, profile]) => {
      // `fedora/**` pins what `fedora` pins: the folder and all below it.
      const folder = glob.replace(/^\/+/, '').replace(/(\/\*\*)?\/*$/, '')
      return { glob, re: globToRegExp(folder), profile }
    })
  }

  /** The profile `name` with config applied, built once. */
  profile(name: LayoutProfile): ReleaseProfile {
    let profile = this.resolved.get(name)
    if (profile === undefined) {
      profile = resolveProfile(name, this.options.overrides)
      this.resolved.set(name, profile)
    }
    return profile
  }

  choose(folder: FolderView, parent?: ProfileChoice): ProfileChoice {
    const pin = this.pinOf(folder.dir)
    if (pin !== undefined) return { profile: this.profile(pin.profile), how: 'pinned' }
    if (this.options.profile !== 'auto') {
      return { profile: this.profile(this.options.profile), how: 'configured' }
    }
    const detected = detectLayout(folder)
    if (detected !== undefined) return { profile: this.profile(detected), how: 'detected' }
    if (parent !== undefined && (parent.how === 'detected' || parent.how === 'inherited')) {
      return { profile: parent.profile, how: 'inherited' }
    }
    return { profile: this.profile('generic'), how: 'fallback' }
  }

  /**
   * The folder (relative to the root, `''` for the root) where the distribution holding
   * `releaseDir` starts: a pin's folder; the root itself when one `profile` is set for all of it;
   * else what the layouts' path patterns say (`archlinux` of `archlinux/iso/2026.11.01`); else the
   * root.
   */
  distributionRoot(releaseDir: string): string {
    const pin = this.pinOf(releaseDir)
    if (pin !== undefined) return pin.folder
    if (this.options.profile !== 'auto') return ''
    for (const name of pathOrder) {
      const match = builtinProfiles[name].distributionRoot?.exec(releaseDir)
      if (match) return match[1] ?? ''
    }
    return ''
  }

  /** The deepest folder a pin covers among `dir` and the folders above it, and its pin. */
  private pinOf(dir: string): (Pin & { folder: string }) | undefined {
    if (this.pins.length === 0) return undefined
    const segments = dir === '' ? [] : dir.split('/')
    for (let n = segments.length; n > 0; n--) {
      const folder = segments.slice(0, n).join('/')
      const pin = this.pins.find((p) => p.re.test(folder))
      if (pin !== undefined) return { ...pin, folder }
    }
    return undefined
  }
}

/**
 * The order the layouts' path patterns are tried in: Ubuntu's (any `<N>.<N>` folder) last, since
 * Arch's `iso/2026.11.01` and openSUSE's `leap/15.6` hold version folders too.
 */
const pathOrder: LayoutProfile[] = [
  'gentoo',
  'fedora',
  'debian',
  'opensuse',
  'arch',
  'alpine',
  'ubuntu',
]

/** The first layout that recognises the folder's files, if any. */
export function detectLayout(folder: FolderView): LayoutProfile | undefined {
  for (const profile of Object.values(builtinProfiles)) {
    if (profile.recognise(folder)) return profile.name
  }
  return undefined
}
