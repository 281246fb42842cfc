import { describe, expect, it } from 'vitest'
import { parseReleasePath } from './paths.ts'

describe('parseReleasePath', () => {
  it('splits a release dir and a torrent name', () => {
    expect(
      parseReleasePath(
        '/torrents/releases/amd64/autobuilds/20261117T170000Z/stage3-amd64.torrent',
        '/torrents',
        '.torrent',
      ),
    ).toEqual({ releaseDir: 'releases/amd64/autobuilds/20261117T170000Z', name: 'stage3-amd64' })
  })

  it('decodes each segment once', () => {
    expect(parseReleasePath('/metalink/a%20b/c%23d.meta4', '/metalink', '.meta4')).toEqual({
      releaseDir: 'a b',
      name: 'c#d',
    })
    expect(parseReleasePath('/metalink/a%2520b/x.meta4', '/metalink', '.meta4')).toEqual({
      releaseDir: 'a%20b',
      name: 'x',
    })
  })

  it('takes a release at the top of the tree', () => {
    expect(parseReleasePath('/torrents/x.iso.torrent', '/torrents', '.torrent')).toEqual({
      releaseDir: '',
      name: 'x.iso',
    })
  })

  it.each([
    '/torrents/../etc/passwd.torrent',
    '/torrents/a/%2e%2e/b.torrent',
    '/torrents/a/%2Fetc/b.torrent',
    '/torrents/a%5Cb/c.torrent',
    '/torrents/a/b%00.torrent',
    '/torrents//a/b.torrent',
    '/torrents/a/.torrent',
    '/torrents/a/b.torrent/',
    '/torrents/a/b.txt',
    '/torrents/a/%zz.torrent',
    '/torrents/.hidden/b.torrent',
    '/torrentsX/a/b.torrent',
    '/torrents',
  ])('refuses %s', (path) => {
    expect(parseReleasePath(path, '/torrents', '.torrent')).toBeNull()
  })
})
