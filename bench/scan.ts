/**
 * The release pipeline on a mirror-like tree: first scan (hash, verify, publish) beside raw
 * hashing of the same bytes, then a rescan of the unchanged tree (goal: under 1 s, no file data
 * read).
 *
 *   npm run bench:scan            (BENCH_FILES=10000 BENCH_RELEASES=50 BENCH_ARTIFACT_MB=8)
 *
 * Raw hashing is what a first scan must compute, by the coreutils: `sha1sum` (the v1 pieces) and
 * `sha256sum` (the digest checked against the release's .sha256) over the same files, side by
 * side on the two cores. A first scan also writes torrents and symlinks and records them.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { loadConfig } from '../lib/config/index.ts'
import { openDatabase } from '../lib/db/index.ts'
import { Publisher } from '../lib/publish/index.ts'

const files = Number(process.env.BENCH_FILES ?? 10_000)
const releases = Number(process.env.BENCH_RELEASES ?? 50)
const artifactBytes = Number(process.env.BENCH_ARTIFACT_MB ?? 8) * 2 ** 20

function processReadBytes(): number {
  // rchar: bytes this process asked read() for, from any file (the embedded database included).
  const io = spawnSync('cat', [`/proc/${process.pid}/io`], { encoding: 'utf8' }).stdout
  return Number(/rchar: (\d+)/.exec(io)?.[1] ?? NaN)
}

const root = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-pipeline-'))
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-data-'))
try {
  let made = 0
  const hashed: string[] = []
  for (let r = 0; r < releases; r++) {
    const dir = path.join(
      root,
      'releases',
      `arch${r % 5}`,
      'autobuilds',
      `2026${String(r).padStart(4, '0')}T000000Z`,
    )
    await mkdir(dir, { recursive: true })
    const name = `stage3-${r}.tar.xz`
    const data = randomBytes(artifactBytes)
    await writeFile(path.join(dir, name), data)
    const sha256 = createHash('sha256').update(data).digest('hex')
    const sha512 = createHash('sha512').update(data).digest('hex')
    await writeFile(path.join(dir, `${name}.sha256`), `# SHA256 HASH\n${sha256}  ${name}\n`)
    await writeFile(path.join(dir, `${name}.DIGESTS`), `# SHA512 HASH\n${sha512}  ${name}\n`)
    await writeFile(path.join(dir, `${name}.asc`), '-----BEGIN PGP SIGNATURE-----\n')
    await writeFile(path.join(dir, `${name}.CONTENTS.gz`), randomBytes(4096))
    for (const f of [
      name,
      `${name}.sha256`,
      `${name}.DIGESTS`,
      `${name}.asc`,
      `${name}.CONTENTS.gz`,
    ])
      hashed.push(path.join(dir, f))
    made += 5
  }
  // The rest of a mirror: package metadata, logs, small files in many folders.
  for (let i = 0; made < files; i++) {
    const dir = path.join(root, 'snapshots', `d${Math.floor(i / 50)}`)
    if (i % 50 === 0) await mkdir(dir, { recursive: true })
    await writeFile(path.join(dir, `f${i}.txt`), `file ${i}\n`)
    made++
  }
  const totalMB = (releases * artifactBytes) / 2 ** 20
  // Page cache warm for both runs.
  for (const f of hashed) await readFile(f)

  const config = loadConfig({
    env: {},
    overrides: { root, dataDir, profile: 'gentoo', release: { minSize: 1024 * 1024 } },
  })
  const database = await openDatabase({ dataDir })
  await database.migrate()
  try {
    let t = performance.now()
    const first = await new Publisher({ config, database }).reconcile()
    const firstSeconds = (performance.now() - t) / 1000

    t = performance.now()
    await Promise.all(
      ['sha1sum', 'sha256sum'].map(
        (tool) =>
          new Promise<void>((resolve) => {
            spawn(tool, hashed, { stdio: 'ignore' }).on('close', () => resolve())
          }),
      ),
    )
    const rawSeconds = (performance.now() - t) / 1000

    const readBefore = processReadBytes()
    t = performance.now()
    const again = await new Publisher({ config, database }).reconcile()
    const rescanSeconds = (performance.now() - t) / 1000
    const readDuring = processReadBytes() - readBefore

    console.log(`tree: ${made} files, ${releases} releases, ${totalMB.toFixed(0)} MiB of artifacts`)
    console.log(
      `first scan: ${first.published.length} published in ${firstSeconds.toFixed(2)} s = ${(totalMB / firstSeconds).toFixed(0)} MiB/s`,
    )
    console.log(
      `raw hashing (sha1sum beside sha256sum): ${(totalMB / rawSeconds).toFixed(0)} MiB/s`,
    )
    console.log(`first scan / raw hashing: ${(rawSeconds / firstSeconds).toFixed(2)}x`)
    console.log(
      `rescan of the unchanged tree: ${rescanSeconds.toFixed(3)} s, ${again.unchanged} unchanged, ` +
        `${again.bytesHashed} bytes of file data hashed, ${(readDuring / 1024).toFixed(0)} KiB read() by the process (database included)`,
    )
  } finally {
    await database.close()
  }
} finally {
  await rm(root, { recursive: true, force: true })
  await rm(dataDir, { recursive: true, force: true })
}
