# test/bench/bench_lib.sh: what the benchmarks share.  Source it after
# scripts/lib.sh; it defines functions only.
#
#   bench_median          the median of the numbers on stdin, one a line
#   bench_wait_for_quiet  wait, polling every 30 s up to $MAX_WAIT seconds,
#                         for the 1-minute load average to drop below
#                         $MAX_LOAD; prints what happened
#   bench_put KEY VALUE   append KEY=VALUE to the file $results

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
