import { z } from 'zod'

/**
 * The whole configuration: `mirrorseed.yaml`, then `MIRRORSEED_*` environment variables, then
 * command-line flags, each overriding the one before. Every object is strict, so a misspelt key
 * stops start-up with its name instead of being silently ignored.
 */

const port = z.number().int().min(0).max(65535)
const seconds = z.number().positive()
const powerOfTwo = z
  .number()
  .int()
  .refine((n) => n >= 16384 && (n & (n - 1)) === 0, 'must be a power of two, at least 16384')

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

const trackerSchema = z.strictObject({
  /** Seconds a client should wait between announces; replies add jitter to spread the load. */
  interval: seconds.default(1800),
  minInterval: seconds.default(900),
  numwant: z.number().int().min(0).default(50),
  maxNumwant: z.number().int().min(1).default(200),
  /** Only these addresses may set `ip` or `X-Forwarded-For` (a reverse proxy in front of us). */
  trustedProxies: z.array(z.string()).default([]),
  fullScrape: z.boolean().default(false),
  /** A superseded torrent stays tracked this long, so running downloads can finish. */
  graceSeconds: seconds.default(7 * 24 * 3600),
  /** Announces per IP per minute before the tracker answers `failure reason`. */
  rateLimitPerMinute: z.number().int().min(1).default(120),
  /**
   * Peers one address (IPv6: one /64) may have in one swarm: a few for hosts behind one NAT,
   * not a swarm full of one host's fresh ports.
   */
  maxPeersPerAddress: z.number().int().min(1).default(16),
})

const seederSchema = z.strictObject({
  /**
   * The address the peer port (TCP, and UDP for uTP and the DHT) listens on, when the seeder
   * should have one of its own while HTTP stays behind a proxy on `host`; `host` if unset.
   */
  host: z.string().min(1).optional(),
  maxConnections: z.number().int().min(1).default(500),
  maxPerIp: z.number().int().min(1).default(8),
  uploadSlots: z.number().int().min(1).default(16),
  /** Bytes per second for all peers together; 0 means no limit. */
  uploadRate: z.number().int().min(0).default(0),
  openFiles: z.number().int().min(1).default(64),
})

/**
 * How the origin steps back while a torrent's swarm can carry the load (issue 11, measured by
 * `npm run bench:egress`): the web seed answers 503 with Retry-After and the seeder super-seeds
 * (BEP 16), so a flash crowd costs the mirror about one copy instead of one per downloader. A
 * lone downloader, or the last one left, gets both at full speed.
 */
const egressSchema = z.strictObject({
  stepBack: z.boolean().default(true),
  /** Peers in a torrent's swarm (the tracker's seeds + leechers, ours not counted) that make a crowd. */
  crowd: z.number().int().min(2).default(2),
  /** What the web seed's 503 asks a client to wait; libtorrent retries the web seed after it. */
  retryAfterSeconds: z.number().int().min(1).default(60),
  /** Pieces offered to one super-seeded peer and not yet passed on, at most. */
  offersPerPeer: z.number().int().min(1).default(2),
  /** A piece a peer completed counts as passed on after this long even if nobody else has it. */
  forwardWaitSeconds: seconds.default(5),
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
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be host:port')
  .refine((s) => {
    const n = Number(s.slice(s.lastIndexOf(':') + 1))
    return n >= 1 && n <= 65535
  }, 'port must be 1-65535')

const dhtSchema = z.strictObject({
  /** Be a DHT node (BEP 5) on the peer port's UDP socket; turn off for private deployments. */
  enabled: z.boolean().default(true),
  /** Nodes to join the DHT through: the public routers clients use, unless set. */
  bootstrap: z.array(hostPort).default(publicDhtRouters),
})

const releaseSchema = z.strictObject({
  /** Smallest file that counts as an artifact, in bytes. */
  minSize: z
    .number()
    .int()
    .min(0)
    .default(1024 * 1024),
  /** Globs (relative to the root) a scan reads; empty means the whole tree. */
  include: z.array(z.string()).default([]),
  exclude: z.array(z.string()).default([]),
  /** Extra artifact globs on top of the profile's own. */
  artifacts: z.array(z.string()).default([]),
  /** Hold a release that lists no digest of its artifact instead of publishing it unverified. */
  requireDigest: z.boolean().default(false),
  /**
   * Hash the artifact in every algorithm its checksum files list (Arch's SHA-256 and BLAKE2b,
   * Gentoo's SHA-256, SHA-512 and BLAKE2B), so two lists that disagree hold it back too. Off: the
   * one preferred algorithm (SHA-256, else SHA-512, else BLAKE2b), which any damage to the bytes
   * contradicts as well, at a fraction of the CPU (SHA-512 and BLAKE2b run at half SHA-256's speed
   * on CPUs with SHA extensions).
   */
  verifyAll: z.boolean().default(false),
  /** A keyring for `gpgv`; when set, every signature a release carries must verify. */
  keyring: z.string().optional(),
})

const watchSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Quiet time after the last change in a directory before it is scanned. */
  quietSeconds: seconds.default(10),
  /** A directory that never goes quiet is scanned after this long all the same. */
  maxWaitSeconds: seconds.default(300),
  /** A full reconcile pass, the safety net under the watcher. */
  reconcileSeconds: seconds.default(3600),
  /** Sizes and mtimes must hold still this long before a scan, so `--inplace` copies finish. */
  stableSeconds: seconds.default(2),
})

const mirrorsSchema = z.strictObject({
  /** Seconds between two health checks of every mirror. */
  checkSeconds: seconds.default(300),
  /** A mirror that has not answered a check request within this long is down. */
  timeoutSeconds: seconds.default(15),
  /** Mirrors checked at the same time. */
  concurrency: z.number().int().min(1).default(4),
})

const outputSchema = z.strictObject({
  torrents: z.string().default('torrents'),
  symlinks: z.string().default('torrent-symlinks'),
  /**
   * `distribution`: one pair of output folders at the top of each distribution's subtree, inside
   * what that distribution's downstream mirrors rsync; `root`: one pair at the root.
   */
  placement: z.enum(placements).default('distribution'),
})

const webSchema = z.strictObject({
  /**
   * Public page requests (`/`, feed, metalinks, `.torrent` files) per second from one address
   * (IPv6: one /64), five seconds' worth at once; more wait their turn, unread.
   */
  pagesPerSecond: z.number().positive().default(20),
})

const statsSchema = z.strictObject({
  /** Seconds between two writes of upload counters and peak swarm sizes to `torrent_stats`. */
  flushSeconds: seconds.default(30),
})

export const configSchema = z.strictObject({
  root: z.string().optional(),
  dataDir: z.string().default('./data'),
  profile: z.enum(profiles).default('auto'),
  /** Pins: a glob of folders under the root (`archlinux`, `fedora/**`) to the profile they use. */
  profiles: z.record(z.string().min(1), z.enum(layoutProfiles)).default({}),
  format: z.enum(formats).default('v1'),
  /** Fixed piece length in bytes; unset means chosen from each torrent's size. */
  pieceLength: powerOfTwo.optional(),
  /** How clients reach this appliance: base of the announce, web-seed and page URLs. */
  publicUrl: z.url().optional(),
  /**
   * The address our seeder is announced with; defaults to `seeder.host` when that is a specific
   * address, else to the public URL's host.
   */
  publicAddress: z.string().optional(),
  host: z.string().default('0.0.0.0'),
  httpPort: port.default(6969),
  /**
   * Open connections on the HTTP port at most; new ones past it are closed at once. Well under
   * the unit's LimitNOFILE (65536), with room for peers, files and the database.
   */
  httpMaxConnections: z.number().int().min(1).default(10_000),
  udpPort: port.default(6969),
  peerPort: port.default(6881),
  adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
  databaseUrl: z.string().optional(),
  roles: z
    .array(z.enum(roles))
    .min(1)
    .default([...roles]),
  /** Trackers added to every torrent's `announce-list` after our own. */
  trackers: z.array(z.url()).default([]),
  comment: z.string().optional(),
  output: outputSchema.default(outputSchema.parse({})),
  release: releaseSchema.default(releaseSchema.parse({})),
  watch: watchSchema.default(watchSchema.parse({})),
  tracker: trackerSchema.default(trackerSchema.parse({})),
  seeder: seederSchema.default(seederSchema.parse({})),
  egress: egressSchema.default(egressSchema.parse({})),
  dht: dhtSchema.default(dhtSchema.parse({})),
  mirrors: mirrorsSchema.default(mirrorsSchema.parse({})),
  stats: statsSchema.default(statsSchema.parse({})),
  web: webSchema.default(webSchema.parse({})),
})

export type Config = z.infer<typeof configSchema>
export type Role = (typeof roles)[number]
export type Profile = (typeof profiles)[number]
export type LayoutProfile = (typeof layoutProfiles)[number]
export type Placement = (typeof placements)[number]
export type Format = (typeof formats)[number]
