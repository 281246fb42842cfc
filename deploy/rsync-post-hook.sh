#!/bin/sh
# Run after an rsync of the mirror tree (or as ftpsync's HUB post-hook): asks the running
# mirrorseed to publish what landed now, instead of waiting for its watcher.
#
#   rsync -a --delay-updates upstream::gentoo/ /srv/mirror/gentoo/ && rsync-post-hook.sh releases
#
# Environment: MIRRORSEED_URL (default http://127.0.0.1:6969), and the admin token as
# MIRRORSEED_ADMIN_TOKEN or in MIRRORSEED_DATA_DIR/admin-token (default /var/lib/mirrorseed).
set -eu
url=${MIRRORSEED_URL:-http://127.0.0.1:6969}
data_dir=${MIRRORSEED_DATA_DIR:-/var/lib/mirrorseed}
mirrorseed=${MIRRORSEED_BIN:-mirrorseed}
exec "$mirrorseed" rescan --url "$url" --data-dir "$data_dir" "$@"
