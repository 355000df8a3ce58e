# Copyright: ttpdb contributors
#
# 009_twophase.pl: prepared transactions that wrote ttpdb tables, across a
# crash and on a streaming standby.
#
#	- a transaction prepared before an immediate shutdown is still prepared
#	  after recovery, invisible as of every time; COMMIT PREPARED then
#	  stamps it after every stamp taken before the crash;
#	- a writer blocked by a prepared transaction's row lock goes on when it
#	  commits, and keeps its version with the prepared transaction's stamp;
#	- a transaction left committed without a stamp (its COMMIT PREPARED
#	  failed after committing it) and then a crash: after recovery it is
#	  committed as of no time until the first writer stamps it;
#	- the standby answers AS OF queries as the primary does, prepared
#	  transactions included.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('twophase');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
$node->append_conf('postgresql.conf', "max_prepared_transactions = 10");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION ttpdb;
CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL) USING ttpdb;
INSERT INTO acct SELECT g, 100 FROM generate_series(1, 5) g;
});
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->append_conf('postgresql.conf', "max_prepared_transactions = 10");
$standby->start;

sub last_stamp
{
	return $node->safe_psql('postgres',
		"SELECT max(committed_at) FROM ttpdb.commit_times WHERE committed_at < 'infinity'");
}

sub as_of
{
	my ($n, $at) = @_;
	return $n->safe_psql('postgres',
		"SELECT string_agg(id || ':' || bal, ',' ORDER BY id) FROM ttpdb.as_of(NULL::acct, '$at')");
}

# --- prepared across a crash
$node->safe_psql('postgres', q{
BEGIN;
UPDATE acct SET bal = bal - 40 WHERE id = 1;
UPDATE acct SET bal = bal + 40 WHERE id = 2;
PREPARE TRANSACTION 'across_crash';
});
my $before_crash = last_stamp();
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT gid FROM pg_prepared_xacts'),
	'across_crash', 'still prepared after recovery');
my $now = $node->safe_psql('postgres', 'SELECT now()');
is(as_of($node, $now), '1:100,2:100,3:100,4:100,5:100', 'a prepared transaction is committed as of no time');
$node->safe_psql('postgres', "COMMIT PREPARED 'across_crash'");
my $committed = last_stamp();
ok($node->safe_psql('postgres', "SELECT '$committed'::timestamptz > '$before_crash'::timestamptz"),
	'stamped at COMMIT PREPARED, after every stamp before the crash');
is(as_of($node, $committed), '1:60,2:140,3:100,4:100,5:100', 'as of its stamp');
is(as_of($node, $now), '1:100,2:100,3:100,4:100,5:100', 'as of a time before it: unchanged');
is($node->safe_psql('postgres', q{
	SELECT string_agg(statement, ' | ' ORDER BY entry) FROM ttpdb.log
	WHERE committed_at = (SELECT max(committed_at) FROM ttpdb.log)}),
	'UPDATE acct SET bal = bal - 40 WHERE id = 1 | UPDATE acct SET bal = bal + 40 WHERE id = 2',
	'its log entries, with its stamp');

# --- a writer blocked by the prepared transaction's row lock
$node->safe_psql('postgres', q{
BEGIN;
UPDATE acct SET bal = bal + 1 WHERE id = 3;
PREPARE TRANSACTION 'holds_row';
});
my ($in, $out, $err) = ('', '', '');
my $writer = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres') ],
	'<', \$in, '>', \$out, '2>', \$err);
$in .= "UPDATE acct SET bal = bal * 10 WHERE id = 3;\n";
$writer->pump_nb;
$node->poll_query_until('postgres',
	"SELECT count(*) > 0 FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")
  or die 'the writer did not wait for the prepared transaction';
$node->safe_psql('postgres', "COMMIT PREPARED 'holds_row'");
$in .= "\\q\n";
$writer->finish;
is($err, '', 'the blocked writer went on');
is($node->safe_psql('postgres', 'SELECT bal FROM acct WHERE id = 3'), '1010',
	'it updated the committed version');
is($node->safe_psql('postgres', q{
	SELECT string_agg((h.version).bal || ':' || (h.valid_from = c.committed_at), ',' ORDER BY h.valid_from)
	FROM ttpdb.history(NULL::acct) h JOIN ttpdb.commit_times c ON c.xid = h.created_xid
	WHERE (h.version).id = 3}),
	'100:true,101:true,1010:true', 'every version of the row starts at its creator\'s stamp');

# --- left unstamped, then a crash
$node->safe_psql('postgres', q{
BEGIN;
UPDATE acct SET bal = 0 WHERE id = 4;
PREPARE TRANSACTION 'unlucky';
});
# a forged log entry takes the number COMMIT PREPARED reserves: its own
# transaction fails after the prepared one has committed
$node->safe_psql('postgres', q{
CREATE TABLE forged AS SELECT * FROM ttpdb.log_entries ORDER BY entry DESC LIMIT 1;
UPDATE forged SET entry = entry + 1;
INSERT INTO ttpdb.log_entries SELECT * FROM forged;
});
my ($ret) = $node->psql('postgres', "COMMIT PREPARED 'unlucky'");
isnt($ret, 0, 'COMMIT PREPARED failed after committing');
$node->safe_psql('postgres', q{
DELETE FROM ttpdb.log_entries WHERE entry = (SELECT entry FROM forged);
DROP TABLE forged;
});
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT bal FROM acct WHERE id = 4'), '0', 'committed');
$now = $node->safe_psql('postgres', 'SELECT now()');
like(as_of($node, $now), qr/4:100/, 'but committed as of no time');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM ttpdb.commit_times WHERE committed_at = 'infinity'"), '1',
	'its stamp is still infinity');
$node->safe_psql('postgres', 'UPDATE acct SET bal = bal + 1 WHERE id = 5');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM ttpdb.commit_times WHERE committed_at = 'infinity'"), '0',
	'the first writer after restart stamped it');
my $after = last_stamp();
like(as_of($node, $after), qr/4:0,5:101/, 'as of the writer\'s stamp it is committed');
like(as_of($node, $now), qr/4:100/, 'as of before, still not');
is($node->safe_psql('postgres', 'SELECT problem IS NULL FROM ttpdb.verify()'), 't',
	'the log verifies');

# --- the standby agrees, at every stamp and between
$node->safe_psql('postgres', q{
BEGIN;
DELETE FROM acct WHERE id = 2;
PREPARE TRANSACTION 'for_standby';
});
$node->wait_for_catchup($standby);
$now = $node->safe_psql('postgres', 'SELECT now()');
is(as_of($standby, $now), as_of($node, $now), 'standby: prepared, as of now');
$node->safe_psql('postgres', "COMMIT PREPARED 'for_standby'");
$node->wait_for_catchup($standby);
my @stamps = split /\n/, $node->safe_psql('postgres',
	"SELECT committed_at FROM ttpdb.commit_times WHERE committed_at < 'infinity' ORDER BY 1");
my $agree = 1;
foreach my $at (@stamps, $now)
{
	$agree = 0 unless as_of($standby, $at) eq as_of($node, $at);
}
ok($agree, 'the standby answers as the primary at every stamp');
my ($sret, $sout, $serr) = $standby->psql('postgres', "COMMIT PREPARED 'none'");
like($serr, qr/read-only|recovery/, 'COMMIT PREPARED is refused on the standby, as always');

done_testing();
