import { afterEach, describe, expect, it } from 'vitest'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { until } from '../cli.ts'
import { buildGentooTree, fixtureMinSize, pseudoRandom } from '../fixtures/mirror-tree.ts'
import { tool } from '../tools.ts'

// The appliance as deploy/mirrorseed.service runs it, in the field: its ExecStart as an
// unprivileged user (setpriv), from the unit's working folder (not the checkout), over a tree
// owned by someone else where only the two output folders are writable, and one that holds what
// every real mirror holds sooner or later: a root-owned lost+found, an artifact nobody may read,
// a 240-byte file name and a 17 MB DIGESTS file.

const checkout = fileURLToPath(new URL('../../', import.meta.url))
const unitText = readFileSync(path.join(checkout, 'deploy/mirrorseed.service'), 'utf8')
const directive = (key: string) =>
  [...unitText.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1].trim())
const one = (key: string) => {
  const values = directive(key)
  expect(values, `${key}= in deploy/mirrorseed.service`).toHaveLength(1)
  return values[0]
}

const isRoot = process.getuid?.() === 0
if (!isRoot && process.env.CI === 'true') {
  throw new Error('test/deploy/unit.test.ts must run as root under CI=true (it drops to nobody)')
}
const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' })
const nobodyUid = Number(nobody.stdout.trim())
const nogroupGid = Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim())
const setpriv = tool('setpriv', ['--version'])
const analyze = tool('systemd-analyze', ['--version'])

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean()
})

function scratch(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `mirrorseed-${prefix}-`))
  chmodSync(dir, 0o755)
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('deploy/mirrorseed.service', () => {
  it.skipIf(!analyze.found)(`passes systemd-analyze verify ${analyze.reason}`, () => {
    const run = spawnSync('systemd-analyze', ['verify', 'deploy/mirrorseed.service'], {
      cwd: checkout,
      encoding: 'utf8',
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
  })

  it('may write its data folder and the two output folders of the tree, nothing else', () => {
    expect(one('ProtectSystem')).toBe('strict')
    expect(one('StateDirectory')).toBe('mirrorseed')
    const data = one('ExecStart').match(/--data-dir (\S+)/)?.[1]
    expect(data).toBe('/var/lib/mirrorseed')
    const writable = directive('ReadWritePaths').flatMap((v) => v.split(/\s+/))
    expect(writable.sort()).toEqual(['/srv/mirror/torrent-symlinks', '/srv/mirror/torrents'])
    expect(one('User')).not.toBe('root')
  })

  describe.skipIf(!isRoot || !setpriv.found)(
    `run as its ExecStart says, as nobody, in the field ${
      !isRoot ? '(skipped: dropping to an unprivileged user needs root)' : setpriv.reason
    }`,
    () => {
      let child: ChildProcess | undefined
      afterEach(async () => {
        if (child && child.exitCode === null) {
          child.kill('SIGKILL')
          await new Promise((r) => child!.once('close', r))
        }
      })

      it('publishes every good release, is ready and serves its index page', async () => {
        // The tree, owned by root, readable by all; only the outputs belong to the service user.
        const tree = await buildGentooTree({ root: path.join(scratch('field'), 'mirror') })
        const root = tree.root
        chmodSync(root, 0o755)
        mkdirSync(path.join(root, 'lost+found'), { mode: 0o700 })
        const odd = path.join(root, 'releases/amd64/odd')
        mkdirSync(odd, { recursive: true })
        const long = `${'x'.repeat(236)}.iso`
        writeFileSync(path.join(odd, long), pseudoRandom(fixtureMinSize * 2, 1))
        writeFileSync(path.join(odd, 'secret.iso'), pseudoRandom(fixtureMinSize * 2, 2), {
          mode: 0o600,
        })
        writeFileSync(path.join(odd, 'huge.iso'), pseudoRandom(fixtureMinSize * 2, 3))
        writeFileSync(path.join(odd, 'huge.iso.DIGESTS'), Buffer.alloc(17 * 10 ** 6, 0x23))
        for (const out of ['torrents', 'torrent-symlinks']) {
          mkdirSync(path.join(root, out))
          chownSync(path.join(root, out), nobodyUid, nogroupGid)
        }

        // /var/lib/mirrorseed (StateDirectory: the service user's), /etc/mirrorseed, /opt/mirrorseed.
        const state = scratch('state')
        chownSync(state, nobodyUid, nogroupGid)
        const etc = scratch('etc')
        const config = path.join(etc, 'mirrorseed.yaml')
        writeFileSync(
          config,
          [
            `root: ${root}`,
            'profile: gentoo',
            'host: 127.0.0.1',
            'httpPort: 0',
            'udpPort: 0',
            'peerPort: 0',
            'release:',
            `  minSize: ${fixtureMinSize}`,
            '',
          ].join('\n'),
        )
        const places: Record<string, string> = {
          '/opt/mirrorseed': checkout.replace(/\/$/, ''),
          '/etc/mirrorseed': etc,
          '/var/lib/mirrorseed': state,
        }
        const mapped = (arg: string) => {
          for (const [from, to] of Object.entries(places))
            if (arg === from || arg.startsWith(`${from}/`)) return to + arg.slice(from.length)
          return arg
        }
        const [node, ...args] = one('ExecStart').split(/\s+/).map(mapped)
        const cwd = mapped(one('WorkingDirectory'))
        expect(cwd).not.toBe(checkout.replace(/\/$/, ''))
        const env: Record<string, string> = { PATH: '/usr/bin:/bin' }
        for (const e of directive('Environment')) {
          const [k, ...v] = e.split('=')
          env[k] = v.join('=')
        }
        // The public DHT routers are no test's target.
        env.MIRRORSEED_DHT_BOOTSTRAP = '127.0.0.1:9'
        child = spawn(
          'setpriv',
          [`--reuid=${nobodyUid}`, `--regid=${nogroupGid}`, '--clear-groups', '--', node, ...args],
          { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] },
        )
        let log = ''
        child.stderr!.on('data', (d) => (log += d))
        const port = await until(
          'serve to listen',
          () => {
            if (child!.exitCode !== null) throw new Error(`serve exited: ${log}`)
            return Number(/listening http=\S*:(\d+)/.exec(log)?.[1]) || undefined
          },
          120_000,
        )
        const url = `http://127.0.0.1:${port}`
        await until('readiness', async () => (await fetch(`${url}/readyz`)).ok, 120_000)

        for (const r of tree.releases) {
          const file = path.join(root, 'torrents', r.releaseDir, `${r.name}.torrent`)
          expect(existsSync(file), file).toBe(true)
        }
        expect(existsSync(path.join(root, 'torrents/releases/amd64/odd', `${long}.torrent`))).toBe(
          true,
        )
        const page = await fetch(`${url}/`)
        expect(page.status).toBe(200)
        expect(await page.text()).toContain(tree.releases[0].name)
        // Each bad entry is one line with its path and errno, and a count on /metrics.
        expect(log).toMatch(/warn problem path=lost\+found errno=EACCES/)
        expect(log).toMatch(/warn problem path=releases\/amd64\/odd\/secret\.iso errno=EACCES/)
        expect(log).toMatch(/warn problem path=releases\/amd64\/odd\/huge errno=bad-digest-file/)
        expect(await (await fetch(`${url}/metrics`)).text()).toMatch(
          /^mirrorseed_scan_problems 3$/m,
        )
        expect(log).not.toMatch(/React is not defined|first scan failed/)
        // It wrote nothing but its outputs and its data (the tree is root's).
        expect(existsSync(path.join(state, 'db'))).toBe(true)
      }, 240_000)
    },
  )
})
