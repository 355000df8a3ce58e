#!/usr/bin/env bash
# test/bench/tam_bench.sh: the ttpdb table access method against a plain heap
# and against the periods extension's system versioning, in one run on one
# cluster.
#
#   bash test/bench/tam_bench.sh            (as root, from the repository)
#
# Builds and installs ttpdb, installs postgresql-15-periods, starts a
# throwaway cluster and creates three tables of ROWS rows (default 100,000)
# with the same columns as pgbench_accounts (id int primary key, balance
# int, filler text):
#
#   heap_t      a plain heap table
#   periods_t   a heap table with periods.add_system_time_period() and
#               periods.add_system_versioning() (history in periods_t_history,
#               time travel through periods_t__as_of(timestamptz))
#   ttpdb_t     CREATE TABLE ... USING ttpdb
#
# Then it measures:
#   1. TPS of pgbench running the same single-row UPDATE on each table,
#      CLIENTS clients (default 2), DURATION seconds each (default 30), in
#      ROUNDS rounds (default 2) of heap, periods, ttpdb, and ttpdb again
#      with ttpdb.log = off (the access method without the statement log,
#      which periods does not have either), in that order; all of it once
#      for each synchronous_commit setting in SYNC_COMMITS (default "on
#      off": with on, every configuration waits mostly for the WAL flush, so
#      off is where the tables' own costs show); the median and best run of
#      each count (targets: ttpdb >= 0.8x heap, ttpdb >= 1.5x periods), with
#      the WAL each UPDATE wrote;
#   2. bytes of history per superseded version (target: ttpdb <= 0.5x
#      periods, both counted with pg_total_relation_size, indexes and TOAST
#      included), as the workload left them and after VACUUM FULL of both
#      history stores (the steady state, where the space of versions that
#      packing moved is reused);
#   3. a full-table AS OF scan, on two more tables of ROWS rows, asof_ttpdb_t
#      and asof_periods_t, which get the same ASOF_UPDATES updates (default
#      200,000; pgbench -t, synchronous_commit = off), half of them before
#      the instant read and half after, so that both have the same history:
#      through ttpdb.as_of(NULL::asof_ttpdb_t, ts), through SET ttpdb.as_of,
#      and through asof_periods_t__as_of(ts), checked to return ROWS rows
#      and the balances of that instant (target: ttpdb faster than periods);
#   4. a scan of the present state of heap_t and ttpdb_t, just loaded and
#      frozen, and again after the workload (target: ttpdb >= 0.95x heap).
# Scan times are the median of RUNS runs (default 11, after one warm-up), each
# in a new session, from EXPLAIN (ANALYZE, TIMING OFF); parallel query is
# off.  Before measuring anything it waits (up to MAX_WAIT seconds, default 1200)
# for the 1-minute load average to drop below MAX_LOAD (default 1.0); set
# MAX_WAIT=0 not to wait.  Other settings:
#   FILLER=blank    84 spaces, as pgbench_accounts has (default);
#   FILLER=random   84 hexadecimal digits, which LZ4 cannot shrink;
#   SYNC_COMMITS="on off"  the synchronous_commit settings of the UPDATE runs;
#   KEYS=disjoint   each client updates its own share of the ids, picked at
#                   random (default): \set id :client_id * 50000 + random(1, 50000);
#   KEYS=shared     every client picks among all ids: \set id random(1, 100000).
#                   Then two clients sometimes update one row at once, and
#                   periods (which stamps versions with transaction start
#                   times) fails the later-started one with "invalid row
#                   version" (SQLSTATE 2201H), which pgbench cannot retry:
#                   the run stops.
# It prints a markdown table.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh"
# shellcheck source=test/bench/bench_lib.sh
. "$here/test/bench/bench_lib.sh"

ROWS=${ROWS:-100000}
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-2}
RUNS=${RUNS:-11}
CLIENTS=${CLIENTS:-2}
FILLER=${FILLER:-blank}
SYNC_COMMITS=${SYNC_COMMITS:-on off}
KEYS=${KEYS:-disjoint}
ASOF_UPDATES=${ASOF_UPDATES:-200000}
MAX_LOAD=${MAX_LOAD:-1.0}
MAX_WAIT=${MAX_WAIT:-1200}
TABLES="heap_t periods_t ttpdb_t"
# What the UPDATE runs compare: a table, or a table with settings.
VARIANTS="heap_t periods_t ttpdb_t ttpdb_nolog"
declare -A variant_table=([heap_t]=heap_t [periods_t]=periods_t [ttpdb_t]=ttpdb_t [ttpdb_nolog]=ttpdb_t)
declare -A variant_options=([heap_t]="" [periods_t]="" [ttpdb_t]="" [ttpdb_nolog]="-c ttpdb.log=off")
for sc in $SYNC_COMMITS; do
	case $sc in
		on | off) ;;
		*) ttpdb_die "SYNC_COMMITS holds on and off, not $sc" ;;
	esac
done

case $FILLER in
	blank) filler_sql="repeat(' ', 84)" ;;
	random) filler_sql="substr(md5(i::text) || md5((-i)::text) || md5((i * 7)::text), 1, 84)" ;;
	*) ttpdb_die "FILLER must be blank or random, not $FILLER" ;;
esac

bench_build "postgresql-$PG_MAJOR-periods" python3
bench_start_cluster tam <<EOF
shared_buffers = '1GB'
max_parallel_workers_per_gather = 0
jit = off
max_wal_size = '8GB'
checkpoint_timeout = '1h'
EOF

q()
{
	runuser -u postgres -- "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 \
		-h "$cluster" -p "$port" -d postgres "$@"
}

# Execution time in ms of the last statement of "$1", which must be an
# EXPLAIN (ANALYZE) of it; a new session each time.
explain_ms()
{
	q -c "$1" | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p'
}

# Median times in ms (one line each) of the given statements over RUNS
# rounds, the statements interleaved within each round so that a change of
# load on the machine falls on all of them; one warm-up round first.
measure()
{
	local n=$# i r
	local -a stmts=("$@")
	local -a times
	for ((i = 0; i < n; i++)); do
		explain_ms "${stmts[i]}" >/dev/null
		times[i]=""
	done
	for ((r = 0; r < RUNS; r++)); do
		for ((i = 0; i < n; i++)); do
			times[i]+="$(explain_ms "${stmts[i]}") "
		done
	done
	for ((i = 0; i < n; i++)); do
		# shellcheck disable=SC2086 # one time a word
		printf '%s\n' ${times[i]} | bench_median
	done
}

# Median time in ms of RUNS executions in one session, after one warm-up in
# the same session: what a session that reads the past repeatedly sees.
measure_one_session()
{
	local stmt=$1 script="" r
	for ((r = 0; r <= RUNS; r++)); do
		script+="$stmt;"$'\n'
	done
	q <<<"$script" | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' | tail -n +2 | bench_median
}

# Results, one key=value a line, for the report at the end.
results="$dir/results"
: >"$results"

ttpdb_log "loading $ROWS rows into each of $TABLES"
q >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION ttpdb;
CREATE EXTENSION periods CASCADE;
CREATE TABLE heap_t (id int PRIMARY KEY, balance int NOT NULL, filler text) USING heap;
CREATE TABLE periods_t (id int PRIMARY KEY, balance int NOT NULL, filler text) USING heap;
SELECT periods.add_system_time_period('periods_t', 'row_start', 'row_end');
SELECT periods.add_system_versioning('periods_t');
CREATE TABLE ttpdb_t (id int PRIMARY KEY, balance int NOT NULL, filler text) USING ttpdb;
INSERT INTO heap_t SELECT i, 0, $filler_sql FROM generate_series(1, $ROWS) i;
INSERT INTO periods_t (id, balance, filler) SELECT i, 0, $filler_sql FROM generate_series(1, $ROWS) i;
INSERT INTO ttpdb_t SELECT i, 0, $filler_sql FROM generate_series(1, $ROWS) i;
VACUUM (FREEZE, ANALYZE) heap_t, periods_t, ttpdb_t;
CHECKPOINT;
SQL
[ "$(q -c "SELECT to_regclass('periods_t_history') IS NOT NULL AND
	to_regprocedure('periods_t__as_of(timestamptz)') IS NOT NULL")" = t ] ||
	ttpdb_die "periods did not create periods_t_history and periods_t__as_of()"

bench_put quiet "$(bench_wait_for_quiet)"
bench_put load_before "$(bench_loadavg)"

X="EXPLAIN (ANALYZE, TIMING OFF)"
ttpdb_log "present-state scans of the fresh tables"
mapfile -t fresh < <(measure \
	"$X SELECT count(*), sum(balance) FROM heap_t" \
	"$X SELECT count(*), sum(balance) FROM ttpdb_t")
bench_put fresh_heap_ms "${fresh[0]}"
bench_put fresh_ttpdb_ms "${fresh[1]}"

case $KEYS in
	disjoint) set_id="\\set id :client_id * $((ROWS / CLIENTS)) + random(1, $((ROWS / CLIENTS)))" ;;
	shared) set_id="\\set id random(1, $ROWS)" ;;
	*) ttpdb_die "KEYS must be disjoint or shared, not $KEYS" ;;
esac
for t in $TABLES; do
	printf '%s\nUPDATE %s SET balance = balance + 1 WHERE id = :id;\n' \
		"$set_id" "$t" >"$dir/update_$t.sql"
done
chmod 0644 "$dir"/update_*.sql

declare -A done_total=([heap_t]=0 [periods_t]=0 [ttpdb_t]=0)
for sc in $SYNC_COMMITS; do
	for ((round = 1; round <= ROUNDS; round++)); do
		for v in $VARIANTS; do
			t=${variant_table[$v]}
			q -c "VACUUM $t" -c "CHECKPOINT"
			ttpdb_log "synchronous_commit = $sc, round $round: pgbench on $v for ${DURATION}s"
			lsn=$(q -c "SELECT pg_current_wal_lsn()")
			out=$(PGOPTIONS="-c synchronous_commit=$sc ${variant_options[$v]}" runuser -u postgres -- \
				"$PG_BINDIR/pgbench" -n -c "$CLIENTS" -j "$CLIENTS" \
				-T "$DURATION" -f "$dir/update_$t.sql" -h "$cluster" -p "$port" postgres 2>&1) ||
				{
					printf '%s\n' "$out" >&2
					grep -q 'invalid row version' <<<"$out" &&
						ttpdb_log "periods refuses to update a row that a transaction which" \
							"started later has changed; KEYS=disjoint avoids such conflicts"
					ttpdb_die "pgbench failed on $v"
				}
			tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
			n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
			failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
			if [ -z "$tps" ] || [ -z "$n" ]; then
				printf '%s\n' "$out" >&2
				ttpdb_die "no tps from pgbench"
			fi
			[ "${failed:-0}" = 0 ] || ttpdb_die "pgbench on $v: $failed failed transactions"
			bench_put "tps_${v}_${sc}_$round" "$tps"
			bench_put "wal_${v}_${sc}_$round" "$(q -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn') / $n")"
			bench_put "load_${v}_${sc}_$round" "$(bench_loadavg)"
			done_total[$t]=$((done_total[$t] + n))
		done
	done
done
bench_put load_after "$(bench_loadavg)"

ttpdb_log "checking the balances, vacuuming"
for t in $TABLES; do
	bench_put "present_$t" "$(q -c "SELECT count(*) || ' rows, sum ' || sum(balance) FROM $t")"
	bench_put "expect_present_$t" "$ROWS rows, sum ${done_total[$t]}"
done
bench_put expect_versions "${done_total[ttpdb_t]}"
bench_put expect_p_versions "${done_total[periods_t]}"
q -c "VACUUM (ANALYZE) heap_t, periods_t, periods_t_history, ttpdb_t, ttpdb.history,
	ttpdb.history_packs, ttpdb.commit_times" -c "CHECKPOINT"

ttpdb_log "history bytes per version"
ttpdb_history_size="pg_total_relation_size('ttpdb.history') + pg_total_relation_size('ttpdb.history_packs')"
# As the workload left them: packing moved most versions out of
# ttpdb.history, whose space VACUUM makes reusable but does not give back.
bench_put ttpdb_size_asis "$(q -c "SELECT $ttpdb_history_size")"
bench_put periods_size_asis "$(q -c "SELECT pg_total_relation_size('periods_t_history')")"
# Steady state: the space of moved versions reused, as it is once the
# store keeps growing; both history stores compacted alike.
q -c "VACUUM FULL ttpdb.history" -c "VACUUM FULL ttpdb.history_packs" -c "VACUUM FULL periods_t_history" \
	-c "CHECKPOINT"
bench_put ttpdb_stats "$(q -F ' ' -c "SELECT versions, stored_bytes, raw_bytes, packed_versions
	FROM ttpdb.history_stats WHERE table_name = 'ttpdb_t'::regclass")"
bench_put ttpdb_sizes "$(q -F ' ' -c "SELECT pg_relation_size('ttpdb.history'),
	$ttpdb_history_size, pg_total_relation_size('ttpdb.commit_times'),
	(SELECT count(*) FROM ttpdb.commit_times)")"
bench_put periods_stats "$(q -F ' ' -c "SELECT count(*), coalesce(sum(pg_column_size(h.*)), 0),
	pg_relation_size('periods_t_history'), pg_total_relation_size('periods_t_history')
	FROM periods_t_history h")"
bench_put table_sizes "$(q -F ' ' -c "SELECT pg_relation_size('heap_t'), pg_relation_size('periods_t'),
	pg_relation_size('ttpdb_t')")"

# AS OF scans read the versions of the instant from the history, so the
# tables compared must have the same history: two fresh tables get the same
# number of updates, ASOF_UPDATES / 2 before the instant and as many after.
ttpdb_log "AS OF: $ASOF_UPDATES updates on fresh asof_periods_t and asof_ttpdb_t, the instant halfway"
q >/dev/null <<SQL
SET client_min_messages = warning;
CREATE TABLE asof_periods_t (id int PRIMARY KEY, balance int NOT NULL, filler text) USING heap;
SELECT periods.add_system_time_period('asof_periods_t', 'row_start', 'row_end');
SELECT periods.add_system_versioning('asof_periods_t');
CREATE TABLE asof_ttpdb_t (id int PRIMARY KEY, balance int NOT NULL, filler text) USING ttpdb;
INSERT INTO asof_periods_t (id, balance, filler) SELECT i, 0, $filler_sql FROM generate_series(1, $ROWS) i;
INSERT INTO asof_ttpdb_t SELECT i, 0, $filler_sql FROM generate_series(1, $ROWS) i;
VACUUM (FREEZE, ANALYZE) asof_periods_t, asof_ttpdb_t;
CHECKPOINT;
SQL
for t in asof_periods_t asof_ttpdb_t; do
	printf '%s\nUPDATE %s SET balance = balance + 1 WHERE id = :id;\n' \
		"$set_id" "$t" >"$dir/update_$t.sql"
done
chmod 0644 "$dir"/update_*.sql
per_client=$((ASOF_UPDATES / 2 / CLIENTS))
for half in 1 2; do
	for t in asof_periods_t asof_ttpdb_t; do
		out=$(PGOPTIONS="-c synchronous_commit=off" runuser -u postgres -- \
			"$PG_BINDIR/pgbench" -n -c "$CLIENTS" -j "$CLIENTS" -t "$per_client" \
			-f "$dir/update_$t.sql" -h "$cluster" -p "$port" postgres 2>&1) ||
			{
				printf '%s\n' "$out" >&2
				ttpdb_die "pgbench failed on $t"
			}
	done
	if ((half == 1)); then
		ts=$(q -c "SELECT clock_timestamp()")
		sleep 1
	fi
done
bench_put as_of "$ts"
bench_put expect_asof "$ROWS rows, sum $((per_client * CLIENTS))"
bench_put asof_versions "$((per_client * CLIENTS * 2))"
q -c "VACUUM (ANALYZE) asof_periods_t, asof_periods_t_history, asof_ttpdb_t, ttpdb.history,
	ttpdb.history_packs, ttpdb.commit_times" -c "CHECKPOINT"

ttpdb_log "AS OF scans at $ts"
asof_fn="SELECT count(*), sum(balance) FROM ttpdb.as_of(NULL::asof_ttpdb_t, '$ts')"
asof_set="SET ttpdb.as_of = '$ts'; SELECT count(*), sum(balance) FROM asof_ttpdb_t"
asof_periods="SELECT count(*), sum(balance) FROM asof_periods_t__as_of('$ts')"
bench_put got_asof_fn "$(q -c "$asof_fn" | sed 's/|/ rows, sum /')"
bench_put got_asof_set "$(q -c "$asof_set" | sed 's/|/ rows, sum /')"
bench_put got_asof_periods "$(q -c "$asof_periods" | sed 's/|/ rows, sum /')"
mapfile -t asof < <(measure \
	"$X $asof_fn" \
	"SET ttpdb.as_of = '$ts'; $X SELECT count(*), sum(balance) FROM asof_ttpdb_t" \
	"$X $asof_periods")
bench_put asof_fn_ms "${asof[0]}"
bench_put asof_set_ms "${asof[1]}"
bench_put asof_periods_ms "${asof[2]}"
bench_put asof_set_warm_ms "$(measure_one_session \
	"SET ttpdb.as_of = '$ts'; $X SELECT count(*), sum(balance) FROM asof_ttpdb_t")"

ttpdb_log "present-state scans after the workload"
mapfile -t after < <(measure \
	"$X SELECT count(*), sum(balance) FROM heap_t" \
	"$X SELECT count(*), sum(balance) FROM ttpdb_t")
bench_put after_heap_ms "${after[0]}"
bench_put after_ttpdb_ms "${after[1]}"
bench_put load_end "$(bench_loadavg)"

python3 - "$results" "$ROWS" "$DURATION" "$ROUNDS" "$RUNS" "$CLIENTS" "$FILLER" \
	"$SYNC_COMMITS" "$("$PG_BINDIR/postgres" --version)" <<'PY'
import statistics, sys

path, rows, duration, rounds, runs, clients, filler, syncs, version = sys.argv[1:]
syncs = syncs.split()
rows, rounds = int(rows), int(rounds)
r = {}
with open(path) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("=")
        r[k] = v

def num(k):
    return float(r[k])

def met(ok):
    return "**met**" if ok else "**missed**"

variants = ["heap_t", "periods_t", "ttpdb_t", "ttpdb_nolog"]
tps = {(v, sc): [num(f"tps_{v}_{sc}_{i}") for i in range(1, rounds + 1)]
       for v in variants for sc in syncs}
med = {k: statistics.median(x) for k, x in tps.items()}
best = {k: max(x) for k, x in tps.items()}
wal = {(v, sc): statistics.median(num(f"wal_{v}_{sc}_{i}") for i in range(1, rounds + 1))
       for v in variants for sc in syncs}

versions, stored, raw, packed = map(int, r["ttpdb_stats"].split()) if r["ttpdb_stats"] else (0, 0, 0, 0)
asis_ttpdb, asis_periods = int(r["ttpdb_size_asis"]), int(r["periods_size_asis"])
h_heap, h_total, ct_total, ct_rows = map(int, r["ttpdb_sizes"].split())
p_versions, p_data, p_heap, p_total = map(int, r["periods_stats"].split())
size_heap, size_periods, size_ttpdb = map(int, r["table_sizes"].split())

def per(a, b):
    return a / b if b else float("nan")

t_stored = per(stored, versions)
t_total = per(h_total, versions)
t_with_ct = per(h_total + ct_total, versions)
p_row = per(p_data, p_versions)
p_tot = per(p_total, p_versions)

fresh_h, fresh_t = num("fresh_heap_ms"), num("fresh_ttpdb_ms")
after_h, after_t = num("after_heap_ms"), num("after_ttpdb_ms")
a_fn, a_set, a_per, a_warm = (num("asof_fn_ms"), num("asof_set_ms"),
                              num("asof_periods_ms"), num("asof_set_warm_ms"))

def check(got, want):
    return "ok" if r[got] == r[want] else f"MISMATCH: {r[got]}, expected {r[want]}"

print(f"ttpdb table access method benchmark: {version}, {rows:,} rows a table, "
      f"filler {filler}, shared_buffers = 1GB")
print(f"UPDATE: pgbench -n -c {clients} -j {clients} -T {duration}, {rounds} rounds "
      f"(heap, periods, ttpdb, ttpdb with ttpdb.log = off in turn) for each "
      f"synchronous_commit setting; scans: median of {runs} runs, one core")
print(f"load average (1 min): {r['quiet']}; {r['load_before']} before measuring, "
      f"{r['load_after']} after the workload, {r['load_end']} at the end")
print()
print("| UPDATE | heap | periods | ttpdb | ttpdb, ttpdb.log = off |")
print("| --- | ---: | ---: | ---: | ---: |")
for sc in syncs:
    def row(label, f):
        print(f"| {label} | " + " | ".join(f(v) for v in variants) + " |")
    row(f"synchronous_commit = {sc}: TPS, each run",
        lambda v: ", ".join(f"{x:.0f}" for x in tps[(v, sc)]))
    row("... TPS, median", lambda v: f"{med[(v, sc)]:.0f}")
    row("... TPS, best", lambda v: f"{best[(v, sc)]:.0f}")
    row("... WAL bytes per UPDATE, median", lambda v: f"{wal[(v, sc)]:.0f}")
    row("... load average after each run",
        lambda v: ", ".join(r[f"load_{v}_{sc}_{i}"] for i in range(1, rounds + 1)))
print()
print("| UPDATE TPS ratio, medians | " + " | ".join(f"synchronous_commit = {sc}" for sc in syncs)
      + " | target |")
print("| --- | " + " | ".join("---" for sc in syncs) + " | --- |")
for v, name in (("ttpdb_t", "ttpdb"), ("ttpdb_nolog", "ttpdb, ttpdb.log = off")):
    for base, target in (("heap_t", 0.8), ("periods_t", 1.5)):
        cells = []
        for sc in syncs:
            ratio = med[(v, sc)] / med[(base, sc)]
            cells.append(f"{ratio:.2f}x {met(ratio >= target)}")
        print(f"| {name} / {base[:-2]} | " + " | ".join(cells) + f" | >= {target}x |")
print()
print("| measure | heap | periods | ttpdb | ratio | target | |")
print("| --- | ---: | ---: | ---: | --- | --- | --- |")
print(f"| superseded versions kept | | {p_versions:,} | {versions:,} | | | |")
print(f"| ... of which packed | | | {packed:,} | | | |")
print(f"| history bytes/version, table + indexes + TOAST (pg_total_relation_size), "
      f"as the workload left them | | {per(asis_periods, p_versions):.1f} | "
      f"{per(asis_ttpdb, versions):.1f} | ttpdb/periods "
      f"{per(asis_ttpdb, versions) / per(asis_periods, p_versions):.2f}x | | |")
print(f"| history bytes/version, table + indexes + TOAST, after VACUUM FULL of the history | | "
      f"{p_tot:.1f} | {t_total:.1f} | ttpdb/periods {t_total / p_tot:.2f}x | <= 0.5x | "
      f"{met(t_total <= 0.5 * p_tot)} |")
print(f"| history bytes/version, the version itself (periods: pg_column_size of the row; "
      f"ttpdb: history_stats stored_bytes) | | {p_row:.1f} | {t_stored:.1f} | "
      f"ttpdb/periods {t_stored / p_row:.2f}x | | |")
print(f"| ttpdb history + commit_times, bytes/version | | | {t_with_ct:.1f} | "
      f"ttpdb/periods {t_with_ct / p_tot:.2f}x | | |")
print(f"| ttpdb LZ4: raw / stored bytes | | | | {per(raw, stored):.2f}x | | |")
print(f"| AS OF full scan at {r['as_of']} (asof_ tables, {int(r['asof_versions']):,} updates each, "
      f"half before the instant), ms | | {a_per:.1f} | | | | |")
print(f"| ... ttpdb.as_of(NULL::asof_ttpdb_t, ts), ms | | | {a_fn:.1f} | "
      f"periods/ttpdb {a_per / a_fn:.2f}x | > 1x | {met(a_fn < a_per)} |")
print(f"| ... SET ttpdb.as_of = ts; scan asof_ttpdb_t, ms | | | {a_set:.1f} | "
      f"periods/ttpdb {a_per / a_set:.2f}x | > 1x | {met(a_set < a_per)} |")
print(f"| ... SET ttpdb.as_of, repeated in one session, ms | | | {a_warm:.1f} | "
      f"periods/ttpdb {a_per / a_warm:.2f}x | | |")
print(f"| present-state scan, fresh tables, ms | {fresh_h:.1f} | | {fresh_t:.1f} | "
      f"heap/ttpdb time {fresh_h / fresh_t:.2f}x | >= 0.95x | {met(fresh_h >= 0.95 * fresh_t)} |")
print(f"| present-state scan after the workload (vacuumed), ms | {after_h:.1f} | | "
      f"{after_t:.1f} | heap/ttpdb time {after_h / after_t:.2f}x | | |")
print(f"| table size after the workload, MB | {size_heap / 2**20:.1f} | "
      f"{size_periods / 2**20:.1f} | {size_ttpdb / 2**20:.1f} | | | |")
print()
print(f"checks: AS OF ttpdb.as_of() {check('got_asof_fn', 'expect_asof')}; "
      f"SET ttpdb.as_of {check('got_asof_set', 'expect_asof')}; "
      f"asof_periods_t__as_of() {check('got_asof_periods', 'expect_asof')}; "
      f"present heap_t {check('present_heap_t', 'expect_present_heap_t')}, "
      f"periods_t {check('present_periods_t', 'expect_present_periods_t')}, "
      f"ttpdb_t {check('present_ttpdb_t', 'expect_present_ttpdb_t')}; "
      f"ttpdb.history versions = ttpdb_t updates: "
      f"{'ok' if versions == int(r['expect_versions']) else 'MISMATCH: %d, expected %s' % (versions, r['expect_versions'])}; "
      f"periods_t_history rows = periods_t updates: "
      f"{'ok' if p_versions == int(r['expect_p_versions']) else 'MISMATCH: %d, expected %s' % (p_versions, r['expect_p_versions'])}")
PY
printf '\npgbench -n -c %s -j %s -T %s -f script, the script (for ttpdb_t; the others name their table):\n\n' \
	"$CLIENTS" "$CLIENTS" "$DURATION"
sed 's/^/    /' "$dir/update_ttpdb_t.sql"
