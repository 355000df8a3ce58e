# test/bench/bench_lib.sh: what the benchmarks share.  Source it after
# scripts/lib.sh; it defines functions only.
#
#   bench_median          the median of the numbers on stdin, one a line
#   bench_wait_for_quiet  wait, polling every 30 s up to $MAX_WAIT seconds,
#                         for the 1-minute load average to drop below
#                         $MAX_LOAD; prints what happened
#   bench_put KEY VALUE   append KEY=VALUE to the file $results
#   bench_build [PACKAGE...]
#                         as root: install ttpdb's packages and these, build
#                         and install ttpdb from $here
#   bench_start_cluster NAME
#                         a throwaway cluster for benchmark NAME: sets $dir
#                         (a new directory, for the benchmark's files too),
#                         $cluster (the cluster's, in it) and $port ($PORT if
#                         set, else a random one), starts it preloading ttpdb
#                         with the settings on stdin, and stops and removes
#                         it at exit, unless KEEP=1 leaves it running

bench_median()
{
	sort -g | awk '{a[NR] = $1} END {
		if (NR == 0) print "nan";
		else if (NR % 2) print a[(NR + 1) / 2];
		else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

bench_loadavg()
{
	cut -d' ' -f1 /proc/loadavg
}

bench_wait_for_quiet()
{
	local waited=0
	while awk -v l="$(bench_loadavg)" -v m="$MAX_LOAD" 'BEGIN {exit !(l >= m)}'; do
		if ((waited >= MAX_WAIT)); then
			ttpdb_log "load average still $(bench_loadavg) after ${waited}s: measuring anyway"
			echo "not below $MAX_LOAD after ${waited}s; measured anyway"
			return
		fi
		ttpdb_log "load average $(bench_loadavg) >= $MAX_LOAD, waiting ($waited s so far)"
		sleep 30
		waited=$((waited + 30))
	done
	echo "below $MAX_LOAD (waited ${waited}s)"
}

bench_put()
{
	printf '%s=%s\n' "$1" "$2" >>"$results"
}

bench_build()
{
	[ "$(id -u)" = 0 ] || ttpdb_die "run as root (installs packages, runs a server as postgres)"
	# shellcheck disable=SC2086 # a word a package
	ttpdb_install_packages $TTPDB_PACKAGES "$@"
	ttpdb_build_install "$here" "$(mktemp /tmp/ttpdb-bench-build.XXXXXX.log)"
}

bench_start_cluster()
{
	dir=$(mktemp -d "/tmp/ttpdb-$1-bench.XXXXXX")
	chmod 0755 "$dir"
	cluster=$dir/cluster
	port=${PORT:-$((50000 + RANDOM % 10000))}
	if [ "${KEEP:-0}" = 1 ]; then
		trap 'ttpdb_log "KEEP=1: cluster left running in $cluster;" \
			"connect: psql -U postgres -h $cluster -p $port postgres;" \
			"stop: runuser -u postgres -- $PG_BINDIR/pg_ctl -D $cluster/data stop; then rm -rf $dir"' EXIT
	else
		trap 'ttpdb_stop_cluster "$cluster"; rm -rf "$dir"' EXIT
	fi
	ttpdb_start_cluster "$cluster" "$port"
}
