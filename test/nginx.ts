import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/**
 * nginx (Debian's nginx-light) serving a mirror tree the way a downstream mirror does: plain
 * static files, symlinks followed (`disable_symlinks off`, so the `torrent-symlinks/` web-seed
 * URL shape works), sendfile on. Started on a loopback port with its own temporary config, pid,
 * logs and temp folders; `stop()` ends it and removes them. Used by the web-seed interop test and
 * `bench/webseed.ts`.
 *
 * @example
 * const nginx = await startNginx(tree.root)
 * try { … fetch(`${nginx.url}/releases/…`) … } finally { await nginx.stop() }
 *
 * `options.server` replaces the body of the `server { }` block after `listen` (a snippet a
 * mirror admin would include, say).
 */
export interface Nginx {
  /** The master process; its workers are its children. */
  pid: number
  port: number
  url: string
  /** Lines of the access log so far (`$request $status $body_bytes_sent`). */
  accessLog(): Promise<string[]>
  stop(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume()
      resolve(true)
    })
    req.on('error', () => resolve(false))
    req.setTimeout(1000, () => req.destroy())
  })
}

function config(dir: string, root: string, port: number, server?: string): string {
  const at = (name: string) => path.join(dir, name)
  return `${process.getuid?.() === 0 ? 'user root;\n' : ''}daemon off;
worker_processes 1;
pid ${at('nginx.pid')};
error_log ${at('error.log')} warn;
events { worker_connections 1024; }
http {
  log_format plain '$request $status $body_bytes_sent';
  access_log ${at('access.log')} plain;
  client_body_temp_path ${at('body')};
  proxy_temp_path ${at('proxy')};
  fastcgi_temp_path ${at('fastcgi')};
  uwsgi_temp_path ${at('uwsgi')};
  scgi_temp_path ${at('scgi')};
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    ${server ?? `root ${root};\n    disable_symlinks off;\n    location / { }`}
  }
}
`
}

export async function startNginx(root: string, options: { server?: string } = {}): Promise<Nginx> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mirrorseed-nginx-'))
  let lastError = ''
  // The port is picked free, then handed to nginx: another process may take it in between, so
  // try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    await writeFile(path.join(dir, 'nginx.conf'), config(dir, root, port, options.server))
    const child: ChildProcess = spawn(
      'nginx',
      ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let exited = false
    child.on('exit', () => (exited = true))
    child.stderr!.on('data', (d: Buffer) => (lastError += d.toString()))
    const deadline = Date.now() + 5000
    while (!exited && Date.now() < deadline && !(await answers(port))) {
      await new Promise((r) => setTimeout(r, 50))
    }
    if (!exited && (await answers(port))) {
      return {
        pid: child.pid!,
        port,
        url: `http://127.0.0.1:${port}`,
        async accessLog() {
          const text = await readFile(path.join(dir, 'access.log'), 'utf8').catch(() => '')
          return text.split('\n').filter(Boolean)
        },
        async stop() {
          if (!exited) {
            const gone = new Promise((r) => child.once('exit', r))
            child.kill('SIGTERM')
            await gone
          }
          await rm(dir, { recursive: true, force: true })
        },
      }
    }
    if (!exited) child.kill('SIGKILL')
    lastError += await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')
    if (!lastError.includes('in use')) break
  }
  await rm(dir, { recursive: true, force: true })
  throw new Error(`nginx did not start: ${lastError.trim()}`)
}
