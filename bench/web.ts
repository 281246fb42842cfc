/**
 * The public pages beside nginx serving the same bytes as static files:
 *
 *   npm run bench:web   (BENCH_SECONDS per wrk run, BENCH_TORRENTS on the index)
 *
 * A Gentoo fixture is published into PGlite (the default deployment), cloned to BENCH_TORRENTS
 * active torrents, and served by `webRoutes` through node:http as `serve` does. nginx serves a
 * saved copy of each answer: the ceiling for a page that never changes, and what a downstream
 * mirror does with the `torrents/` folder. wrk -t1 -c4 against each, alternately.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createHttpServer } from '../lib/http/index.ts'
import { loadConfig } from '../lib/config/index.ts'
import { openDatabase } from '../lib/db/index.ts'
import { activeRecords, CompletionCounts, filesOf, recordPublished } from '../lib/catalog/index.ts'
import { Publisher } from '../lib/publish/index.ts'
import { PublicCatalog, publicTorrentRoute, webRoutes } from '../lib/web/index.ts'
import { buildGentooTree, fixtureMinSize } from '../test/fixtures/mirror-tree.ts'
import { startNginx } from '../test/nginx.ts'

const seconds = Number(process.env.BENCH_SECONDS ?? 3)
const count = Number(process.env.BENCH_TORRENTS ?? 200)

/** Asynchronous: our server runs in this process, and a spawnSync would stop its event loop. */
async function wrk(url: string): Promise<number> {
  const run = await promisify(execFile)('wrk', ['-t1', '-c4', `-d${seconds}s`, url], {
    encoding: 'utf8',
  })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1])
  if (!rps || /Non-2xx|(connect|read|write|timeout) [1-9]/.test(run.stdout)) {
    throw new Error(`wrk failed against ${url}:\n${run.stdout}${run.stderr}`)
  }
  return rps
}

const tree = await buildGentooTree()
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-bench-web-'))
const database = await openDatabase({ dataDir })
await database.migrate()
const publicUrl = 'http://127.0.0.1'
const config = loadConfig({
  env: {},
  overrides: {
    root: tree.root,
    profile: 'gentoo',
    publicUrl,
    release: { minSize: fixtureMinSize },
  } as never,
})
await new Publisher({ config, database }).reconcile()
// Copies of one published torrent in other release dirs, recorded as the generator records them.
const [model] = await activeRecords(database.db)
const modelFiles = (await filesOf(database.db, model!.id)).map(({ torrentId: _id, ...f }) => f)
const completed = new Map<string, number>()
for (let i = 0; i < count - 2; i++) {
  const infoHash = `f${i.toString(16).padStart(39, '0')}`
  await recordPublished(database.db, {
    infoHash,
    infoHashV2: model!.infoHashV2,
    name: model!.name,
    releaseDir: `releases/arch${i % 10}/autobuilds/2026${String(i).padStart(4, '0')}`,
    profile: model!.profile,
    format: model!.format,
    pieceLength: model!.pieceLength,
    size: model!.size,
    metainfo: model!.metainfo,
    files: modelFiles,
  })
  if (i > 0) completed.set(infoHash, i)
}
await new CompletionCounts(database.db).addCompleted(completed)

// Served as `serve` serves them: the in-memory catalog, `.torrent` files on the fast path.
const catalog = new PublicCatalog(database)
const app = webRoutes({
  database,
  catalog,
  publicUrl,
  swarmStats: () => ({ complete: 3, incomplete: 5, downloaded: 7 }),
})
const torrentRoute = publicTorrentRoute(catalog)
const server = createHttpServer(
  app,
  new Map(),
  new Map([['/torrents/', torrentRoute.handle]]),
  new Map(),
  { plainPrefixes: new Map([['/torrents/', torrentRoute.plain]]) },
)
const ours = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`

// nginx gets a saved copy of each of our answers, at the same path.
const torrentPath = `/torrents/${model!.releaseDir}/${model!.name}.torrent`
for (const p of ['/index.html', '/feed.xml']) {
  const body = await (await fetch(`${ours}${p === '/index.html' ? '/' : p}`)).text()
  await mkdir(path.dirname(path.join(tree.root, p)), { recursive: true })
  await writeFile(path.join(tree.root, p), body)
}
const nginx = await startNginx(tree.root)

try {
  console.log(
    `public pages vs nginx serving saved copies: ${count} active torrents in PGlite, ` +
      `wrk -t1 -c4 ${seconds}s each (shared machine: expect noise)`,
  )
  console.log('page                       mirrorseed req/s   nginx req/s   ratio')
  for (const [label, ourPath, nginxPath] of [
    ['GET / (index)', '/', '/index.html'],
    ['GET /feed.xml', '/feed.xml', '/feed.xml'],
    ['GET .torrent', torrentPath, torrentPath],
  ] as const) {
    const a = await wrk(`${ours}${ourPath}`)
    const b = await wrk(`${nginx.url}${nginxPath}`)
    console.log(
      `${label.padEnd(26)} ${a.toFixed(0).padStart(17)} ${b.toFixed(0).padStart(13)}   ${(a / b).toFixed(3)}x`,
    )
  }
} finally {
  await nginx.stop()
  await server.close(0)
  catalog.close()
  await database.close()
  await tree.remove()
  await rm(dataDir, { recursive: true, force: true })
}
