import {
  boolean,
  list,
  mapping,
  number,
  oneOf,
  optional,
  refine,
  section,
  string,
  url,
  withDefault,
} from './fields.ts'

/**
 * The whole configuration: `mirrorseed.yaml`, then `MIRRORSEED_*` environment variables, then
 * command-line flags, each overriding the one before. Every object is strict, so a misspelt key
 * stops start-up with its name instead of being silently ignored.
 */

const port = number({ int: true, min: 0, max: 65535 })
const seconds = number({ positive: true })
/** A whole number of at least `min`. */
const whole = (min: number) => number({ int: true, min })
const powerOfTwo = refine(
  number({ int: true }),
  (n) => n >= 16384 && (n & (n - 1)) === 0,
  'must be a power of two, at least 16384',
)

export const roles = ['generator', 'tracker', 'seeder', 'webseed', 'api', 'web'] as const

/** The layouts mirrorseed knows (lib/release/profiles); `generic` is the fallback. */
export const layoutProfiles = [
  'alpine',
  'arch',
  'debian',
  'fedora',
  'gentoo',
  'opensuse',
  'ubuntu',
  'generic',
] as const

/** `auto` recognises each folder's layout; any other name pins the whole root to one layout. */
export const profiles = ['auto', ...layoutProfiles] as const

/** Where the output folders go: in each distribution's subtree, or once at the root. */
export const placements = ['distribution', 'root'] as const

export const formats = ['v1', 'v2', 'hybrid'] as const

const trackerSchema = section({
  /** Seconds a client should wait between announces; replies add jitter to spread the load. */
  interval: withDefault(seconds, 1800),
  minInterval: withDefault(seconds, 900),
  numwant: withDefault(whole(0), 50),
  maxNumwant: withDefault(whole(1), 200),
  /** Only these addresses may set `ip` or `X-Forwarded-For` (a reverse proxy in front of us). */
  trustedProxies: withDefault(list(string()), []),
  fullScrape: withDefault(boolean, false),
  /** A superseded torrent stays tracked this long, so running downloads can finish. */
  graceSeconds: withDefault(seconds, 7 * 24 * 3600),
  /** Announces per IP per minute before the tracker answers `failure reason`. */
  rateLimitPerMinute: withDefault(whole(1), 120),
  /**
   * Peers one address (IPv6: one /64) may have in one swarm: a few for hosts behind one NAT,
   * not a swarm full of one host's fresh ports.
   */
  maxPeersPerAddress: withDefault(whole(1), 16),
})

const seederSchema = section({
  /**
   * The address the peer port (TCP, and UDP for uTP and the DHT) listens on, when the seeder
   * should have one of its own while HTTP stays behind a proxy on `host`; `host` if unset.
   */
  host: optional(string({ min: [1, 'must not be empty'] })),
  maxConnections: withDefault(whole(1), 500),
  maxPerIp: withDefault(whole(1), 8),
  uploadSlots: withDefault(whole(1), 16),
  /** Bytes per second for all peers together; 0 means no limit. */
  uploadRate: withDefault(whole(0), 0),
  openFiles: withDefault(whole(1), 64),
})

/**
 * How the origin steps back while a torrent's swarm can carry the load (issue 11, measured by
 * `npm run bench:egress`): the web seed answers 503 with Retry-After and the seeder super-seeds
 * (BEP 16), so a flash crowd costs the mirror about one copy instead of one per downloader. A
 * lone downloader, or the last one left, gets both at full speed.
 */
const egressSchema = section({
  stepBack: withDefault(boolean, true),
  /** Peers in a torrent's swarm (the tracker's seeds + leechers, ours not counted) that make a crowd. */
  crowd: withDefault(whole(2), 2),
  /** What the web seed's 503 asks a client to wait; libtorrent retries the web seed after it. */
  retryAfterSeconds: withDefault(whole(1), 60),
  /** Pieces offered to one super-seeded peer and not yet passed on, at most. */
  offersPerPeer: withDefault(whole(1), 2),
  /** A piece a peer completed counts as passed on after this long even if nobody else has it. */
  forwardWaitSeconds: withDefault(seconds, 5),
})

/**
 * The public DHT routers libtorrent, Transmission and qBittorrent start from (BEP 5 leaves the
 * choice to the client).
 */
const publicDhtRouters = [
  'router.bittorrent.com:6881',
  'router.utorrent.com:6881',
  'dht.transmissionbt.com:6881',
  'dht.libtorrent.org:25401',
]

/** A DHT node as BEP 5 clients list them: `host:port`. */
const hostPort = refine(
  string({ pattern: [/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be host:port'] }),
  (s) => {
    const n = Number(s.slice(s.lastIndexOf(':') + 1))
    return n >= 1 && n <= 65535
  },
  'port must be 1-65535',
)

const dhtSchema = section({
  /** Be a DHT node (BEP 5) on the peer port's UDP socket; turn off for private deployments. */
  enabled: withDefault(boolean, true),
  /** Nodes to join the DHT through: the public routers clients use, unless set. */
  bootstrap: withDefault(list(hostPort), publicDhtRouters),
})

const releaseSchema = section({
  /** Smallest file that counts as an artifact, in bytes. */
  minSize: withDefault(whole(0), 1024 * 1024),
  /** Globs (relative to the root) a scan reads; empty means the whole tree. */
  include: withDefault(list(string()), []),
  exclude: withDefault(list(string()), []),
  /** Extra artifact globs on top of the profile's own. */
  artifacts: withDefault(list(string()), []),
  /** Hold a release that lists no digest of its artifact instead of publishing it unverified. */
  requireDigest: withDefault(boolean, false),
  /**
   * Hash the artifact in every algorithm its checksum files list (Arch's SHA-256 and BLAKE2b,
   * Gentoo's SHA-256, SHA-512 and BLAKE2B), so two lists that disagree hold it back too. Off: the
   * one preferred algorithm (SHA-256, else SHA-512, else BLAKE2b), which any damage to the bytes
   * contradicts as well, at a fraction of the CPU (SHA-512 and BLAKE2b run at half SHA-256's speed
   * on CPUs with SHA extensions).
   */
  verifyAll: withDefault(boolean, false),
  /** A keyring for `gpgv`; when set, every signature a release carries must verify. */
  keyring: optional(string()),
})

const watchSchema = section({
  enabled: withDefault(boolean, true),
  /** Quiet time after the last change in a directory before it is scanned. */
  quietSeconds: withDefault(seconds, 10),
  /** A directory that never goes quiet is scanned after this long all the same. */
  maxWaitSeconds: withDefault(seconds, 300),
  /** A full reconcile pass, the safety net under the watcher. */
  reconcileSeconds: withDefault(seconds, 3600),
  /** Sizes and mtimes must hold still this long before a scan, so `--inplace` copies finish. */
  stableSeconds: withDefault(seconds, 2),
})

const mirrorsSchema = section({
  /** Seconds between two health checks of every mirror. */
  checkSeconds: withDefault(seconds, 300),
  /** A mirror that has not answered a check request within this long is down. */
  timeoutSeconds: withDefault(seconds, 15),
  /** Mirrors checked at the same time. */
  concurrency: withDefault(whole(1), 4),
})

const outputSchema = section({
  torrents: withDefault(string(), 'torrents'),
  symlinks: withDefault(string(), 'torrent-symlinks'),
  /**
   * `distribution`: one pair of output folders at the top of each distribution's subtree, inside
   * what that distribution's downstream mirrors rsync; `root`: one pair at the root.
   */
  placement: withDefault(oneOf(placements), 'distribution'),
})

const webSchema = section({
  /**
   * Public page requests (`/`, feed, metalinks, `.torrent` files) per second from one address
   * (IPv6: one /64), five seconds' worth at once; more wait their turn, unread.
   */
  pagesPerSecond: withDefault(number({ positive: true }), 20),
})

const statsSchema = section({
  /** Seconds between two writes of upload counters and peak swarm sizes to `torrent_stats`. */
  flushSeconds: withDefault(seconds, 30),
})

export const configSchema = section({
  root: optional(string()),
  dataDir: withDefault(string(), './data'),
  profile: withDefault(oneOf(profiles), 'auto'),
  /** Pins: a glob of folders under the root (`archlinux`, `fedora/**`) to the profile they use. */
  profiles: withDefault(
    mapping(string({ min: [1, 'must not be empty'] }), oneOf(layoutProfiles)),
    {},
  ),
  format: withDefault(oneOf(formats), 'v1'),
  /** Fixed piece length in bytes; unset means chosen from each torrent's size. */
  pieceLength: optional(powerOfTwo),
  /** How clients reach this appliance: base of the announce, web-seed and page URLs. */
  publicUrl: optional(url),
  /**
   * The address our seeder is announced with; defaults to `seeder.host` when that is a specific
   * address, else to the public URL's host.
   */
  publicAddress: optional(string()),
  host: withDefault(string(), '0.0.0.0'),
  httpPort: withDefault(port, 6969),
  /**
   * Open connections on the HTTP port at most; new ones past it are closed at once. Well under
   * the unit's LimitNOFILE (65536), with room for peers, files and the database.
   */
  httpMaxConnections: withDefault(whole(1), 10_000),
  udpPort: withDefault(port, 6969),
  peerPort: withDefault(port, 6881),
  adminToken: optional(string({ min: [16, 'must be at least 16 characters'] })),
  databaseUrl: optional(string()),
  roles: withDefault(list(oneOf(roles), { min: 1 }), [...roles]),
  /** Trackers added to every torrent's `announce-list` after our own. */
  trackers: withDefault(list(url), []),
  comment: optional(string()),
  output: outputSchema,
  release: releaseSchema,
  watch: watchSchema,
  tracker: trackerSchema,
  seeder: seederSchema,
  egress: egressSchema,
  dht: dhtSchema,
  mirrors: mirrorsSchema,
  stats: statsSchema,
  web: webSchema,
})

export type Config = ReturnType<typeof configSchema>
export type Role = (typeof roles)[number]
export type Profile = (typeof profiles)[number]
export type LayoutProfile = (typeof layoutProfiles)[number]
export type Placement = (typeof placements)[number]
export type Format = (typeof formats)[number]
