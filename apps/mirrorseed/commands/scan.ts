import { Command } from 'commander'
import { requireRoot } from '../../../lib/config/index.ts'
import { openDatabase } from '../../../lib/db/index.ts'
import { prestartHashing } from '../../../lib/hashing/index.ts'
import { Publisher, type ReconcileSummary } from '../../../lib/publish/index.ts'
import { addSharedOptions, configFrom, type SharedOptions } from '../options.ts'

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`
}

function print(summary: ReconcileSummary): void {
  // What profile: auto chose, so an admin sees a misdetected subtree before anything else.
  for (const l of summary.layouts) {
    console.log(
      `layout     ${l.distribution || '/'}: ${l.profile} (${l.how}), ${l.releases} releases, torrents in ${l.torrents}/`,
    )
  }
  for (const p of summary.published) {
    console.log(
      `published  ${p.releaseDir}/${p.name}  ${p.infoHash}${p.verified ? '' : '  (no digest listed)'}`,
    )
  }
  for (const f of summary.failed) console.log(`FAILED     ${f.releaseDir}/${f.name}: ${f.reason}`)
  for (const h of summary.held) console.log(`held       ${h.releaseDir}/${h.name}: ${h.reason}`)
  for (const p of summary.problems) console.log(`problem    ${p.path}: ${p.code}: ${p.message}`)
  for (const r of summary.retired)
    console.log(`retired    ${r.releaseDir}/${r.name}  ${r.infoHash}`)
  for (const r of summary.removed)
    console.log(`removed    ${r.releaseDir}/${r.name}  ${r.infoHash}`)
  console.log(
    `${summary.releases} releases: ${summary.published.length} published, ${summary.unchanged} unchanged, ` +
      `${summary.failed.length} failed, ${summary.held.length} held, ` +
      `${summary.problems.length} unreadable or unwritable; ` +
      `${mib(summary.bytesHashed)} hashed in ${summary.seconds.toFixed(2)} s`,
  )
}

export function register(program: Command): void {
  addSharedOptions(
    program
      .command('scan')
      .description('one reconcile pass over the mirror tree, then exit (cron, or after rsync)')
      .argument('[path]', 'only this folder of the tree (relative to the root)')
      .option('--json', 'print the summary as JSON'),
  ).action(async (under: string | undefined, flags: SharedOptions & { json?: boolean }) => {
    const { json, ...options } = flags
    const config = configFrom(options)
    requireRoot(config)
    // The hashing threads boot while the database opens and migrates.
    prestartHashing()
    const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir })
    let summary: ReconcileSummary
    try {
      await database.migrate()
      summary = await new Publisher({ config, database }).reconcile({
        under: under?.replace(/^\/+|\/+$/g, ''),
      })
    } finally {
      await database.close()
    }
    if (json) console.log(JSON.stringify(summary, null, 2))
    else print(summary)
    // Exit 1 when a release failed verification, so cron and rsync hooks notice.
    if (summary.failed.length) process.exitCode = 1
  })
}
