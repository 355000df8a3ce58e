# Copyright: ttpdb contributors
#
# 004_freeze.pl: freezing does not change the past.  AS OF reads compare a
# heap tuple's xmin with the commit stamps in ttpdb.commit_times; VACUUM
# FREEZE marks xmins frozen, prunes the dead versions (which ttpdb reads from
# ttpdb.history instead) and lets the server forget old transaction status.
# This proves that after thousands of transactions, an aggressive freeze of
# every database and a checkpoint, then a restart, then VACUUM FULL and
# CLUSTER (which rewrite the table), every AS OF answer at every captured
# instant, and every kept version, is what it was before.
#
# KNOWN BUG (TODO tests at the end): once the xid epoch has moved on, as it
# does after 2^32 transactions, frozen tuples lose their commit stamps and
# read as valid at every time.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('freeze');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'ttpdb'
vacuum_freeze_min_age = 0
vacuum_freeze_table_age = 0
# Nothing freezes behind the test's back.
autovacuum = off
});
$node->start;

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION ttpdb;
CREATE EXTENSION pageinspect;
CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL) USING ttpdb;
CREATE TABLE u (id int PRIMARY KEY, w int NOT NULL) USING ttpdb;
-- The answers before freezing, to compare with afterwards.
CREATE TABLE instants (at timestamptz PRIMARY KEY) USING heap;
CREATE TABLE answers (phase text, at timestamptz, what text, answer text) USING heap;
});

# Thousands of transaction ids go by between the steps.
my $burn = $node->basedir . '/burn.sql';
append_to_file($burn, "SELECT txid_current();\n");
sub burn_xids
{
	$node->command_ok(
		[ 'pgbench', '-n', '-c', '2', '-t', '1000', '-f', $burn, 'postgres' ],
		'2000 transactions go by');
	return;
}

sub step
{
	my ($sql) = @_;
	$node->safe_psql('postgres', $sql);
	$node->safe_psql('postgres',
		'INSERT INTO instants SELECT max(committed_at) FROM ttpdb.commit_times ON CONFLICT DO NOTHING'
	);
	burn_xids();
	return;
}

step(q{INSERT INTO t SELECT g, 'first ' || g, 0 FROM generate_series(1, 200) g});
step(q{INSERT INTO u SELECT g, g FROM generate_series(1, 50) g});
step(q{UPDATE t SET v = 'second ' || id, n = 1 WHERE id % 3 = 0});
step(q{DELETE FROM t WHERE id % 5 = 0});
step(q{UPDATE u SET w = -w WHERE id <= 10});
step(
	q{BEGIN;
INSERT INTO t SELECT g, 'late ' || g, 2 FROM generate_series(201, 250) g;
UPDATE t SET n = n + 10 WHERE id % 7 = 0;
SAVEPOINT s;
UPDATE t SET v = v || ' (in a subtransaction)' WHERE id % 11 = 0;
RELEASE s;
COMMIT;});
step(q{UPDATE t SET n = n + 100 WHERE id % 2 = 0});
step(q{TRUNCATE u});
step(q{INSERT INTO u SELECT g, 1000 + g FROM generate_series(1, 20) g});
# Updated in many separate transactions: long chains of versions.
for my $round (1 .. 5)
{
	step(join("\n", map { "UPDATE t SET n = n + 1 WHERE id = $_;" } 1 .. 20));
}

# Queries whose answers must not change.  Each returns one line.
my %queries = (
	'as_of(t)' => q{SELECT md5(string_agg(format('%s|%s|%s', id, v, n), ',' ORDER BY id))
		|| ' ' || count(*) FROM ttpdb.as_of(NULL::t, AT)},
	'as_of(u)' => q{SELECT md5(string_agg(format('%s|%s', id, w), ',' ORDER BY id))
		|| ' ' || count(*) FROM ttpdb.as_of(NULL::u, AT)},
	'as_of join' => q{SELECT md5(string_agg(format('%s|%s|%s', t.id, t.n, u.w), ',' ORDER BY t.id))
		|| ' ' || count(*)
		FROM ttpdb.as_of(NULL::t, AT) t JOIN ttpdb.as_of(NULL::u, AT) u USING (id)},
	'as_of just before' => q{SELECT md5(string_agg(format('%s|%s|%s', id, v, n), ',' ORDER BY id))
		|| ' ' || count(*) FROM ttpdb.as_of(NULL::t, AT - interval '1 microsecond')});

sub record_answers
{
	my ($phase) = @_;
	for my $what (sort keys %queries)
	{
		(my $q = $queries{$what}) =~ s/AT/i.at/g;
		$node->safe_psql(
			'postgres', qq{
INSERT INTO answers SELECT '$phase', i.at, '$what', ($q) FROM instants i;});
	}
	return;
}

# Compare the answers of a phase with those recorded before the freeze.
sub answers_unchanged
{
	my ($phase, $name) = @_;
	record_answers($phase);
	my @diff = split /\n/, $node->safe_psql(
		'postgres', qq{
SELECT format('%s %s: %s, then %s', at, what, b.answer, a.answer)
FROM (SELECT * FROM answers WHERE phase = 'before') b
FULL JOIN (SELECT * FROM answers WHERE phase = '$phase') a USING (at, what)
WHERE a.answer IS DISTINCT FROM b.answer
ORDER BY at, what});
	is(scalar(@diff), 0, $name)
	  or diag scalar(@diff) . " answers differ, the first:\n"
	  . join("\n", @diff[ 0 .. ($#diff < 2 ? $#diff : 2) ]);
	return;
}

# Every kept version and its validity, as one line.
my $kept = q{SELECT md5(string_agg(format('%s|%s|%s|%s|%s', valid_from, valid_to, created_xid,
		ended_xid, version), ',' ORDER BY valid_from, valid_to, version::text))
	|| ' ' || count(*) FROM ttpdb.history(NULL::TABLE)};
my %kept_before;
sub record_kept
{
	for my $table ('t', 'u')
	{
		(my $q = $kept) =~ s/TABLE/$table/;
		$kept_before{$table} = $node->safe_psql('postgres', $q);
	}
	return;
}
record_kept();
sub kept_unchanged
{
	my ($when) = @_;
	for my $table ('t', 'u')
	{
		(my $q = $kept) =~ s/TABLE/$table/;
		is($node->safe_psql('postgres', $q),
			$kept_before{$table},
			"ttpdb.history(NULL::$table) unchanged $when");
	}
	return;
}

record_answers('before');
my $ninstants = $node->safe_psql('postgres', 'SELECT count(*) FROM instants');
note "instants: $ninstants";
cmp_ok($ninstants, '>=', 14, 'instants captured');

# A sanity check that the answers differ from instant to instant, so their
# equality afterwards means something.
cmp_ok(
	$node->safe_psql(
		'postgres',
		q{SELECT count(DISTINCT answer) FROM answers WHERE what = 'as_of(t)'}),
	'>=', 10,
	'the instants have different answers');

# Before freezing, some heap tuples of t are not frozen.
my $unfrozen = q{
SELECT count(*) FROM generate_series(0, pg_relation_size('t') / current_setting('block_size')::int - 1) b,
	heap_page_items(get_raw_page('t', b::int)) h
WHERE h.lp_flags = 1
  AND (h.t_infomask & 768) <> 768	-- HEAP_XMIN_FROZEN
};
cmp_ok($node->safe_psql('postgres', $unfrozen), '>', 0,
	'before the freeze, tuples of t are not frozen');

# Pack the kept versions of t (u's stay single rows): packs carry full
# xids and their own end stamps, so freezing must not change them either.
cmp_ok($node->safe_psql('postgres', q{SELECT ttpdb.pack_history('t')}),
	'>', 0, 'the kept versions of t are packed');
answers_unchanged('packed', 'AS OF answers unchanged after packing');
kept_unchanged('after packing');

# Freeze every database, aggressively.
$node->command_ok([ 'vacuumdb', '--all', '--freeze' ],
	'vacuumdb --all --freeze');
$node->safe_psql('postgres', 'CHECKPOINT');

is($node->safe_psql('postgres', $unfrozen),
	'0', 'after the freeze, every live tuple of t has a frozen xmin');
cmp_ok(
	$node->safe_psql(
		'postgres',
		q{SELECT max(age(datfrozenxid)) FROM pg_database WHERE datallowconn}),
	'<', 1000,
	'every database has advanced its frozen xid past the load');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM pg_class WHERE relname IN ('t', 'u') AND age(relfrozenxid) > 100}),
	'0',
	'the ttpdb tables are frozen up to the present');

answers_unchanged('frozen', 'AS OF answers unchanged after VACUUM FREEZE');
kept_unchanged('after VACUUM FREEZE');

# More transactions after the freeze, and a second aggressive VACUUM of the
# kept versions' own tables too.
burn_xids();
$node->safe_psql('postgres',
	'VACUUM (FREEZE, ANALYZE) ttpdb.history, ttpdb.history_packs, ttpdb.commit_times, t, u');
answers_unchanged('refrozen', 'AS OF answers unchanged after a second freeze');

# A restart forgets the per-backend caches and the shared state.
$node->restart;
answers_unchanged('restarted', 'AS OF answers unchanged after a restart');
kept_unchanged('after a restart');

# Rewriting the table (which freezes what it copies) keeps the past too.
$node->safe_psql('postgres', 'VACUUM FULL t');
answers_unchanged('vacuum_full', 'AS OF answers unchanged after VACUUM FULL');
kept_unchanged('after VACUUM FULL');
$node->safe_psql('postgres', 'CLUSTER t USING t_pkey; CLUSTER u USING u_pkey');
answers_unchanged('clustered', 'AS OF answers unchanged after CLUSTER');
kept_unchanged('after CLUSTER');

# And the present still takes writes, stamped after everything before.
my $last = $node->safe_psql('postgres',
	'SELECT max(committed_at) FROM ttpdb.commit_times');
$node->safe_psql('postgres', 'UPDATE t SET n = -1 WHERE id = 1');
is( $node->safe_psql(
		'postgres', qq{
SELECT n FROM ttpdb.as_of(NULL::t, '$last') WHERE id = 1}),
	$node->safe_psql(
		'postgres', qq{
SELECT (version).n FROM ttpdb.history(NULL::t)
WHERE (version).id = 1 AND valid_to > '$last'}),
	'a write after all that supersedes the version valid before it');
answers_unchanged('final', 'AS OF answers at the old instants unchanged by a new write');

# 2^32 transactions later.  A frozen tuple keeps its 32-bit xmin, and ttpdb
# widens it to a full transaction id relative to the next one.  Rather than
# burn four billion xids, freeze everything and move the epoch on with
# pg_resetwal on the cleanly stopped server: every xid in the cluster is
# then one epoch old, as it would be after 2^32 more transactions (which
# the server would not allow without freezing every tuple first).
record_kept();
$node->command_ok([ 'vacuumdb', '--all', '--freeze' ],
	'vacuumdb --all --freeze before the epoch moves');
kept_unchanged('after freezing the last write');
is($node->safe_psql('postgres', $unfrozen),
	'0', 'every live tuple of t has a frozen xmin');
$node->stop;
my ($stdout, $stderr);
IPC::Run::run([ 'pg_controldata', $node->data_dir ], '>', \$stdout, '2>', \$stderr)
  or die "pg_controldata failed: $stderr";
my ($epoch) = $stdout =~ /Latest checkpoint's NextXID:\s+(\d+):/
  or die "no NextXID in pg_controldata output";
$node->command_ok([ 'pg_resetwal', '-e', $epoch + 1, $node->data_dir ],
	'pg_resetwal moves the xid epoch on by one');
$node->start;
is($node->safe_psql('postgres', 'SELECT txid_current() >> 32'),
	$epoch + 1, 'new transaction ids are in the next epoch');
my $first = $node->safe_psql('postgres', 'SELECT min(at) FROM instants');
{
	# KNOWN BUG: the stamp of a frozen tuple's xmin is looked up under the
	# current epoch, finds none, and the tuple is taken for one written
	# before the table was a ttpdb table, valid at every time.
	local $TODO = 'frozen xmins older than an epoch are widened into the current epoch';
	is( $node->safe_psql(
			'postgres', qq{
SELECT count(*) FROM ttpdb.as_of(NULL::t, '$first'::timestamptz - interval '1 microsecond')}),
		'0',
		'one epoch later: nothing as of before the first insert');
	is( $node->safe_psql(
			'postgres', q{
SELECT count(*) FROM instants i
WHERE (SELECT count(*) - count(DISTINCT id) FROM ttpdb.as_of(NULL::t, i.at)) > 0}),
		'0',
		'one epoch later: no row has two versions as of any instant');
	answers_unchanged('next_epoch', 'AS OF answers unchanged one epoch later');
	kept_unchanged('one epoch later');
}

$node->stop;
done_testing();
