import { Command } from 'commander'
import fs from 'node:fs/promises'
import {
  MetainfoError,
  parseTorrent,
  torrentSummary,
  type Torrent,
} from '../../../lib/metainfo/index.ts'
import { CliError } from '../errors.ts'
import { formatBytes } from '../../../lib/units/index.ts'

/** Reads and parses a .torrent; a missing or malformed file is bad input (exit 2). */
export async function readTorrent(file: string): Promise<Torrent> {
  const bytes = await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(
      `cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
    )
  })
  try {
    return parseTorrent(bytes)
  } catch (err) {
    if (err instanceof MetainfoError) throw new CliError(`${file}: ${err.message}`)
    throw err
  }
}

function asJson(torrent: Torrent) {
  return {
    ...torrentSummary(torrent),
    multiFile: torrent.multiFile,
    announce: torrent.announce,
    announceList: torrent.announceList,
    webSeeds: torrent.urlList,
    httpSeeds: torrent.httpSeeds,
    comment: torrent.comment,
    createdBy: torrent.createdBy,
    creationDate: torrent.creationDate,
    files: torrent.files
      .filter((f) => !f.pad)
      .map((f) => ({ path: f.path.join('/'), length: f.length })),
  }
}

/** The layout of transmission-show, which mirror admins already read. */
function show(file: string, torrent: Torrent): string {
  const j = asJson(torrent)
  const lines = [`Name: ${j.name}`, `File: ${file}`, '', 'GENERAL', '']
  const row = (k: string, v: string | number | null) => v !== null && lines.push(`  ${k}: ${v}`)
  row('Name', j.name)
  row('Format', j.format)
  row('Hash v1', j.infoHash)
  row('Hash v2', j.infoHashV2)
  row('Created by', j.createdBy)
  row('Created on', j.creationDate === null ? null : new Date(j.creationDate * 1000).toUTCString())
  row('Comment', j.comment)
  row('Piece Count', j.pieceCount)
  row('Piece Size', formatBytes(j.pieceLength))
  row('Total Size', `${formatBytes(j.size)} (${j.size} bytes)`)
  row('Magnet', j.magnet)
  lines.push('', 'TRACKERS')
  const tiers = j.announceList.length > 0 ? j.announceList : j.announce ? [[j.announce]] : []
  tiers.forEach((tier, i) => lines.push('', `  Tier #${i + 1}`, ...tier.map((u) => `  ${u}`)))
  if (j.webSeeds.length > 0) lines.push('', 'WEBSEEDS', '', ...j.webSeeds.map((u) => `  ${u}`))
  // BEP 17 seeds: shown so an admin sees them, as transmission-show does; never used.
  if (j.httpSeeds.length > 0)
    lines.push('', 'HTTPSEEDS (BEP 17)', '', ...j.httpSeeds.map((u) => `  ${u}`))
  lines.push('', `FILES`, '')
  const prefix = torrent.multiFile ? `${j.name}/` : ''
  for (const f of j.files) lines.push(`  ${prefix}${f.path} (${formatBytes(f.length)})`)
  return lines.join('\n')
}

export function register(program: Command): void {
  program
    .command('info')
    .description('show a torrent: name, hashes, magnet, pieces, size, trackers, web seeds, files')
    .argument('<file>', 'the .torrent file')
    .option('--json', 'print as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const torrent = await readTorrent(file)
      console.log(flags.json ? JSON.stringify(asJson(torrent)) : show(file, torrent))
    })
}
