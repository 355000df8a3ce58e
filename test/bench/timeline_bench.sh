#!/usr/bin/env bash
# test/bench/timeline_bench.sh: what branches, PUBLISH and replay cost
# (issue #6), in one run on one cluster.
#
#   bash test/bench/timeline_bench.sh       (as root, from the repository)
#
# Builds and installs ttpdb, starts a throwaway cluster and measures:
#
#   1. ttpdb.branch() of one table, for each table size in SIZES (default
#      "10000 1000000"; ttpdb tables like pgbench_accounts: id int primary
#      key, balance int, filler text), in a transaction that is rolled back
#      (target: independent of the table's size; a branch copies no rows).
#      Also the read of one row by key through the branch's view.
#   2. ttpdb.publish() into main of a branch of each of those tables in
#      which one UPDATE through the branch's view changed CHANGES rows
#      (default "10 100 1000 3000", ids spread over the table), in a
#      transaction that is rolled back, so that every run publishes the same
#      changes (target: proportional to the rows changed, not to the table);
#      with the time per changed row, and the time of that UPDATE through
#      the view (what making the changes costs).
#   3. undo of one entry that touched 100 rows of a 1M-row table (target:
#      under 50 ms) is measured by test/bench/undo_bench.sh, not here.
#   4. ttpdb.replay() against the original execution: on a ttpdb table of
#      REPLAY_ROWS rows (default 100,000), pgbench (1 client, -M simple, so
#      that :id is substituted as a literal, -t REPLAY_N, default 2000) runs
#      a one-statement script RUNS times; the median TPS is the original's
#      rate in entries/s (each transaction is one entry, committed with
#      synchronous_commit = on).  Then ttpdb.replay() of the entries of the
#      last pgbench run (from_entry => its first, upto_entry => its last,
#      tables => that table), and of its first entry only and its first
#      half, each in a transaction that is rolled back.  Replay starts by
#      copying the table as of just before from_entry (timed alone: the same
#      replay_create_table() and INSERT ... ttpdb.as_of() that replay runs)
#      and ends with an AS OF check of the whole table (timed alone:
#      ttpdb.replay_differences() of such a copy against ttpdb.as_of()); the
#      replay of one entry is that fixed cost.  The replay's rate is given
#      whole (entries / time of the call) and for the entries alone
#      ((entries - 1) / (time - time of one entry)); the ratio to the
#      original uses the latter.  The second half's cost per entry over the
#      first half's shows whether the cost per entry grows with the number
#      of entries.  Workloads (each its own pgbench script):
#        reexec   UPDATE acc SET balance = balance + 1 WHERE id = :id;
#                 re-executed and checked against the recorded digests;
#        clock    ... filler = clock_timestamp()::text ...: not
#                 deterministic, applied from effects;
#        now      ... filler = now()::text ...: reads the transaction's
#                 time (the log records it), applied from effects;
#        cte      WITH s AS (INSERT INTO side (acc_id) VALUES (:id)) UPDATE
#                 acc ...: writes a table outside the replay (and draws
#                 from a sequence), so it is applied from effects.
#      Each replay's rows are counted once (re-executed, applied from
#      effects, digests that did not match, the final AS OF check).
#
# Times are taken by the server (EXPLAIN (ANALYZE, TIMING OFF)'s execution
# time, each in a new session), RUNS times each (default 5) after one
# warm-up, the statements of each part interleaved within each round;
# medians reported.  Before measuring it waits (up to MAX_WAIT seconds, default 300)
# for the 1-minute load average to drop below MAX_LOAD (default 1.0).
# PORT (default 5497): the server's port (its socket is in a private
# directory under /tmp).  KEEP=1 leaves the cluster running.  It prints
# markdown tables.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh"
# shellcheck source=test/bench/bench_lib.sh
. "$here/test/bench/bench_lib.sh"

SIZES=${SIZES:-"10000 1000000"}
CHANGES=${CHANGES:-"10 100 1000 3000"}
REPLAY_ROWS=${REPLAY_ROWS:-100000}
REPLAY_N=${REPLAY_N:-2000}
WORKLOADS=${WORKLOADS:-"reexec clock now cte"}
RUNS=${RUNS:-5}
PORT=${PORT:-5497}
MAX_LOAD=${MAX_LOAD:-1.0}
MAX_WAIT=${MAX_WAIT:-300}
KEEP=${KEEP:-0}

for v in REPLAY_ROWS REPLAY_N RUNS PORT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || ttpdb_die "$v must be a positive integer, not ${!v}"
done
((REPLAY_N >= 4)) || ttpdb_die "REPLAY_N must be at least 4"
for s in $SIZES $CHANGES; do
	[[ $s =~ ^[1-9][0-9]*$ ]] || ttpdb_die "SIZES and CHANGES must be positive integers, not $s"
done
for w in $WORKLOADS; do
	case $w in
		reexec | clock | now | cte) ;;
		*) ttpdb_die "WORKLOADS: reexec, clock, now or cte, not $w" ;;
	esac
done

bench_build
bench_start_cluster timeline <<CONF
shared_buffers = 1GB
max_wal_size = 4GB
max_parallel_workers_per_gather = 0
jit = off
CONF

psql_q()
{
	runuser -u postgres -- "$PG_BINDIR/psql" -h "$cluster" -p "$port" -U postgres -d postgres \
		-X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# The server's execution time of a query $1, in ms, in a transaction that
# is rolled back, after the statements $2 (if any) in that transaction.
exec_ms()
{
	psql_q -c "BEGIN" -c "SET LOCAL client_min_messages = warning" -c "${2:-SELECT}" \
		-c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $1" -c "ROLLBACK" |
		grep -o '"Execution Time": [0-9.]*' | grep -o '[0-9.]*$'
}

# Measurements are taken in groups: put_ms KEY QUERY [SETUP] adds one to
# the group, measure_group times them all, one warm-up round and then RUNS
# rounds, the queries interleaved within each round (so that a change of
# load on the machine falls on all of them), and puts the median of each
# under its KEY.
g_key=() g_query=() g_setup=()
put_ms()
{
	g_key+=("$1")
	g_query+=("$2")
	g_setup+=("${3:-}")
}
measure_group()
{
	local n=${#g_key[@]} i r t
	local -a times=()
	for ((i = 0; i < n; i++)); do
		exec_ms "${g_query[i]}" "${g_setup[i]}" >/dev/null
		times[i]=""
	done
	for ((r = 0; r < RUNS; r++)); do
		for ((i = 0; i < n; i++)); do
			t=$(exec_ms "${g_query[i]}" "${g_setup[i]}")
			[ -n "$t" ] || ttpdb_die "could not time: ${g_query[i]}"
			times[i]+="$t "
		done
	done
	for ((i = 0; i < n; i++)); do
		# shellcheck disable=SC2086 # one time a word
		bench_put "${g_key[i]}" "$(printf '%s\n' ${times[i]} | bench_median)"
	done
	g_key=() g_query=() g_setup=()
}

# awk arithmetic, for the report
calc()
{
	awk "BEGIN { printf \"$1\n\", $2 }"
}

results="$dir/results"
: >"$results"
psql_q -c "CREATE EXTENSION ttpdb"
for size in $SIZES; do
	ttpdb_log "table t_$size of $size rows"
	psql_q <<SQL
CREATE TABLE t_$size (id int PRIMARY KEY, balance int NOT NULL, filler text) USING ttpdb;
SET ttpdb.log = off;
INSERT INTO t_$size SELECT g, 0, repeat(' ', 84) FROM generate_series(1, $size) g;
RESET ttpdb.log;
VACUUM ANALYZE t_$size;
SQL
done
ttpdb_log "table acc of $REPLAY_ROWS rows"
psql_q <<SQL
CREATE TABLE acc (id int PRIMARY KEY, balance int NOT NULL, filler text) USING ttpdb;
CREATE TABLE side (id bigserial PRIMARY KEY, acc_id int NOT NULL) USING ttpdb;
SET ttpdb.log = off;
INSERT INTO acc SELECT g, 0, repeat(' ', 84) FROM generate_series(1, $REPLAY_ROWS) g;
RESET ttpdb.log;
VACUUM ANALYZE acc;
CHECKPOINT;
SQL
bench_put quiet "$(bench_wait_for_quiet)"
bench_put load_before "$(bench_loadavg)"

# 1. branch creation
ttpdb_log "branch creation, tables of $SIZES rows: measuring"
for size in $SIZES; do
	put_ms "branch_$size" "SELECT count(*) FROM ttpdb.branch('b_$size', tables => ARRAY['t_$size'::regclass])"
	put_ms "branch_read_$size" "SELECT * FROM b_$size.t_$size WHERE id = $((size / 2))" \
		"SELECT count(*) FROM ttpdb.branch('b_$size', tables => ARRAY['t_$size'::regclass])"
done
measure_group

# 2. publish
for size in $SIZES; do
	for changed in $CHANGES; do
		((changed <= size)) || continue
		step=$((size / changed))
		b=p_${size}_$changed
		ttpdb_log "a branch of t_$size with $changed rows changed"
		psql_q -c "SELECT count(*) FROM ttpdb.branch('$b', tables => ARRAY['t_$size'::regclass])" >/dev/null
		psql_q -c "UPDATE $b.t_$size SET balance = balance + 1 WHERE id % $step = 0 AND id <= $((changed * step))"
		got=$(psql_q -c "BEGIN" -c "SELECT count(*) FILTER (WHERE outcome = 'done' AND action = 'update')
			|| ' ' || count(*) FROM ttpdb.publish('$b')" -c "ROLLBACK")
		[ "$got" = "$changed $changed" ] ||
			ttpdb_die "publish of $b: $got rows updated/returned, expected $changed"
		put_ms "write_${size}_$changed" "UPDATE $b.t_$size SET balance = balance + 1 WHERE id % $step = 0 AND id <= $((changed * step))"
		put_ms "publish_${size}_$changed" "SELECT count(*) FROM ttpdb.publish('$b')"
	done
done
ttpdb_log "publish: measuring"
measure_group

# 4. replay
declare -A script=(
	[reexec]="UPDATE acc SET balance = balance + 1 WHERE id = :id;"
	[clock]="UPDATE acc SET balance = balance + 1, filler = clock_timestamp()::text WHERE id = :id;"
	[now]="UPDATE acc SET balance = balance + 1, filler = now()::text WHERE id = :id;"
	[cte]="WITH s AS (INSERT INTO side (acc_id) VALUES (:id)) UPDATE acc SET balance = balance + 1 WHERE id = :id;"
)
half=$((REPLAY_N / 2))
for w in $WORKLOADS; do
	printf '\\set id random(1, %s)\n%s\n' "$REPLAY_ROWS" "${script[$w]}" >"$dir/$w.sql"
	chmod 644 "$dir/$w.sql"
	tps=""
	for _ in $(seq "$RUNS"); do
		first=$(psql_q -c "SELECT coalesce(max(entry), 0) + 1 FROM ttpdb.log")
		ttpdb_log "replay, $w: original, pgbench -t $REPLAY_N"
		out=$(runuser -u postgres -- "$PG_BINDIR/pgbench" -h "$cluster" -p "$port" -U postgres \
			-n -M simple -c 1 -t "$REPLAY_N" -f "$dir/$w.sql" postgres 2>&1) ||
			{ printf '%s\n' "$out" >&2; ttpdb_die "pgbench failed: $w"; }
		tps+="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<<"$out") "
		last=$(psql_q -c "SELECT max(entry) FROM ttpdb.log")
		[ $((last - first + 1)) = "$REPLAY_N" ] ||
			ttpdb_die "$w: pgbench wrote entries $first..$last, expected $REPLAY_N"
	done
	# shellcheck disable=SC2086 # one figure a word
	bench_put "orig_$w" "$(printf '%s\n' $tps | bench_median)"
	bench_put "span_$w" "$(psql_q -c "SELECT extract(epoch FROM max(committed_at) - min(committed_at)) * 1000
		FROM ttpdb.log WHERE entry BETWEEN $first AND $last")"
	replay="ttpdb.replay('r', from_entry => $first, upto_entry => %s, tables => ARRAY['acc'::regclass])"
	# shellcheck disable=SC2059 # the format is ours
	counts=$(psql_q -F ' ' -c "BEGIN" -c "SET LOCAL client_min_messages = warning" -c "SELECT
		count(*) FILTER (WHERE replayed = 're-executed'),
		count(*) FILTER (WHERE replayed = 'applied from effects'),
		count(*) FILTER (WHERE digest_matches = false),
		string_agg(DISTINCT replayed, '/') FILTER (WHERE kind = 'AS OF check'),
		string_agg(DISTINCT detail, '/') FILTER (WHERE replayed = 'applied from effects')
		FROM $(printf "$replay" "$last")" -c "ROLLBACK")
	bench_put "counts_$w" "$counts"
	ttpdb_log "replay, $w: replay of entries $first..$last ($(cut -d' ' -f1-4 <<<"$counts")): measuring"
	# shellcheck disable=SC2059
	put_ms "replay_all_$w" "SELECT count(*) FROM $(printf "$replay" "$last")"
	# shellcheck disable=SC2059
	put_ms "replay_half_$w" "SELECT count(*) FROM $(printf "$replay" $((first + half - 1)))"
	# shellcheck disable=SC2059
	put_ms "replay_one_$w" "SELECT count(*) FROM $(printf "$replay" "$first")"
	base="(SELECT committed_at - interval '1 microsecond' FROM ttpdb.log WHERE entry = $first)"
	copy="CREATE SCHEMA rc; SELECT ttpdb.replay_create_table('rc', 'acc'::regclass);"
	put_ms "copy_$w" "INSERT INTO rc.acc SELECT id, balance, filler FROM ttpdb.as_of(NULL::acc, $base)" "$copy"
	put_ms "check_$w" "SELECT ttpdb.replay_differences('rc.acc', format('ttpdb.as_of(NULL::public.acc, %L::timestamptz)',
		(SELECT committed_at FROM ttpdb.log WHERE entry = $last)))" \
		"$copy INSERT INTO rc.acc SELECT id, balance, filler FROM ttpdb.as_of(NULL::acc, $base)"
	measure_group
done
bench_put load_after "$(bench_loadavg)"

# The report.
get()
{
	sed -n "s/^$1=//p" "$results" | tail -1
}
# a time in ms, to 0.1 ms
getf()
{
	calc '%.1f' "$(get "$1")"
}
echo
echo "ttpdb timeline benchmark: $("$PG_BINDIR/postgres" --version), $(nproc) cores, RUNS=$RUNS (medians)"
echo "load average (1 min): $(get quiet); $(get load_before) before measuring, $(get load_after) after"
echo
echo "| table rows | ttpdb.branch(), ms | one row by key through the branch's view, ms |"
echo "| ---: | ---: | ---: |"
for size in $SIZES; do
	echo "| $size | $(getf "branch_$size") | $(getf "branch_read_$size") |"
done
echo
echo "| table rows | rows changed | the UPDATE through the branch's view, ms | ttpdb.publish(), ms | publish per changed row, ms | per row changed since the line above, ms |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
for size in $SIZES; do
	prev=""
	for changed in $CHANGES; do
		((changed <= size)) || continue
		p=$(get "publish_${size}_$changed")
		marginal=""
		if [ -n "$prev" ]; then
			read -r c0 p0 <<<"$prev"
			marginal=$(calc '%.3f' "($p - $p0) / ($changed - $c0)")
		fi
		echo "| $size | $changed | $(getf "write_${size}_$changed") | $(calc '%.1f' "$p") | $(calc '%.3f' "$p / $changed") | $marginal |"
		prev="$changed $p"
	done
done
echo
echo "undo of one entry that touched 100 rows of a 1M-row table (target < 50 ms): see test/bench/undo_bench.sh"
echo
echo "| workload | re-executed / from effects / digest mismatches / AS OF check | original (pgbench TPS), entries/s | replay, entries/s | replay / original | replay without the fixed cost, entries/s | replay without the fixed cost / original | cost per entry, 2nd half / 1st half |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for w in $WORKLOADS; do
	read -r nre nfx nbad asof _ <<<"$(get "counts_$w")"
	orig=$(get "orig_$w")
	all=$(get "replay_all_$w")
	hlf=$(get "replay_half_$w")
	one=$(get "replay_one_$w")
	rate=$(calc '%.0f' "$REPLAY_N / ($all / 1000)")
	net=$(calc '%.0f' "($REPLAY_N - 1) / (($all - $one) / 1000)")
	echo "| $w | $nre / $nfx / $nbad / $asof | $(calc '%.0f' "$orig") | $rate | $(calc '%.2fx' "$rate / $orig") | $net | $(calc '%.2fx' "$net / $orig") | $(calc '%.2f' "(($all - $hlf) / ($REPLAY_N - $half)) / (($hlf - $one) / ($half - 1))") |"
done
echo
echo "| workload | replay of $REPLAY_N entries, ms | of the first $half, ms | of the first only (the fixed cost), ms | ... the copy as of the start, ms | ... the AS OF check at the end, ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for w in $WORKLOADS; do
	echo "| $w | $(getf "replay_all_$w") | $(getf "replay_half_$w") | $(getf "replay_one_$w") | $(getf "copy_$w") | $(getf "check_$w") |"
done
echo
echo "replay: $REPLAY_N entries of pgbench -M simple -c 1 -t $REPLAY_N on a ttpdb table of $REPLAY_ROWS rows; scripts:"
for w in $WORKLOADS; do
	why=$(get "counts_$w" | cut -d' ' -f5-)
	echo "    $w: ${script[$w]}  (applied from effects because: ${why:-none was})"
	echo "        original from the log's commit times: $(calc '%.0f' "($REPLAY_N - 1) / ($(get "span_$w") / 1000)") entries/s"
done
