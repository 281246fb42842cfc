/** Where one published torrent's files live under `/torrents/` and `/metalink/`. */
export interface ReleasePath {
  releaseDir: string
  name: string
}

/**
 * Splits a raw (still percent-encoded) URL path like `/torrents/<release dir>/<name>.torrent`
 * into the release it names, or null for anything else. Strict on purpose: every segment is
 * decoded once and must be a plain name (no empty, `.` or `..` segment, no `/`, `\` or NUL
 * hidden behind an escape), so no spelling of a path reaches a row it does not name.
 */
export function parseReleasePath(
  rawPath: string,
  prefix: string,
  suffix: string,
): ReleasePath | null {
  if (!rawPath.startsWith(`${prefix}/`)) return null
  const raw = rawPath.slice(prefix.length + 1).split('/')
  const segments: string[] = []
  for (const r of raw) {
    let s: string
    try {
      s = decodeURIComponent(r)
    } catch {
      return null
    }
    if (s === '' || s === '.' || s === '..' || /[/\\\0]/.test(s) || s.startsWith('.')) return null
    segments.push(s)
  }
  const file = segments.pop()
  if (file === undefined || !file.endsWith(suffix) || file.length === suffix.length) return null
  return { releaseDir: segments.join('/'), name: file.slice(0, -suffix.length) }
}
