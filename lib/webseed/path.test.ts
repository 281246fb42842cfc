import { describe, expect, it } from 'vitest'
import { parseWebSeedPath, WebSeedError } from './index.ts'

const bad = (target: string) => {
  expect(() => parseWebSeedPath(target), target).toThrow(WebSeedError)
}

describe('parseWebSeedPath', () => {
  it('decodes each segment once', () => {
    expect(parseWebSeedPath('/webseed/releases/amd64/install-amd64-minimal/x.iso')).toBe(
      'releases/amd64/install-amd64-minimal/x.iso',
    )
    expect(parseWebSeedPath('/webseed/a%20b/%C3%BC%2B%25.txt')).toBe('a b/ü+%.txt')
    // Decoded once: `%2541` is the three characters "%41", not "A".
    expect(parseWebSeedPath('/webseed/r/%2541')).toBe('r/%41')
    // `+` is a plus in a path, not a space.
    expect(parseWebSeedPath('/webseed/r/c++.tar.xz')).toBe('r/c++.tar.xz')
  })

  it('drops a query string', () => {
    expect(parseWebSeedPath('/webseed/r/x.iso?cache=1')).toBe('r/x.iso')
  })

  it('refuses dot segments, raw or encoded', () => {
    bad('/webseed/../etc/passwd')
    bad('/webseed/r/../../etc/passwd')
    bad('/webseed/r/./x.iso')
    bad('/webseed/%2e%2e/etc/passwd')
    bad('/webseed/r/%2E%2e/x')
    bad('/webseed/r/.%2e/x')
    bad('/webseed/r/%2e')
  })

  it('refuses encoded slashes, NUL, empty segments and absolute paths', () => {
    bad('/webseed/r%2f..%2f..%2fetc/passwd')
    bad('/webseed/r/%2F')
    bad('/webseed/r/x.iso%00.txt')
    bad('/webseed//etc/passwd')
    bad('/webseed/r//x.iso')
    bad('/webseed/r/')
    bad('/webseed/')
    bad('/etc/passwd')
    bad('http://host/webseed/r/x.iso')
  })

  it('refuses broken escapes, non-UTF-8 and raw characters clients always encode', () => {
    bad('/webseed/r/%')
    bad('/webseed/r/%4')
    bad('/webseed/r/%zz')
    bad('/webseed/r/%ff%fe')
    bad('/webseed/r/%c0%ae%c0%ae') // overlong "..": not UTF-8
    bad('/webseed/r/a b')
    bad('/webseed/r/a\\..\\b')
    bad('/webseed/r/\u00fc')
    bad('/webseed/r/a\tb')
  })
})
