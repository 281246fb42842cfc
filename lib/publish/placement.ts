import path from 'node:path'
import type { ResolvedConfig } from '../config/index.ts'
import { ProfileSelector } from '../release/index.ts'

/** The config's choice of rules per folder: `profile`, the `profiles:` pins and `release.*`. */
export function profileSelector(config: ResolvedConfig): ProfileSelector {
  return new ProfileSelector({
    profile: config.profile,
    pins: config.profiles,
    overrides: {
      minSize: config.release.minSize,
      include: config.release.include.length ? config.release.include : undefined,
      exclude: config.release.exclude,
      artifacts: config.release.artifacts,
    },
  })
}

/**
 * Where a release's `.torrent` and symlink folder go, as paths relative to the mirror root.
 * With `output.placement: distribution` (the default) each distribution's subtree holds its own
 * `torrents/` and `torrent-symlinks/`, so the downstream mirrors that rsync only `archlinux/`
 * get Arch's torrents and web-seed symlinks with it; with `root`, one pair sits at the root.
 * Pure: the release folder and the config decide, so a rewrite of `url-list` months later finds
 * the same files.
 *
 * @example
 * outputLayout(config).torrentsDir('archlinux/iso/2026.11.01') // 'archlinux/torrents/iso/2026.11.01'
 */
export class OutputLayout {
  constructor(
    private readonly selector: ProfileSelector,
    private readonly dirs: ResolvedConfig['output'],
  ) {}

  /** The folder holding the output folders that serve `releaseDir`. */
  base(releaseDir: string): string {
    return this.dirs.placement === 'root' ? '' : this.selector.distributionRoot(releaseDir)
  }

  /** Every output folder's place: `<base>/<torrents>` and `<base>/<symlinks>`. */
  roots(base: string): { torrents: string; symlinks: string } {
    return {
      torrents: path.posix.join(base, this.dirs.torrents),
      symlinks: path.posix.join(base, this.dirs.symlinks),
    }
  }

  /** The folder of `releaseDir`'s `.torrent` files. */
  torrentsDir(releaseDir: string): string {
    return this.under('torrents', releaseDir)
  }

  /** The folder holding `releaseDir`'s symlink folders (one per multi-file torrent). */
  symlinksDir(releaseDir: string): string {
    return this.under('symlinks', releaseDir)
  }

  private under(kind: 'torrents' | 'symlinks', releaseDir: string): string {
    const base = this.base(releaseDir)
    const rest = base === '' ? releaseDir : releaseDir.slice(base.length + 1)
    return path.posix.join(this.roots(base)[kind], rest)
  }
}

export function outputLayout(config: ResolvedConfig): OutputLayout {
  return new OutputLayout(profileSelector(config), config.output)
}
