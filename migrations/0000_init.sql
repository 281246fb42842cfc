CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"torrent_id" integer,
	"mirror_id" integer,
	"subject" text,
	"message" text NOT NULL,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "mirrors" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"base_url" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"status" text DEFAULT 'unknown' NOT NULL,
	"last_check_at" timestamp with time zone,
	"latency_ms" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mirrors_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "stats_daily" (
	"torrent_id" integer NOT NULL,
	"day" date NOT NULL,
	"completed" bigint DEFAULT 0 NOT NULL,
	"uploaded" bigint DEFAULT 0 NOT NULL,
	"peak_peers" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "stats_daily_torrent_id_day_pk" PRIMARY KEY("torrent_id","day")
);
--> statement-breakpoint
CREATE TABLE "torrent_files" (
	"torrent_id" integer NOT NULL,
	"path" text NOT NULL,
	"size" bigint NOT NULL,
	"role" text NOT NULL,
	"mtime_ms" bigint NOT NULL,
	"inode" bigint NOT NULL,
	"sha256" text,
	CONSTRAINT "torrent_files_torrent_id_path_pk" PRIMARY KEY("torrent_id","path")
);
--> statement-breakpoint
CREATE TABLE "torrent_stats" (
	"torrent_id" integer PRIMARY KEY NOT NULL,
	"completed" bigint DEFAULT 0 NOT NULL,
	"uploaded_peer" bigint DEFAULT 0 NOT NULL,
	"uploaded_webseed" bigint DEFAULT 0 NOT NULL,
	"peak_peers" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "torrents" (
	"id" serial PRIMARY KEY NOT NULL,
	"info_hash" text NOT NULL,
	"info_hash_v2" text,
	"name" text NOT NULL,
	"release_dir" text NOT NULL,
	"format" text NOT NULL,
	"piece_length" integer NOT NULL,
	"size" bigint NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"metainfo" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"superseded_at" timestamp with time zone,
	"removed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_torrent_id_torrents_id_fk" FOREIGN KEY ("torrent_id") REFERENCES "public"."torrents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_mirror_id_mirrors_id_fk" FOREIGN KEY ("mirror_id") REFERENCES "public"."mirrors"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stats_daily" ADD CONSTRAINT "stats_daily_torrent_id_torrents_id_fk" FOREIGN KEY ("torrent_id") REFERENCES "public"."torrents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "torrent_files" ADD CONSTRAINT "torrent_files_torrent_id_torrents_id_fk" FOREIGN KEY ("torrent_id") REFERENCES "public"."torrents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "torrent_stats" ADD CONSTRAINT "torrent_stats_torrent_id_torrents_id_fk" FOREIGN KEY ("torrent_id") REFERENCES "public"."torrents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_at_idx" ON "events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "events_kind_idx" ON "events" USING btree ("kind","at");--> statement-breakpoint
CREATE INDEX "stats_daily_day_idx" ON "stats_daily" USING btree ("day");--> statement-breakpoint
CREATE INDEX "torrent_files_path_idx" ON "torrent_files" USING btree ("path");--> statement-breakpoint
CREATE UNIQUE INDEX "torrents_info_hash_key" ON "torrents" USING btree ("info_hash");--> statement-breakpoint
CREATE INDEX "torrents_status_idx" ON "torrents" USING btree ("status");--> statement-breakpoint
CREATE INDEX "torrents_release_idx" ON "torrents" USING btree ("release_dir","name");