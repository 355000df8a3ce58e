# Copyright: ttpdb contributors
#
# 008_stamp_cache.pl: the shared cache of commit stamps changes no answer.
#
# A workload of 2,500 transactions, some writing in subtransactions (which
# are stamped with their top-level transaction) and some rolling one back,
# runs on a server whose cache holds 1,024 stamps, so that most entries are
# taken over by newer transactions.  Then every AS OF answer at 100 instants,
# through ttpdb.as_of() and through SET ttpdb.as_of, and every version's
# validity from ttpdb.history(), must be the same: right after the workload
# (cache filled by the committers), after a restart (cache empty: filled by
# readers), with the cache off, and with the default size.  Every validity
# must also equal the stamp in ttpdb.commit_times of the transaction that
# created or ended the version.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('stamp_cache');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
$node->append_conf('postgresql.conf', "ttpdb.stamp_cache_size = '16kB'");
$node->start;

is($node->safe_psql('postgres', 'SHOW ttpdb.stamp_cache_size'), '16kB',
	'a cache of 1,024 stamps');

$node->safe_psql('postgres', q{
	CREATE EXTENSION ttpdb;
	CREATE TABLE t (k int PRIMARY KEY, v int NOT NULL) USING ttpdb;
	INSERT INTO t SELECT k, 0 FROM generate_series(1, 50) k;
	CREATE TABLE instants (n int PRIMARY KEY, ts timestamptz NOT NULL);

	-- one transaction an iteration; a block with an exception handler is a
	-- subtransaction
	CREATE PROCEDURE workload(iterations int) LANGUAGE plpgsql AS $$
	BEGIN
		FOR i IN 1 .. iterations LOOP
			UPDATE t SET v = v + 1 WHERE k = i % 50 + 1;
			IF i % 3 = 0 THEN
				BEGIN
					INSERT INTO t VALUES (100 + i % 20, i)
						ON CONFLICT (k) DO UPDATE SET v = excluded.v;
				EXCEPTION WHEN others THEN
					RAISE;
				END;
			END IF;
			IF i % 7 = 0 THEN
				BEGIN
					DELETE FROM t WHERE k = 100 + i % 20;
					RAISE EXCEPTION 'roll this subtransaction back';
				EXCEPTION WHEN raise_exception THEN
					NULL;
				END;
			END IF;
			IF i % 11 = 0 THEN
				DELETE FROM t WHERE k = 100 + (i / 11) % 20;
			END IF;
			COMMIT;
			IF i % 25 = 0 THEN
				INSERT INTO instants SELECT coalesce(max(n), 0) + 1, clock_timestamp() FROM instants;
				COMMIT;
			END IF;
		END LOOP;
	END $$;

	-- the table at each instant, one fingerprint a line
	CREATE FUNCTION answers_as_of_function() RETURNS SETOF text LANGUAGE sql AS $$
		SELECT i.n || ' ' || (SELECT md5(coalesce(string_agg(a.k || ':' || a.v, ',' ORDER BY a.k), ''))
			FROM ttpdb.as_of(NULL::t, i.ts) a)
		FROM instants i ORDER BY i.n
	$$;
	CREATE FUNCTION answers_as_of_setting() RETURNS SETOF text LANGUAGE plpgsql AS $$
	DECLARE
		i record;
		h text;
	BEGIN
		FOR i IN SELECT * FROM instants ORDER BY n LOOP
			PERFORM set_config('ttpdb.as_of', i.ts::text, true);
			SELECT md5(coalesce(string_agg(k || ':' || v, ',' ORDER BY k), '')) INTO h FROM t;
			PERFORM set_config('ttpdb.as_of', '', true);
			RETURN NEXT i.n || ' ' || h;
		END LOOP;
	END $$;
});

$node->safe_psql('postgres', 'CALL workload(2500)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM instants'), '100', '100 instants');
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM ttpdb.commit_times}),
	'>', 2500, 'more stamps than the cache holds');

# Everything that is read: AS OF both ways, and the history with validity.
sub answers
{
	my $as_function = $node->safe_psql('postgres', 'SELECT answers_as_of_function()');
	my $as_setting = $node->safe_psql('postgres', 'SELECT answers_as_of_setting()');
	my $history = $node->safe_psql('postgres', q{
		SELECT string_agg(concat_ws(' ', h.valid_from, h.valid_to, h.created_xid, h.ended_xid,
			h.version), E'\n' ORDER BY h.ended_xid NULLS LAST, h.created_xid, (h.version).k)
		FROM ttpdb.history(NULL::t) h});
	return ($as_function, $as_setting, $history);
}

# Validity as stored and looked up must be the stamps of commit_times.
sub check_stamps
{
	my ($when) = @_;
	is( $node->safe_psql('postgres', q{
			SELECT count(*) FROM ttpdb.history(NULL::t) h
			LEFT JOIN ttpdb.commit_times c ON c.era = (SELECT era FROM ttpdb.era) AND c.xid = h.created_xid
			WHERE h.created_xid IS NOT NULL AND h.valid_from IS DISTINCT FROM c.committed_at}),
		'0', "$when: every version starts at its creator's stamp");
	is( $node->safe_psql('postgres', q{
			SELECT count(*) FROM ttpdb.history(NULL::t) h
			LEFT JOIN ttpdb.commit_times c ON c.era = (SELECT era FROM ttpdb.era) AND c.xid = h.ended_xid
			WHERE h.ended_xid IS NOT NULL AND h.valid_to IS DISTINCT FROM c.committed_at}),
		'0', "$when: every kept version ends at its ender's stamp");
}

my @expected = answers();
my @names = ('ttpdb.as_of()', 'SET ttpdb.as_of', 'ttpdb.history()');
check_stamps('after the workload');

# The instants see different states: the fingerprints are not all alike.
my %distinct = map { (split / /)[1] => 1 } split /\n/, $expected[0];
cmp_ok(scalar(keys %distinct), '>', 50, 'the instants see many states');
is($expected[1], $expected[0], 'SET ttpdb.as_of answers as ttpdb.as_of() does');

sub same_answers
{
	my ($when) = @_;
	my @got = answers();
	for my $i (0 .. 2)
	{
		is($got[$i], $expected[$i], "$when: $names[$i] unchanged");
	}
	check_stamps($when);
}

$node->restart;
same_answers('after a restart, cache empty');
same_answers('again, cache filled by readers');

$node->append_conf('postgresql.conf', "ttpdb.stamp_cache_size = 0");
$node->restart;
is($node->safe_psql('postgres', 'SHOW ttpdb.stamp_cache_size'), '0', 'cache off');
same_answers('cache off');

# Writers with the cache off still stamp and read right.
$node->safe_psql('postgres', 'CALL workload(200)');
@expected = answers();
check_stamps('writes with the cache off');

$node->append_conf('postgresql.conf', "ttpdb.stamp_cache_size = '16MB'");
$node->restart;
same_answers('default size');

$node->stop;
done_testing();
