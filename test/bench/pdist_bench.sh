#!/usr/bin/env bash
# test/bench/pdist_bench.sh: speed of type pdist, in one run on one cluster.
#
#   bash test/bench/pdist_bench.sh            (as root, from the repository)
#
# Builds and installs ttpdb, starts a throwaway cluster, loads ROWS rows
# (default 1,000,000) holding a 3-outcome pdist and a float8 with the same
# mean, and reports the median of RUNS runs (default 5) of:
#   1. sum(expected_value(d)) over the pdist column against sum(x) over the
#      float8 column (target: within 2x);
#   2. collapse(d, 0.8) and uncertainty(d) throughput, rows per second;
#   3. one 100x100-outcome convolution (a + b), microseconds each.
# Parallel query is off so both sides use one core.  Timing is taken with
# EXPLAIN (ANALYZE, TIMING OFF), which reports server-side execution time.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh"
# shellcheck source=test/bench/bench_lib.sh
. "$here/test/bench/bench_lib.sh"

ROWS=${ROWS:-1000000}
RUNS=${RUNS:-5}

bench_build
bench_start_cluster pdist <<EOF
shared_buffers = '1GB'
max_parallel_workers_per_gather = 0
jit = off
EOF

q()
{
	runuser -u postgres -- "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 \
		-h "$cluster" -p "$port" -d postgres "$@"
}

# Median execution time in ms of a query over RUNS runs (after one warm-up).
median_ms()
{
	local sql=$1 i times=()
	q -c "$sql" >/dev/null
	for ((i = 0; i < RUNS; i++)); do
		times+=("$(q -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $sql" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])')")
	done
	printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

q -c "CREATE EXTENSION ttpdb"
echo "loading $ROWS rows ..." >&2
q <<SQL
CREATE TABLE bench (id int, d ttpdb.pdist, x float8);
INSERT INTO bench
SELECT i, ttpdb.discrete(ARRAY[v - 0.5, v, v + 0.5], ARRAY[0.2, 0.5, 0.3]), v + 0.05
FROM (SELECT i, 20 + (i % 1000) / 100.0 AS v FROM generate_series(1, $ROWS) i) s;
VACUUM (FREEZE, ANALYZE) bench;
CREATE TABLE conv AS
SELECT ttpdb.discrete(array_agg(i::float8), array_agg(0.01)) AS a,
       ttpdb.discrete(array_agg(i * 0.37 + 1000), array_agg(0.01)) AS b
FROM generate_series(1, 100) i;
SQL

check=$(q -c "SELECT round(sum(ttpdb.expected_value(d))::numeric, 3) = round(sum(x)::numeric, 3) FROM bench")
float8_ms=$(median_ms "SELECT sum(x) FROM bench")
pdist_ms=$(median_ms "SELECT sum(ttpdb.expected_value(d)) FROM bench")
scan_ms=$(median_ms "SELECT count(d) FROM bench")
collapse_ms=$(median_ms "SELECT count(ttpdb.collapse(d, 0.8)) FROM bench")
uncert_ms=$(median_ms "SELECT sum(ttpdb.uncertainty(d)) FROM bench")
conv_ms=$(median_ms "SELECT count(a OPERATOR(ttpdb.+) b) FROM conv, generate_series(1, 1000)")
bytes=$(q -c "SELECT round(avg(pg_column_size(d))) || ' / ' || round(avg(pg_column_size(x))) FROM bench")

python3 - "$ROWS" "$float8_ms" "$pdist_ms" "$scan_ms" "$collapse_ms" "$uncert_ms" "$conv_ms" "$bytes" "$check" <<'PY'
import sys
rows, f8, pd, scan, col, unc, conv = int(sys.argv[1]), *map(float, sys.argv[2:8])
bytes_, check = sys.argv[8], sys.argv[9]
print(f"pdist benchmark, {rows:,} rows, median of runs, one core")
print(f"| measure | result |")
print(f"| --- | --- |")
print(f"| sum(x) over float8 | {f8:.1f} ms |")
print(f"| sum(expected_value(d)) over pdist | {pd:.1f} ms |")
print(f"| ratio pdist / float8 (target <= 2.0) | {pd / f8:.2f}x |")
print(f"| sums agree | {check} |")
print(f"| count(d), scan only | {scan:.1f} ms |")
print(f"| collapse(d, 0.8) | {rows / col * 1000 / 1e6:.2f} M rows/s |")
print(f"| uncertainty(d) | {rows / unc * 1000 / 1e6:.2f} M rows/s |")
print(f"| 100x100-outcome convolution a + b | {conv * 1000 / 1000:.0f} us each |")
print(f"| bytes per value, pdist / float8 | {bytes_} |")
PY
