# Copyright: ttpdb contributors
#
# 005_dump_restore.pl: pg_dump and pg_restore keep the history.  A custom-
# format dump of a database with ttpdb tables is restored into a fresh
# database of the same server and of a second, fresh server (the restore
# itself creates the extension).  This proves that:
#
#	(a) ttpdb.history and ttpdb.commit_times come back whole: the dumped
#		stamps are there under the dumped era, and the restored database
#		starts an era of its own;
#	(b) ttpdb.history() returns the same kept versions, with the same
#		validity;
#	(c) the restored tables take new writes, each stamped, also when the
#		new transaction ids are the very numbers of dumped ones (the fresh
#		server reuses them);
#	(d) AS OF an instant before the dump returns every version that had
#		ended before the dump, as the source does;
#	(e) the restored stamps raise the ceiling of the stamps, which is not
#		dumped, and stamps loaded by hand raise it when they commit.
#
# KNOWN LIMITATION, (d): the present versions are re-inserted by the
# restore, so on the restored database they begin at the restore; as of an
# instant before it, the versions that were current at the dump are
# missing.  The full comparison with the source is a TODO test below.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

sub new_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
	$node->start;
	return $node;
}

my $node = new_node('main');
# The source's transaction ids start well above those a fresh server will
# use after restoring it, so that the fresh server's new transactions reuse
# the dumped numbers.
my $burn = $node->basedir . '/burn.sql';
append_to_file($burn, "SELECT txid_current();\n");
$node->command_ok([ 'pgbench', '-n', '-t', '500', '-f', $burn, 'postgres' ],
	'500 transaction ids go by');
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql(
	'src', q{
CREATE EXTENSION ttpdb;
CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL) USING ttpdb;
CREATE TABLE u (id int PRIMARY KEY, w text) USING ttpdb;
CREATE TABLE plain (id int) USING heap;
-- A row as text, long ones shortened (and told apart by a hash) so that
-- differences print legibly; dumped and restored with the rest.
CREATE FUNCTION short(text) RETURNS text IMMUTABLE STRICT LANGUAGE sql
	AS $$SELECT CASE WHEN length($1) <= 40 THEN $1
		ELSE left($1, 20) || '..' || md5($1) END$$;
});

# The instants to compare at: the last stamp after each step.
my @instants;
sub step
{
	my ($sql) = @_;
	$node->safe_psql('src', $sql);
	push @instants,
	  $node->safe_psql('src', q{SET TimeZone = 'UTC';
SELECT max(committed_at) FROM ttpdb.commit_times});
	return;
}

step(q{INSERT INTO t SELECT g, 'row ' || g, 0 FROM generate_series(1, 10) g});
step(q{INSERT INTO u VALUES (1, 'one'), (2, 'two'), (3, repeat('long ', 2000))});
step(q{UPDATE t SET n = 1 WHERE id <= 3});
step(q{DELETE FROM t WHERE id = 4});
step(q{INSERT INTO t VALUES (11, 'row 11', 0), (12, 'row 12', 0)});
step(q{UPDATE t SET n = 2, v = 'again' WHERE id IN (1, 11); UPDATE u SET w = w || '!'});
# What was kept so far goes into packs; what follows stays single.
$node->safe_psql('src', 'SELECT ttpdb.pack_history()');
step(
	q{BEGIN;
UPDATE t SET n = 5 WHERE id = 5;
DELETE FROM t WHERE id = 6;
DELETE FROM u WHERE id = 2;
INSERT INTO plain VALUES (1);
COMMIT;});
step(q{UPDATE t SET n = 3 WHERE id = 1});
my @at = map { ($_, "$_'::timestamptz - interval '1 microsecond") } @instants;

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'src', '-f', $dump ],
	'pg_dump -Fc');

# Queries, each giving one line, run alike on the source and the restored.
sub as_of_rows
{
	my ($table, $at) = @_;
	return qq{SET TimeZone = 'UTC';
SELECT string_agg(short(r::text), ',' ORDER BY r::text) FROM ttpdb.as_of(NULL::$table, '$at') r};
}
# What the source holds as of an instant, of versions that ended before the
# dump.
sub ended_rows
{
	my ($table, $at) = @_;
	return qq{SET TimeZone = 'UTC';
SELECT string_agg(short(version::text), ',' ORDER BY version::text)
FROM ttpdb.history(NULL::$table)
WHERE valid_to IS NOT NULL AND valid_from <= '$at' AND valid_to > '$at'};
}
my $kept_versions = q{SET TimeZone = 'UTC';
SELECT string_agg(format('%s|%s|%s', valid_from, valid_to, short(version::text)), ','
	ORDER BY valid_from, valid_to, version::text)
FROM ttpdb.history(NULL::TABLE) WHERE valid_to IS NOT NULL};
my $stamps = q{
SELECT count(*) || ' ' || md5(string_agg(format('%s|%s|%s', era, xid,
	extract(epoch FROM committed_at)), ',' ORDER BY era, xid))
FROM ttpdb.commit_times WHERE era = ERA};
my $history_rows = q{
SELECT count(*) || ' ' || md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', relid::text, era,
	row_hash, created_xid, ended_xid, extract(epoch FROM valid_from), raw_size, md5(data)),
	',' ORDER BY relid::text, ended_xid, md5(data)))
FROM ttpdb.history
UNION ALL
SELECT count(*) || ' ' || md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', relid::text, era,
	versions, extract(epoch FROM valid_from_min), extract(epoch FROM valid_to_min),
	extract(epoch FROM valid_to_max), raw_size, md5(data)),
	',' ORDER BY relid::text, valid_to_max, md5(data)))
FROM ttpdb.history_packs};

my $src_era = $node->safe_psql('src', 'SELECT era FROM ttpdb.era');
my %src;
for my $table ('t', 'u')
{
	for my $at (@at)
	{
		$src{as_of}{$table}{$at} = $node->safe_psql('src', as_of_rows($table, $at));
		$src{ended}{$table}{$at} = $node->safe_psql('src', ended_rows($table, $at));
	}
	(my $q = $kept_versions) =~ s/TABLE/$table/;
	$src{kept}{$table} = $node->safe_psql('src', $q);
	$src{present}{$table} =
	  $node->safe_psql('src', "SELECT string_agg(short(r::text), ',' ORDER BY r::text) FROM $table r");
}
(my $q_src_stamps = $stamps) =~ s/ERA/$src_era/;
$src{stamps} = $node->safe_psql('src', $q_src_stamps);
$src{history} = $node->safe_psql('src', $history_rows);
my $log_rows = q{SELECT entry, encode(chain, 'hex'), kind, statement FROM ttpdb.log ORDER BY entry};
$src{log} = $node->safe_psql('src', $log_rows);
$src{max_xid} = $node->safe_psql('src',
	'SELECT max(xid)::text::bigint FROM ttpdb.commit_times');

# Sanity: the instants do tell versions apart.
cmp_ok(scalar(keys %{ { map { $_ => 1 } values %{ $src{as_of}{t} } } }),
	'>=', 6, 'the source answers differ from instant to instant');

my $node2 = new_node('fresh');

for my $target ([ $node, 'same server' ], [ $node2, 'fresh server' ])
{
	my ($n, $where) = @$target;
	$n->safe_psql('postgres', 'CREATE DATABASE dst');
	$n->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'dst', $dump ],
		"$where: pg_restore");
	is($n->safe_psql('dst', 'SELECT ttpdb.preloaded()'),
		't', "$where: the restore created the extension");
	# The ceiling of the stamps is not dumped; the restored stamps raised it.
	is( $n->safe_psql(
			'dst', qq{
SELECT ceiling >= (SELECT max(committed_at) FROM ttpdb.commit_times WHERE committed_at < 'infinity')
FROM ttpdb.stamp_ceiling}),
		't', "$where: the ceiling covers the restored stamps");

	# (a) the stamps and the kept versions come back whole.
	my $dst_era = $n->safe_psql('dst', 'SELECT era FROM ttpdb.era');
	isnt($dst_era, $src_era, "$where: the restored database has an era of its own");
	(my $q = $stamps) =~ s/ERA/$src_era/;
	is($n->safe_psql('dst', $q), $src{stamps},
		"$where: ttpdb.commit_times of the dumped era restored exactly");
	is($n->safe_psql('dst', $history_rows),
		$src{history}, "$where: ttpdb.history restored exactly");
	# (b) the statement log too, not mixed with the restore's own statements,
	# its chain intact; new statements continue it.
	is($n->safe_psql('dst', $log_rows), $src{log},
		"$where: the statement log restored exactly");
	is($n->safe_psql('dst', 'SELECT first_broken_entry IS NULL FROM ttpdb.verify()'),
		't', "$where: the restored log's hash chain is intact");
	my $last = $n->safe_psql('dst', 'SELECT max(entry) FROM ttpdb.log');
	$n->safe_psql('dst', 'CREATE TABLE log_probe (id int) USING ttpdb; INSERT INTO log_probe VALUES (1)');
	is( $n->safe_psql(
			'dst', qq{
SELECT string_agg((entry - $last)::text || ' ' || kind, ', ' ORDER BY entry)
FROM ttpdb.log WHERE entry > $last}),
		'1 CREATE TABLE, 2 INSERT',
		"$where: new statements are logged after the restored ones");
	is($n->safe_psql('dst',
			'SELECT first_broken_entry IS NULL AND unverified_links = 0 FROM ttpdb.verify()'),
		't', "$where: and chained to them");
	$n->safe_psql('dst', 'DROP TABLE log_probe');

	is( $n->safe_psql(
			'dst', qq{
SELECT count(*) > 0 AND bool_and(committed_at > '$instants[-1]')
FROM ttpdb.commit_times WHERE era = $dst_era}),
		't',
		"$where: the restore's own writes are stamped in the new era, after the dump");

	for my $table ('t', 'u')
	{
		# The present is the present.
		is( $n->safe_psql(
				'dst',
				"SELECT string_agg(short(r::text), ',' ORDER BY r::text) FROM $table r"),
			$src{present}{$table},
			"$where: $table restored");

		# (b) the same kept versions, with the same validity.
		(my $q = $kept_versions) =~ s/TABLE/$table/;
		is($n->safe_psql('dst', $q), $src{kept}{$table},
			"$where: ttpdb.history(NULL::$table) has the source's kept versions");

		# (d) as of every instant, at least what had ended before the dump.
		my (@ended_mismatch, @full_mismatch);
		for my $at (@at)
		{
			my $got = $n->safe_psql('dst', as_of_rows($table, $at));
			push @ended_mismatch,
			  "$at: source ended '$src{ended}{$table}{$at}', restored '$got'"
			  if $got ne $src{ended}{$table}{$at};
			push @full_mismatch,
			  "$at: source '$src{as_of}{$table}{$at}', restored '$got'"
			  if $got ne $src{as_of}{$table}{$at};
		}
		is(join("\n", @ended_mismatch), '',
			"$where: as of every instant before the dump, $table has the versions that ended before it"
		);
		TODO:
		{
			# KNOWN LIMITATION: the versions current at the dump are written
			# anew by the restore and begin at the restore, so they are
			# missing as of every instant before it.  When ttpdb dumps and
			# restores their creation stamps, this passes.
			local $TODO =
			  'restored present versions begin at the restore, not at their creation';
			is(scalar(@full_mismatch), 0,
				"$where: as of every instant before the dump, $table reads as on the source")
			  or diag "instants that differ: " . scalar(@full_mismatch)
			  . " of " . scalar(@at) . ", the first:\n$full_mismatch[0]";
		}
	}

	# (c) New writes are stamped, and read back as of their stamps.
	$n->safe_psql(
		'dst', q{
CREATE TABLE wlog (n int, txid bigint) USING heap;
UPDATE t SET n = 100 WHERE id = 7;
DELETE FROM t WHERE id = 8;
INSERT INTO t VALUES (13, 'row 13', 0);
});
	my $before_writes = $n->safe_psql('dst', q{SET TimeZone = 'UTC';
SELECT max(committed_at) FROM ttpdb.commit_times});

	# Enough single-statement transactions that the transaction ids pass
	# every dumped one: on the fresh server, they reuse the dumped numbers.
	my $next = $n->safe_psql('dst', 'SELECT txid_current()');
	my $writes = $src{max_xid} - $next + 20;
	$writes = 20 if $writes < 20;
	$n->safe_psql(
		'dst',
		join(
			"\n",
			(   q{WITH w AS (UPDATE t SET n = n + 1 WHERE id = 9 RETURNING n)
				INSERT INTO wlog SELECT n, txid_current() FROM w;}
			) x $writes));
	is($n->safe_psql('dst', 'SELECT count(*) FROM wlog'),
		$writes, "$where: $writes writes after the restore succeeded");
	is( $n->safe_psql(
			'dst', qq{
SELECT count(*) FROM wlog w
JOIN ttpdb.commit_times c ON c.era = $dst_era AND c.xid = w.txid::text::xid8
WHERE c.committed_at > '$before_writes'}),
		$writes,
		"$where: every one of them is stamped in the new era");
	if ($where eq 'fresh server')
	{
		cmp_ok(
			$n->safe_psql(
				'dst', qq{
SELECT count(*) FROM wlog w
JOIN ttpdb.commit_times c ON c.era = $src_era AND c.xid = w.txid::text::xid8}),
			'>', 0,
			"$where: some new transaction ids are those of dumped stamps");
	}
	is( $n->safe_psql(
			'dst', qq{
SELECT count(*) FROM wlog w
JOIN ttpdb.commit_times c ON c.era = $dst_era AND c.xid = w.txid::text::xid8
WHERE (SELECT n FROM ttpdb.as_of(NULL::t, c.committed_at) WHERE id = 9) <> w.n
   OR (SELECT n FROM ttpdb.as_of(NULL::t, c.committed_at - interval '1 microsecond')
       WHERE id = 9) <> w.n - 1}),
		'0',
		"$where: as of each new stamp, and just before it, t reads as written");
	is( $n->safe_psql(
			'dst', qq{
SELECT string_agg(format('%s|%s', id, n), ',' ORDER BY id)
FROM ttpdb.as_of(NULL::t, '$before_writes') WHERE id IN (7, 8, 9, 13)}),
		'7|100,9|0,13|0',
		"$where: as of the first writes after the restore");
	is( $n->safe_psql(
			'dst', qq{
SELECT string_agg(format('%s|%s', (version).id, (version).n), ',' ORDER BY valid_from)
FROM ttpdb.history(NULL::t) WHERE (version).id = 7}),
		'7|0,7|100',
		"$where: the restored version of a row ends at its first update");

	# The kept versions of the source are still all there.
	(my $q2 = $kept_versions) =~ s/TABLE/u/;
	is($n->safe_psql('dst', $q2), $src{kept}{u},
		"$where: after new writes, the dumped kept versions of u are unchanged");
}

# Stamps loaded by hand, as a restore from a server whose clock ran ahead
# loads them: new stamps follow them once the load commits, and not when
# it rolls back (a raise of the ceiling outlives a rollback).  Last, since
# the server's stamps run an hour ahead afterwards.
$node2->safe_psql('dst', q{
BEGIN;
INSERT INTO ttpdb.commit_times (era, xid, committed_at) VALUES (0, '1', now() + interval '2 hours');
ROLLBACK;
CREATE TABLE clock_probe (id int PRIMARY KEY, n int) USING ttpdb;
INSERT INTO clock_probe VALUES (1, 0);
});
is( $node2->safe_psql(
		'dst', q{
SELECT committed_at < now() + interval '1 hour' FROM ttpdb.commit_times
WHERE era = (SELECT era FROM ttpdb.era) ORDER BY committed_at DESC LIMIT 1}),
	't', 'a load rolled back leaves the stamps alone');
$node2->safe_psql('dst', q{
COPY ttpdb.commit_times (era, xid, committed_at) FROM stdin;
0	2	2200-01-01 00:00:00+00
\.
});
$node2->safe_psql('dst', 'UPDATE clock_probe SET n = 1');
is( $node2->safe_psql(
		'dst', q{
SELECT committed_at > '2200-01-01 00:00:00+00' FROM ttpdb.commit_times
WHERE era = (SELECT era FROM ttpdb.era) ORDER BY committed_at DESC LIMIT 1}),
	't', 'a write after a committed load is stamped after the loaded stamps');
is( $node2->safe_psql('dst', q{SELECT ceiling > '2200-01-01 00:00:00+00' FROM ttpdb.stamp_ceiling}),
	't', 'and the ceiling covers them');
# A data-only restore with --disable-triggers loads stamps without the
# trigger; the documented remedy is a statement that changes nothing.
$node2->safe_psql('dst', q{
ALTER TABLE ttpdb.commit_times DISABLE TRIGGER ALL;
INSERT INTO ttpdb.commit_times (era, xid, committed_at) VALUES (0, '3', '2300-01-01 00:00:00+00');
ALTER TABLE ttpdb.commit_times ENABLE ALWAYS TRIGGER commit_times_loaded;
UPDATE ttpdb.commit_times SET era = era WHERE false;
UPDATE clock_probe SET n = 2;
});
is( $node2->safe_psql(
		'dst', q{
SELECT committed_at > '2300-01-01 00:00:00+00' FROM ttpdb.commit_times
WHERE era = (SELECT era FROM ttpdb.era) ORDER BY committed_at DESC LIMIT 1}),
	't', 'after loading with the trigger disabled, an UPDATE of no row raises the stamps');

$node->stop;
$node2->stop;
done_testing();
