import { startServe, ready } from '../test/cli.ts'
import { treeArgs } from '../test/fixtures/mirror-tree.ts'
import { readFileSync } from 'node:fs'
const root = '/work/wt/egress/.bench/egress/tree-32M'
const port = readFileSync(root + '/http-port', 'utf8').trim()
const serve = await startServe([...treeArgs({ root }), '--data-dir', '/work/wt/egress/.bench/egress/data-32M', '--http-port', port, '--udp-port', port])
await ready(serve)
const t = setInterval(async () => {
  const m = await (await fetch(serve.url + '/metrics')).text()
  console.log(Date.now() % 100000, m.split('\n').filter(l => /^mirrorseed_(tracker_peers|tracker_announces|uploaded_bytes|webseed_requests)/.test(l)).join(' | '))
}, 200)
const { libtorrentCrowd } = await import('./crowd.ts')
const rel = JSON.parse(readFileSync(root + '/release.json', 'utf8'))
const r = await libtorrentCrowd(`${root}/torrents/${rel.releaseDir}/${rel.name}.torrent`, '/tmp/egress-crowd', { count: 3, seedSeconds: 5, timeoutSeconds: 60 })
console.log(r)
clearInterval(t)
await serve.stop()
