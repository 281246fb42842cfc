import type { MirrorRow } from '../mirrors/index.ts'
import { formatBytes } from '../units/index.ts'

export interface TorrentView {
  infoHash: string
  name: string
  size: number
  files: number
  /** From the tracker when this node runs it; null when it does not. */
  seeds: number | null
  peers: number | null
  completed: number
  /** Bytes the origin (our seeder and web seed) sent for it. */
  originBytes: number
  torrentHref: string
  metalinkHref: string
  magnet: string
}

export interface IndexView {
  /** `profile`: the layout auto-detection (or a pin) chose for the folder, shown beside it. */
  groups: Array<{ releaseDir: string; profile: string | null; torrents: TorrentView[] }>
  mirrors: MirrorRow[]
}

// No script, no external asset: the page works in any browser, text-only ones included, and
// `overflow-wrap` keeps the long Gentoo/Debian artifact names from widening a phone's viewport.
const css = `
body{font:16px/1.45 system-ui,sans-serif;margin:0 auto;padding:0 12px 24px;max-width:70rem;color:#1b1b1b;background:#fff}
h1{font-size:1.4rem;margin:16px 0 4px}h2{font-size:1.1rem;margin:24px 0 8px;overflow-wrap:anywhere}
p,li,dd,td,th,h3{overflow-wrap:anywhere}
.torrents{list-style:none;padding:0;margin:0;display:grid;gap:10px;grid-template-columns:repeat(auto-fill,minmax(min(100%,22rem),1fr))}
.torrent{border:1px solid #ccc;border-radius:6px;padding:10px 12px}
.torrent h3{font-size:1rem;margin:0 0 6px}
dl{display:grid;grid-template-columns:repeat(auto-fill,minmax(5.5rem,1fr));gap:4px 12px;margin:0 0 8px}
dt{font-size:.8rem;color:#555}dd{margin:0;font-variant-numeric:tabular-nums}
.links{margin:0}.links a{display:inline-block;margin:4px 14px 0 0;padding:6px 0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px 4px 0;border-bottom:1px solid #ddd;vertical-align:top}
.up{color:#0a6b26}.down{color:#a1120d}.unknown,.disabled{color:#666}
`

function Torrent({ t }: { t: TorrentView }) {
  return (
    <li class="torrent" data-infohash={t.infoHash}>
      <h3>{t.name}</h3>
      <dl>
        <div>
          <dt>Size</dt>
          <dd title={`${t.size} bytes`}>{formatBytes(t.size)}</dd>
        </div>
        <div>
          <dt>Files</dt>
          <dd>{t.files}</dd>
        </div>
        <div>
          <dt>Seeds</dt>
          <dd>{t.seeds ?? '–'}</dd>
        </div>
        <div>
          <dt>Peers</dt>
          <dd>{t.peers ?? '–'}</dd>
        </div>
        <div>
          <dt>Completed</dt>
          <dd>{t.completed}</dd>
        </div>
      </dl>
      {t.completed > 0 && <Egress t={t} />}
      <p class="links">
        <a href={t.torrentHref} type="application/x-bittorrent">
          .torrent
        </a>
        {t.magnet && <a href={t.magnet}>magnet</a>}
        <a href={t.metalinkHref} type="application/metalink4+xml">
          metalink
        </a>
      </p>
    </li>
  )
}

/**
 * What the swarm saved the mirror, the number an admin quotes: origin bytes in copies of the
 * release, beside the downloads the tracker counted.
 */
function Egress({ t }: { t: TorrentView }) {
  const copies = t.size > 0 ? t.originBytes / t.size : 0
  return (
    <p class="egress" title={`${t.originBytes} bytes from the origin`}>
      This release cost the mirror {copies.toFixed(1)} {copies === 1 ? 'copy' : 'copies'} for{' '}
      {t.completed} {t.completed === 1 ? 'download' : 'downloads'}.
    </p>
  )
}

function Mirrors({ mirrors }: { mirrors: MirrorRow[] }) {
  if (mirrors.length === 0) return <p>No mirrors are configured: this node is the only web seed.</p>
  return (
    <table>
      <thead>
        <tr>
          <th>Mirror</th>
          <th>Status</th>
          <th>Last check</th>
        </tr>
      </thead>
      <tbody>
        {mirrors.map((m) => {
          const status = m.enabled ? m.status : 'disabled'
          return (
            <tr>
              <td>{m.name}</td>
              {/* Only up or down in public: the last error (internal URLs, a redirect's query)
                  stays in the admin API. */}
              <td class={status}>{status}</td>
              <td>
                {m.lastCheckAt ? (
                  <time datetime={m.lastCheckAt.toISOString()}>
                    {m.lastCheckAt.toISOString().replace('T', ' ').slice(0, 16)} UTC
                  </time>
                ) : (
                  'never'
                )}
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}

/** The public index: active torrents grouped by release dir, then mirror health. */
export function IndexPage({ view }: { view: IndexView }) {
  const count = view.groups.reduce((n, g) => n + g.torrents.length, 0)
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>mirrorseed: release torrents</title>
        <link rel="alternate" type="application/rss+xml" title="New torrents" href="/feed.xml" />
        <style>{css}</style>
      </head>
      <body>
        <header>
          <h1>Release torrents</h1>
          <p>
            {count} active {count === 1 ? 'torrent' : 'torrents'} · <a href="/feed.xml">RSS feed</a>
          </p>
        </header>
        <main>
          {view.groups.length === 0 && <p>No torrents are published yet.</p>}
          {view.groups.map((g) => (
            <section class="release" data-release={g.releaseDir}>
              <h2>
                {g.releaseDir || '/'}
                {g.profile && <small class="profile"> · {g.profile}</small>}
              </h2>
              <ul class="torrents">
                {g.torrents.map((t) => (
                  <Torrent t={t} />
                ))}
              </ul>
            </section>
          ))}
          <section class="mirrors">
            <h2>Mirrors</h2>
            <Mirrors mirrors={view.mirrors} />
          </section>
        </main>
      </body>
    </html>
  )
}
