import { Command, Option } from 'commander'
import fs from 'node:fs/promises'
import path from 'node:path'
// lib/files, not lib/publish: publish's index loads the catalog, drizzle and both database
// drivers, and took `create`'s start-up from 0.12 to 0.30 CPU-s (perf stat, `create --help`).
import { writeFileAtomically } from '../../../lib/files/index.ts'
import { HashError, hashOnMainThread } from '../../../lib/hashing/index.ts'
import {
  createTorrent,
  formats,
  isValidPieceLength,
  MetainfoError,
  sourceFiles,
  torrentSummary,
  type Format,
} from '../../../lib/metainfo/index.ts'
import { CliError } from '../errors.ts'
import { formatBytes } from '../../../lib/units/index.ts'
import { progressBar } from '../progress.ts'

interface CreateFlags {
  output?: string
  format: Format
  pieceLength?: number
  announce: string[]
  webSeed: string[]
  name?: string
  comment?: string
  threads?: number
  json?: boolean
}

/** `262144`, `256K`, `256KiB`, `1M`, `4MiB`: a power of two from 16 KiB to 128 MiB. */
export function parsePieceLength(value: string): number {
  const m = /^(\d+)\s*(?:([kKmM])(?:i?B)?)?$/.exec(value.trim())
  const n = m ? Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024) : 1) : NaN
  if (!isValidPieceLength(n)) {
    throw new CliError(
      `--piece-length must be a power of two from 16K to 128M (like 262144 or 1M), not "${value}"`,
    )
  }
  return n
}

function wholeNumber(name: string) {
  return (value: string): number => {
    if (!/^[1-9]\d*$/.test(value))
      throw new CliError(`${name} must be a positive whole number, not "${value}"`)
    return Number(value)
  }
}

const collect = (value: string, previous: string[]) => [...previous, value]

async function create(target: string, flags: CreateFlags): Promise<void> {
  // The main thread, idle until the end, is one of the hashing threads; workers boot when the
  // job knows it needs them, and none for a file of one chunk (lib/hashing/main-thread.ts).
  hashOnMainThread()
  const root = path.resolve(target.replace(/\/+$/, '') || '/')
  const { files, multiFile, mtime } = await sourceFiles(root).catch((err: unknown) => {
    throw err instanceof MetainfoError ? new CliError(err.message) : err
  })
  const name = flags.name ?? path.basename(root)
  const output = path.resolve(flags.output ?? `${name}.torrent`)
  // mktorrent refuses to overwrite too: a published .torrent replaced by accident is a new swarm.
  if (
    await fs.stat(output).then(
      () => true,
      () => false,
    )
  ) {
    throw new CliError(`${output} already exists; remove it or choose another -o`)
  }
  const split = (urls: string[]) => urls.map((u) => u.split(',').filter(Boolean))
  const bar = progressBar('hashing')
  let created
  try {
    created = await createTorrent({
      name,
      files,
      multiFile,
      format: flags.format,
      pieceLength: flags.pieceLength,
      // Like mktorrent: each -a is a tier, commas inside one -a are trackers of the same tier.
      trackers: split(flags.announce),
      webSeeds: split(flags.webSeed).flat(),
      comment: flags.comment,
      creationDate: mtime,
      threads: flags.threads,
      onProgress: bar.update,
    })
  } catch (err) {
    if (err instanceof MetainfoError) throw new CliError(err.message)
    if (err instanceof HashError) throw new CliError(err.message, 1)
    throw err
  } finally {
    bar.done()
  }
  // The same atomic write as every published .torrent: a crash never leaves half a file.
  await writeFileAtomically(output, created.bytes).catch((err: unknown) => {
    throw new CliError(`cannot write ${output}: ${(err as Error).message}`, 1)
  })
  const { torrent } = created
  const summary = torrentSummary(torrent)
  const { size } = summary
  if (flags.json) {
    console.log(
      JSON.stringify({ output, ...summary, files: torrent.files.filter((f) => !f.pad).length }),
    )
    return
  }
  console.log(`wrote ${output}`)
  console.log(
    `  ${torrent.format}, ${torrent.pieceCount} piece${torrent.pieceCount === 1 ? '' : 's'} of ${formatBytes(torrent.pieceLength)}, ${formatBytes(size)}`,
  )
  if (torrent.infoHash) console.log(`  info-hash v1: ${torrent.infoHash.toString('hex')}`)
  if (torrent.infoHashV2) console.log(`  info-hash v2: ${torrent.infoHashV2.toString('hex')}`)
  console.log(`  magnet: ${summary.magnet}`)
}

export function register(program: Command): void {
  program
    .command('create')
    .description('make a .torrent of a file or a directory, like mktorrent')
    .argument('<path>', 'file or directory')
    .option('-o, --output <file>', 'where to write the torrent (default: <name>.torrent)')
    .addOption(new Option('--format <format>', 'torrent format').choices(formats).default('v1'))
    .option(
      '--piece-length <size>',
      'bytes or like 256K, 1M; a power of two (default: by size)',
      parsePieceLength,
    )
    .option(
      '-a, --announce <url>',
      'tracker URL; repeat for backup tiers, commas for one tier',
      collect,
      [],
    )
    .option('-w, --web-seed <url>', 'web seed URL (BEP 19); repeatable', collect, [])
    .option('--name <name>', 'torrent name (default: the file or directory name)')
    .option('--comment <text>', 'comment stored in the torrent')
    .option('--threads <n>', 'hashing threads (default: all cores)', wholeNumber('--threads'))
    .option('--json', 'print the result as JSON')
    .action(create)
}
