import { describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from 'node:net'
import { ready, runCli, startServe, afterEachTest } from './cli.ts'
import { databaseKinds } from './databases.ts'

const { running, scratch: folder } = afterEachTest('mirrorseed-serve-')

describe('mirrorseed serve', () => {
  it('serves /healthz and /readyz on the embedded database', async () => {
    const dataDir = folder()
    const serve = await startServe(['--root', folder(), '--data-dir', dataDir], {
      env: { DATABASE_URL: '' },
    })
    running.push(serve)
    const health = await fetch(`${serve.url}/healthz`)
    expect(health.status).toBe(200)
    await ready(serve)
    const state = await fetch(`${serve.url}/readyz`)
    expect(await state.json()).toMatchObject({ ready: true, database: 'ok', waitingFor: [] })
  })

  // tsx started outside the checkout once found no tsconfig.json and compiled the index page's
  // JSX for React ("React is not defined", and a 503 blaming the database).
  it.each([
    ['the compiled program', {}],
    ['the sources through tsx', { MIRRORSEED_DEV: '1' }],
  ])('serves its index page from another working folder: %s', async (_what, env) => {
    const elsewhere = folder()
    const serve = await startServe(['--root', folder(), '--data-dir', 'data'], {
      cwd: elsewhere,
      env: { DATABASE_URL: '', ...env },
    })
    running.push(serve)
    await ready(serve)
    const page = await fetch(`${serve.url}/`)
    expect(page.status, serve.log()).toBe(200)
    expect(await page.text()).toContain('<html')
    expect(serve.log()).not.toMatch(/React is not defined|public page failed/)
    expect(existsSync(join(elsewhere, 'data/db'))).toBe(true)
  })

  it('refuses a second serve on the same data folder with a clear message', async () => {
    const dataDir = folder()
    const first = await startServe(['--root', folder(), '--data-dir', dataDir], {
      env: { DATABASE_URL: '' },
    })
    running.push(first)
    const second = await runCli(
      ['serve', '--root', folder(), '--data-dir', dataDir, '--http-port', '0'],
      {
        env: { DATABASE_URL: '' },
      },
    )
    expect(second.code).toBe(2)
    expect(second.stderr).toMatch(
      /^mirrorseed: the data folder .* is in use by another mirrorseed \(pid \d+\)/m,
    )
    // The first one is unharmed.
    await ready(first)
  })

  it('stops cleanly on SIGTERM and SIGINT and frees the data folder', async () => {
    const dataDir = folder()
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const serve = await startServe(['--root', folder(), '--data-dir', dataDir], {
        env: { DATABASE_URL: '' },
      })
      expect(await serve.stop(signal)).toBe(0)
      expect(serve.log()).toContain('stopped')
    }
  })

  it('listens for peers on --peer-host while HTTP stays on --host', async () => {
    const serve = await startServe(
      [
        '--root',
        folder(),
        '--data-dir',
        folder(),
        '--host',
        '127.0.0.1',
        '--peer-host',
        '127.0.0.2',
      ],
      { env: { DATABASE_URL: '' } },
    )
    running.push(serve)
    const reach = (host: string) =>
      new Promise<boolean>((resolve) => {
        const socket = connect(serve.peerPort!, host)
        socket.once('connect', () => resolve(true)).once('error', () => resolve(false))
        socket.once('close', () => socket.destroy())
        setTimeout(() => socket.destroy(), 2000).unref()
      })
    expect(await reach('127.0.0.2')).toBe(true)
    expect(await reach('127.0.0.1')).toBe(false)
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200)
  })

  it('stops at start-up with one line naming a bad setting', async () => {
    const result = await runCli(['serve', '--data-dir', folder()], {
      env: { MIRRORSEED_UDP_PORT: 'x' },
    })
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toMatch(/^mirrorseed: config: udpPort: .*number/)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('asks for the mirror tree when none is given', async () => {
    const result = await runCli(['serve', '--data-dir', folder()], { env: { MIRRORSEED_ROOT: '' } })
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toBe(
      'mirrorseed: config: root: the mirror tree is required (--root DIR, or MIRRORSEED_ROOT)',
    )
  })

  it('names a mirror tree that does not exist', async () => {
    const result = await runCli(['serve', '--root', '/nonexistent/gentoo', '--data-dir', folder()])
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toBe(
      'mirrorseed: config: root: /nonexistent/gentoo does not exist',
    )
  })

  it('rejects an unknown flag with one line', async () => {
    const result = await runCli(['serve', '--bogus'])
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toBe("mirrorseed: unknown option '--bogus'")
  })

  it('says what a database it cannot reach is, without its password', async () => {
    const result = await runCli(['migrate'], {
      env: { DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/none' },
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^mirrorseed: database postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none does not answer/,
    )
    expect(result.stderr).not.toContain('secret')
  })
})

describe.each(databaseKinds.filter(([name]) => name === 'postgres'))(
  'mirrorseed serve on %s',
  (_name, kind) => {
    it('migrates and becomes ready', async () => {
      // An empty database: serve creates the tables itself.
      const fresh = await kind.open({ migrate: false })
      try {
        const serve = await startServe(['--root', folder(), '--data-dir', folder()], {
          env: { DATABASE_URL: fresh.url },
        })
        running.push(serve)
        expect(serve.log()).toContain('kind=postgres')
        await ready(serve)
        const tables = await fresh.db.execute('select count(*)::int as n from torrents')
        expect(tables).toBeDefined()
      } finally {
        for (const serve of running.splice(0)) await serve.stop()
        await fresh.close()
      }
    })
  },
)
