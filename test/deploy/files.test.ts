import { afterEach, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseTorrent } from '../../lib/metainfo/index.ts'
import { bin, ready, runCli, startServe, type RunningServe } from '../cli.ts'
import { buildGentooTree, treeArgs } from '../fixtures/mirror-tree.ts'
import { startNginx } from '../nginx.ts'
import { tool } from '../tools.ts'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean()
})

function scratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mirrorseed-deploy-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('deploy/mirrorseed.service', () => {
  const unit = readFileSync('deploy/mirrorseed.service', 'utf8')
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1]

  it('starts serve with flags the program knows, and stops it with SIGTERM', async () => {
    const exec = value('ExecStart')!.split(/\s+/)
    expect(exec.slice(0, 4)).toEqual([
      '/usr/bin/node',
      '/opt/mirrorseed/apps/mirrorseed/bin.js',
      'serve',
      '--config',
    ])
    const help = await runCli(['serve', '--help'])
    for (const flag of exec.filter((a) => a.startsWith('--'))) expect(help.stdout).toContain(flag)
    expect(value('KillSignal')).toBe('SIGTERM')
    expect(value('Restart')).toBe('on-failure')
    expect(value('User')).not.toBe('root')
  })
})

describe('deploy/rsync-post-hook.sh', () => {
  let serve: RunningServe | undefined
  afterEach(async () => {
    await serve?.stop('SIGKILL')
  })

  it('asks the running appliance for a rescan with the token it wrote', async () => {
    const tree = await buildGentooTree()
    cleanups.push(() => tree.remove())
    const dataDir = scratch()
    serve = await startServe([...treeArgs(tree), '--data-dir', dataDir], {
      env: { MIRRORSEED_ADMIN_TOKEN: '' },
    })
    await ready(serve)
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
      (resolve) => {
        const child = spawn('sh', ['deploy/rsync-post-hook.sh', 'releases'], {
          env: {
            PATH: process.env.PATH,
            MIRRORSEED_URL: serve!.url,
            MIRRORSEED_DATA_DIR: dataDir,
            MIRRORSEED_BIN: bin,
          },
        })
        let out = ''
        child.stdout.on('data', (d) => (out += d))
        child.on('close', (c) => resolve({ code: c, stdout: out }))
      },
    )
    expect(code).toBe(0)
    expect(stdout).toMatch(/^rescan of releases accepted: job [0-9a-f-]{36}$/m)
  })
})

const nginx = tool('nginx', ['-v'])
describe.skipIf(!nginx.found)(`deploy/nginx-mirror.conf ${nginx.reason}`, () => {
  it('makes a downstream mirror a web seed: symlinks followed, Range answered with 206', async () => {
    const top = scratch()
    const tree = await buildGentooTree({ root: path.join(top, 'gentoo') })
    const scan = await runCli(['scan', ...treeArgs(tree), '--data-dir', scratch()])
    expect(scan.code).toBe(0)
    // The snippet as an admin would include it, with this test's tree in place of /srv/mirror.
    const snippet = readFileSync('deploy/nginx-mirror.conf', 'utf8').replaceAll('/srv/mirror', top)
    const server = await startNginx(top, { server: snippet })
    cleanups.push(() => server.stop())

    const release = tree.releases[0]
    const torrentUrl = `${server.url}/gentoo/torrents/${release.releaseDir}/${release.name}.torrent`
    const torrentResponse = await fetch(torrentUrl)
    expect(torrentResponse.status).toBe(200)
    expect(torrentResponse.headers.get('content-type')).toBe('application/x-bittorrent')
    const torrent = parseTorrent(Buffer.from(await torrentResponse.arrayBuffer()))

    // What a client does with the mirror's url-list entry: base + symlink dir + name + file.
    const artifact = path.posix.basename(release.artifact)
    const url = `${server.url}/gentoo/torrent-symlinks/${release.releaseDir}/${torrent.name}/${artifact}`
    const response = await fetch(url, { headers: { range: 'bytes=1000-2023' } })
    expect(response.status).toBe(206)
    expect(response.redirected).toBe(false)
    const want = readFileSync(path.join(tree.root, release.artifact)).subarray(1000, 2024)
    expect(Buffer.from(await response.arrayBuffer()).equals(want)).toBe(true)
  })
})
