# Copyright: ttpdb contributors
#
# 007_log_crash.pl: an immediate shutdown (a crash) under a concurrent
# write load leaves a statement log consistent with the data: every
# committed change has its entry, and no entry is without its change.
#
# The log's entries are kept in memory until commit, numbered under the
# commit lock and inserted in the same transaction as the changes they
# describe; a crash can cut a transaction off anywhere in that sequence,
# including after it reserved its entry numbers.  After recovery:
#
#	- ttpdb.log_consistency() finds nothing: every transaction that left or
#	  ended versions of a ttpdb table has its entries, every entry belongs
#	  to a committed transaction, and each transaction's entry digests add
#	  up to the versions it left minus those it ended;
#	- ttpdb.verify() finds the hash chain intact (links across numbers
#	  reserved by transactions the crash cut off may be unverified);
#	- entries are numbered in commit order, each transaction's entries
#	  form one block that matches its ttpdb.commit_times row, numbered from
#	  statement 1;
#	- every present row has the entry that created it (ttpdb.caused_by()),
#	  and every version the entries that created and ended it
#	  (ttpdb.history()): entries of its transaction that name its table.
#	  Replay re-creates rows with command id 0, so for a transaction from
#	  before the crash with several entries naming the table the creating
#	  entry may be unknown (NULL), but never wrong;
#	- nothing a rolled-back transaction, savepoint or exception block did
#	  shows in the log: its statements, the nested statements an entry
#	  lists, the COPY content it read, or its rows in the tables' history.
#
# The load mixes autocommit INSERT/UPDATE/DELETE, a two-statement simple
# query, multi-statement transactions, savepoints rolled back to, explicit
# ROLLBACKs, a plpgsql function that writes two tables (with an exception
# block that undoes a write), and COPY FROM STDIN from another session.
# Everything a rolled-back piece of work writes carries the marker
# ROLLED-BACK, which nothing that commits ever writes.
#
# The same checks run after the setup and after a load that runs to its end
# before any crash (what fails there is not about crash recovery), after
# the crash, after writes that follow it (their entries must come after
# every entry from before the crash), and after a second crash.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $naccounts = 40;

my $node = PostgreSQL::Test::Cluster->new('log_crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
$node->start;

$node->safe_psql(
	'postgres', qq{
CREATE EXTENSION ttpdb;
CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, note text)
	USING ttpdb;
CREATE TABLE ledger (id bigserial PRIMARY KEY, account int NOT NULL,
	amount int NOT NULL, memo text NOT NULL) USING ttpdb;
CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL) USING ttpdb;

-- Moves an amount between two accounts (locked in id order, so that the
-- load cannot deadlock) and records both legs; the exception block writes
-- a row and undoes it.
CREATE FUNCTION transfer(src int, dst int, amt int) RETURNS void
LANGUAGE plpgsql AS \$\$
BEGIN
	IF src <= dst THEN
		UPDATE accounts SET balance = balance - amt WHERE id = src;
		UPDATE accounts SET balance = balance + amt WHERE id = dst;
	ELSE
		UPDATE accounts SET balance = balance + amt WHERE id = dst;
		UPDATE accounts SET balance = balance - amt WHERE id = src;
	END IF;
	INSERT INTO ledger (account, amount, memo)
		VALUES (src, -amt, 'transfer out'), (dst, amt, 'transfer in');
	BEGIN
		INSERT INTO ledger (account, amount, memo)
			VALUES (src, -999, 'ROLLED-BACK in transfer');
		RAISE EXCEPTION 'undo';
	EXCEPTION WHEN raise_exception THEN
		NULL;
	END;
END
\$\$;

INSERT INTO accounts SELECT g, 1000, NULL FROM generate_series(1, $naccounts) g;
BEGIN;
INSERT INTO ledger (account, amount, memo)
	SELECT id, balance, 'opening' FROM accounts;
INSERT INTO notes (body) VALUES ('seeded');
COMMIT;
});

# The pgbench scripts.  Every transaction locks at most one account row,
# except transfer(), which locks two in id order.
my %script = (
	single => qq{
\\set a random(1, $naccounts)
\\set d random(1, 100)
\\set op random(1, 5)
\\if :op = 1
UPDATE accounts SET balance = balance + :d WHERE id = :a;
\\elif :op = 2
INSERT INTO ledger (account, amount, memo) VALUES (:a, :d, 'single');
\\elif :op = 3
DELETE FROM ledger WHERE id = (SELECT min(id) FROM ledger WHERE account = :a);
\\elif :op = 4
INSERT INTO notes (body) VALUES (repeat(md5(random()::text), 3));
\\else
UPDATE accounts SET note = 'touched ' || :d WHERE id = :a \\; INSERT INTO ledger (account, amount, memo) VALUES (:a, 0, 'compound');
\\endif
},
	multi => qq{
\\set a random(1, $naccounts)
\\set d random(1, 100)
BEGIN;
UPDATE accounts SET balance = balance - :d WHERE id = :a;
INSERT INTO ledger (account, amount, memo) VALUES (:a, 0 - :d, 'multi');
INSERT INTO notes (body) VALUES ('multi ' || :a);
DELETE FROM notes WHERE id = (SELECT min(id) FROM notes WHERE body LIKE 'multi %');
COMMIT;
},
	savepoint => qq{
\\set a random(1, $naccounts)
BEGIN;
UPDATE accounts SET balance = balance + 1 WHERE id = :a;
SAVEPOINT s;
INSERT INTO ledger (account, amount, memo) VALUES (:a, -999, 'ROLLED-BACK savepoint');
UPDATE accounts SET note = 'ROLLED-BACK savepoint' WHERE id = :a;
ROLLBACK TO SAVEPOINT s;
INSERT INTO ledger (account, amount, memo) VALUES (:a, 1, 'after savepoint');
COMMIT;
},
	rollback => qq{
\\set a random(1, $naccounts)
BEGIN;
UPDATE accounts SET balance = balance + 1000 WHERE id = :a;
INSERT INTO ledger (account, amount, memo) VALUES (:a, -999, 'ROLLED-BACK');
INSERT INTO notes (body) VALUES ('ROLLED-BACK');
ROLLBACK;
},
	transfer => qq{
\\set a random(1, $naccounts)
\\set b random(1, $naccounts)
\\set d random(1, 100)
SELECT transfer(:a, :b, :d);
});
my %weight = (single => 4, multi => 2, savepoint => 1, rollback => 1,
	transfer => 2);
my @script_args;
for my $name (sort keys %script)
{
	my $file = $node->basedir . "/$name.sql";
	append_to_file($file, $script{$name});
	push @script_args, '-f', "$file\@$weight{$name}";
}

# COPY FROM STDIN from a psql session: committed COPYs into two tables, a
# COPY in a transaction with an UPDATE, and a COPY rolled back.
my $copy_file = $node->basedir . '/copy.sql';
{
	my $s = "\\set ON_ERROR_STOP 0\n";
	for my $i (1 .. 1500)
	{
		if ($i % 5 == 0)
		{
			$s .= "BEGIN;\nCOPY notes (body) FROM STDIN;\nROLLED-BACK copy $i\n\\.\nROLLBACK;\n";
		}
		elsif ($i % 5 == 1)
		{
			my $a = $i % $naccounts + 1;
			$s .=
			  "BEGIN;\nCOPY ledger (account, amount, memo) FROM STDIN;\n$a\t7\tcopied $i\n$a\t-7\tcopied $i\n\\.\n"
			  . "UPDATE accounts SET note = 'copy $i' WHERE id = $a;\nCOMMIT;\n";
		}
		else
		{
			$s .= "COPY notes (body) FROM STDIN;\ncopy $i a\ncopy $i b\ncopy $i c\n\\.\n";
		}
		$s .= "SELECT pg_sleep(0.01);\n";
	}
	append_to_file($copy_file, $s);
}

# Starts the load: pgbench (rate-limited, so that a crash comes while it
# still runs; -T bounds it in case the crash came too late) and the COPY
# session.
sub start_load
{
	my %load = (bench_out => '', bench_err => '', copy_out => '', copy_err => '');
	$load{bench} = IPC::Run::start(
		[
			'pgbench', '-n', '-c', '4', '-j', '2', '-R', '200', '-T', '60',
			'--max-tries', '20', @script_args,
			'-h', $node->host, '-p', $node->port, 'postgres'
		],
		'>', \$load{bench_out}, '2>', \$load{bench_err},
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	$load{copy} = IPC::Run::start(
		[
			'psql', '-X', '-q', '-f', $copy_file,
			'-h', $node->host, '-p', $node->port, 'postgres'
		],
		'>', \$load{copy_out}, '2>', \$load{copy_err},
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	return \%load;
}

# Lets the load write at least $n more entries, with a checkpoint half-way
# (so that recovery starts from it), then crashes the node and restarts it.
sub crash_under_load
{
	my ($cycle, $n) = @_;
	my $base = $node->safe_psql('postgres',
		'SELECT coalesce(max(entry), 0) FROM ttpdb.log');
	my $rollbacks = $node->safe_psql('postgres',
		q{SELECT xact_rollback FROM pg_stat_database WHERE datname = 'postgres'});
	my $load = start_load();

	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) >= @{[$n / 2]} FROM ttpdb.log WHERE entry > $base"),
		"cycle $cycle: load under way");
	$node->safe_psql('postgres', 'CHECKPOINT');
	ok( $node->poll_query_until(
			'postgres', qq{
SELECT (SELECT count(*) >= $n FROM ttpdb.log WHERE entry > $base)
   AND (SELECT xact_rollback >= $rollbacks + 20 FROM pg_stat_database
		WHERE datname = 'postgres')}),
		"cycle $cycle: load committed $n entries and rolled back transactions");

	$node->stop('immediate');
	my $bench_ok = eval { $load->{bench}->finish };
	my $copy_ok = eval { $load->{copy}->finish };
	note "cycle $cycle: pgbench after the crash:\n$load->{bench_err}";
	ok(!$bench_ok, "cycle $cycle: the crash cut pgbench off");
	ok(!$copy_ok || $load->{copy_err} =~ /terminat|connection/,
		"cycle $cycle: the crash cut the COPY session off");
	$node->start;
	return;
}

# A query that must return no rows: pass if it returns none, else show
# the first few.
sub no_rows
{
	my ($sql, $name) = @_;
	my $rows = $node->safe_psql('postgres', "$sql LIMIT 5");
	ok($rows eq '', $name)
	  or diag "first offending rows (at most 5):\n$rows";
	return;
}

# The top-level transaction of a (sub)transaction, an xid8 expression.
my $top_of = sub {
	my ($x) = @_;
	return qq{(SELECT coalesce(ct.top_xid, ct.xid) FROM ttpdb.commit_times ct
		WHERE ct.era = (SELECT era FROM ttpdb.era) AND ct.xid = $x)};
};

# Every check of the log against the data; $label names the moment.
sub check_log
{
	my ($label) = @_;

	no_rows(q{SELECT problem, xid, entry, detail FROM ttpdb.log_consistency()},
		"$label: ttpdb.log_consistency() finds nothing");

	my ($entries, $unverified, $broken, $problem) = split /\|/,
	  $node->safe_psql('postgres',
		q{SELECT entries, unverified_links, first_broken_entry, problem FROM ttpdb.verify()}),
	  -1;
	is($broken, '', "$label: ttpdb.verify() finds the chain intact");
	diag "ttpdb.verify(): first broken entry $broken: $problem"
	  if $broken ne '';
	note "$label: $entries entries, $unverified unverified links";
	is($entries, $node->safe_psql('postgres', 'SELECT count(*) FROM ttpdb.log'),
		"$label: ttpdb.verify() went through every entry");

	no_rows(
		q{
SELECT entry, committed_at, prev FROM (
	SELECT entry, committed_at, lag(committed_at) OVER (ORDER BY entry) prev
	FROM ttpdb.log) s
WHERE committed_at < prev},
		"$label: entries are numbered in commit order");

	# Each transaction's entries: one block with one commit stamp, as its
	# commit_times row says, its statements numbered from 1.
	no_rows(
		q{
SELECT l.xid, min(l.entry), max(l.entry), count(*), c.first_entry, c.entry_count
FROM ttpdb.log l
LEFT JOIN ttpdb.commit_times c
  ON c.era = (SELECT era FROM ttpdb.era) AND c.xid = l.xid
GROUP BY l.xid, c.first_entry, c.entry_count
HAVING max(l.entry) - min(l.entry) + 1 <> count(*)
	OR c.first_entry IS DISTINCT FROM min(l.entry)
	OR c.entry_count IS DISTINCT FROM count(*)
	OR count(DISTINCT l.committed_at) <> 1},
		"$label: each transaction's entries are one block matching commit_times");
	no_rows(
		q{
SELECT entry, xid, statement_no FROM ttpdb.log l
WHERE statement_no <> entry - (SELECT min(entry) FROM ttpdb.log m WHERE m.xid = l.xid) + 1},
		"$label: each transaction's statements are numbered from 1 in entry order");

	for my $t (qw(accounts ledger notes))
	{
		# NULL only when it cannot tell: the row's transaction has several
		# entries, and crash recovery re-created the row without its command
		# id, or an update of it did not commit.  (ttpdb.history(), which
		# knows the table, needs several entries naming it.)
		no_rows(
			qq{
SELECT r.xmin, r.cmin, r.* FROM $t r WHERE ttpdb.caused_by(r.xmin, r.cmin, r.xmax) IS NULL
AND (SELECT count(*) FROM ttpdb.log x
	 WHERE x.xid = @{[$top_of->('r.xmin::text::xid8')]}) < 2},
			"$label: every row of $t has the entry that created it, unless ambiguous");
		no_rows(
			qq{
SELECT r.xmin, r.cmin, l.entry, l.statement_no, l.statement, l.tables
FROM $t r JOIN ttpdb.log l ON l.entry = ttpdb.caused_by(r.xmin, r.cmin, r.xmax)
WHERE l.xid IS DISTINCT FROM @{[$top_of->('r.xmin::text::xid8')]} OR NOT '$t'::regclass = ANY (l.tables)},
			"$label: the entry ttpdb.caused_by() gives for each row of $t is of its transaction and names $t"
		);
		no_rows(
			qq{
SELECT h.created_xid, h.created_entry, c.statement AS created_by,
	h.ended_xid, h.ended_entry, e.statement AS ended_by, h.version
FROM ttpdb.history(NULL::$t) h
LEFT JOIN ttpdb.log c ON c.entry = h.created_entry
LEFT JOIN ttpdb.log e ON e.entry = h.ended_entry
WHERE (c.entry IS NULL AND (SELECT count(*) FROM ttpdb.log x
							WHERE x.xid = @{[$top_of->('h.created_xid')]}
							  AND '$t'::regclass = ANY (x.tables)) < 2)
   OR (c.entry IS NOT NULL AND (c.xid IS DISTINCT FROM @{[$top_of->('h.created_xid')]}
								OR NOT '$t'::regclass = ANY (c.tables)))
   OR (h.valid_to IS NOT NULL
	   AND (e.entry IS NULL OR e.xid IS DISTINCT FROM @{[$top_of->('h.ended_xid')]}
			OR NOT '$t'::regclass = ANY (e.tables)))},
			"$label: ttpdb.history() gives each version of $t the entries of its transactions that created and ended it, naming $t"
		);
	}

	# Nothing rolled back shows: statements, COPY content, nested
	# statements, versions.
	no_rows(
		q{
SELECT entry, statement FROM ttpdb.log
WHERE statement LIKE '%ROLLED-BACK%'
   OR (copy_kept AND position('ROLLED-BACK' IN
		convert_from(ttpdb.log_copy_content(entry), 'UTF8')) > 0)},
		"$label: no entry for rolled-back statements or COPY content");
	no_rows(
		q{
SELECT entry, statement, tables, effects, nested FROM ttpdb.log
WHERE nested::text LIKE '%ROLLED-BACK%'},
		"$label: no nested statement of a rolled-back exception block in an entry's detail");
	no_rows(
		q{
SELECT 'accounts', version::text FROM ttpdb.history(NULL::accounts)
WHERE (version).note LIKE 'ROLLED-BACK%'
UNION ALL
SELECT 'ledger', version::text FROM ttpdb.history(NULL::ledger)
WHERE (version).memo LIKE 'ROLLED-BACK%' OR (version).amount = -999
UNION ALL
SELECT 'notes', version::text FROM ttpdb.history(NULL::notes)
WHERE (version).body LIKE 'ROLLED-BACK%'},
		"$label: no version written by rolled-back work");
	return;
}

# A load that runs to its end, with no crash: what fails here, and not
# only after a crash, is not about crash recovery.
sub run_load
{
	my ($name) = @_;
	$node->command_ok(
		[
			'pgbench', '-n', '-c', '4', '-j', '2', '-t', '40',
			'--max-tries', '20', @script_args,
			'-h', $node->host, '-p', $node->port, 'postgres'
		],
		$name);
	$node->safe_psql(
		'postgres', qq{
COPY notes (body) FROM STDIN;
$name
\\.
BEGIN;
COPY notes (body) FROM STDIN;
ROLLED-BACK $name
\\.
ROLLBACK;
});
	return;
}

check_log('after setup');
run_load('load before any crash');
check_log('after a load, before any crash');

crash_under_load(1, 800);
check_log('after the first crash');

# The load did exercise what it should have.
is( $node->safe_psql(
		'postgres', q{
SELECT (SELECT count(*) > 0 FROM ttpdb.log WHERE kind = 'COPY' AND copy_kept)
   AND (SELECT count(*) > 0 FROM ttpdb.log WHERE statement LIKE 'SELECT transfer(%'
		AND tables @> ARRAY['accounts'::regclass, 'ledger'::regclass])
   AND (SELECT count(*) > 0 FROM ttpdb.log WHERE statement LIKE '%after savepoint%')
   AND (SELECT count(*) > 0 FROM ttpdb.log WHERE statement LIKE '%compound%')
   AND (SELECT count(*) > 0 FROM ttpdb.log WHERE kind = 'DELETE' AND rows > 0)
   AND (SELECT count(*) > 0 FROM (SELECT xid FROM ttpdb.log GROUP BY xid
		HAVING count(*) >= 3) m)}),
	't',
	'the load logged COPY, transfer(), savepoints, compound queries, deletes and multi-statement transactions');

# Writes after recovery: numbered and stamped after everything from before
# the crash.
my $last = $node->safe_psql('postgres', 'SELECT max(entry) FROM ttpdb.log');
run_load('load after the first crash');
is( $node->safe_psql(
		'postgres', qq{
SELECT (SELECT count(*) FROM ttpdb.log WHERE entry > $last) > 100,
	(SELECT min(committed_at) FROM ttpdb.log WHERE entry > $last)
		> (SELECT max(committed_at) FROM ttpdb.log WHERE entry <= $last)}),
	't|t',
	'entries after recovery follow every entry from before the crash');
check_log('after writes following the first crash');

crash_under_load(2, 600);
check_log('after the second crash');
$last = $node->safe_psql('postgres', 'SELECT max(entry) FROM ttpdb.log');
$node->safe_psql('postgres', q{SELECT transfer(1, 2, 3)});
is( $node->safe_psql(
		'postgres', qq{SELECT min(entry) > $last FROM ttpdb.log WHERE xid = (
	SELECT xid FROM ttpdb.log ORDER BY entry DESC LIMIT 1)}),
	't',
	'an entry after the second crash follows every entry from before it');
check_log('after a write following the second crash');

$node->stop;
done_testing();
