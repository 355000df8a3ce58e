#!/usr/bin/env bash
# test/core/run_core_suite.sh: PostgreSQL's own regression and isolation
# suites, run once with every table on the heap and once with every table on
# ttpdb, and the two outputs compared test by test.
#
# Run as root on Debian 12 (see test/core/README.md).  For each run it starts
# a throwaway cluster with
#
#     shared_preload_libraries = 'ttpdb'        (both runs)
#     default_table_access_method = heap | ttpdb
#
# creates the extension in template1 and postgres, runs the core
# parallel_schedule with pg_regress and the isolation_schedule with
# pg_isolation_regress (both with --load-extension=ttpdb: they create their
# test database from template0, then the extension in it), keeps the
# results directories, and diffs each test's result file between the runs.
# Both runs have the extension and the preload, so the access method is the
# only difference: a test whose output differs is a ttpdb difference, not a
# version one (the test sources may be another 15.x than the server).
#
# Settings (environment variables):
#   WORK=/tmp/ttpdb-core    where everything goes; emptied at the start
#   PORT=<random high>      first port; each further run uses the next one
#   PG_SRC=<dir>|debian     a PostgreSQL 15 source tree or git repository (its
#                           src/test/regress and src/test/isolation), or
#                           "debian": Debian's postgresql-15 source package;
#                           default: debian
#   PSQL_VERSION=<version>  the Debian version of postgresql-client-15 whose
#                           psql runs the tests; default: that of the source
#                           package; "installed": the installed psql
#   SUITES="regress isolation"
#   MAX_CONNECTIONS=2       pg_regress --max-connections for parallel groups
#   CONTROL=1               also run the heap a second time: tests whose
#                           output differs between two heap runs are
#                           nondeterministic, and are marked so
#   BASELINE=1              also run without ttpdb at all (no preload, no
#                           extension), and show what merely installing the
#                           extension changes in the heap run
#   TTPDB_SKIP_INSTALL=1    use the installed ttpdb instead of building and
#                           installing this tree (from a copy of it)
#   DIFF_LINES=60           lines of each differing test's diff printed
#
# Prints, per suite, the number of tests, how many gave identical output,
# how many differ only by the access method's name, and the others with
# their diffs (full diffs in $WORK/diffs/).  Exit status: 0 when every test
# is identical heap vs ttpdb or differs only by the access method's name,
# 1 otherwise, 2 when the harness itself failed.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/scripts/lib.sh"

WORK=${WORK:-/tmp/ttpdb-core}
PORT=${PORT:-$((40000 + RANDOM % 20000))}
SUITES=${SUITES:-"regress isolation"}
MAX_CONNECTIONS=${MAX_CONNECTIONS:-2}
DIFF_LINES=${DIFF_LINES:-60}
PGXS_DIR=$(dirname "$(dirname "$(dirname "$($PG_CONFIG --pgxs 2>/dev/null)")")")

die2()
{
	printf 'error: %s\n' "$*" >&2
	exit 2
}

[ "$(id -u)" = 0 ] || die2 "run as root: the servers and tests run as postgres"
case $WORK in
	/ | "" | /tmp | /tmp/) die2 "WORK=$WORK is not a scratch directory" ;;
esac

# Runs: name:access method:whether ttpdb is preloaded and installed.  The
# first is the reference the others are compared with.
RUNS="heap:heap:ttpdb ttpdb:ttpdb:ttpdb"
[ "${CONTROL:-0}" = 1 ] && RUNS="$RUNS heap-again:heap:ttpdb"
[ "${BASELINE:-0}" = 1 ] && RUNS="$RUNS vanilla:heap:none"

# shellcheck disable=SC2086
ttpdb_install_packages $TTPDB_PACKAGES git bzip2 xz-utils

rm -rf "$WORK"
install -d -m 0755 "$WORK" "$WORK/diffs"
log="$WORK/harness.log"
: >"$log"

# ---------------------------------------------------------------------------
# 1. ttpdb itself, built from a copy so the tree is left untouched
# ---------------------------------------------------------------------------
if [ "${TTPDB_SKIP_INSTALL:-0}" != 1 ]; then
	mkdir -p "$WORK/ttpdb-build"
	tar -C "$here" --exclude=.git -cf - . | tar -C "$WORK/ttpdb-build" -xf -
	ttpdb_build_install "$WORK/ttpdb-build" "$WORK/ttpdb-build.log"
fi
[ -f "$($PG_CONFIG --pkglibdir)/ttpdb.so" ] || die2 "ttpdb is not installed"

# What is installed, to notice a reinstall during the runs (they would then
# not compare the same ttpdb).
installed_ttpdb()
{
	cat "$($PG_CONFIG --pkglibdir)/ttpdb.so" "$($PG_CONFIG --sharedir)"/extension/ttpdb* | md5sum | cut -c1-12
}
ttpdb_build=$(installed_ttpdb)

# ---------------------------------------------------------------------------
# 2. The core test sources
# ---------------------------------------------------------------------------
src="$WORK/pgsrc"
mkdir -p "$src"
installed=$(dpkg-query -W -f='${Version}' "postgresql-$PG_MAJOR" 2>/dev/null)
src_version=""

# A private apt configuration (deb and deb-src entries of this machine's
# sources, lists kept in $WORK/apt) so the machine's own is left alone.
apt="$WORK/apt"
aptopt=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
apt_ready=""
private_apt()
{
	if [ -z "$apt_ready" ]; then
		mkdir -p "$apt/lists/partial" "$apt/cache" "$apt/dl"
		{
			sed -n 's/^deb \(.*\)/deb \1\ndeb-src \1/p' /etc/apt/sources.list 2>/dev/null
			for f in /etc/apt/sources.list.d/*.sources; do
				[ -f "$f" ] || continue
				awk 'function out() { if (u != "") { n = split(s, a, " "); for (i = 1; i <= n; i++) { print "deb " u " " a[i] c; print "deb-src " u " " a[i] c } }; u = ""; s = ""; c = "" }
					/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) s = s " " $i }
					/^Components:/ { for (i = 2; i <= NF; i++) c = c " " $i } /^[ \t]*$/ { out() } END { out() }' "$f"
			done
		} >"$apt/sources.list"
		apt-get "${aptopt[@]}" update >>"$log" 2>&1 || return 1
		apt_ready=1
	fi
	apt-get "${aptopt[@]}" "$@"
}

# Debian's postgresql-15 source package: the installed version first (a
# security update's source may be missing from the mirror), then the other
# versions listed.
debian_sources()
{
	local v orig top
	ttpdb_log "test sources from Debian's postgresql-$PG_MAJOR source package"
	mkdir -p "$apt/dl"
	private_apt check >>"$log" 2>&1 || return 1
	for v in $installed $(apt-cache "${aptopt[@]}" showsrc "postgresql-$PG_MAJOR" | sed -n 's/^Version: //p'); do
		rm -rf "$apt/dl" && mkdir -p "$apt/dl"
		if (cd "$apt/dl" && private_apt source --download-only "postgresql-$PG_MAJOR=$v" >>"$log" 2>&1); then
			orig=$(ls "$apt/dl"/*.orig.tar.* 2>/dev/null | head -1)
			[ -n "$orig" ] && tar -xf "$orig" -C "$apt/dl" || return 1
			top=$(ls -d "$apt/dl"/postgresql-*/ | head -1)
			tar -C "$top" -cf - src/test/regress src/test/isolation | tar -C "$src" -xf - || return 1
			src_version=$v
			src_desc="Debian source package postgresql-$PG_MAJOR $v"
			return 0
		fi
	done
	return 1
}

pg_src=${PG_SRC:-}
if [ -z "$pg_src" ]; then
	debian_sources || {
		die2 "could not get the postgresql-$PG_MAJOR source package (see $log); set PG_SRC to a PostgreSQL 15 source tree"
	}
elif [ "$pg_src" = debian ]; then
	debian_sources || die2 "could not get the postgresql-$PG_MAJOR source package (see $log)"
fi
if [ -z "$src_version" ]; then
	if [ -d "$pg_src/src/test/regress" ]; then
		ttpdb_log "test sources from $pg_src"
		tar -C "$pg_src" -cf - src/test/regress src/test/isolation | tar -C "$src" -xf - ||
			die2 "cannot copy src/test/regress and src/test/isolation from $pg_src"
		src_desc=$pg_src
	elif git -C "$pg_src" rev-parse --git-dir >/dev/null 2>&1; then
		ttpdb_log "test sources from $pg_src"
		git -C "$pg_src" archive HEAD src/test/regress src/test/isolation | tar -x -C "$src" ||
			die2 "git archive from $pg_src failed"
		src_desc="$pg_src ($(git -C "$pg_src" rev-parse --short HEAD))"
	else
		die2 "PG_SRC=$pg_src: neither a source tree, a git repository nor \"debian\""
	fi
fi

# psql of the tests' version: the expected files follow their psql (15.20's
# psql, for one, skips a failed COPY FROM STDIN's data up to "\.", which the
# 15.18 tests do not provide, so it skips whole parts of copy2, generated,
# rowsecurity...).  PSQL_VERSION=<Debian version> or "installed" overrides.
psql_version=${PSQL_VERSION:-$src_version}
[ "$psql_version" = installed ] && psql_version=""
psql_bindir=$PG_BINDIR
if [ -n "$psql_version" ] && [ "$psql_version" != "$installed" ]; then
	mkdir -p "$WORK/psql"
	if (cd "$WORK/psql" && private_apt download "postgresql-client-$PG_MAJOR=$psql_version" >>"$log" 2>&1) &&
		dpkg-deb -x "$WORK/psql"/postgresql-client-*.deb "$WORK/psql/root" &&
		"$WORK/psql/root/usr/lib/postgresql/$PG_MAJOR/bin/psql" --version >/dev/null 2>&1; then
		psql_bindir="$WORK/psql/root/usr/lib/postgresql/$PG_MAJOR/bin"
		chmod -R a+rX "$WORK/psql"
	else
		ttpdb_log "could not get psql $psql_version; using the installed one (see $log)"
	fi
fi
psql_desc=$("$psql_bindir/psql" --version)
regress_src="$src/src/test/regress"
isolation_src="$src/src/test/isolation"
[ -f "$regress_src/parallel_schedule" ] && [ -f "$regress_src/regress.c" ] &&
	[ -f "$isolation_src/isolation_schedule" ] || die2 "incomplete test sources in $src"

# ---------------------------------------------------------------------------
# 3. The suite's C code: regress.so built against the installed headers,
#    and the contrib/spi modules the triggers test loads from the same
#    directory (postgresql-15 ships them)
# ---------------------------------------------------------------------------
lib="$WORK/lib"
mkdir -p "$lib"
cp "$regress_src/regress.c" "$lib/"
cat >"$lib/Makefile" <<EOF
MODULES = regress
PG_CONFIG = $PG_CONFIG
PGXS := \$(shell \$(PG_CONFIG) --pgxs)
include \$(PGXS)
EOF
make -C "$lib" with_llvm=no >"$lib/build.log" 2>&1 || { cat "$lib/build.log" >&2; die2 "building regress.so failed"; }
for m in autoinc refint; do
	[ -f "$($PG_CONFIG --pkglibdir)/$m.so" ] || die2 "no $m.so in $($PG_CONFIG --pkglibdir)"
	ln -sf "$($PG_CONFIG --pkglibdir)/$m.so" "$lib/$m.so"
done

pg_regress="$PGXS_DIR/src/test/regress/pg_regress"
pg_isolation_regress="$PGXS_DIR/src/test/isolation/pg_isolation_regress"
[ -x "$pg_regress" ] || die2 "no $pg_regress"
[ -x "$pg_isolation_regress" ] && [ -x "$PGXS_DIR/src/test/isolation/isolationtester" ] ||
	die2 "no pg_isolation_regress/isolationtester in $PGXS_DIR/src/test/isolation"

chown -R postgres:postgres "$src" "$lib"

# ---------------------------------------------------------------------------
# 4. The runs
# ---------------------------------------------------------------------------
started=""
cleanup()
{
	local d
	for d in $started; do
		[ -f "$d/data/postmaster.pid" ] &&
			runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1
	done
}
trap cleanup EXIT

# start_cluster DIR PORT AM WITH ("ttpdb": preloaded and installed, "none")
start_cluster()
{
	local dir=$1 port=$2 am=$3 with=$4
	install -d -o postgres -g postgres -m 0755 "$dir"
	runuser -u postgres -- "$PG_BINDIR/initdb" -D "$dir/data" -U postgres -A trust \
		-E UTF8 --locale=C --no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; die2 "initdb failed"; }
	# The lines pg_regress adds to a temporary instance, then ours.
	cat >>"$dir/data/postgresql.conf" <<EOF

# added by test/core/run_core_suite.sh
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
log_autovacuum_min_duration = 0
log_checkpoints = on
log_line_prefix = '%m %b[%p] %q%a '
log_lock_waits = on
log_temp_files = 128kB
max_prepared_transactions = 10
default_table_access_method = '$am'
EOF
	[ "$with" = ttpdb ] && echo "shared_preload_libraries = 'ttpdb'" >>"$dir/data/postgresql.conf"
	runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start \
		>/dev/null || { cat "$dir/server.log" >&2; die2 "server did not start"; }
	started="$started $dir"
	[ "$with" = ttpdb ] || return 0
	local db got
	for db in template1 postgres; do
		runuser -u postgres -- "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" \
			-d "$db" -c "CREATE EXTENSION IF NOT EXISTS ttpdb" >>"$log" 2>&1 ||
			die2 "CREATE EXTENSION ttpdb in $db failed (see $log)"
	done
	got=$(runuser -u postgres -- "$PG_BINDIR/psql" -X -At -h "$dir" -p "$port" -d template1 \
		-c "SHOW default_table_access_method; SELECT ttpdb.preloaded();" | tr '\n' ' ')
	[ "$got" = "$am t " ] || die2 "cluster for $am is not set up as expected: $got"
}

declare -A seconds vs_expected crashed used
port=$PORT
for run in $RUNS; do
	IFS=: read -r name am with <<<"$run"
	dir="$WORK/$name"
	ttpdb_log "run $name (default_table_access_method = $am, ttpdb: $with): cluster in $dir, port $port"
	start_cluster "$dir" "$port" "$am" "$with"
	ext=()
	[ "$with" = ttpdb ] && ext=(--load-extension=ttpdb)
	for suite in $SUITES; do
		out="$dir/$suite"
		install -d -o postgres -g postgres -m 0755 "$out"
		case $suite in
			regress)
				cmd=("$pg_regress" --inputdir="$regress_src" --dlpath="$lib"
					--schedule="$regress_src/parallel_schedule" --max-connections="$MAX_CONNECTIONS")
				;;
			isolation)
				cmd=("$pg_isolation_regress" --inputdir="$isolation_src"
					--schedule="$isolation_src/isolation_schedule")
				;;
			*) die2 "unknown suite $suite" ;;
		esac
		ttpdb_log "run $name: $suite suite"
		t0=$(date +%s.%N)
		(cd "$out" && runuser -u postgres -- "${cmd[@]}" --bindir="$psql_bindir" \
			--outputdir="$out" --host="$dir" --port="$port" "${ext[@]}" \
			>"$out/pg_regress.out" 2>&1)
		t1=$(date +%s.%N)
		seconds[$name.$suite]=$(echo "$t0 $t1" | awk '{printf "%.0f", $2 - $1}')
		vs_expected[$name.$suite]=$(grep -E 'tests (passed|failed)|All [0-9]+ tests' "$out/pg_regress.out" |
			tr -d '=' | sed 's/^ *//; s/ *$//' | head -1)
		[ -d "$out/results" ] || { cat "$out/pg_regress.out" >&2; die2 "$suite did not run"; }
	done
	# How much of the suite ran on the access method: the tables the
	# regression database keeps at the end, and the versions ttpdb kept.
	usedb=regression
	case " $SUITES " in *" regress "*) ;; *) usedb=isolation_regression ;; esac
	if [ "$with" = ttpdb ]; then
		used[$name]=$(runuser -u postgres -- "$PG_BINDIR/psql" -X -At -h "$dir" -p "$port" -d "$usedb" -c "
			SELECT string_agg(format('%s %s', n, amname), ', ' ORDER BY amname)
					|| format('; ttpdb.history: %s versions, ttpdb.commit_times: %s stamps',
							  (SELECT count(*) FROM ttpdb.history), (SELECT count(*) FROM ttpdb.commit_times))
			FROM (SELECT a.amname, count(*) AS n FROM pg_class c JOIN pg_am a ON a.oid = c.relam
				  WHERE c.relkind IN ('r', 'm') AND c.relnamespace <> 'pg_catalog'::regnamespace
				  GROUP BY 1) s" 2>&1)
	fi
	runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
	crashed[$name]=$(grep -E 'terminated by signal|PANIC' "$dir/server.log" | head -3)
	port=$((port + 1))
done

# ---------------------------------------------------------------------------
# 5. Compare
# ---------------------------------------------------------------------------
report="$WORK/summary.txt"
{
	echo
	echo "==== PostgreSQL core suites with default_table_access_method = heap and = ttpdb"
	echo "server: $("$PG_BINDIR/postgres" --version)"
	echo "tests: $src_desc, run with $psql_desc"
	echo "runs (name, seconds, outcome against the suite's expected/ files):"
	for run in $RUNS; do
		IFS=: read -r name am with <<<"$run"
		for suite in $SUITES; do
			printf '  %-10s %-9s %5ss  %s\n' "$name" "$suite" "${seconds[$name.$suite]}" "${vs_expected[$name.$suite]}"
		done
		[ -n "${crashed[$name]}" ] && printf '  %s: SERVER CRASH, see %s:\n%s\n' "$name" "$WORK/$name/server.log" "${crashed[$name]}"
	done
	echo "tables and materialized views left in database $usedb, by access method:"
	for run in $RUNS; do
		IFS=: read -r name am with <<<"$run"
		[ -n "${used[$name]:-}" ] && printf '  %-10s %s\n' "$name" "${used[$name]}"
	done
	echo "installed ttpdb (ttpdb.so and extension scripts): $ttpdb_build"
	[ "$(installed_ttpdb)" = "$ttpdb_build" ] ||
		echo "WARNING: ttpdb was reinstalled during the runs ($(installed_ttpdb) now): the runs may not compare one build"
} | tee "$report"

# compare SUITE A B AMNAME_A AMNAME_B: diff every test's result file of run A
# with run B's.  Sets $cmp_differ to the tests that differ beyond the access
# method's name.
declare -A nondeterministic
compare()
{
	local suite=$1 a_run=$2 b_run=$3 a_am=$4 b_am=$5 quiet=${6:-}
	local schedule tests t a b d total=0 same=0 amname=0 ddir="$WORK/diffs/$a_run-vs-$b_run/$suite"
	case $suite in
		regress) schedule="$regress_src/parallel_schedule" ;;
		isolation) schedule="$isolation_src/isolation_schedule" ;;
	esac
	tests=$(sed -n 's/^test: *//p' "$schedule" | tr -s ' \t' '\n' | grep -v '^$')
	cmp_differ=""
	local amonly=""
	mkdir -p "$ddir"
	for t in $tests; do
		total=$((total + 1))
		a="$WORK/$a_run/$suite/results/$t.out"
		b="$WORK/$b_run/$suite/results/$t.out"
		d="$ddir/$t.diff"
		if [ ! -f "$a" ] || [ ! -f "$b" ]; then
			echo "missing result file: $([ -f "$a" ] || echo "$a ")$([ -f "$b" ] || echo "$b")" >"$d"
			cmp_differ="$cmp_differ $t"
			continue
		fi
		if cmp -s "$a" "$b"; then
			same=$((same + 1))
			continue
		fi
		diff -U3 --label "$a_run/$t.out" --label "$b_run/$t.out" "$a" "$b" >"$d"
		# Only the access method's name differs: every changed line names
		# it, or is a row count ("access method ttpdb" rows in pg_depend).
		if [ "$a_am" != "$b_am" ] &&
			! grep -E '^[-+]' "$d" | grep -vE '^(\+\+\+|---) ' |
			grep -vE "\\b($a_am|$b_am)\\b|^[-+]\\([0-9]+ rows?\\)\$" | grep -q .; then
			amname=$((amname + 1))
			amonly="$amonly $t"
		else
			cmp_differ="$cmp_differ $t"
		fi
	done
	[ -n "$quiet" ] && return 0
	local ndiff
	ndiff=$(echo "$cmp_differ" | wc -w)
	echo
	echo "---- $suite, $a_run vs $b_run: $total tests; $same identical, $amname differ only by the access method's name, $ndiff differ otherwise"
	for t in $amonly; do
		echo "   AM name only: $t ($(grep -cE '^[-+][^-+]' "$ddir/$t.diff") changed lines; $ddir/$t.diff)"
	done
	for t in $cmp_differ; do
		d="$ddir/$t.diff"
		local notes=""
		grep -q '^+.*cannot PREPARE a transaction that has written to a ttpdb table' "$d" &&
			notes="$notes; includes ttpdb's deliberate PREPARE TRANSACTION refusal"
		grep -qE '^[-+].*could not serialize access' "$d" && notes="$notes; serialization failures differ"
		grep -qE '^[-+].*(server closed the connection|terminated abnormally)' "$d" && notes="$notes; SERVER CRASH"
		[ -n "${nondeterministic[$suite.$t]:-}" ] && notes="$notes; ALSO DIFFERS BETWEEN TWO HEAP RUNS (nondeterministic)"
		echo
		echo "   DIFFERS: $t ($(grep -cE '^[-+][^-+]' "$d") changed lines$notes; $d)"
		head -n "$DIFF_LINES" "$d" | sed 's/^/   | /'
		[ "$(wc -l <"$d")" -gt "$DIFF_LINES" ] && echo "   | ... ($(wc -l <"$d") lines in all)"
	done
	return 0
}

# show: print and append to the summary what the command it runs prints
# (the command runs in this shell, so compare's $cmp_differ survives)
show()
{
	"$@" >"$WORK/.show"
	cat "$WORK/.show" >>"$report"
	cat "$WORK/.show"
	rm -f "$WORK/.show"
}

status=0
for suite in $SUITES; do
	if [ "${CONTROL:-0}" = 1 ]; then
		compare "$suite" heap heap-again heap heap quiet
		for t in $cmp_differ; do nondeterministic[$suite.$t]=1; done
	fi
	show compare "$suite" heap ttpdb heap ttpdb
	[ -z "$cmp_differ" ] || status=1
done
if [ "${CONTROL:-0}" = 1 ]; then
	show echo
	show echo "==== control: the heap run twice (differences here are nondeterminism, not ttpdb)"
	for suite in $SUITES; do
		show compare "$suite" heap heap-again heap heap
	done
fi
if [ "${BASELINE:-0}" = 1 ]; then
	show echo
	show echo "==== what installing ttpdb changes: no ttpdb at all (vanilla) vs ttpdb preloaded and installed, both on the heap"
	for suite in $SUITES; do
		show compare "$suite" vanilla heap heap heap
	done
fi
echo
echo "results: $WORK/<run>/<suite>/results; diffs: $WORK/diffs; this summary: $report"
exit $status
