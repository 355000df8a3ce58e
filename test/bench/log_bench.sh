#!/usr/bin/env bash
# test/bench/log_bench.sh: what ttpdb's semantic statement log costs, against
# pgaudit's logging of writes, in one run on one cluster.
#
#   bash test/bench/log_bench.sh            (as root, from the repository)
#
# Builds and installs ttpdb, installs postgresql-15-pgaudit, starts a
# throwaway cluster with shared_preload_libraries = 'ttpdb,pgaudit' and
# creates two databases, each initialised with pgbench -i -s SCALE
# (default 1):
#
#   ttpdb_db    CREATE EXTENSION ttpdb; the pgbench tables USING ttpdb
#               (default_table_access_method = ttpdb during pgbench -i)
#   heap_db     CREATE EXTENSION pgaudit; the pgbench tables on the heap
#
# Then it runs pgbench's built-in TPC-B-like script (-b tpcb-like, no vacuum
# by pgbench: -n) with CLIENTS clients (default 2) for DURATION seconds each
# (default 30), as the superuser postgres, in four configurations chosen per
# session through PGOPTIONS:
#
#   log on      ttpdb_db, ttpdb.log = on
#   log off     ttpdb_db, ttpdb.log = off
#   pgaudit     heap_db,  pgaudit.log = write (an audit line in the server
#               log for each INSERT, UPDATE, DELETE...), ttpdb.log = off
#   heap        heap_db,  pgaudit.log = none, ttpdb.log = off
#
# in ROUNDS rounds (default 2): odd rounds in that order, even rounds in the
# order log off, log on, heap, pgaudit, so that a drift of the machine or of
# the tables' size falls on both sides of each pair.  Before each run it
# vacuums that database's pgbench tables and checkpoints.  It reports:
#   1. TPS of each configuration, median and best of the rounds; the log's
#      cost is 1 - (log on / log off), pgaudit's is 1 - (pgaudit / heap)
#      (targets: log on >= 0.85x log off, i.e. the log costs at most 15% of
#      throughput; and the log costs less than pgaudit's write logging);
#   2. WAL bytes per transaction of each configuration;
#   3. log entries written per transaction (SELECT count(*) FROM ttpdb.log
#      before and after each log-on run) and log bytes per entry
#      (pg_total_relation_size('ttpdb.log_entries'), indexes and TOAST
#      included); for pgaudit, audit lines and server-log bytes per
#      transaction;
#   4. checks: log-off runs wrote no log entry, log-on runs wrote some,
#      only pgaudit runs wrote audit lines, and each database's balances
#      agree (accounts = tellers = branches = history) with one history row
#      per transaction.
# Before measuring anything it waits (up to MAX_WAIT seconds, default 1200)
# for the 1-minute load average to drop below MAX_LOAD (default 1.0); set
# MAX_WAIT=0 not to wait.  Other settings:
#   SYNC_COMMIT=on       synchronous_commit for the whole run (default on);
#   QUERY_MODE=simple    pgbench -M: simple (default), extended or prepared;
#   PORT=5497            the server's port (its socket is in a private
#                        directory under /tmp, so it cannot clash);
#   KEEP=1               leave the cluster running at the end (or on
#                        failure) and say how to reach and stop it.
# It prints a markdown table and a verdict line for each target.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh"
# shellcheck source=test/bench/bench_lib.sh
. "$here/test/bench/bench_lib.sh"

SCALE=${SCALE:-1}
CLIENTS=${CLIENTS:-2}
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-2}
SYNC_COMMIT=${SYNC_COMMIT:-on}
QUERY_MODE=${QUERY_MODE:-simple}
MAX_LOAD=${MAX_LOAD:-1.0}
MAX_WAIT=${MAX_WAIT:-1200}
PORT=${PORT:-5497}
KEEP=${KEEP:-0}

for v in SCALE CLIENTS DURATION ROUNDS PORT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || ttpdb_die "$v must be a positive integer, not ${!v}"
done
[[ $MAX_WAIT =~ ^[0-9]+$ ]] || ttpdb_die "MAX_WAIT must be a number of seconds, not $MAX_WAIT"
[[ $MAX_LOAD =~ ^[0-9]+(\.[0-9]*)?$ ]] || ttpdb_die "MAX_LOAD must be a number, not $MAX_LOAD"
case $QUERY_MODE in
	simple | extended | prepared) ;;
	*) ttpdb_die "QUERY_MODE must be simple, extended or prepared, not $QUERY_MODE" ;;
esac
case $KEEP in
	0 | 1) ;;
	*) ttpdb_die "KEEP must be 0 or 1, not $KEEP" ;;
esac

bench_build "postgresql-$PG_MAJOR-pgaudit" python3
# bench_start_cluster writes shared_preload_libraries = 'ttpdb' before these
# lines; the later setting wins.
bench_start_cluster log <<EOF
shared_preload_libraries = 'ttpdb,pgaudit'
shared_buffers = '1GB'
max_parallel_workers_per_gather = 0
jit = off
synchronous_commit = $SYNC_COMMIT
max_wal_size = '8GB'
checkpoint_timeout = '1h'
EOF

# psql as postgres in database $1, with PGOPTIONS $2; the rest are psql's
# arguments.
q()
{
	local db=$1 opts=$2
	shift 2
	runuser -u postgres -- env "PGOPTIONS=$opts" "$PG_BINDIR/psql" -X -q -At \
		-v ON_ERROR_STOP=1 -h "$cluster" -p "$port" -d "$db" "$@"
}

# pgbench as postgres on database $1, with PGOPTIONS $2; the rest are
# pgbench's options.
bench()
{
	local db=$1 opts=$2
	shift 2
	runuser -u postgres -- env "PGOPTIONS=$opts" "$PG_BINDIR/pgbench" \
		-h "$cluster" -p "$port" "$@" "$db"
}

# The sessions that set up, vacuum and count in ttpdb_db write no log
# entries of their own, so that every entry counted is pgbench's.
T_OPTS="-c ttpdb.log=off"
H_OPTS=""

# Results, one key=value a line, for the report at the end.
results="$dir/results"
: >"$results"

[ "$(q postgres "" -c "SELECT current_setting('ttpdb.log', true) IS NOT NULL")" = t ] ||
	ttpdb_die "no setting ttpdb.log: this build of ttpdb has no statement log"
[ "$(q postgres "" -c "SELECT current_setting('pgaudit.log', true) IS NOT NULL")" = t ] ||
	ttpdb_die "no setting pgaudit.log: pgaudit is not loaded"

ttpdb_log "creating ttpdb_db (ttpdb tables) and heap_db (heap tables, pgaudit), scale $SCALE"
q postgres "" -c "CREATE DATABASE ttpdb_db" -c "CREATE DATABASE heap_db" ||
	ttpdb_die "CREATE DATABASE failed"
q ttpdb_db "$T_OPTS" >/dev/null <<'SQL' || ttpdb_die "CREATE EXTENSION ttpdb failed"
SET client_min_messages = warning;
CREATE EXTENSION ttpdb;
SQL
[ "$(q ttpdb_db "$T_OPTS" -c "SELECT to_regclass('ttpdb.log') IS NOT NULL
	AND to_regclass('ttpdb.log_entries') IS NOT NULL")" = t ] ||
	ttpdb_die "CREATE EXTENSION ttpdb made no ttpdb.log and ttpdb.log_entries"
q heap_db "$H_OPTS" >/dev/null <<'SQL' || ttpdb_die "CREATE EXTENSION pgaudit failed"
SET client_min_messages = warning;
CREATE EXTENSION pgaudit;
SQL

out=$(bench ttpdb_db "$T_OPTS -c default_table_access_method=ttpdb" -i -q -s "$SCALE" 2>&1) ||
	{ printf '%s\n' "$out" >&2; ttpdb_die "pgbench -i failed on ttpdb_db"; }
out=$(bench heap_db "$H_OPTS" -i -q -s "$SCALE" 2>&1) ||
	{ printf '%s\n' "$out" >&2; ttpdb_die "pgbench -i failed on heap_db"; }

PGBENCH_TABLES="pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history"
am_count()
{
	q "$1" "$2" -c "SELECT count(*) FROM pg_class c JOIN pg_am a ON a.oid = c.relam
		WHERE a.amname = '$3' AND c.oid IN ('pgbench_accounts'::regclass,
		'pgbench_branches'::regclass, 'pgbench_tellers'::regclass, 'pgbench_history'::regclass)"
}
[ "$(am_count ttpdb_db "$T_OPTS" ttpdb)" = 4 ] ||
	ttpdb_die "the pgbench tables of ttpdb_db are not all ttpdb tables"
[ "$(am_count heap_db "$H_OPTS" heap)" = 4 ] ||
	ttpdb_die "the pgbench tables of heap_db are not all heap tables"
q postgres "" -c "CHECKPOINT"

bench_put quiet "$(bench_wait_for_quiet)"
bench_put load_before "$(bench_loadavg)"

CONFIGS="log_on log_off pgaudit heap"
declare -A cfg_db=([log_on]=ttpdb_db [log_off]=ttpdb_db [pgaudit]=heap_db [heap]=heap_db)
declare -A cfg_qopts=([log_on]="$T_OPTS" [log_off]="$T_OPTS" [pgaudit]="$H_OPTS" [heap]="$H_OPTS")
declare -A cfg_opts=(
	[log_on]="-c ttpdb.log=on -c pgaudit.log=none"
	[log_off]="-c ttpdb.log=off -c pgaudit.log=none"
	[pgaudit]="-c ttpdb.log=off -c pgaudit.log=write"
	[heap]="-c ttpdb.log=off -c pgaudit.log=none"
)
declare -A done_total=([ttpdb_db]=0 [heap_db]=0)

# WAL position, log entries and log bytes (0 0 in heap_db), one line.
snapshot()
{
	local db=$1 opts=$2
	if [ "$db" = ttpdb_db ]; then
		q "$db" "$opts" -F ' ' -c "SELECT pg_current_wal_lsn(), (SELECT count(*) FROM ttpdb.log),
			pg_total_relation_size('ttpdb.log_entries')"
	else
		q "$db" "$opts" -F ' ' -c "SELECT pg_current_wal_lsn(), 0, 0"
	fi
}

for ((round = 1; round <= ROUNDS; round++)); do
	if ((round % 2)); then
		order="log_on log_off pgaudit heap"
	else
		order="log_off log_on heap pgaudit"
	fi
	for c in $order; do
		db=${cfg_db[$c]}
		qopts=${cfg_qopts[$c]}
		q "$db" "$qopts" -c "VACUUM $PGBENCH_TABLES" -c "CHECKPOINT" ||
			ttpdb_die "VACUUM failed in $db"
		ttpdb_log "round $round: pgbench tpcb-like, $c ($db: ${cfg_opts[$c]}) for ${DURATION}s"
		read -r lsn0 entries0 bytes0 <<<"$(snapshot "$db" "$qopts")"
		[ -n "${bytes0:-}" ] || ttpdb_die "could not read the WAL position and log size in $db"
		srv0=$(stat -c %s "$cluster/server.log")
		out=$(bench "$db" "${cfg_opts[$c]}" -n -b tpcb-like -M "$QUERY_MODE" \
			-c "$CLIENTS" -j "$CLIENTS" -T "$DURATION" 2>&1) ||
			{ printf '%s\n' "$out" >&2; ttpdb_die "pgbench failed: $c"; }
		read -r lsn1 entries1 bytes1 <<<"$(snapshot "$db" "$qopts")"
		[ -n "${bytes1:-}" ] || ttpdb_die "could not read the WAL position and log size in $db"
		srv1=$(stat -c %s "$cluster/server.log")
		audit=$(tail -c +$((srv0 + 1)) "$cluster/server.log" | grep -c 'AUDIT: SESSION,')
		tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
		n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
		failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
		if [ -z "$tps" ] || [ -z "$n" ]; then
			printf '%s\n' "$out" >&2
			ttpdb_die "no tps from pgbench"
		fi
		[ "${failed:-0}" = 0 ] || ttpdb_die "pgbench, $c: $failed failed transactions"
		bench_put "tps_${c}_$round" "$tps"
		bench_put "n_${c}_$round" "$n"
		bench_put "wal_${c}_$round" "$lsn0 $lsn1"
		bench_put "entries_${c}_$round" "$((entries1 - entries0))"
		bench_put "logbytes_${c}_$round" "$((bytes1 - bytes0))"
		bench_put "srvlog_${c}_$round" "$((srv1 - srv0))"
		bench_put "audit_${c}_$round" "$audit"
		bench_put "load_${c}_$round" "$(bench_loadavg)"
		done_total[$db]=$((done_total[$db] + n))
	done
done
bench_put load_after "$(bench_loadavg)"

ttpdb_log "checking the balances"
for db in ttpdb_db heap_db; do
	if [ "$db" = ttpdb_db ]; then qopts=$T_OPTS; else qopts=$H_OPTS; fi
	bench_put "balances_$db" "$(q "$db" "$qopts" -F ' ' -c "SELECT
		(SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts),
		(SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers),
		(SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches),
		(SELECT coalesce(sum(delta), 0) FROM pgbench_history),
		(SELECT count(*) FROM pgbench_history)")"
	bench_put "expect_history_$db" "${done_total[$db]}"
done
bench_put log_total "$(q ttpdb_db "$T_OPTS" -F ' ' -c "SELECT (SELECT count(*) FROM ttpdb.log),
	pg_total_relation_size('ttpdb.log_entries')")"

python3 - "$results" "$SCALE" "$DURATION" "$ROUNDS" "$CLIENTS" "$SYNC_COMMIT" \
	"$QUERY_MODE" "$CONFIGS" "$("$PG_BINDIR/postgres" --version)" <<'PY'
import math, statistics, sys

path, scale, duration, rounds, clients, sync, mode, configs, version = sys.argv[1:]
rounds = int(rounds)
configs = configs.split()
r = {}
with open(path) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("=")
        r[k] = v

def num(k):
    return float(r[k])

def per(a, b):
    return a / b if b else float("nan")

def lsn(s):
    hi, lo = s.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)

R = range(1, rounds + 1)
tps = {c: [num(f"tps_{c}_{i}") for i in R] for c in configs}
med = {c: statistics.median(v) for c, v in tps.items()}
best = {c: max(v) for c, v in tps.items()}
n = {c: [int(r[f"n_{c}_{i}"]) for i in R] for c in configs}
wal = {}
for c in configs:
    w = []
    for i in R:
        a, b = r[f"wal_{c}_{i}"].split()
        w.append(per(lsn(b) - lsn(a), n[c][i - 1]))
    wal[c] = statistics.median(w)

def total(key, c):
    return sum(int(r[f"{key}_{c}_{i}"]) for i in R)

entries = {c: total("entries", c) for c in configs}
logbytes = {c: total("logbytes", c) for c in configs}
srvlog = {c: total("srvlog", c) for c in configs}
audit = {c: total("audit", c) for c in configs}
txns = {c: sum(n[c]) for c in configs}

on_off = per(med["log_on"], med["log_off"])
pg_heap = per(med["pgaudit"], med["heap"])
cost_log = 1 - on_off
cost_pg = 1 - pg_heap
best_on_off = per(best["log_on"], best["log_off"])
best_pg_heap = per(best["pgaudit"], best["heap"])
round_on_off = [per(tps["log_on"][i], tps["log_off"][i]) for i in range(rounds)]
round_pg_heap = [per(tps["pgaudit"][i], tps["heap"][i]) for i in range(rounds)]

def met(ok):
    return "**met**" if ok else "**missed**"

def pct(x):
    return f"{100 * x:.1f}%" if not math.isnan(x) else "nan"

def cols(f):
    return " | ".join(f(c) for c in configs)

print(f"ttpdb statement log benchmark: {version}, pgbench scale {scale}, "
      f"synchronous_commit = {sync}, shared_buffers = 1GB")
print(f"pgbench -n -b tpcb-like -M {mode} -c {clients} -j {clients} -T {duration}, "
      f"{rounds} rounds (log on, log off, pgaudit, heap; every other round "
      f"log off, log on, heap, pgaudit)")
print(f"load average (1 min): {r['quiet']}; {r['load_before']} before measuring, "
      f"{r['load_after']} after")
print()
print("| measure | ttpdb, log on | ttpdb, log off | heap, pgaudit.log = write | heap | ratio | target | |")
print("| --- | ---: | ---: | ---: | ---: | --- | --- | --- |")
print(f"| TPS, each run | {cols(lambda c: ', '.join(f'{x:.0f}' for x in tps[c]))} | "
      f"on/off {', '.join(f'{x:.2f}x' for x in round_on_off)}; "
      f"pgaudit/heap {', '.join(f'{x:.2f}x' for x in round_pg_heap)} | | |")
print(f"| load average after each run | "
      f"{cols(lambda c: ', '.join(r[f'load_{c}_{i}'] for i in R))} | | | |")
print(f"| TPS, median | {cols(lambda c: f'{med[c]:.0f}')} | log on/off {on_off:.2f}x | "
      f">= 0.85x | {met(on_off >= 0.85)} |")
print(f"| throughput cost, median | {pct(cost_log)} | | {pct(cost_pg)} | | "
      f"log {pct(cost_log)}, pgaudit {pct(cost_pg)} | log < pgaudit | "
      f"{met(cost_log < cost_pg)} |")
print(f"| TPS, best | {cols(lambda c: f'{best[c]:.0f}')} | log on/off {best_on_off:.2f}x, "
      f"pgaudit/heap {best_pg_heap:.2f}x | | |")
print(f"| ttpdb against heap, median TPS | | | | | log on/heap "
      f"{per(med['log_on'], med['heap']):.2f}x, log off/heap "
      f"{per(med['log_off'], med['heap']):.2f}x | | |")
print(f"| WAL bytes per transaction, median | {cols(lambda c: f'{wal[c]:.0f}')} | "
      f"log on/off {per(wal['log_on'], wal['log_off']):.2f}x | | |")
print(f"| transactions, all rounds | {cols(lambda c: f'{txns[c]:,}')} | | | |")
print(f"| log entries per transaction | {per(entries['log_on'], txns['log_on']):.2f} | "
      f"{per(entries['log_off'], txns['log_off']):.2f} | | | | | |")
print(f"| log bytes per entry (ttpdb.log_entries, pg_total_relation_size) | "
      f"{per(logbytes['log_on'], entries['log_on']):.1f} | | | | | | |")
print(f"| log bytes per transaction (ttpdb: ttpdb.log_entries; pgaudit: server log) | "
      f"{per(logbytes['log_on'], txns['log_on']):.1f} | | "
      f"{per(srvlog['pgaudit'], txns['pgaudit']):.1f} | | | | |")
print(f"| audit lines per transaction | | | "
      f"{per(audit['pgaudit'], txns['pgaudit']):.2f} | "
      f"{per(audit['heap'], txns['heap']):.2f} | | | |")
print()
print(f"target: the log costs at most 15% of throughput (log on/off >= 0.85x): "
      f"{'met' if on_off >= 0.85 else 'missed'} ({on_off:.2f}x, cost {pct(cost_log)})")
print(f"target: the log costs less than pgaudit's write logging: "
      f"{'met' if cost_log < cost_pg else 'missed'} "
      f"(log {pct(cost_log)}, pgaudit {pct(cost_pg)})")

checks = []
def check(what, ok, detail):
    checks.append(f"{what} {'ok' if ok else 'MISMATCH: ' + detail}")

check("log-off runs wrote no entry:", entries["log_off"] == 0,
      f"{entries['log_off']} entries")
check("log-on runs wrote entries:", entries["log_on"] > 0, "none")
check("pgaudit runs wrote audit lines:", audit["pgaudit"] > 0, "none")
others = {c: audit[c] for c in configs if c != "pgaudit"}
check("no other run wrote audit lines:", not any(others.values()), str(others))
for db in ("ttpdb_db", "heap_db"):
    a, t, b, h, rows = map(int, r[f"balances_{db}"].split())
    check(f"{db} balances agree:", a == t == b == h,
          f"accounts {a}, tellers {t}, branches {b}, history {h}")
    check(f"{db} history rows = transactions:", rows == int(r[f"expect_history_{db}"]),
          f"{rows}, expected {r[f'expect_history_{db}']}")
log_rows, log_size = r["log_total"].split()
print()
print("checks: " + "; ".join(checks))
print(f"ttpdb.log at the end: {int(log_rows):,} entries, "
      f"ttpdb.log_entries {int(log_size) / 2**20:.1f} MB")
PY
printf '\npgbench -n -b tpcb-like -M %s -c %s -j %s -T %s, PGOPTIONS of each configuration:\n\n' \
	"$QUERY_MODE" "$CLIENTS" "$CLIENTS" "$DURATION"
for c in $CONFIGS; do
	printf '    %-8s %s: %s\n' "$c" "${cfg_db[$c]}" "${cfg_opts[$c]}"
done
