/**
 * The small glob dialect of profiles and config: `*` and `?` stay inside one path segment, `**`
 * spans segments. A pattern without `/` is matched against the file name alone (`*.iso`), one with
 * `/` against the whole path relative to the mirror root (`releases/amd64`).
 */
export function globToRegExp(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more whole segments; a trailing `**` matches everything below.
        if (pattern[i + 2] === '/') {
          source += '(?:[^/]*/)*'
          i += 2
        } else {
          source += '.*'
          i += 1
        }
      } else {
        source += '[^/]*'
      }
    } else if (c === '?') {
      source += '[^/]'
    } else {
      source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${source}$`)
}

export interface GlobSet {
  /** Whether `path` (posix, relative to the root) matches one of the patterns. */
  matches(path: string): boolean
  /** Whether `path` or one of the directories above it matches (`releases` includes all below). */
  covers(path: string): boolean
}

export function globSet(patterns: readonly string[]): GlobSet {
  const byName = patterns.filter((p) => !p.includes('/')).map(globToRegExp)
  const byPath = patterns
    .filter((p) => p.includes('/'))
    .map((p) => globToRegExp(p.replace(/^\//, '')))
  const matches = (path: string): boolean => {
    const name = path.slice(path.lastIndexOf('/') + 1)
    return byName.some((re) => re.test(name)) || byPath.some((re) => re.test(path))
  }
  return {
    matches,
    covers(path: string): boolean {
      for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
        if (matches(path.slice(0, end))) return true
      }
      return false
    },
  }
}
