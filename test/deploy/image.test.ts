import { afterAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { until } from '../cli.ts'
import { buildGentooTree, fixtureMinSize } from '../fixtures/mirror-tree.ts'

// There is no Docker engine here, so this builds deploy/Dockerfile's stages the way Docker would,
// from a copy of only what each stage COPYs, and runs the last stage's ENTRYPOINT and CMD in
// that copy. A file the program needs but the image lacks (tsconfig.json once: the index page's
// JSX was compiled for React in the container) fails here, not in the field.

const checkout = fileURLToPath(new URL('../../', import.meta.url))
const dockerfile = readFileSync(path.join(checkout, 'deploy/Dockerfile'), 'utf8')

interface Stage {
  name?: string
  /** Where this stage's filesystem lives on this machine. */
  fs: string
  workdir: string
  env: Record<string, string>
  entrypoint: string[]
  cmd: string[]
}

/** Instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Array<[string, string]> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/)
      return [op.toUpperCase(), rest.join(' ')]
    })
}

/** The production dependency tree as `npm ci --omit=dev` installs it, from this checkout's. */
function productionModules(into: string): void {
  const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: checkout,
    encoding: 'utf8',
  })
  const modules = path.join(checkout, 'node_modules')
  for (const dir of ls.stdout.split('\n')) {
    if (!dir.startsWith(modules + path.sep)) continue
    cpSync(dir, path.join(into, 'node_modules', path.relative(modules, dir)), { recursive: true })
  }
}

function build(top: string): Stage[] {
  const stages: Stage[] = []
  let stage: Stage | undefined
  const inStage = (p: string) => path.join(stage!.fs, path.resolve(stage!.workdir, p))
  for (const [op, arg] of instructions(dockerfile)) {
    if (op === 'FROM') {
      const name = /\bAS\s+(\S+)/i.exec(arg)?.[1]
      stage = {
        name,
        fs: path.join(top, String(stages.length)),
        workdir: '/',
        env: {},
        entrypoint: [],
        cmd: [],
      }
      mkdirSync(stage.fs)
      stages.push(stage)
    } else if (op === 'WORKDIR') {
      stage!.workdir = path.resolve(stage!.workdir, arg)
      mkdirSync(inStage('.'), { recursive: true })
    } else if (op === 'ENV') {
      const [k, v] = arg.split('=')
      stage!.env[k] = v
    } else if (op === 'COPY') {
      const parts = arg.split(/\s+/)
      const from = parts[0].startsWith('--from=') ? parts.shift()!.slice(7) : undefined
      const dest = parts.pop()!
      const source = from ? stages.find((s) => s.name === from) : undefined
      if (from) expect(source, `stage ${from}`).toBeDefined()
      for (const src of parts) {
        const at = source ? path.join(source.fs, src) : path.join(checkout, src)
        expect(existsSync(at), `COPY ${src}`).toBe(true)
        const target = dest.endsWith('/')
          ? path.join(inStage(dest), path.basename(src))
          : inStage(dest)
        cpSync(at, target, { recursive: true })
      }
    } else if (op === 'RUN') {
      // Only the RUN lines this file has; a new one must be taught here first.
      if (/^npm ci\b/.test(arg) && arg.includes('--omit=dev')) {
        expect(arg).toContain('--ignore-scripts')
        productionModules(inStage('.'))
      } else if (/^npm ci\b/.test(arg)) {
        symlinkSync(path.join(checkout, 'node_modules'), inStage('node_modules'))
        // `npm ci` runs the package's own `prepare` after installing.
        const prepare = spawnSync('npm', ['run', '--if-present', 'prepare'], {
          cwd: inStage('.'),
          encoding: 'utf8',
        })
        expect(prepare.status, prepare.stderr + prepare.stdout).toBe(0)
      } else if (/^mkdir -p (\S+) && chown \S+ \1$/.test(arg)) {
        mkdirSync(path.join(stage!.fs, arg.split(/\s+/)[2]), { recursive: true })
      } else {
        throw new Error(`test/deploy/image.test.ts does not know RUN ${arg}`)
      }
    } else if (op === 'ENTRYPOINT') {
      stage!.entrypoint = JSON.parse(arg)
    } else if (op === 'CMD') {
      stage!.cmd = JSON.parse(arg)
    }
  }
  return stages
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
}

describe('deploy/Dockerfile', () => {
  const top = mkdtempSync(path.join(tmpdir(), 'mirrorseed-image-'))
  afterAll(() => rmSync(top, { recursive: true, force: true }))
  let image: Stage

  it('builds from exactly what it copies, into an image holding only what the program runs', () => {
    image = build(top).at(-1)!
    const app = path.join(image.fs, image.workdir)
    // Compiled JavaScript only: no TypeScript sources, no compiler, no tsx.
    expect(files(app).filter((f) => /\.tsx?$/.test(f) && !f.startsWith('node_modules'))).toEqual([])
    for (const dev of ['typescript', 'tsx', 'vitest', 'drizzle-kit', 'prettier'])
      expect(existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false)
    expect(existsSync(path.join(app, 'dist/apps/mirrorseed/main.js'))).toBe(true)
  }, 300_000)

  it('runs its ENTRYPOINT and CMD there: ready, publishing, and its index page answers', async () => {
    expect(image, 'the image was built').toBeDefined()
    const tree = await buildGentooTree()
    const mounts: Record<string, string> = {
      '/srv/mirror': tree.root,
      '/var/lib/mirrorseed': path.join(image.fs, 'var/lib/mirrorseed'),
    }
    const [node, ...args] = [...image.entrypoint, ...image.cmd].map((a) => mounts[a] ?? a)
    expect(node).toBe('node')
    const child = spawn(process.execPath, args, {
      cwd: path.join(image.fs, image.workdir),
      env: {
        PATH: process.env.PATH,
        ...image.env,
        MIRRORSEED_PROFILE: 'gentoo',
        MIRRORSEED_MIN_SIZE: String(fixtureMinSize),
        // This machine may use 6969 already: free ports on loopback.
        MIRRORSEED_HOST: '127.0.0.1',
        MIRRORSEED_HTTP_PORT: '0',
        MIRRORSEED_UDP_PORT: '0',
        MIRRORSEED_PEER_PORT: '0',
        // The public DHT routers are no test's target.
        MIRRORSEED_DHT_BOOTSTRAP: '127.0.0.1:9',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let log = ''
    child.stderr.on('data', (d) => (log += d))
    try {
      const port = await until('serve to listen', () => {
        if (child.exitCode !== null) throw new Error(`serve exited: ${log}`)
        return Number(/listening http=\S*:(\d+)/.exec(log)?.[1]) || undefined
      })
      const url = `http://127.0.0.1:${port}`
      await until('readiness', async () => (await fetch(`${url}/readyz`)).ok)
      for (const r of tree.releases)
        expect(
          existsSync(path.join(tree.root, 'torrents', r.releaseDir, `${r.name}.torrent`)),
        ).toBe(true)
      const page = await fetch(`${url}/`)
      expect(page.status, log).toBe(200)
      expect(await page.text()).toContain(tree.releases[0].name)
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('close', r))
      await tree.remove()
    }
  }, 120_000)
})
