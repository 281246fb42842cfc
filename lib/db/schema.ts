import {
  bigint,
  bigserial,
  boolean,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core'

/** Raw bytes (the `.torrent` metainfo), as a Buffer on both drivers. */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
})

/** Sizes and counters: bigint in SQL, a JS number (exact below 2^53 bytes, which is 8 PiB). */
const count = (name: string) => bigint(name, { mode: 'number' })

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()

export const mirrors = pgTable('mirrors', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** Base URL of the mirror's copy of the tree; web-seed URLs are built under it. */
  baseUrl: text('base_url').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  status: text('status', { enum: ['unknown', 'up', 'down'] })
    .notNull()
    .default('unknown'),
  lastCheckAt: timestamp('last_check_at', { withTimezone: true }),
  latencyMs: integer('latency_ms'),
  lastError: text('last_error'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
})

export const torrents = pgTable(
  'torrents',
  {
    id: serial('id').primaryKey(),
    /** The 20-byte key trackers and peers use, hex: the v1 info-hash, or v2's truncated. */
    infoHash: text('info_hash').notNull(),
    /** Full SHA-256 info-hash of v2 and hybrid torrents, hex. */
    infoHashV2: text('info_hash_v2'),
    name: text('name').notNull(),
    /** Folder of the release, relative to the mirror root, `/`-separated. */
    releaseDir: text('release_dir').notNull(),
    /** The layout whose rules made the release (`arch`, `fedora`, …); null before profiles. */
    profile: text('profile'),
    format: text('format', { enum: ['v1', 'v2', 'hybrid'] }).notNull(),
    pieceLength: integer('piece_length').notNull(),
    size: count('size').notNull(),
    status: text('status', { enum: ['active', 'superseded', 'removed'] })
      .notNull()
      .default('active'),
    /** The `.torrent` file as written; `url-list` changes rewrite it, `info` never changes. */
    metainfo: bytea('metainfo').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    supersededAt: timestamp('superseded_at', { withTimezone: true }),
    removedAt: timestamp('removed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('torrents_info_hash_key').on(t.infoHash),
    index('torrents_status_idx').on(t.status),
    index('torrents_release_idx').on(t.releaseDir, t.name),
  ],
)

export const torrentFiles = pgTable(
  'torrent_files',
  {
    torrentId: integer('torrent_id')
      .notNull()
      .references(() => torrents.id, { onDelete: 'cascade' }),
    /** Path relative to the mirror root, `/`-separated. */
    path: text('path').notNull(),
    size: count('size').notNull(),
    role: text('role', { enum: ['artifact', 'companion'] }).notNull(),
    /** What a rescan compares to know a file is unchanged without reading it. */
    mtimeMs: count('mtime_ms').notNull(),
    inode: count('inode').notNull(),
    /** Whole-file SHA-256, hex, from the hashing pass (metalinks and verification). */
    sha256: text('sha256'),
  },
  (t) => [
    primaryKey({ columns: [t.torrentId, t.path] }),
    index('torrent_files_path_idx').on(t.path),
  ],
)

export const torrentStats = pgTable('torrent_stats', {
  torrentId: integer('torrent_id')
    .primaryKey()
    .references(() => torrents.id, { onDelete: 'cascade' }),
  /** Downloads completed, one per peer, counted by the tracker. */
  completed: count('completed').notNull().default(0),
  uploadedPeer: count('uploaded_peer').notNull().default(0),
  uploadedWebseed: count('uploaded_webseed').notNull().default(0),
  peakPeers: integer('peak_peers').notNull().default(0),
  updatedAt: updatedAt(),
})

export const statsDaily = pgTable(
  'stats_daily',
  {
    torrentId: integer('torrent_id')
      .notNull()
      .references(() => torrents.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    completed: count('completed').notNull().default(0),
    uploaded: count('uploaded').notNull().default(0),
    peakPeers: integer('peak_peers').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.torrentId, t.day] }), index('stats_daily_day_idx').on(t.day)],
)

export const eventKinds = [
  'published',
  'superseded',
  'removed',
  'verification_failed',
  'mirror_up',
  'mirror_down',
  /** An entry the generator could not read or write; `detail.code` holds the errno. */
  'problem',
] as const

export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    kind: text('kind', { enum: eventKinds }).notNull(),
    torrentId: integer('torrent_id').references(() => torrents.id, { onDelete: 'set null' }),
    mirrorId: integer('mirror_id').references(() => mirrors.id, { onDelete: 'set null' }),
    /** The release dir or file the event is about, kept when the row it names is gone. */
    subject: text('subject'),
    message: text('message').notNull(),
    detail: jsonb('detail'),
  },
  (t) => [index('events_at_idx').on(t.at), index('events_kind_idx').on(t.kind, t.at)],
)

export type EventKind = (typeof eventKinds)[number]
