#!/usr/bin/env bash
# scripts/demo.sh: from a fresh Debian 12 machine (as root) to a guided tour.
#
# Installs what is missing, builds and installs ttpdb, creates a throwaway
# cluster in $TTPDB_DEMO_DIR (default /tmp/ttpdb-demo; an earlier demo
# there is stopped and replaced), creates the extension in database "demo",
# runs scripts/demo.sql with psql, and leaves the server running so you can
# keep exploring.  Stop it with the command printed at the end.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh"

[ "$(id -u)" = 0 ] || ttpdb_die "run as root: the script installs packages and runs servers as postgres"

dir=${TTPDB_DEMO_DIR:-/tmp/ttpdb-demo}
port=${TTPDB_DEMO_PORT:-5499}

ttpdb_install_packages $TTPDB_PACKAGES
ttpdb_build_install "$here" "$(mktemp /tmp/ttpdb-build.XXXXXX.log)"

if [ -d "$dir" ]; then
	ttpdb_log "replacing the earlier demo cluster in $dir"
	ttpdb_stop_cluster "$dir"
	rm -rf "$dir"
fi
ttpdb_log "starting the demo cluster in $dir"
ttpdb_start_cluster "$dir" "$port" </dev/null

psql_demo()
{
	runuser -u postgres -- "$PG_BINDIR/psql" -X -q -h "$dir" -p "$port" "$@"
}
psql_demo -d postgres -c 'CREATE DATABASE demo' >/dev/null
# so that your own psql session finds ttpdb's names unqualified
psql_demo -d postgres -c 'ALTER DATABASE demo SET search_path = public, ttpdb' >/dev/null
psql_demo -d demo -v ON_ERROR_STOP=1 -P pager=off -f "$here/scripts/demo.sql" ||
	ttpdb_die "the demo script failed"

cat <<MSG

The demo server is still running (database demo has search_path = public, ttpdb).
Keep exploring with:

    psql -h $dir -p $port -U postgres demo

and stop it with:

    runuser -u postgres -- $PG_BINDIR/pg_ctl -D $dir/data stop
MSG
