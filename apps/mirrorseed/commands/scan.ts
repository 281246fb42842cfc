import { Command } from 'commander'
import { requireRoot } from '../../../lib/config/index.ts'
import { isNewDatabase, openDatabase, pgliteOnBaselineCompiler } from '../../../lib/db/index.ts'
import { prestartHashing } from '../../../lib/hashing/index.ts'
import {
  HashAhead,
  outputLayout,
  Publisher,
  walkTree,
  type ReconcileSummary,
} from '../../../lib/publish/index.ts'
import type { ScanProblem } from '../../../lib/release/index.ts'
import { addSharedOptions, configFrom, type SharedOptions } from '../options.ts'

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`
}

/**
 * `path: CODE: what`, each said once: an errno's message starts with its code already
 * ("EACCES: permission denied, scandir …") and a name's problem with its path.
 */
function problemText({ path, code, message }: ScanProblem): string {
  let what = message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message
  if (!what.startsWith(`${code}:`)) what = `${code}: ${what}`
  return `${path}: ${what}`
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
  for (const p of summary.problems) console.log(`problem    ${problemText(p)}`)
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
    const scope = under?.replace(/^\/+|\/+$/g, '') ?? ''
    pgliteOnBaselineCompiler({ url: config.databaseUrl })
    // The tree is walked while the database opens and migrates. A new database has nothing
    // published, so its releases are hashed meanwhile too, on threads that boot during the walk.
    // Otherwise they boot when a release needs them: a rescan of an unchanged tree, the usual
    // cron run, never does (booting two cost it 0.12 CPU-s and 19 MB, bench/scan.ts).
    const walked = walkTree(config, scope)
    // Its failure is the pass's to report, once the database is open.
    walked.catch(() => {})
    let ahead: HashAhead | undefined
    if (isNewDatabase({ url: config.databaseUrl, dataDir: config.dataDir })) {
      prestartHashing()
      ahead = new HashAhead(config, outputLayout(config), walked)
    }
    const database = await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
    }).catch((err: unknown) => {
      ahead?.stop() // nothing will take its builds
      throw err
    })
    let summary: ReconcileSummary
    try {
      await database.migrate()
      const publisher = new Publisher({ config, database, ahead })
      summary = await publisher.reconcile({ under: scope, walked })
    } finally {
      ahead?.stop() // whatever the pass did not take is no one's
      await database.close()
    }
    if (json) console.log(JSON.stringify(summary, null, 2))
    else print(summary)
    // Exit 1 when a release failed verification, so cron and rsync hooks notice.
    if (summary.failed.length) process.exitCode = 1
  })
}
