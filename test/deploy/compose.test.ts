import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { parse } from 'yaml'
import { databaseKinds } from '../databases.ts'

// There is no Docker engine on these machines: this test is what keeps the compose file and the
// Dockerfile honest. It reads them as Docker would, then starts mirrorseed exactly as the
// compose service would (entrypoint + command + environment) against the local Postgres.

const compose = parse(readFileSync('docker-compose.yml', 'utf8'))
const dockerfile = readFileSync('deploy/Dockerfile', 'utf8')

/** Docker's `${VAR:-default}` / `${VAR}` interpolation, from the given variables. */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)(?::?-([^}]*))?\}/g,
    (_m, name: string, fallback?: string) => vars[name] || fallback || '',
  )
}

/** The JSON-array form of a Dockerfile instruction, e.g. ENTRYPOINT ["node", "x.js"]. */
function instruction(name: string): string[] {
  const line = dockerfile.split('\n').find((l) => l.startsWith(`${name} `))
  expect(line, `${name} in deploy/Dockerfile`).toBeDefined()
  return JSON.parse(line!.slice(name.length + 1))
}

describe('docker-compose.yml', () => {
  const service = compose.services.mirrorseed
  const db = compose.services.postgres

  it('runs Postgres and mirrorseed, with healthchecks and restart policies', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['mirrorseed', 'postgres'])
    for (const s of [service, db]) {
      expect(s.restart).toBe('unless-stopped')
      expect(s.healthcheck.test[0]).toBe('CMD')
    }
    expect(service.depends_on.postgres.condition).toBe('service_healthy')
    expect(service.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' })
  })

  it('publishes the tracker, web seed and seeder ports', () => {
    expect(service.ports.sort()).toEqual([
      '6881:6881/tcp',
      '6881:6881/udp',
      '6969:6969/tcp',
      '6969:6969/udp',
    ])
  })

  it('mounts the mirror tree and keeps data on named volumes', () => {
    const mounts = service.volumes.map((v: string) => interpolate(v, {}).split(':')[1])
    expect(mounts).toContain('/srv/mirror')
    expect(mounts).toContain('/var/lib/mirrorseed')
    expect(Object.keys(compose.volumes).sort()).toEqual(['mirrorseed-data', 'pgdata'])
    expect(db.volumes[0]).toBe('pgdata:/var/lib/postgresql/data')
  })

  it('wires DATABASE_URL to the postgres service with its user, password and database', () => {
    const url = new URL(interpolate(service.environment.DATABASE_URL, {}))
    expect(url.hostname).toBe('postgres')
    expect(url.username).toBe(db.environment.POSTGRES_USER)
    expect(url.password).toBe(interpolate(db.environment.POSTGRES_PASSWORD, {}))
    expect(url.pathname).toBe(`/${db.environment.POSTGRES_DB}`)
  })

  it('builds from a Node LTS image, runs as a non-root user, and exposes the same ports', () => {
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])
    expect(bases.length).toBeGreaterThanOrEqual(2) // multi-stage
    for (const base of bases) expect(base).toMatch(/^node:(20|22|24|26)-/)
    expect(dockerfile).toMatch(/^USER node$/m)
    expect(dockerfile).toMatch(/^EXPOSE 6969\/tcp 6969\/udp 6881\/tcp 6881\/udp$/m)
    // Everything the entrypoint imports is copied into the image.
    for (const dir of ['apps', 'lib', 'migrations'])
      expect(dockerfile).toContain(`COPY ${dir} ./${dir}`)
  })

  describe.each(databaseKinds.filter(([name]) => name === 'postgres'))(
    'started as the service on %s',
    (_n, kind) => {
      const mounts = {
        '/srv/mirror': mkdtempSync(join(tmpdir(), 'mirror-')),
        '/var/lib/mirrorseed': mkdtempSync(join(tmpdir(), 'data-')),
      }
      afterAll(() =>
        Object.values(mounts).forEach((dir) => rmSync(dir, { recursive: true, force: true })),
      )

      it('becomes ready and answers its own healthcheck', async () => {
        const database = await kind.open()
        const [node, ...entry] = instruction('ENTRYPOINT')
        // The container's paths become this machine's temporary folders; nothing else changes,
        // except the ports, moved to free ones because this machine may use 6969 already.
        const hostPath = (arg: string) => (mounts as Record<string, string>)[arg] ?? arg
        const args = [...entry, ...service.command].map(hostPath)
        const env: Record<string, string> = {}
        for (const [key, value] of Object.entries(service.environment as Record<string, string>)) {
          env[key] = interpolate(value, {})
        }
        env.DATABASE_URL = database.url!
        expect(node).toBe('node')
        const child = spawn(process.execPath, args, {
          env: {
            PATH: process.env.PATH,
            ...env,
            MIRRORSEED_HTTP_PORT: '0',
            MIRRORSEED_UDP_PORT: '0',
            MIRRORSEED_PEER_PORT: '0',
            // The public DHT routers are no test's target.
            MIRRORSEED_DHT_BOOTSTRAP: '127.0.0.1:9',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        })
        try {
          let log = ''
          const port = await new Promise<number>((resolve, reject) => {
            child.stderr.on('data', (d) => {
              log += d
              const m = /listening http=\S*:(\d+)/.exec(log)
              if (m) resolve(Number(m[1]))
            })
            child.on('close', (code) => reject(new Error(`exited ${code}: ${log}`)))
          })
          expect(log).toContain('kind=postgres')
          // The compose healthcheck's own command, pointed at the port we moved it to.
          const check = service.healthcheck.test.slice(1) as string[]
          const script = check[2].replace('6969', String(port))
          const code = await new Promise((resolve) =>
            spawn(check[0], [check[1], script]).on('close', resolve),
          )
          expect(code).toBe(0)
        } finally {
          child.kill('SIGTERM')
          await new Promise((r) => child.on('close', r))
          await database.close()
        }
      })
    },
  )
})
