import { describe, expect, it } from 'vitest'
import { ConnectionIds } from './connection-id.ts'

const client = Uint8Array.of(192, 0, 2, 1, 0x1a, 0xe1)
const other = Uint8Array.of(192, 0, 2, 1, 0x1a, 0xe2)

describe('ConnectionIds', () => {
  it('accepts an id from the address it was issued to, for about two minutes', () => {
    let now = 1_700_000_000_000
    const ids = new ConnectionIds({ now: () => now })
    const id = Buffer.alloc(8)
    ids.issue(client, id, 0)
    expect(ids.verify(client, id, 0)).toBe(true)
    expect(ids.verify(other, id, 0)).toBe(false)
    now += 119_000
    expect(ids.verify(client, id, 0)).toBe(true)
    now += 30_000
    expect(ids.verify(client, id, 0)).toBe(false)
  })

  it('refuses a forged or altered id', () => {
    const ids = new ConnectionIds()
    const id = Buffer.alloc(8)
    ids.issue(client, id, 0)
    for (let byte = 1; byte < 8; byte++) {
      const bad = Buffer.from(id)
      bad[byte] ^= 1
      expect(ids.verify(client, bad, 0)).toBe(false)
    }
    expect(ids.verify(client, Buffer.alloc(8), 0)).toBe(false)
  })

  it('rotates its key: ids under the previous key stay valid, older keys are gone', () => {
    let now = 1_700_000_000_000
    const ids = new ConnectionIds({ now: () => now, rotateMs: 120_000 })
    // Issue just before a key change, check just after it.
    now = Math.ceil(now / 120_000) * 120_000 - 5_000
    const before = Buffer.alloc(8)
    ids.issue(client, before, 0)
    now += 10_000
    const after = Buffer.alloc(8)
    ids.issue(client, after, 0)
    expect(ids.verify(client, before, 0)).toBe(true)
    expect(ids.verify(client, after, 0)).toBe(true)
    // Same slot-byte and same client a whole rotation later: a new key, so the old id fails
    // even though its slot byte would read as recent.
    now += 256 * 15_000
    expect(ids.verify(client, after, 0)).toBe(false)
  })

  it('gives different ids to different processes (random keys)', () => {
    const a = Buffer.alloc(8)
    const b = Buffer.alloc(8)
    new ConnectionIds({ now: () => 0 }).issue(client, a, 0)
    new ConnectionIds({ now: () => 0 }).issue(client, b, 0)
    expect(a.equals(b)).toBe(false)
  })
})
