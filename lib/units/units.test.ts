import { describe, expect, it } from 'vitest'
import { formatBytes } from './index.ts'

describe('formatBytes', () => {
  it('prints bytes as mirror admins read them, in binary units', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1024)).toBe('1 KiB')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(40_038)).toBe('39.1 KiB')
    expect(formatBytes(256 << 10)).toBe('256 KiB')
    expect(formatBytes(4 << 20)).toBe('4 MiB')
    expect(formatBytes(4.7e9)).toBe('4.4 GiB')
    expect(formatBytes(3 * 2 ** 50)).toBe('3072 TiB')
  })
})
