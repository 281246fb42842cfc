/**
 * The web seed alone in its own process, for `bench/webseed.ts`: a node:http server whose only
 * route is our handler, serving one single-file torrent `<root>/<releaseDir>/<name>`. Prints
 * `{"port":N}` when listening and exits when stdin closes. `WEBSEED_OPEN_FILES` and
 * `WEBSEED_CHUNK` pick the options under test.
 *
 *   npx tsx bench/webseed-server.ts <root> <releaseDir> <name> <size>
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSeed } from '../lib/webseed/index.ts'

const [root, releaseDir, name, size] = process.argv.slice(2)
const webSeed = new WebSeed({
  root,
  openFiles: Number(process.env.WEBSEED_OPEN_FILES ?? 256),
  chunkSize: Number(process.env.WEBSEED_CHUNK ?? 1 << 20),
})
// The web seed needs only names and paths of a torrent, not its piece hashes: no 2 GiB hashing.
webSeed.add({
  infoHash: '00'.repeat(20),
  releaseDir,
  torrent: {
    name,
    multiFile: false,
    files: [{ path: [name], pad: false }],
  },
  filePaths: [`${root}/${releaseDir}/${name}`],
})
void size
const server = http.createServer((req, res) => {
  if (req.url?.startsWith('/webseed/')) webSeed.handle(req, res)
  else res.writeHead(404, { 'Content-Length': 0 }).end()
})
server.keepAliveTimeout = 65_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n')
})
process.stdin.resume()
process.stdin.on('end', () => {
  const { bytesServed, requests } = webSeed.stats()
  process.stderr.write(`webseed served ${requests} requests, ${bytesServed} bytes\n`)
  process.exit(0)
})
