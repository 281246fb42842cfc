/** Globs several layouts share; each profile lists what its distribution really publishes. */
export const diskImages = [
  '*.iso',
  '*.img',
  '*.img.xz',
  '*.img.gz',
  '*.img.zst',
  '*.qcow2',
  '*.raw.xz',
]
export const tarballs = ['*.tar.xz', '*.tar.bz2', '*.tar.gz', '*.tar.zst', '*.tar.lz', '*.tar']

/** Matches config's default (`release.minSize`): real artifacts are megabytes at least. */
export const defaultMinSize = 1024 * 1024

/** Whether one of `names` ends with one of `suffixes`. */
export function someEndsWith(names: readonly string[], ...suffixes: string[]): boolean {
  return names.some((n) => suffixes.some((s) => n.endsWith(s)))
}
