import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { stageFile, writeFileAtomically } from './index.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-files-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('writeFileAtomically', () => {
  it('writes a new file and replaces an old one whole, leaving no temporary beside it', async () => {
    const file = path.join(dir, 'debian.torrent')
    await writeFileAtomically(file, Buffer.from('first'))
    expect(await readFile(file, 'utf8')).toBe('first')
    await writeFileAtomically(file, Buffer.from('second, longer'))
    expect(await readFile(file, 'utf8')).toBe('second, longer')
    expect(await readdir(dir)).toEqual(['debian.torrent'])
  })

  it('fails in a folder that does not exist, writing nothing', async () => {
    const file = path.join(dir, 'missing', 'x.torrent')
    await expect(writeFileAtomically(file, Buffer.from('x'))).rejects.toMatchObject({
      code: 'ENOENT',
    })
    expect(await readdir(dir)).toEqual([])
  })

  it('writes a name at NAME_MAX: the temporary does not grow it', async () => {
    const file = path.join(dir, `${'n'.repeat(247)}.torrent`)
    await writeFileAtomically(file, Buffer.from('x'))
    expect(await readdir(dir)).toEqual([path.basename(file)])
  })
})

describe('stageFile', () => {
  it('keeps the old file under the real name until placed, and discarding leaves it', async () => {
    const file = path.join(dir, 'a.torrent')
    await writeFile(file, 'old')
    const staged = await stageFile(file, Buffer.from('new'))
    expect(await readFile(file, 'utf8')).toBe('old')
    const temps = (await readdir(dir)).filter((name) => name !== 'a.torrent')
    expect(temps).toHaveLength(1)
    expect(temps[0]).toMatch(/^\./) // a dot name: the scanner never reads it
    await staged.discard()
    expect(await readdir(dir)).toEqual(['a.torrent'])
    expect(await readFile(file, 'utf8')).toBe('old')

    const again = await stageFile(file, Buffer.from('new'))
    await again.place()
    expect(await readFile(file, 'utf8')).toBe('new')
    expect(await readdir(dir)).toEqual(['a.torrent'])
  })
})
