#!/usr/bin/env bash
# scripts/test.sh: from a fresh Debian 12 machine (as root) to a full test run.
#
# Installs what is missing, builds and installs ttpdb, starts a throwaway
# cluster with shared_preload_libraries = 'ttpdb', runs the pg_regress
# tests, the isolation specs and the TAP tests (which start their own
# servers), stops the cluster, and ends with the line "N passed, N failed".
# Exit status is non-zero when anything failed.  Set TTPDB_KEEP=1 to keep
# the scratch directory (diffs, server logs) after a successful run.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh"

[ "$(id -u)" = 0 ] || ttpdb_die "run as root: the script installs packages and runs servers as postgres"

ttpdb_install_packages $TTPDB_PACKAGES

scratch=$(mktemp -d /tmp/ttpdb-test.XXXXXX)
chmod 0755 "$scratch"
cluster="$scratch/cluster"
port=$((50000 + RANDOM % 10000))
passed=0
failed=0

cleanup()
{
	ttpdb_stop_cluster "$cluster"
}
trap cleanup EXIT

# 1. Build warning-free.
ttpdb_build_install "$here" "$scratch/build.log"
if grep -q 'warning:' "$scratch/build.log"; then
	grep 'warning:' "$scratch/build.log" >&2
	echo "build ... FAILED (compiler warnings)"
	failed=$((failed + 1))
else
	echo "build ... ok (no compiler warnings)"
	passed=$((passed + 1))
fi

# 2. The pdist core's own self-test (plain C, no server).
if make -s -C "$here/test/fuzz" unit >"$scratch/core_selftest.log" 2>&1; then
	echo "pdist core selftest ... ok ($(tail -n 1 "$scratch/core_selftest.log"))"
	passed=$((passed + 1))
else
	cat "$scratch/core_selftest.log"
	echo "pdist core selftest ... FAILED"
	failed=$((failed + 1))
fi
make -s -C "$here/test/fuzz" clean >/dev/null 2>&1

# 3. The tutorial's SQL blocks are the ones the "tutorial" regress test runs.
if bash "$here/test/tutorial_sync.sh" "$here" >"$scratch/tutorial_sync.log" 2>&1; then
	echo "tutorial in sync with its test ... ok"
	passed=$((passed + 1))
else
	cat "$scratch/tutorial_sync.log"
	echo "tutorial in sync with its test ... FAILED"
	failed=$((failed + 1))
fi

# 4. The tests write their results next to the test files, and run as
# postgres: give them a copy of the tree that postgres owns.
tree="$scratch/tree"
mkdir -p "$tree"
tar -C "$here" --exclude=.git -cf - . | tar -C "$tree" -xf -
chown -R postgres:postgres "$tree"

ttpdb_log "starting a throwaway cluster in $cluster"
ttpdb_start_cluster "$cluster" "$port" <<EOF
fsync = off
max_prepared_transactions = 10
EOF

# Run one kind of test with make installcheck, the other kinds switched off
# on the command line; count the outcome lines it prints.
run_suite()
{
	local name=$1 out="$scratch/$1.out"
	shift
	ttpdb_log "running $name tests"
	runuser -u postgres -- env PGHOST="$cluster" PGPORT="$port" PGUSER=postgres \
		make -C "$tree" -s installcheck PG_CONFIG="$PG_CONFIG" "$@" >"$out" 2>&1
	local rc=$?
	cat "$out"
	local ok bad
	case $name in
		tap)
			ok=$(grep -cE '^test/t/.*\.pl \.+ ok$' "$out")
			bad=$(grep -E '^test/t/.*\.pl \.+' "$out" | grep -cvE '\.+ ok$')
			;;
		*)
			ok=$(grep -cE '\.\.\. ok ' "$out")
			bad=$(grep -cE '\.\.\. (FAILED|failed)' "$out")
			;;
	esac
	# A suite that failed without printing a failed test still counts.
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	for diffs in "$tree/regression.diffs" "$tree/output_iso/regression.diffs"; do
		[ "$name" != tap ] && [ -s "$diffs" ] && { echo "--- $diffs"; cat "$diffs"; }
	done
	if [ "$name" = tap ] && [ "$bad" -ne 0 ]; then
		find "$tree/tmp_check/log" -name '*.log' -print -exec tail -n 40 {} \; 2>/dev/null
	fi
	: > "$tree/regression.diffs" 2>/dev/null
	return 0
}

run_suite regress ISOLATION= TAP_TESTS=
run_suite isolation REGRESS= TAP_TESTS=
run_suite tap REGRESS= ISOLATION=

cleanup
trap - EXIT
if [ "$failed" -eq 0 ] && [ "${TTPDB_KEEP:-0}" != 1 ]; then
	rm -rf "$scratch"
else
	echo "scratch directory kept: $scratch"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
