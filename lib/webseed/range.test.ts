import { describe, expect, it } from 'vitest'
import { parseRange, WebSeedError } from './index.ts'

function code(header: string, size: number): string {
  try {
    parseRange(header, size)
  } catch (err) {
    if (err instanceof WebSeedError) return err.code
    throw err
  }
  return 'accepted'
}

describe('parseRange', () => {
  it('reads the three single-range forms', () => {
    expect(parseRange('bytes=0-16383', 1000000)).toEqual({ start: 0, end: 16383 })
    expect(parseRange('bytes=999990-', 1000000)).toEqual({ start: 999990, end: 999999 })
    expect(parseRange('bytes=-10', 1000000)).toEqual({ start: 999990, end: 999999 })
    expect(parseRange('bytes=5-5', 10)).toEqual({ start: 5, end: 5 })
  })

  it('clips at the end of the file', () => {
    expect(parseRange('bytes=0-99999999', 10)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=9-10', 10)).toEqual({ start: 9, end: 9 })
    expect(parseRange('bytes=-50', 10)).toEqual({ start: 0, end: 9 })
    expect(parseRange('bytes=0-99999999999999999999999', 10)).toEqual({ start: 0, end: 9 })
  })

  it('sends the whole file without a header, for another unit, and for several ranges', () => {
    expect(parseRange(undefined, 10)).toBeNull()
    expect(parseRange('items=0-5', 10)).toBeNull()
    expect(parseRange('bytes=0-1,4-5', 10)).toBeNull()
    expect(parseRange('bytes=20-30, 0-1', 10)).toBeNull()
  })

  it('refuses what is unsatisfiable', () => {
    expect(code('bytes=10-', 10)).toBe('unsatisfiable')
    expect(code('bytes=10-20', 10)).toBe('unsatisfiable')
    expect(code('bytes=-0', 10)).toBe('unsatisfiable')
    expect(code('bytes=0-', 0)).toBe('unsatisfiable')
    expect(code('bytes=-5', 0)).toBe('unsatisfiable')
    expect(code('bytes=20-30,40-50', 10)).toBe('unsatisfiable')
    expect(code('bytes=99999999999999999999-', 10)).toBe('unsatisfiable')
  })

  it('refuses what is malformed', () => {
    for (const header of [
      'bytes',
      'bytes=',
      'bytes=-',
      'bytes=5-2',
      'bytes=a-b',
      'bytes=1.5-2',
      'bytes=+1-2',
      'bytes=0x10-',
      'bytes=1-2-3',
      'bytes=0-1,x',
    ]) {
      expect(code(header, 1000), header).toBe('bad-range')
    }
  })
})
