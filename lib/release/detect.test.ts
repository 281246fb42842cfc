import { describe, expect, it } from 'vitest'
import { detectLayout, ProfileSelector } from './index.ts'

const auto = new ProfileSelector({ profile: 'auto' })

describe('detectLayout', () => {
  it('recognises each distribution by the files of a release folder', () => {
    const cases: Array<[string, string[]]> = [
      [
        'gentoo',
        [
          'install-amd64-minimal-20261117T170000Z.iso',
          'install-amd64-minimal-20261117T170000Z.iso.DIGESTS',
        ],
      ],
      ['debian', ['debian-13.2.0-amd64-netinst.iso', 'SHA256SUMS', 'SHA256SUMS.sign']],
      ['ubuntu', ['ubuntu-24.04.3-desktop-amd64.iso', 'SHA256SUMS', 'SHA256SUMS.gpg']],
      ['fedora', ['Fedora-Server-dvd-x86_64-43-1.6.iso', 'Fedora-Server-43-1.6-x86_64-CHECKSUM']],
      ['fedora', ['AlmaLinux-10.0-x86_64-boot.iso', 'CHECKSUM']],
      ['arch', ['archlinux-2026.11.01-x86_64.iso', 'b2sums.txt', 'sha256sums.txt']],
      ['opensuse', ['openSUSE-Leap-15.6-DVD-x86_64-Build710.3-Media.iso.sha256.asc']],
      ['alpine', ['alpine-standard-3.22.2-x86_64.iso', 'alpine-standard-3.22.2-x86_64.iso.sha512']],
    ]
    for (const [profile, names] of cases) {
      expect(detectLayout({ dir: 'x', names }), names.join(' ')).toBe(profile)
    }
    expect(detectLayout({ dir: 'x', names: ['some.iso', 'some.iso.sha256'] })).toBeUndefined()
  })
})

describe('ProfileSelector', () => {
  it('lets a folder without a layout of its own inherit the one above, else generic', () => {
    const arch = auto.choose({
      dir: 'a/iso/1',
      names: ['archlinux-1-x86_64.iso', 'sha256sums.txt'],
    })
    expect(arch).toMatchObject({ how: 'detected', profile: { name: 'arch' } })
    const boot = auto.choose({ dir: 'a/iso/1/arch/boot', names: ['initramfs-linux.img'] }, arch)
    expect(boot).toMatchObject({ how: 'inherited', profile: { name: 'arch' } })
    expect(auto.choose({ dir: 'misc', names: ['x.iso'] })).toMatchObject({
      how: 'fallback',
      profile: { name: 'generic' },
    })
  })

  it('gives a pinned folder and everything below it the pinned profile', () => {
    const pinned = new ProfileSelector({
      profile: 'auto',
      pins: { 'mirror/arch/**': 'arch', '*/fedora-like': 'fedora', 'mirror/arch/old': 'generic' },
    })
    const sums = ['x.iso', 'SHA256SUMS', 'SHA256SUMS.sign']
    expect(pinned.choose({ dir: 'mirror/arch/iso/1', names: sums })).toMatchObject({
      how: 'pinned',
      profile: { name: 'arch' },
    })
    // The deepest pin wins.
    expect(pinned.choose({ dir: 'mirror/arch/old/2', names: sums }).profile.name).toBe('generic')
    expect(pinned.choose({ dir: 'x/fedora-like/43', names: sums }).profile.name).toBe('fedora')
    expect(pinned.choose({ dir: 'other', names: sums }).profile.name).toBe('debian')
    expect(pinned.distributionRoot('mirror/arch/iso/1')).toBe('mirror/arch')
    expect(pinned.distributionRoot('x/fedora-like/43/isos')).toBe('x/fedora-like')
  })

  it('applies one configured profile to every folder, the root its distribution', () => {
    const gentoo = new ProfileSelector({ profile: 'gentoo', overrides: { minSize: 5 } })
    const choice = gentoo.choose({
      dir: 'debian-cd/13.2.0/amd64/iso-cd',
      names: ['SHA256SUMS.sign'],
    })
    expect(choice).toMatchObject({ how: 'configured', profile: { name: 'gentoo', minSize: 5 } })
    expect(gentoo.distributionRoot('debian-cd/13.2.0/amd64/iso-cd')).toBe('')
  })

  it('finds where each distribution starts from the path of a release folder', () => {
    const cases: Array<[string, string]> = [
      ['releases/amd64/autobuilds/20261117T170000Z', ''],
      ['gentoo/releases/amd64/autobuilds/20261117T170000Z', 'gentoo'],
      ['debian-cd/13.2.0/amd64/iso-cd', 'debian-cd'],
      ['pub/debian-cd/current-live/amd64/iso-hybrid', 'pub/debian-cd'],
      ['fedora/linux/releases/43/Server/x86_64/iso', 'fedora/linux'],
      ['almalinux/10.0/isos/x86_64', 'almalinux'],
      ['archlinux/iso/2026.11.01', 'archlinux'],
      ['archlinux/iso/2026.11.01/arch/boot/x86_64', 'archlinux'],
      ['ubuntu-releases/24.04.3', 'ubuntu-releases'],
      ['24.04.3', ''],
      ['opensuse/distribution/leap/15.6/iso', 'opensuse'],
      ['opensuse/tumbleweed/iso', 'opensuse'],
      ['alpine/v3.22/releases/x86_64', 'alpine'],
      ['random/stuff', ''],
    ]
    for (const [dir, root] of cases) expect(auto.distributionRoot(dir), dir).toBe(root)
  })
})
