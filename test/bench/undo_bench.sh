#!/usr/bin/env bash
# test/bench/undo_bench.sh: what ttpdb.undo() costs, against the size of the
# table and the number of rows the undone entry changed.
#
#   bash test/bench/undo_bench.sh            (as root, from the repository)
#
# Builds and installs ttpdb, starts a throwaway cluster and, for each table
# size in SIZES (default "10000 1000000"), creates a ttpdb table of that many
# rows (id int primary key, balance int, filler text, like
# pgbench_accounts), runs one UPDATE that changes CHANGED rows (default 100,
# ids spread over the table), and times, RUNS times each (default 5; the
# median is reported):
#
#   - the UPDATE itself (the original execution);
#   - ttpdb.undo() of that UPDATE, in a transaction that is rolled back, so
#     that every run undoes the same entry;
#   - ttpdb.undo_transaction() of its transaction, the same way.
#
# Target (issue #6): undo of one entry that touched 100 rows of a 1M-row
# table under 50 ms.  Times are taken by the server (EXPLAIN ANALYZE's
# execution time of SELECT count(*) FROM ttpdb.undo(...)).  It prints a
# markdown table.  KEEP=1 leaves the cluster running.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh"
# shellcheck source=test/bench/bench_lib.sh
. "$here/test/bench/bench_lib.sh"

SIZES=${SIZES:-"10000 1000000"}
CHANGED=${CHANGED:-100}
RUNS=${RUNS:-5}
PORT=${PORT:-5495}

bench_build
bench_start_cluster undo <<CONF
shared_buffers = 1GB
max_wal_size = 4GB
CONF

psql_q()
{
	runuser -u postgres -- "$PG_BINDIR/psql" -h "$cluster" -p "$port" -U postgres -d postgres \
		-X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# The server's execution time of a query, in ms.
exec_ms()
{
	psql_q -c "BEGIN" -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $1" -c "ROLLBACK" |
		grep -o '"Execution Time": [0-9.]*' | grep -o '[0-9.]*$'
}

psql_q -c "CREATE EXTENSION ttpdb"
echo "| table rows | rows changed | UPDATE, ms | ttpdb.undo(), ms | ttpdb.undo_transaction(), ms | undo / UPDATE |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
for size in $SIZES; do
	ttpdb_log "table of $size rows"
	step=$((size / CHANGED))
	psql_q <<SQL
DROP TABLE IF EXISTS t;
CREATE TABLE t (id int PRIMARY KEY, balance int NOT NULL, filler text) USING ttpdb;
SET ttpdb.log = off;
INSERT INTO t SELECT g, 0, repeat(' ', 84) FROM generate_series(1, $size) g;
RESET ttpdb.log;
VACUUM ANALYZE t;
UPDATE t SET balance = balance + 1 WHERE id % $step = 0;
SQL
	entry=$(psql_q -c "SELECT max(entry) FROM ttpdb.log")
	xact=$(psql_q -c "SELECT xid FROM ttpdb.log WHERE entry = $entry")
	update_ms=$(for _ in $(seq "$RUNS"); do exec_ms "UPDATE t SET balance = balance + 1 WHERE id % $step = 0"; done | bench_median)
	undo_ms=$(for _ in $(seq "$RUNS"); do exec_ms "SELECT count(*) FROM ttpdb.undo($entry)"; done | bench_median)
	xact_ms=$(for _ in $(seq "$RUNS"); do exec_ms "SELECT count(*) FROM ttpdb.undo_transaction('$xact')"; done | bench_median)
	ratio=$(awk -v a="$undo_ms" -v b="$update_ms" 'BEGIN { printf "%.1fx", a / b }')
	echo "| $size | $CHANGED | $update_ms | $undo_ms | $xact_ms | $ratio |"
done
