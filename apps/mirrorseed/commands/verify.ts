import { Command } from 'commander'
import { HashError } from '../../../lib/hashing/index.ts'
import {
  pieceRanges,
  verifyData,
  type FileReport,
  type Torrent,
} from '../../../lib/metainfo/index.ts'
import { CliError } from '../errors.ts'
import { readTorrent } from './info.ts'
import { progressBar } from '../progress.ts'

/** Hashes the data with a progress bar; a read failure is the command's one-line failure. */
async function check(torrent: Torrent, dir: string, threads?: number): Promise<FileReport[]> {
  const bar = progressBar('verifying')
  try {
    return await verifyData(torrent, dir, { threads, onProgress: bar.update })
  } catch (err) {
    if (err instanceof HashError) throw new CliError(err.message, 1)
    throw err
  } finally {
    bar.done()
  }
}

export function register(program: Command): void {
  program
    .command('verify')
    .description('check data against a torrent; exit 1 naming bad or missing files and pieces')
    .argument('<file>', 'the .torrent file')
    .argument('<dir>', "download folder holding the torrent's data (or the data itself)")
    .option('--threads <n>', 'hashing threads (default: all cores)', (v: string) => {
      if (!/^[1-9]\d*$/.test(v))
        throw new CliError(`--threads must be a positive whole number, not "${v}"`)
      return Number(v)
    })
    .option('--json', 'print the result as JSON')
    .action(async (file: string, dir: string, flags: { threads?: number; json?: boolean }) => {
      const torrent = await readTorrent(file)
      const reports = await check(torrent, dir, flags.threads)
      const pieces = new Set(reports.flatMap((r) => r.pieces)).size
      if (flags.json) {
        console.log(JSON.stringify({ ok: reports.length === 0, badPieces: pieces, files: reports }))
      } else {
        for (const r of reports) {
          const what =
            r.problem === 'missing' ? 'missing' : r.problem === 'size' ? 'wrong size' : 'bad'
          console.log(
            `${what}: ${r.path}${r.pieces.length > 0 ? ` (pieces ${pieceRanges(r.pieces)})` : ''}`,
          )
        }
      }
      if (reports.length > 0) {
        throw new CliError(
          `${reports.length} of ${torrent.files.filter((f) => !f.pad).length} files failed, ${pieces} bad pieces`,
          1,
        )
      }
      if (!flags.json) console.log(`OK: ${torrent.name}, ${torrent.pieceCount} pieces verified`)
    })
}
