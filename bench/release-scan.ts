/**
 * How long a scan of a mirror tree takes, beside `find` reading the same tree.
 *
 *   npx tsx bench/release-scan.ts [--files 10000] [--releases 50]
 *
 * The tree: `--releases` Gentoo-style release directories (an artifact and four companions each)
 * among small files spread over many directories, as a mirror's metadata and logs are. Artifacts
 * are sparse files: the scan reads entries and stats, never data, so their bytes do not matter.
 * `find -printf '%s %T@ %i'` stats every file and is the floor a tree walk in C reaches. The scan
 * runs with the Gentoo profile pinned, and with `profile: auto` (every folder's layout detected
 * from its file names), to show what detection costs.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { ProfileSelector, resolveProfile, scanReleases } from '../lib/release/index.ts'

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    releases: { type: 'string', default: '50' },
  },
})
const files = Number(values.files)
const releases = Number(values.releases)
const perDir = 50

const root = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-scan-'))
try {
  let made = 0
  for (let r = 0; r < releases; r++) {
    const dir = path.join(
      root,
      'releases',
      `arch${r % 5}`,
      'autobuilds',
      `2026${String(r).padStart(4, '0')}T000000Z`,
    )
    await mkdir(dir, { recursive: true })
    const artifact = `stage3-${r}.tar.xz`
    await writeFile(path.join(dir, artifact), '')
    await truncate(path.join(dir, artifact), 8 * 1024 * 1024)
    for (const suffix of ['.DIGESTS', '.asc', '.CONTENTS.gz', '.sha256']) {
      await writeFile(path.join(dir, artifact + suffix), 'x')
    }
    made += 5
  }
  for (let d = 0; made < files; d++) {
    const dir = path.join(root, 'distfiles', String(d % 16), String(d))
    await mkdir(dir, { recursive: true })
    const batch: Promise<void>[] = []
    for (let f = 0; f < perDir && made < files; f++, made++) {
      batch.push(writeFile(path.join(dir, `file-${f}.txt`), 'x'))
    }
    await Promise.all(batch)
  }

  const profile = resolveProfile('gentoo')
  const time = async <T>(fn: () => Promise<T>): Promise<[number, T]> => {
    const start = process.hrtime.bigint()
    const result = await fn()
    return [Number(process.hrtime.bigint() - start) / 1e6, result]
  }
  const [first, result] = await time(() => scanReleases(root, { profile }))
  const rescans: number[] = []
  for (let i = 0; i < 5; i++) rescans.push((await time(() => scanReleases(root, { profile })))[0])
  const rescan = rescans.sort((a, b) => a - b)[2]
  const selector = new ProfileSelector({ profile: 'auto' })
  const autos: number[] = []
  for (let i = 0; i < 5; i++) autos.push((await time(() => scanReleases(root, { selector })))[0])
  const auto = autos.sort((a, b) => a - b)[2]
  const detected = await scanReleases(root, { selector })
  if (detected.releases.some((r) => r.profile !== 'gentoo')) {
    throw new Error('profile auto took a Gentoo release folder for another layout')
  }
  const finds: number[] = []
  for (let i = 0; i < 5; i++) {
    const [ms] = await time(async () =>
      spawnSync('find', [root, '-type', 'f', '-printf', '%s %T@ %i\n'], { maxBuffer: 1 << 30 }),
    )
    finds.push(ms)
  }
  const find = finds.sort((a, b) => a - b)[2]

  if (result.releases.length !== releases) {
    throw new Error(`expected ${releases} releases, the scan found ${result.releases.length}`)
  }
  console.log(`tree: ${made} files in ${result.directories} directories, ${releases} releases`)
  console.log(`mirrorseed scan, first:       ${first.toFixed(1)} ms`)
  console.log(
    `mirrorseed scan, median of 5: ${rescan.toFixed(1)} ms (${Math.round(made / (rescan / 1000))} files/s)`,
  )
  console.log(`mirrorseed scan, profile auto, median of 5: ${auto.toFixed(1)} ms`)
  console.log(`find -printf (stat each file), median of 5: ${find.toFixed(1)} ms`)
  console.log(`ratio mirrorseed/find: ${(rescan / find).toFixed(2)}`)
  console.log(`ratio mirrorseed auto/find: ${(auto / find).toFixed(2)}`)
} finally {
  await rm(root, { recursive: true, force: true })
}
