# scripts/lib.sh: shared by scripts/test.sh and scripts/demo.sh.
#
# Takes a Debian 12 machine to a built and installed ttpdb, and starts and
# stops throwaway PostgreSQL 15 clusters as the postgres user (the server
# refuses to run as root).  Source it; it defines functions only.

PG_MAJOR=15
PG_BINDIR=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BINDIR/pg_config

# Packages the build and the tests need.  postgresql-15 brings the postgres
# user; the -dev package brings PGXS, pg_regress and the isolation tester;
# libssl-dev the OpenSSL headers the log's hashing uses (Debian's server is
# built with OpenSSL).
TTPDB_PACKAGES="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
	postgresql-client-$PG_MAJOR liblz4-dev libkrb5-dev libssl-dev libipc-run-perl make gcc"

ttpdb_log()
{
	printf '== %s\n' "$*" >&2
}

ttpdb_die()
{
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# Install whatever of the given packages is missing (apt-get update first).
ttpdb_install_packages()
{
	local missing="" pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $pkg"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || ttpdb_die "missing packages:$missing (run as root, or install them)"
	ttpdb_log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null || ttpdb_die "apt-get update failed"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null ||
		ttpdb_die "apt-get install failed:$missing"
}

# Build and install the extension from the source tree $1; the compiler's
# output goes to $2 so callers can check it is warning-free.
ttpdb_build_install()
{
	local src=$1 buildlog=$2
	ttpdb_log "building ttpdb"
	make -C "$src" -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
	if ! make -C "$src" -j2 PG_CONFIG="$PG_CONFIG" >"$buildlog" 2>&1; then
		cat "$buildlog" >&2
		ttpdb_die "build failed"
	fi
	make -C "$src" install PG_CONFIG="$PG_CONFIG" >>"$buildlog" 2>&1 ||
		ttpdb_die "make install failed (see $buildlog)"
}

# Create and start a cluster in directory $1 (owned by postgres), socket
# in $1, port $2, no TCP.  Extra postgresql.conf lines come on stdin.
ttpdb_start_cluster()
{
	local dir=$1 port=$2
	install -d -o postgres -g postgres -m 0700 "$dir"
	runuser -u postgres -- "$PG_BINDIR/initdb" -D "$dir/data" -U postgres \
		-A trust --no-instructions >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; ttpdb_die "initdb failed"; }
	{
		echo "# added by ttpdb scripts/lib.sh"
		echo "shared_preload_libraries = 'ttpdb'"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "port = $port"
		cat
	} >>"$dir/data/postgresql.conf"
	runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		-w -t 60 start >/dev/null ||
		{ cat "$dir/server.log" >&2; ttpdb_die "server did not start"; }
}

ttpdb_stop_cluster()
{
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] || return 0
	runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
}
