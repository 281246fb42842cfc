import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createTorrent, parseTorrent, swarmKeys, trackerKeyHex } from './index.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'identity-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const source = path.join(dir, 'a.iso')
writeFileSync(source, Buffer.alloc(100_000, 7))
const files = [{ path: ['a.iso'], source }]

describe('a torrent has one 20-byte tracker key in every format', () => {
  it.each(['v1', 'v2', 'hybrid'] as const)('%s', async (format) => {
    const { torrent, bytes } = await createTorrent({ name: 'a.iso', files, format })
    const parsed = parseTorrent(bytes)
    const key = trackerKeyHex(parsed)
    // 40 hex digits, as announce and scrape carry it (BEP 3, BEP 52 truncation).
    expect(key).toMatch(/^[0-9a-f]{40}$/)
    expect(key).toBe(trackerKeyHex(torrent))
    if (format === 'v2') expect(key).toBe(parsed.infoHashV2!.toString('hex').slice(0, 40))
    else expect(key).toBe(parsed.infoHash!.toString('hex'))
    expect(swarmKeys(parsed).map((k) => k.toString('hex'))).toEqual(
      format === 'hybrid' ? [key, parsed.infoHashV2!.toString('hex').slice(0, 40)] : [key],
    )
  })
})
