# Copyright: ttpdb contributors
#
# 003_standby.pl: a streaming hot standby answers every time-travel query
# exactly as its primary does.  The history and the commit stamps are
# ordinary WAL-logged tables, so a standby replays them; this proves that
# reading them there (ttpdb.as_of(), SET ttpdb.as_of, ttpdb.history())
# gives the primary's answers at every instant, before and after each kind
# of write (INSERT, UPDATE, DELETE, MERGE, TRUNCATE, a multi-statement
# transaction, a rolled-back one), that the standby refuses writes as any
# standby does, and that once promoted it keeps the past and stamps its own
# writes after it.  A concurrent load replayed while the standby is read
# never shows it a state that did not exist on the primary.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
$primary->start;
$primary->safe_psql(
	'postgres', q{
CREATE EXTENSION ttpdb;
CREATE TABLE account (id int PRIMARY KEY, owner text NOT NULL, balance numeric NOT NULL)
	USING ttpdb;
CREATE TABLE branch (account_id int NOT NULL, city text NOT NULL) USING ttpdb;
});

$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
$standby->start;

# The instants to compare at: the last stamp after each step.
my @instants;
sub step
{
	my ($sql) = @_;
	$primary->safe_psql('postgres', $sql);
	push @instants,
	  $primary->safe_psql('postgres',
		'SELECT max(committed_at) FROM ttpdb.commit_times');
	return;
}

step(q{INSERT INTO account VALUES (1, 'alice', 100), (2, 'bob', 50), (3, 'carol', 10)});
step(q{INSERT INTO branch VALUES (1, 'Lyon'), (2, 'Oslo'), (3, 'Porto')});
step(q{UPDATE account SET balance = balance - 30 WHERE id = 1});
step(q{UPDATE branch SET city = 'Paris' WHERE account_id = 1});
step(q{DELETE FROM account WHERE id = 2});
step(
	q{BEGIN;
INSERT INTO account VALUES (4, 'dave', 7);
UPDATE account SET balance = balance * 2;
UPDATE account SET owner = 'Carol' WHERE id = 3;
COMMIT;});
step(
	q{MERGE INTO account a USING (VALUES (1, 1000), (5, 5)) v(id, balance) ON a.id = v.id
	WHEN MATCHED THEN UPDATE SET balance = v.balance
	WHEN NOT MATCHED THEN INSERT VALUES (v.id, 'erin', v.balance)});
# Pack what was kept so far: the standby reads packs and single versions.
$primary->safe_psql('postgres', 'SELECT ttpdb.pack_history()');
step(q{BEGIN; UPDATE account SET balance = 0; ROLLBACK;});
step(q{TRUNCATE account});
step(q{INSERT INTO account VALUES (6, 'frank', 60); UPDATE branch SET city = 'Rome'});
step(q{DELETE FROM branch WHERE account_id = 3});

# Between stamps too: one microsecond before each.
my @at = sort(
	@instants,
	map {
		$primary->safe_psql('postgres',
			"SELECT '$_'::timestamptz - interval '1 microsecond'")
	} @instants);

$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'standby is in recovery');
is($standby->safe_psql('postgres', 'SELECT ttpdb.preloaded()'),
	't', 'standby has ttpdb preloaded');

# Every query reads in UTC, so both nodes print instants alike.
my %queries = (
	'ttpdb.as_of()' => sub {
		my ($at) = @_;
		return qq{SET TimeZone = 'UTC';
SELECT string_agg(format('%s|%s|%s', id, owner, balance), ',' ORDER BY id)
FROM ttpdb.as_of(NULL::account, '$at');};
	},
	'SET ttpdb.as_of join' => sub {
		my ($at) = @_;
		return qq{SET TimeZone = 'UTC';
SET ttpdb.as_of = '$at';
SELECT string_agg(format('%s|%s|%s', a.id, a.owner, b.city), ',' ORDER BY a.id, b.city)
FROM account a FULL JOIN branch b ON b.account_id = a.id;};
	});

for my $name (sort keys %queries)
{
	my $mismatch = 0;
	for my $at (@at)
	{
		my $sql = $queries{$name}->($at);
		my $p = $primary->safe_psql('postgres', $sql);
		my $s = $standby->safe_psql('postgres', $sql);
		if ($p ne $s)
		{
			diag "$name at $at: primary '$p', standby '$s'";
			$mismatch++;
		}
	}
	is($mismatch, 0, "standby answers $name as the primary at every instant");
}

# Spot checks that the instants are not all alike (the comparison above
# would pass on two empty answers).
is( $standby->safe_psql(
		'postgres', $queries{'ttpdb.as_of()'}->($instants[3])),
	'1|alice|70,2|bob|50,3|carol|10',
	'standby: as of the first update');
is( $standby->safe_psql(
		'postgres', $queries{'ttpdb.as_of()'}->($instants[6])),
	'1|alice|1000,3|Carol|20,4|dave|14,5|erin|5',
	'standby: as of the MERGE');
is( $standby->safe_psql(
		'postgres', $queries{'ttpdb.as_of()'}->($instants[8])),
	'', 'standby: as of the TRUNCATE');

my $history = q{SET TimeZone = 'UTC';
SELECT string_agg(format('%s|%s|%s|%s|%s', valid_from, valid_to, created_xid, ended_xid, version),
	',' ORDER BY valid_from, valid_to, version::text)
FROM ttpdb.history(NULL::TABLE);};
for my $table ('account', 'branch')
{
	(my $sql = $history) =~ s/TABLE/$table/;
	is($standby->safe_psql('postgres', $sql),
		$primary->safe_psql('postgres', $sql),
		"standby: ttpdb.history(NULL::$table) as on the primary");
}
for my $sql (
	'SELECT count(*), min(committed_at), max(committed_at) FROM ttpdb.commit_times',
	'SELECT count(*), sum(raw_size) FROM ttpdb.history',
	'SELECT count(*), sum(versions), sum(raw_size) FROM ttpdb.history_packs')
{
	is($standby->safe_psql('postgres', $sql),
		$primary->safe_psql('postgres', $sql), "standby: $sql");
}

# Writes are refused as on any standby, with or without ttpdb.as_of.
my ($ret, $stdout, $stderr) =
  $standby->psql('postgres', q{INSERT INTO account VALUES (9, 'x', 1)});
isnt($ret, 0, 'standby refuses INSERT into a ttpdb table');
like($stderr, qr/cannot execute INSERT in a read-only transaction/,
	'with the read-only transaction error');
($ret, $stdout, $stderr) =
  $standby->psql('postgres', q{UPDATE account SET balance = 0});
like($stderr, qr/cannot execute UPDATE in a read-only transaction/,
	'standby refuses UPDATE');
($ret, $stdout, $stderr) = $standby->psql('postgres', q{TRUNCATE account});
like($stderr, qr/cannot execute TRUNCATE TABLE in a read-only transaction/,
	'standby refuses TRUNCATE');
($ret, $stdout, $stderr) = $standby->psql('postgres',
	qq{SET ttpdb.as_of = '$instants[2]'; DELETE FROM account});
isnt($ret, 0, 'standby refuses DELETE under ttpdb.as_of');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM account'),
	'1', 'and the standby still has the present');

# A later write: once caught up, the standby answers at the new instant too.
step(q{UPDATE account SET balance = 61 WHERE id = 6});
$primary->wait_for_catchup($standby);
is( $standby->safe_psql(
		'postgres', $queries{'ttpdb.as_of()'}->($instants[-2])),
	'6|frank|60',
	'standby: as of the step before the last write');
is( $standby->safe_psql(
		'postgres', $queries{'ttpdb.as_of()'}->($instants[-1])),
	'6|frank|61',
	'standby: as of the last write');

# Reading the standby while it replays a concurrent load: transfers between
# accounts keep the total, so every answer of the standby, as of any instant
# and at any point of replay, must have it.
$primary->safe_psql(
	'postgres', q{
CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL) USING ttpdb;
INSERT INTO acct SELECT g, 1000 FROM generate_series(1, 10) g;
});
my $funded = $primary->safe_psql('postgres',
	'SELECT max(committed_at) FROM ttpdb.commit_times');
my $transfer = $primary->basedir . '/transfer.sql';
append_to_file(
	$transfer, q{
\set a random(1, 5)
\set b random(6, 10)
\set x random(1, 100)
BEGIN;
UPDATE acct SET balance = balance - :x WHERE id = :a;
UPDATE acct SET balance = balance + :x WHERE id = :b;
COMMIT;
});
my ($bench_out, $bench_err) = ('', '');
my $bench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', '2', '-R', '200', '-t', '200', '-f', $transfer,
		'-h', $primary->host, '-p', $primary->port, 'postgres'
	],
	'>', \$bench_out, '2>', \$bench_err,
	IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
# The standby has the table (the load has hardly begun).
$primary->wait_for_catchup($standby);
my $reads = q{
SELECT sum(balance) || '|' || count(*) FROM acct;
SELECT sum(balance) || '|' || count(*)
	FROM ttpdb.as_of(NULL::acct, clock_timestamp() - interval '1 millisecond');
SELECT sum(balance) || '|' || count(*) FROM ttpdb.as_of(NULL::acct,
	'FUNDED'::timestamptz + (clock_timestamp() - 'FUNDED'::timestamptz) * random());
SELECT set_config('ttpdb.as_of', (clock_timestamp() - interval '5 milliseconds')::text, false)
	IS NOT NULL;
SELECT sum(balance) || '|' || count(*) FROM acct;
RESET ttpdb.as_of;
} x 10;
$reads =~ s/FUNDED/$funded/g;
my ($rounds, $answers, $wrong) = (0, 0, 0);
while ($rounds < 5 || $bench->pumpable)
{
	for my $line (split /\n/, $standby->safe_psql('postgres', $reads))
	{
		next if $line eq 't';
		$answers++;
		if ($line ne '10000|10')
		{
			diag "standby under replay answered '$line'";
			$wrong++;
		}
	}
	$rounds++;
	$bench->pump_nb if $bench->pumpable;
}
ok($bench->finish, 'the transfer load ran') or diag "pgbench: $bench_err";
note "standby answered $answers reads in $rounds rounds during the load";
is($wrong, 0, 'every standby read during replay keeps the total');
$primary->wait_for_catchup($standby);
my $at_every_stamp = qq{SET TimeZone = 'UTC';
SELECT string_agg(a, ';' ORDER BY committed_at) FROM (
	SELECT c.committed_at,
		(SELECT string_agg(id || ':' || balance, ',' ORDER BY id)
		 FROM ttpdb.as_of(NULL::acct, c.committed_at)) a
	FROM ttpdb.commit_times c WHERE committed_at >= '$funded') s;};
my $p_answers = $primary->safe_psql('postgres', $at_every_stamp);
is($standby->safe_psql('postgres', $at_every_stamp),
	$p_answers, 'after the load, the standby answers as the primary at every stamp');
is( $primary->safe_psql(
		'postgres', qq{
SELECT count(*) FROM ttpdb.commit_times c
WHERE committed_at >= '$funded'
  AND (SELECT sum(balance) FROM ttpdb.as_of(NULL::acct, c.committed_at)) <> 10000}),
	'0',
	'and the total holds at every stamp');

# Promoted, the standby keeps the past and stamps its own writes after it.
my $last_primary_stamp = $primary->safe_psql('postgres',
	'SELECT max(committed_at) FROM ttpdb.commit_times');
$primary->wait_for_catchup($standby);
$primary->stop;
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'standby was not promoted';
$standby->safe_psql('postgres',
	q{UPDATE account SET balance = 62 WHERE id = 6});
is( $standby->safe_psql(
		'postgres', qq{
SELECT count(*) FROM ttpdb.commit_times WHERE committed_at > '$last_primary_stamp'}),
	'1',
	'promoted standby stamps a write after every stamp of the old primary');
is( $standby->safe_psql(
		'postgres', $queries{'ttpdb.as_of()'}->($instants[-1])),
	'6|frank|61',
	'promoted standby: the superseded version reads back as of its time');
is( $standby->safe_psql(
		'postgres', $queries{'ttpdb.as_of()'}->($instants[3])),
	'1|alice|70,2|bob|50,3|carol|10',
	'promoted standby: the old past is unchanged');

$standby->stop;
done_testing();
