import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { digestFileKind, parseDigests } from './index.ts'

const data = Buffer.from('an artifact')
const sha256 = createHash('sha256').update(data).digest('hex')
const sha512 = createHash('sha512').update(data).digest('hex')
const blake2b = createHash('blake2b512').update(data).digest('hex')
const sha1 = createHash('sha1').update(data).digest('hex')
const md5 = createHash('md5').update(data).digest('hex')
const whirlpoolLike = 'ab'.repeat(64)

describe('parseDigests', () => {
  it('reads a Gentoo DIGESTS file by its headers and skips algorithms we do not verify', () => {
    const text = [
      '# BLAKE2B HASH',
      `${blake2b}  stage3.tar.xz`,
      `${blake2b}  stage3.tar.xz.CONTENTS.gz`,
      '# SHA512 HASH',
      `${sha512}  stage3.tar.xz`,
      '# WHIRLPOOL HASH',
      `${whirlpoolLike}  stage3.tar.xz`,
      '# MD5 HASH',
      `${md5}  stage3.tar.xz`,
      '# SHA1 HASH',
      `${sha1}  stage3.tar.xz`,
      '',
    ].join('\n')
    expect(parseDigests(text, 'stage3.tar.xz.DIGESTS')).toEqual([
      { algorithm: 'blake2b512', hex: blake2b, fileName: 'stage3.tar.xz' },
      { algorithm: 'blake2b512', hex: blake2b, fileName: 'stage3.tar.xz.CONTENTS.gz' },
      { algorithm: 'sha512', hex: sha512, fileName: 'stage3.tar.xz' },
    ])
  })

  it('reads a clearsigned DIGESTS.asc of an older release, armour and all', () => {
    const text = [
      '-----BEGIN PGP SIGNED MESSAGE-----',
      'Hash: SHA256',
      '',
      '# SHA512 HASH',
      `${sha512.toUpperCase()}  install.iso`,
      '- # SHA256 HASH',
      `${sha256}  install.iso`,
      '-----BEGIN PGP SIGNATURE-----',
      '',
      `${sha256}  forged.iso`,
      '-----END PGP SIGNATURE-----',
    ].join('\r\n')
    expect(parseDigests(text, 'install.iso.DIGESTS.asc')).toEqual([
      { algorithm: 'sha512', hex: sha512, fileName: 'install.iso' },
      { algorithm: 'sha256', hex: sha256, fileName: 'install.iso' },
    ])
  })

  it('reads .sha256 files with or without a header', () => {
    expect(parseDigests(`# SHA256 HASH\n${sha256}  x.iso\n`, 'x.iso.sha256')).toEqual([
      { algorithm: 'sha256', hex: sha256, fileName: 'x.iso' },
    ])
    expect(parseDigests(`${sha256}  x.iso`, 'x.iso.sha256')).toEqual([
      { algorithm: 'sha256', hex: sha256, fileName: 'x.iso' },
    ])
  })

  it('reads Debian sums files, binary-mode marker and ./ prefix included', () => {
    const text = `${sha512} *debian-13.2.0-amd64-netinst.iso\n${sha512}  ./debian-edu-13.2.0-amd64-netinst.iso\n`
    expect(parseDigests(text, 'SHA512SUMS').map((l) => [l.algorithm, l.fileName])).toEqual([
      ['sha512', 'debian-13.2.0-amd64-netinst.iso'],
      ['sha512', 'debian-edu-13.2.0-amd64-netinst.iso'],
    ])
  })

  it('reads BSD-tagged lines (Fedora CHECKSUM)', () => {
    const text = `# Fedora-x.iso: 11 bytes\nSHA256 (Fedora-x.iso) = ${sha256}\nSHA1 (Fedora-x.iso) = ${sha1}\n`
    expect(parseDigests(text, 'Fedora-x-CHECKSUM')).toEqual([
      { algorithm: 'sha256', hex: sha256, fileName: 'Fedora-x.iso' },
    ])
  })

  it('skips what it cannot read instead of guessing', () => {
    const text = [
      'garbage line',
      `${sha256.slice(1)}  short.iso`,
      `${blake2b}  no-header-128-hex-could-be-anything.iso`,
      `${sha256}  fine.iso`,
      `${sha256}`,
    ].join('\n')
    expect(parseDigests(text, 'x.DIGESTS')).toEqual([
      { algorithm: 'sha256', hex: sha256, fileName: 'fine.iso' },
    ])
    expect(parseDigests(`${sha256}  x.iso\n`, 'SHA512SUMS')).toEqual([])
  })
})

describe('digestFileKind', () => {
  it('knows digest files from signatures and content lists', () => {
    expect(digestFileKind('x.iso.DIGESTS')).toBeNull()
    expect(digestFileKind('x.iso.sha256')).toBe('sha256')
    expect(digestFileKind('SHA512SUMS')).toBe('sha512')
    expect(digestFileKind('b2sums.txt')).toBe('blake2b512')
    expect(digestFileKind('SHA256SUMS.sign')).toBeUndefined()
    expect(digestFileKind('x.iso.asc')).toBeUndefined()
    expect(digestFileKind('x.iso.CONTENTS.gz')).toBeUndefined()
  })
})
