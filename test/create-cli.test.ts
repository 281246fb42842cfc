import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { bin, runCli } from './cli.ts'
import { tool } from './tools.ts'

// `mirrorseed create | info | verify` run as a user runs them: the real program, real files.

const mktorrent = tool('mktorrent', ['-h'])
const script = tool('script', ['--version'])

const content = (n: number, seed: number) => {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff
  return b
}

let dir: string
let release: string

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'create-cli-'))
  release = path.join(dir, 'stage3-amd64-openrc-20261117T170000Z')
  await fs.mkdir(path.join(release, 'sub'), { recursive: true })
  await fs.writeFile(path.join(release, 'stage3.tar.xz'), content(150_000, 1))
  await fs.writeFile(path.join(release, 'stage3.tar.xz.DIGESTS'), content(700, 2))
  await fs.writeFile(path.join(release, 'sub', 'CONTENTS.gz'), content(40_000, 3))
})
afterAll(() => fs.rm(dir, { recursive: true, force: true }))

const out = (name: string) => path.join(dir, name)

describe('mirrorseed create', () => {
  it('writes a torrent, quietly on a pipe, with the JSON a script wants', async () => {
    const r = await runCli([
      'create',
      release,
      '-o',
      out('a.torrent'),
      '--piece-length',
      '32K',
      '--json',
    ])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('') // no progress bar when stderr is not a terminal
    const json = JSON.parse(r.stdout)
    expect(json).toMatchObject({
      name: path.basename(release),
      format: 'v1',
      pieceLength: 32768,
      files: 3,
    })
    expect(json.magnet).toContain(`xt=urn:btih:${json.infoHash}`)
    expect((await fs.stat(out('a.torrent'))).size).toBeGreaterThan(0)
  })

  it.skipIf(!mktorrent.found)(
    `gives the info-hash mktorrent gives ${mktorrent.reason}`,
    async () => {
      spawnSync('mktorrent', [
        '-d',
        '-a',
        'http://127.0.0.1/a',
        '-l',
        '15',
        '-o',
        out('mk.torrent'),
        release,
      ])
      const mine = await runCli([
        'create',
        release,
        '-o',
        out('b.torrent'),
        '--piece-length',
        '32768',
        '--json',
      ])
      const theirs = await runCli(['info', out('mk.torrent'), '--json'])
      expect(JSON.parse(mine.stdout).infoHash).toBe(JSON.parse(theirs.stdout).infoHash)
    },
  )

  it('puts trackers in tiers, web seeds, name and comment outside info', async () => {
    const r = await runCli([
      'create',
      release,
      '-o',
      out('c.torrent'),
      '--format',
      'hybrid',
      '-a',
      'http://t1/announce,http://t2/announce',
      '-a',
      'udp://t3:6969',
      '-w',
      'http://m1/pub/',
      '-w',
      'http://m2/pub/',
      '--name',
      'renamed',
      '--comment',
      'autobuild',
      '--threads',
      '1',
    ])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/info-hash v2: [0-9a-f]{64}/)
    const info = JSON.parse((await runCli(['info', out('c.torrent'), '--json'])).stdout)
    expect(info).toMatchObject({
      name: 'renamed',
      format: 'hybrid',
      announce: 'http://t1/announce',
      announceList: [['http://t1/announce', 'http://t2/announce'], ['udp://t3:6969']],
      webSeeds: ['http://m1/pub/', 'http://m2/pub/'],
      comment: 'autobuild',
    })
    expect(info.createdBy).toMatch(/^mirrorseed\//)
    expect(info.files.map((f: { path: string }) => f.path)).toEqual([
      'stage3.tar.xz',
      'stage3.tar.xz.DIGESTS',
      'sub/CONTENTS.gz',
    ])
  })

  it('refuses bad input with one line and exit 2', async () => {
    for (const args of [
      ['create', release, '--piece-length', '3000'],
      ['create', release, '--piece-length', '1G'],
      ['create', release, '--format', 'v3'],
      ['create', path.join(dir, 'nothing-here')],
      ['create', release, '-o', out('a.torrent')], // exists already
      ['create', release, '--threads', 'many'],
    ]) {
      const r = await runCli(args, { cwd: dir })
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^mirrorseed: /)
    }
  })

  it.skipIf(!script.found)(`draws a progress bar on a terminal ${script.reason}`, async () => {
    const big = out('big.img')
    await fs.writeFile(big, Buffer.alloc(8 << 20, 1))
    const command = `${process.execPath} ${bin} create ${big} -o ${out('big.torrent')}`
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/hashing \[#*\.*\] +\d+% .*\/s +ETA \d\d:\d\d/)
  })
})

describe('mirrorseed info', () => {
  it('shows name, hashes, pieces, trackers and files like transmission-show', async () => {
    const r = await runCli(['info', out('c.torrent')])
    expect(r.code).toBe(0)
    for (const line of [
      /Name: renamed/,
      /Hash v1: [0-9a-f]{40}/,
      /Hash v2: [0-9a-f]{64}/,
      /Magnet: magnet:\?/,
      /Piece Count: \d+/,
      /Tier #2\n {2}udp:\/\/t3:6969/,
      /renamed\/sub\/CONTENTS.gz \(39\.1 KiB\)/,
    ]) {
      expect(r.stdout).toMatch(line)
    }
    expect(r.stdout).not.toContain('.pad')
  })

  it('refuses a file that is not a torrent', async () => {
    const r = await runCli(['info', path.join(release, 'stage3.tar.xz.DIGESTS')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^mirrorseed: .*not a torrent/)
  })
})

describe('mirrorseed verify', () => {
  it('says OK in one line when the data is whole', async () => {
    for (const torrent of ['a.torrent', 'c.torrent']) {
      const data = torrent === 'c.torrent' ? await renamedCopy() : dir
      const r = await runCli(['verify', out(torrent), data])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout.trim().split('\n')).toHaveLength(1)
      expect(r.stdout).toMatch(/^OK: /)
    }
  })

  it('names the bad and missing files and the bad pieces, exit 1', async () => {
    const copy = path.join(dir, 'damaged', path.basename(release))
    await fs.cp(release, copy, { recursive: true })
    const fd = await fs.open(path.join(copy, 'stage3.tar.xz'), 'r+')
    await fd.write(Buffer.from([0xaa]), 0, 1, 70_000) // piece 2 at 32 KiB pieces
    await fd.close()
    await fs.rm(path.join(copy, 'sub', 'CONTENTS.gz'))
    const r = await runCli(['verify', out('a.torrent'), path.join(dir, 'damaged')])
    expect(r.code).toBe(1)
    expect(r.stdout, r.stdout).toContain('bad: stage3.tar.xz (pieces 2)')
    expect(r.stdout).toMatch(/missing: sub\/CONTENTS.gz/)
    expect(r.stderr).toMatch(/^mirrorseed: 2 of 3 files failed/)
    const json = await runCli(['verify', out('a.torrent'), path.join(dir, 'damaged'), '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout).files).toContainEqual({
      path: 'stage3.tar.xz',
      problem: 'pieces',
      pieces: [2],
    })
  })
})

/** c.torrent is named `renamed`: its data must sit in a folder of that name. */
async function renamedCopy(): Promise<string> {
  const parent = path.join(dir, 'renamed-parent')
  await fs.cp(release, path.join(parent, 'renamed'), { recursive: true })
  return parent
}
