import { spawn } from 'node:child_process'
import { systemPython } from './tools.ts'

/**
 * Drives python3-libtorrent as a downloader (or, for benchmarks, a seeder) in a child process.
 * Peers are given directly (`connect_peer`), so no tracker or DHT is involved; DHT, LSD, UPnP and
 * NAT-PMP are off so the test touches loopback only. uTP is off: libtorrent tries uTP first and
 * falls back to TCP only after a timeout, and our seeder speaks TCP.
 */
const script = String.raw`
import os, sys, time, json, libtorrent as lt
mode, source, save, peer, timeout, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
settings = {
  'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False,
  'enable_upnp': False, 'enable_natpmp': False, 'alert_mask': lt.alert.category_t.error_notification,
  'allow_multiple_connections_per_ip': True, 'out_enc_policy': lt.enc_policy.disabled,
  'in_enc_policy': lt.enc_policy.enabled,
  'enable_outgoing_utp': False, 'enable_incoming_utp': False,
}
settings.update(json.loads(os.environ.get('LT_SETTINGS', '{}')))
if mode == 'seed':
  settings.update({'unchoke_slots_limit': int(sys.argv[7]), 'listen_interfaces': '127.0.0.1:' + sys.argv[8]})
sessions, handles = [], []
t0 = time.time()
for i in range(count):
  ses = lt.session(settings)
  # A torrent added before the session's DHT node is up is not announced to the DHT for
  # dht_announce_interval (15 min); a long-running client (qBittorrent) has its DHT up long
  # before a user adds a magnet, so wait for it as they would.
  while settings.get('enable_dht') and not ses.is_dht_running() and time.time() - t0 < 10:
    time.sleep(0.02)
  if source.startswith('magnet:'):
    atp = lt.parse_magnet_uri(source)
  else:
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(source)
  atp.save_path = save if count == 1 else save + '/' + str(i)
  if mode == 'seed':
    atp.flags |= lt.torrent_flags.seed_mode
  h = ses.add_torrent(atp)
  if peer != '-':
    host, port = peer.rsplit(':', 1)
    h.connect_peer((host, int(port)))
  sessions.append(ses); handles.append(h)
if mode == 'seed':
  print(json.dumps({'port': sessions[0].listen_port()}), flush=True)
  sys.stdin.read()
  sys.exit(0)
start = time.time()
done = [None] * count
last = [time.time()] * count
first = [None] * count
transports = set()
def report(ok):
  each = [h.status().total_payload_download for h in handles]
  total = sum(each)
  s = handles[0].status()
  print(json.dumps({'ok': ok, 'seconds': done, 'bytes': total, 'each': each, 'elapsed': time.time() - start,
    'state': str(s.state), 'progress': s.progress, 'peers': s.num_peers, 'firstByte': first,
    'transports': sorted(transports)}), flush=True)
while time.time() - start < timeout:
  for p in handles[0].get_peer_info():
    transports.add('utp' if int(p.flags) & (1 << 17) else 'tcp')  # peer_info::utp_socket
  for i, h in enumerate(handles):
    if first[i] is None and h.status().total_payload_download > 0:
      first[i] = time.time() - start
    if done[i] is None and h.status().is_seeding:
      done[i] = time.time() - start
  if all(d is not None for d in done):
    report(True)
    sys.exit(0)
  # Reconnect a session left with no peer, but not while an attempt may still be under way:
  # with uTP on, libtorrent tries uTP for 3.5 s before TCP, and a new connect_peer restarts it.
  for i, h in enumerate(handles):
    if done[i] is None and h.status().num_peers == 0 and peer != '-' and time.time() - last[i] > 5:
      last[i] = time.time()
      host, port = peer.rsplit(':', 1)
      h.connect_peer((host, int(port)))
  time.sleep(0.05)
report(False)
sys.exit(1)
`

export interface LibtorrentResult {
  /** Every session finished within the time limit. */
  ok: boolean
  /** Per session, seconds to finish (null if it did not). */
  seconds: Array<number | null>
  /** Payload bytes received by all sessions together. */
  bytes: number
  elapsed: number
  /** Per session, seconds to the first payload byte (null if none came). */
  firstByte: Array<number | null>
  /** How the first session reached its peers: 'tcp', 'utp' or both. */
  transports: string[]
  [key: string]: unknown
}

/**
 * libtorrent's own defaults for what the helper turns off (encryption tried first, uTP tried
 * first): what a user's qBittorrent or Deluge does. DHT, LSD, UPnP stay off: loopback only.
 */
export const LT_DEFAULTS = {
  out_enc_policy: 1,
  in_enc_policy: 1,
  enable_outgoing_utp: true,
  enable_incoming_utp: true,
}

/** Encryption required and RC4 only, both ways (a "require encryption" user). */
export const LT_RC4_ONLY = {
  out_enc_policy: 0,
  in_enc_policy: 0,
  allowed_enc_level: 2,
  prefer_rc4: true,
}

/**
 * Downloads `source` (a .torrent path or a magnet link) into `save` from the peer `host:port`
 * with `count` independent sessions (each into `save/<i>` when count > 1).
 */
export function libtorrentDownload(
  source: string,
  save: string,
  peer: string,
  opts: {
    timeoutSec?: number
    count?: number
    /** libtorrent settings_pack values on top of the helper's (see LT_DEFAULTS, LT_RC4_ONLY). */
    settings?: Record<string, number | boolean | string>
  } = {},
): Promise<LibtorrentResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      systemPython,
      [
        '-c',
        script,
        'download',
        source,
        save,
        peer,
        String(opts.timeoutSec ?? 60),
        String(opts.count ?? 1),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LT_SETTINGS: JSON.stringify(opts.settings ?? {}) },
      },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('close', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? ''))
      } catch {
        reject(new Error(`libtorrent client failed: ${err || out}`))
      }
    })
  })
}

/** A libtorrent seeder of `torrentPath` from `save` for benchmarks; `stop()` ends it. */
export async function libtorrentSeed(
  torrentPath: string,
  save: string,
  opts: { slots: number; port?: number },
): Promise<{ port: number; pid: number; stop(): void }> {
  const child = spawn(
    systemPython,
    [
      '-c',
      script,
      'seed',
      torrentPath,
      save,
      '-',
      '0',
      '1',
      String(opts.slots),
      String(opts.port ?? 0),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const line = out.split('\n')[0]
      if (out.includes('\n')) resolve(JSON.parse(line).port)
    })
    child.on('error', reject)
    child.on('close', () => reject(new Error('libtorrent seeder exited')))
  })
  return { port, pid: child.pid!, stop: () => child.stdin.end() }
}
