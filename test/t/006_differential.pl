# Copyright: ttpdb contributors
#
# 006_differential.pl: a random workload from concurrent sessions on a
# ttpdb table, checked against an independent model of every past state.
#
# Four pgbench clients run random transactions (upserts, updates, deletes,
# a key inserted and changed in one transaction, and the odd TRUNCATE).
# Each transaction also records exactly what it did, from RETURNING, in a
# plain heap table in the same transaction.  Afterwards the model replays
# those records in commit-stamp order, in Perl, and AS OF every commit
# instant (and just before it) must equal the model's state then.
#
# A second table, u, gets plain statements in the same transactions.  At
# the end ttpdb.replay() rebuilds both tables from the log, checking the
# replay against AS OF after every transaction: the CTE statements (which
# also write the untracked ops table) replay from their recorded effects,
# u's run again and are checked against their effect digests.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('differential');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
# Writers pack the history as they go: the past is read from packs and
# single versions alike.
$node->append_conf('postgresql.conf', "ttpdb.pack_after = 40");
# A shared stamp cache of 1,024 entries, which the workload's transactions
# take over from each other many times while readers fill it too.
$node->append_conf('postgresql.conf', "ttpdb.stamp_cache_size = '16kB'");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION ttpdb;
	CREATE TABLE t (k int PRIMARY KEY, v int NOT NULL) USING ttpdb;
	CREATE TABLE u (k int PRIMARY KEY, v int NOT NULL) USING ttpdb;
	CREATE TABLE ops (seq bigserial PRIMARY KEY, txid bigint NOT NULL,
		op text NOT NULL, k int, v int);
});

# One transaction per script run; every change is recorded from RETURNING,
# so the record is exactly what committed.
my $script = $node->basedir . '/workload.sql';
PostgreSQL::Test::Utils::append_to_file($script, q{
\set k random(1, 40)
\set v random(1, 1000000)
\set op random(1, 100)
BEGIN;
\if :op <= 40
WITH c AS (INSERT INTO t VALUES (:k, :v) ON CONFLICT (k) DO UPDATE SET v = excluded.v RETURNING k, v)
INSERT INTO ops (txid, op, k, v) SELECT txid_current(), 'set', k, v FROM c;
INSERT INTO u VALUES (:k, :v) ON CONFLICT (k) DO UPDATE SET v = excluded.v;
\elif :op <= 70
WITH c AS (UPDATE t SET v = v + :v WHERE k = :k RETURNING k, v)
INSERT INTO ops (txid, op, k, v) SELECT txid_current(), 'set', k, v FROM c;
UPDATE u SET v = v + :v WHERE k = :k;
\elif :op <= 90
WITH c AS (DELETE FROM t WHERE k = :k RETURNING k)
INSERT INTO ops (txid, op, k) SELECT txid_current(), 'delete', k FROM c;
DELETE FROM u WHERE k = :k;
\elif :op <= 99
WITH c AS (INSERT INTO t VALUES (:k + 1000, :v) ON CONFLICT (k) DO NOTHING RETURNING k, v)
INSERT INTO ops (txid, op, k, v) SELECT txid_current(), 'set', k, v FROM c;
WITH c AS (UPDATE t SET v = v * 2 WHERE k = :k + 1000 RETURNING k, v)
INSERT INTO ops (txid, op, k, v) SELECT txid_current(), 'set', k, v FROM c;
\else
TRUNCATE t;
INSERT INTO ops (txid, op) VALUES (txid_current(), 'truncate');
\endif
COMMIT;
});

$node->command_ok(
	[
		'pgbench', '-n', '-c', '4', '-j', '2', '-t', '150',
		'--max-tries', '20', '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'random workload from four clients');

# The model: replay the records in commit-stamp order.
my $records = $node->safe_psql('postgres', q{
	SELECT c.committed_at, o.op, coalesce(o.k::text, ''), coalesce(o.v::text, '')
	FROM ops o
	JOIN ttpdb.commit_times c
	  ON c.xid = o.txid::text::xid8 AND c.era = (SELECT era FROM ttpdb.era)
	ORDER BY c.committed_at, o.seq
});
my $unstamped = $node->safe_psql('postgres', q{
	SELECT count(*) FROM ops o WHERE NOT EXISTS (
		SELECT 1 FROM ttpdb.commit_times c
		WHERE c.xid = o.txid::text::xid8 AND c.era = (SELECT era FROM ttpdb.era))
});
is($unstamped, '0', 'every committed transaction has a commit stamp');

my %state;
my @instants;	# [stamp, canonical state after that transaction]
my $current;
foreach my $line (split /\n/, $records)
{
	my ($stamp, $op, $k, $v) = split /\|/, $line;
	if (defined $current && $current ne $stamp)
	{
		push @instants, [ $current, canonical(\%state) ];
	}
	$current = $stamp;
	if ($op eq 'set') { $state{$k} = $v; }
	elsif ($op eq 'delete') { delete $state{$k}; }
	elsif ($op eq 'truncate') { %state = (); }
}
push @instants, [ $current, canonical(\%state) ] if defined $current;
cmp_ok(scalar(@instants), '>', 100, 'the workload committed many transactions');
is($node->safe_psql('postgres',
		q{SELECT sum(packed_versions) > 0 FROM ttpdb.history_stats}),
	't', 'the writers packed kept versions as they went');

sub canonical
{
	my ($s) = @_;
	return join(',', map { "$_=$s->{$_}" } sort { $a <=> $b } keys %$s);
}

sub as_of_state
{
	my ($at) = @_;
	my $rows = $node->safe_psql('postgres',
		"SELECT k, v FROM ttpdb.as_of(NULL::t, '$at') ORDER BY k");
	return join(',', map { my ($k, $v) = split /\|/; "$k=$v" } split /\n/, $rows);
}

# Every instant, and the instant just before each one.
my $mismatches = 0;
my $previous = '';
foreach my $instant (@instants)
{
	my ($stamp, $expected) = @$instant;
	my $got = as_of_state($stamp);
	if ($got ne $expected)
	{
		$mismatches++;
		diag("as of $stamp: expected [$expected], got [$got]") if $mismatches <= 3;
	}
	my $before = $node->safe_psql('postgres',
		"SELECT k || '=' || v FROM ttpdb.as_of(NULL::t, '$stamp'::timestamptz - interval '1 microsecond') ORDER BY k");
	$before = join(',', split /\n/, $before);
	if ($before ne $previous)
	{
		$mismatches++;
		diag("just before $stamp: expected [$previous], got [$before]") if $mismatches <= 3;
	}
	$previous = $expected;
}
is($mismatches, 0, 'AS OF every commit instant, and just before it, equals the model');

# The setting gives the same answers as the function.
my ($mid_stamp, $mid_state) = @{ $instants[ int(@instants / 2) ] };
my $via_setting = $node->safe_psql('postgres',
	"SET ttpdb.as_of = '$mid_stamp'; SELECT string_agg(k || '=' || v, ',' ORDER BY k) FROM t");
is($via_setting, $mid_state, 'SET ttpdb.as_of reads the same state');

# And the present is the model's last state.
my $present = $node->safe_psql('postgres',
	"SELECT coalesce(string_agg(k || '=' || v, ',' ORDER BY k), '') FROM t");
is($present, $instants[-1][1], 'the present equals the last state of the model');

# Replay the whole log, checked against AS OF after every transaction.
my ($checks, $differs, $rerun, $from_effects, $rerun_mismatch) = split /\|/,
  $node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE kind = 'AS OF check'),
		   count(*) FILTER (WHERE replayed = 'differs'),
		   count(*) FILTER (WHERE replayed = 're-executed'),
		   count(*) FILTER (WHERE replayed = 'applied from effects'),
		   count(*) FILTER (WHERE replayed = 're-executed' AND NOT digest_matches)
	FROM ttpdb.replay('replayed', tables => ARRAY['t', 'u']::regclass[],
					  check_each_transaction => true)
});
cmp_ok($checks, '>', 100, 'the replay was checked after every transaction');
is($differs, 0, 'the replay equals AS OF after every transaction');
cmp_ok($rerun, '>', 0, 'statements on u ran again, matching their digests');
cmp_ok($from_effects, '>', 0, 'statements that also wrote ops replayed from their effects');
is($rerun_mismatch, 0, 'no statement ran again differently from its digest');
is($node->safe_psql('postgres', q{
	SELECT ttpdb.replay_differences('replayed.t', 'public.t') + ttpdb.replay_differences('replayed.u', 'public.u')}),
	'0', 'the replayed tables equal the present ones');

# A column type change converts every kept version, packed or single, with
# its USING expression: the whole past again, in the new type.
$node->safe_psql('postgres',
	'ALTER TABLE t ALTER COLUMN v TYPE bigint USING v::bigint * 1000');
my $converted_mismatches = 0;
foreach my $instant (@instants)
{
	my ($stamp, $expected) = @$instant;
	(my $scaled = $expected) =~ s/=(\d+)/'=' . ($1 * 1000)/ge;
	my $got = as_of_state($stamp);
	if ($got ne $scaled)
	{
		$converted_mismatches++;
		diag("converted, as of $stamp: expected [$scaled], got [$got]")
		  if $converted_mismatches <= 3;
	}
}
is($converted_mismatches, 0,
	'after ALTER COLUMN ... TYPE, AS OF every commit instant equals the model converted');

$node->stop;
done_testing();
