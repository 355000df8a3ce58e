# Copyright: ttpdb contributors
#
# 002_crash_recovery.pl: an immediate shutdown (a crash) under a concurrent
# write load loses no committed version, no commit stamp and no AS OF
# answer.
#
# Every transaction of the load changes a ttpdb table and, in the same
# transaction, records what it wrote in a plain heap table, the ledger.
# After crash recovery the ledger is the independent truth: it holds exactly
# the committed transactions, so from it (and the commit stamps of its
# transactions) we rebuild what the table held as of every stamp, and
# compare with:
#
#	- the present state of the table;
#	- ttpdb.as_of() at every commit stamp and just before it;
#	- the kept versions of ttpdb.history(), with their validity;
#	- ttpdb.commit_times itself: one stamp per committed writing
#	  transaction, none for the transactions the crash cut off, no NULLs,
#	  no two alike.
#
# Stamps taken after recovery must still come after every stamp taken
# before the crash, even when the clock is behind them.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $nkeys = 20;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
# Writers pack the history as they go, so the crash also hits packing.
$node->append_conf('postgresql.conf', "ttpdb.pack_after = 25");
$node->start;

$node->safe_psql(
	'postgres', qq{
CREATE EXTENSION ttpdb;
-- pad: a few kilobytes that do not compress, so that versions are TOASTed
-- in the table and in ttpdb.history.
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL) USING ttpdb;
-- What each committed transaction wrote, written by that same transaction.
CREATE TABLE ledger (k int NOT NULL, v int NOT NULL, pad_md5 text NOT NULL,
	txid bigint NOT NULL) USING heap;
BEGIN;
INSERT INTO t SELECT g, 0, '' FROM generate_series(1, $nkeys) g;
INSERT INTO ledger SELECT id, v, md5(pad), txid_current() FROM t;
COMMIT;
});

# The load: single-key updates, and two-key updates in one transaction (the
# keys are locked in a fixed order, so the load cannot deadlock).  Nothing
# else writes, and no transaction changes one key twice.
my $one_key = $node->basedir . '/one_key.sql';
my $two_keys = $node->basedir . '/two_keys.sql';
append_to_file(
	$one_key, qq{
\\set k random(1, $nkeys)
WITH u AS (
	UPDATE t SET v = v + 1,
		pad = (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 100))
	WHERE id = :k RETURNING id, v, md5(pad))
INSERT INTO ledger SELECT *, txid_current() FROM u;
});
append_to_file(
	$two_keys, qq{
\\set a random(1, @{[$nkeys / 2]})
\\set b random(@{[$nkeys / 2 + 1]}, $nkeys)
BEGIN;
WITH u AS (UPDATE t SET v = v + 1 WHERE id = :a RETURNING id, v, md5(pad))
INSERT INTO ledger SELECT *, txid_current() FROM u;
WITH u AS (UPDATE t SET v = v + 10 WHERE id = :b RETURNING id, v, md5(pad))
INSERT INTO ledger SELECT *, txid_current() FROM u;
COMMIT;
});

# Rate-limited so that the crash comes while it still runs, after a few
# hundred transactions; -t bounds it in case the crash came too late.
my ($bench_out, $bench_err) = ('', '');
my $bench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '4', '-j', '2', '-R', '400', '-t', '500',
		'-f', "$one_key\@3", '-f', "$two_keys\@1",
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'>', \$bench_out, '2>', \$bench_err,
	IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));

# A checkpoint in the middle of the load, so that recovery starts from it
# (with full-page images of pages the load keeps changing).
ok( $node->poll_query_until(
		'postgres', 'SELECT count(DISTINCT txid) >= 150 FROM ledger'),
	'load under way');
$node->safe_psql('postgres', 'CHECKPOINT');
ok( $node->poll_query_until(
		'postgres', 'SELECT count(DISTINCT txid) >= 300 FROM ledger'),
	'load committed a few hundred transactions');

# Crash while the load runs.
$node->stop('immediate');
my $bench_ok = eval { $bench->finish };
note "pgbench after the crash:\n$bench_err";
ok(!$bench_ok, 'the crash cut the load off');
$node->start;

my $committed =
  $node->safe_psql('postgres', 'SELECT count(DISTINCT txid) FROM ledger');
note "committed transactions before the crash: $committed";
cmp_ok($committed, '>=', 300, 'the ledger survived the crash');

# The ledger's rows with the commit stamp of their transaction, and the
# last value of each key.
$node->safe_psql(
	'postgres', q{
CREATE VIEW stamped_ledger AS
	SELECT l.k, l.v, l.pad_md5, c.committed_at
	FROM ledger l
	JOIN ttpdb.commit_times c
	  ON c.era = (SELECT era FROM ttpdb.era) AND c.xid = l.txid::text::xid8;
CREATE VIEW ledger_last AS
	SELECT DISTINCT ON (k) k, v, pad_md5 FROM stamped_ledger ORDER BY k, committed_at DESC;
});

# (c) commit_times: one stamp per committed transaction and no other.
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM ttpdb.commit_times WHERE committed_at IS NULL}),
	'0',
	'no commit stamp is NULL');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) - count(DISTINCT committed_at) FROM ttpdb.commit_times}),
	'0',
	'no two transactions share a stamp (the load has no subtransactions)');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM (
	(SELECT DISTINCT txid::text::xid8 FROM ledger
	 EXCEPT SELECT xid FROM ttpdb.commit_times)
	UNION ALL
	(SELECT c.xid FROM ttpdb.commit_times c
	 -- the DDL that created the tables is stamped too
	 WHERE NOT EXISTS (SELECT 1 FROM ttpdb.log l
					   WHERE l.xid = c.xid AND l.kind = 'CREATE TABLE')
	 EXCEPT SELECT DISTINCT txid::text::xid8 FROM ledger)) d}),
	'0',
	'commit_times holds exactly the transactions the ledger says committed');

# (a) The present is the last value the ledger has for each key.
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM (
	(SELECT id, v, md5(pad) FROM t EXCEPT SELECT * FROM ledger_last)
	UNION ALL
	(SELECT * FROM ledger_last EXCEPT SELECT id, v, md5(pad) FROM t)) d}),
	'0',
	'present state matches the ledger');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'),
	$nkeys, 'every key is present');

# (b) As of every stamp, and one microsecond before it, the table holds for
# each key the value of the latest ledger row stamped at or before then.
my $as_of_mismatches = sub {
	my ($offset) = @_;
	return $node->safe_psql(
		'postgres', qq{
WITH l AS (SELECT * FROM stamped_ledger),
instants AS (SELECT committed_at + $offset AS at FROM ttpdb.commit_times),
expected AS (
	SELECT i.at, x.k, x.v, x.pad_md5 FROM instants i
	CROSS JOIN LATERAL (
		SELECT DISTINCT ON (k) k, v, pad_md5 FROM l WHERE l.committed_at <= i.at
		ORDER BY k, l.committed_at DESC) x),
actual AS (
	SELECT i.at, a.id, a.v, md5(a.pad) FROM instants i
	CROSS JOIN LATERAL ttpdb.as_of(NULL::t, i.at) a)
SELECT count(*) FROM (
	(SELECT * FROM expected EXCEPT ALL SELECT * FROM actual)
	UNION ALL
	(SELECT * FROM actual EXCEPT ALL SELECT * FROM expected)) d});
};
is($as_of_mismatches->(q{interval '0'}), '0',
	'ttpdb.as_of() at every commit stamp matches the ledger');
is($as_of_mismatches->(q{interval '-1 microsecond'}),
	'0', 'ttpdb.as_of() just before every commit stamp matches the ledger');

# The setting form, at one stamp in the middle of the load.
my $mid = $node->safe_psql(
	'postgres', q{
SELECT committed_at FROM ttpdb.commit_times ORDER BY committed_at
OFFSET (SELECT count(*) / 2 FROM ttpdb.commit_times) LIMIT 1});
is( $node->safe_psql(
		'postgres', qq{
SET ttpdb.as_of = '$mid';
SELECT string_agg(id || '=' || v || '/' || md5(pad), ',' ORDER BY id) FROM t;}),
	$node->safe_psql(
		'postgres', qq{
SELECT string_agg(k || '=' || v || '/' || pad_md5, ',' ORDER BY k) FROM (
	SELECT DISTINCT ON (k) k, v, pad_md5 FROM stamped_ledger
	WHERE committed_at <= '$mid' ORDER BY k, committed_at DESC) x}),
	'SET ttpdb.as_of at a stamp mid-load matches the ledger');

# Every superseded version is kept with its validity: from the stamp of the
# ledger row that wrote it to the stamp of the next ledger row of its key.
is( $node->safe_psql(
		'postgres', qq{
WITH l AS (SELECT * FROM stamped_ledger),
expected AS (
	SELECT k, v, pad_md5, committed_at AS valid_from, valid_to FROM (
		SELECT k, v, pad_md5, committed_at,
			lead(committed_at) OVER (PARTITION BY k ORDER BY committed_at) AS valid_to
		FROM l) s
	WHERE valid_to IS NOT NULL),
actual AS (
	SELECT (version).id, (version).v, md5((version).pad), valid_from, valid_to
	FROM ttpdb.history(NULL::t) WHERE valid_to IS NOT NULL)
SELECT count(*) FROM (
	(SELECT * FROM expected EXCEPT ALL SELECT * FROM actual)
	UNION ALL
	(SELECT * FROM actual EXCEPT ALL SELECT * FROM expected)) d}),
	'0',
	'ttpdb.history() keeps every superseded version with its validity');
is( $node->safe_psql(
		'postgres', q{
SELECT (SELECT count(*) FROM ledger) - (SELECT count(*) FROM t)
	= (SELECT versions FROM ttpdb.history_stats WHERE table_name = 't'::regclass)}),
	't',
	'the history holds each superseded version once, none from lost transactions');
is( $node->safe_psql(
		'postgres', q{
SELECT packed_versions > 0 FROM ttpdb.history_stats WHERE table_name = 't'::regclass}),
	't',
	'the load did pack kept versions');

is( $node->safe_psql(
		'postgres', q{
SELECT bool_or(pg_relation_size(reltoastrelid) > 0) FROM pg_class
WHERE oid IN ('ttpdb.history'::regclass, 'ttpdb.history_packs'::regclass)}),
	't',
	'the load did exercise TOASTed kept versions');

# Writes after recovery are stamped after everything before the crash.
my $before = $node->safe_psql('postgres',
	'SELECT max(committed_at) FROM ttpdb.commit_times');
$node->safe_psql('postgres', 'UPDATE t SET v = -1 WHERE id = 1');
is( $node->safe_psql(
		'postgres', qq{
SELECT count(*) FROM ttpdb.commit_times WHERE committed_at > '$before'}),
	'1',
	'a write after recovery is stamped after every stamp before the crash');
is( $node->safe_psql(
		'postgres', qq{
SELECT v || '/' || md5(pad) FROM ttpdb.as_of(NULL::t, '$before') WHERE id = 1}),
	$node->safe_psql(
		'postgres', qq{
SELECT v || '/' || pad_md5 FROM stamped_ledger WHERE k = 1
ORDER BY committed_at DESC LIMIT 1}),
	'the version it superseded reads back as of the last stamp before the crash');

# The clock going back across a crash.  A stamp loaded an hour ahead (as a
# restore from a server with a fast clock would) raises the ceiling of the
# stamps when its transaction commits, and later writes are stamped after it.
# After another crash the server starts with no last stamp in memory and a
# clock an hour behind: its first write must still follow every stamp
# before the crash, which only the ceiling (overwritten in place and
# WAL-logged) can tell it.
$node->safe_psql('postgres', q{
INSERT INTO ttpdb.commit_times (era, xid, committed_at)
VALUES (0, '1', now() + interval '1 hour')});
$node->safe_psql('postgres', 'UPDATE t SET v = -2 WHERE id = 1');
my $ahead = $node->safe_psql('postgres',
	'SELECT max(committed_at) FROM ttpdb.commit_times WHERE era <> 0');
cmp_ok(
	$node->safe_psql('postgres', qq{SELECT '$ahead'::timestamptz > now() + interval '59 minutes'}),
	'eq', 't', 'a write after a stamp loaded an hour ahead is stamped after it');
is( $node->safe_psql(
		'postgres', q{
SELECT ceiling >= (SELECT max(committed_at) FROM ttpdb.commit_times) FROM ttpdb.stamp_ceiling}),
	't', 'the ceiling covers every stamp');
$node->stop('immediate');
$node->start;
$node->safe_psql('postgres', 'UPDATE t SET v = -3 WHERE id = 1');
is( $node->safe_psql(
		'postgres', qq{
SELECT count(*) FROM ttpdb.commit_times WHERE era <> 0 AND committed_at > '$ahead'}),
	'1', 'after a crash, with the clock behind, a write follows every earlier stamp');
is( $node->safe_psql(
		'postgres', qq{
SELECT count(*) FROM ttpdb.history(NULL::t)
WHERE (version).id = 1 AND (version).v = -2 AND valid_from = '$ahead' AND valid_to > '$ahead'}),
	'1', 'the version it superseded began at the last stamp before and ends after it');

$node->stop;
done_testing();
