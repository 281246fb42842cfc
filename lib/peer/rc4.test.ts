import { describe, it, expect } from 'vitest'
import { Rc4 } from './rc4.ts'

describe('Rc4', () => {
  it('matches the published test vectors', () => {
    // The classic vectors (key "Key", "Wiki", "Secret").
    const cases: Array<[string, string, string]> = [
      ['Key', 'Plaintext', 'bbf316e8d940af0ad3'],
      ['Wiki', 'pedia', '1021bf0420'],
      ['Secret', 'Attack at dawn', '45a01f645fc35b383552544b9bf5'],
    ]
    for (const [key, text, hex] of cases) {
      expect(new Rc4(Buffer.from(key)).update(Buffer.from(text)).toString('hex')).toBe(hex)
    }
  })

  it('gives the same stream whether fed at once or in pieces, and decrypts what it encrypted', () => {
    const key = Buffer.from('0123456789abcdef0123')
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 255))
    const whole = new Rc4(key, 1024).update(Buffer.from(data))
    const parts = new Rc4(key, 1024)
    let at = 0
    const out = Buffer.alloc(data.length)
    for (const size of [1, 13, 999, 3987]) {
      parts.update(data.subarray(at, at + size), out.subarray(at, at + size))
      at += size
    }
    expect(out.equals(whole)).toBe(true)
    expect(new Rc4(key, 1024).update(whole).equals(data)).toBe(true)
  })

  it('discarding 1024 bytes equals skipping them in the stream', () => {
    const key = Buffer.from('k')
    const skipped = new Rc4(key).update(new Uint8Array(1024 + 16)).subarray(1024)
    expect(Buffer.from(new Rc4(key, 1024).update(new Uint8Array(16))).equals(skipped)).toBe(true)
  })
})
