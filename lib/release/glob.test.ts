import { describe, expect, it } from 'vitest'
import { globToRegExp } from './index.ts'

describe('globToRegExp', () => {
  it('keeps * within a segment and lets ** span segments', () => {
    expect(globToRegExp('*.tar.xz').test('stage3.tar.xz')).toBe(true)
    expect(globToRegExp('*.tar.xz').test('stage3.tar.xz.asc')).toBe(false)
    expect(globToRegExp('*.iso').test('a/b.iso')).toBe(false)
    expect(globToRegExp('releases/**/*.iso').test('releases/x.iso')).toBe(true)
    expect(globToRegExp('releases/**/*.iso').test('releases/amd64/autobuilds/x.iso')).toBe(true)
    expect(globToRegExp('releases/**').test('releases/amd64/x')).toBe(true)
    expect(globToRegExp('bt-?d').test('bt-cd')).toBe(true)
    expect(globToRegExp('a+b(c).iso').test('a+b(c).iso')).toBe(true)
    expect(globToRegExp('a+b(c).iso').test('aab(c)xiso')).toBe(false)
  })
})
