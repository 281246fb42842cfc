import { describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from './index.ts'

function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mirrorseed-config-')), 'mirrorseed.yaml')
  writeFileSync(file, text)
  return file
}

describe('loadConfig', () => {
  it('gives a working appliance with no file, no environment and no flags', () => {
    const config = loadConfig({ env: {} })
    expect(config.httpPort).toBe(6969)
    expect(config.udpPort).toBe(6969)
    expect(config.peerPort).toBe(6881)
    expect(config.format).toBe('v1')
    expect(config.roles).toContain('tracker')
    expect(config.publicUrl).toBe('http://127.0.0.1:6969')
    expect(config.tracker.numwant).toBe(50)
  })

  it('fills every section left out with its defaults, a fresh copy each time', () => {
    const config = loadConfig({ file: yamlFile('tracker:\n  numwant: 7\n'), env: {} })
    expect(config.tracker).toMatchObject({ numwant: 7, maxNumwant: 200, interval: 1800 })
    expect(config.dht.bootstrap).toContain('router.bittorrent.com:6881')
    expect(config.output).toEqual({
      torrents: 'torrents',
      symlinks: 'torrent-symlinks',
      placement: 'distribution',
    })
    expect(config.root).toBeUndefined()
    expect('root' in config).toBe(false)
    config.dht.bootstrap.push('changed.example:1')
    config.roles.pop()
    const again = loadConfig({ env: {} })
    expect(again.dht.bootstrap).not.toContain('changed.example:1')
    expect(again.roles).toHaveLength(6)
  })

  it('lets the environment beat the file and flags beat both', () => {
    const file = yamlFile(
      'httpPort: 7000\nprofile: gentoo\nrelease:\n  minSize: 5\n  requireDigest: true\n',
    )
    const env = { MIRRORSEED_HTTP_PORT: '7001', MIRRORSEED_MIN_SIZE: '6' }
    const fromEnv = loadConfig({ file, env })
    expect(fromEnv.httpPort).toBe(7001)
    expect(fromEnv.profile).toBe('gentoo')
    expect(fromEnv.release).toMatchObject({ minSize: 6, requireDigest: true })

    const fromFlags = loadConfig({
      file,
      env,
      overrides: { httpPort: 7002, release: { minSize: 7 } },
    })
    expect(fromFlags.httpPort).toBe(7002)
    // A flag for one key of a section keeps the file's other keys of that section.
    expect(fromFlags.release).toMatchObject({ minSize: 7, requireDigest: true })
  })

  it('takes the database from DATABASE_URL and roles as a comma list', () => {
    const config = loadConfig({
      env: { DATABASE_URL: 'postgres://u@db/mirrorseed', MIRRORSEED_ROLES: 'tracker, seeder' },
    })
    expect(config.databaseUrl).toBe('postgres://u@db/mirrorseed')
    expect(config.roles).toEqual(['tracker', 'seeder'])
  })

  it('derives the seeder address from the public URL', () => {
    const config = loadConfig({
      env: {},
      overrides: { publicUrl: 'https://torrents.example.org/' },
    })
    expect(config.publicUrl).toBe('https://torrents.example.org')
    expect(config.publicAddress).toBe('torrents.example.org')
  })

  it('gives the seeder an address of its own, announced in place of the public URL host', () => {
    const config = loadConfig({
      env: { MIRRORSEED_PEER_HOST: '198.51.100.7' },
      overrides: { publicUrl: 'https://torrents.example.org/' },
    })
    expect(config.seeder.host).toBe('198.51.100.7')
    expect(config.publicAddress).toBe('198.51.100.7')
    // A wildcard listen address says nothing about how peers reach us.
    const wild = loadConfig({
      env: {},
      overrides: { publicUrl: 'https://torrents.example.org/', seeder: { host: '::' } },
    })
    expect(wild.publicAddress).toBe('torrents.example.org')
  })

  const bad: Array<[string, string, RegExp]> = [
    ['a misspelt key', 'htttpPort: 1\n', /^config: htttpPort: unknown key$/],
    ['a misspelt nested key', 'tracker:\n  numwnt: 3\n', /^config: tracker\.numwnt: unknown key$/],
    ['a port of the wrong type', 'httpPort: "high"\n', /^config: httpPort: .*number/],
    ['a port out of range', 'peerPort: 70000\n', /^config: peerPort: /],
    ['an unknown profile', 'profile: slackware\n', /^config: profile: .*gentoo/],
    [
      'a piece length that is not a power of two',
      'pieceLength: 300000\n',
      /^config: pieceLength: must be a power of two/,
    ],
    [
      'a short admin token',
      'adminToken: abc\n',
      /^config: adminToken: must be at least 16 characters$/,
    ],
    ['a list where a mapping goes', '- a\n- b\n', /must be a mapping/],
    ['a section left empty', 'tracker:\n', /^config: tracker: expected a mapping, not null$/],
    ['a public URL that is none', 'publicUrl: nope\n', /^config: publicUrl: must be a URL$/],
    ['no roles at all', 'roles: []\n', /^config: roles: must have at least 1 item$/],
    ['an unknown role in a list', 'roles: [tracker, db]\n', /^config: roles\.1: must be one of /],
    [
      'a DHT router on port 0',
      'dht:\n  bootstrap: ["a.example:0"]\n',
      /bootstrap\.0: port must be/,
    ],
    ['an endless interval', 'watch:\n  quietSeconds: .inf\n', /quietSeconds: must be a finite/],
    [
      'a fractional count',
      'seeder:\n  maxPerIp: 1.5\n',
      /^config: seeder\.maxPerIp: must be a whole/,
    ],
    ['broken YAML', 'httpPort: [\n', /not valid YAML/],
  ]
  it.each(bad)('stops on %s with one line naming it', (_what, text, message) => {
    const file = yamlFile(text)
    let error: unknown
    try {
      loadConfig({ file, env: {} })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain('\n')
  })

  it('names a bad environment value by its key', () => {
    expect(() => loadConfig({ env: { MIRRORSEED_PEER_PORT: 'x' } })).toThrow(/^config: peerPort: /)
  })

  it('names a config file that is missing', () => {
    expect(() => loadConfig({ file: '/nonexistent/mirrorseed.yaml', env: {} })).toThrow(
      /config file \/nonexistent\/mirrorseed\.yaml: ENOENT/,
    )
  })
})
