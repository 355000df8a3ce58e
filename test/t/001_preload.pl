# Copyright: ttpdb contributors
#
# 001_preload.pl: the extension works with and without
# shared_preload_libraries, and says which it has.  Distributions must work
# on a server that never preloaded ttpdb (a restore target, say); features
# built on hooks refuse to run there with a hint.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('plain');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION ttpdb');
is($node->safe_psql('postgres', 'SELECT ttpdb.preloaded()'),
	'f', 'not preloaded without shared_preload_libraries');
is($node->safe_psql('postgres', 'SELECT ttpdb.library_version()'),
	$node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'ttpdb'"),
	'library and extension versions agree');

# Distributions work without preloading ...
is($node->safe_psql('postgres', "SELECT ttpdb.expected_value('{1: 0.5, 3: 0.5}')"),
	'2', 'pdist works without shared_preload_libraries');

# ... the access method refuses, saying what to put in postgresql.conf.
my ($rc, $out, $err) = $node->psql('postgres',
	'CREATE TABLE t (id int) USING ttpdb');
isnt($rc, 0, 'a ttpdb table cannot be created without preloading');
like($err, qr/a ttpdb table requires ttpdb to be loaded via shared_preload_libraries/,
	'the error names the missing preload');
like($err, qr/HINT:\s+Add ttpdb to shared_preload_libraries in postgresql.conf/,
	'and the hint says what to add');
# The shared stamp cache, sized at server start, exists only with preloading.
($rc, $out, $err) = $node->psql('postgres', 'SHOW ttpdb.stamp_cache_size');
like($err, qr/unrecognized configuration parameter "ttpdb.stamp_cache_size"/,
	'no stamp cache setting without preloading');
($rc, $out, $err) = $node->psql('postgres',
	"SET ttpdb.as_of = '2000-01-01'; SELECT 1");
is($rc, 0, 'ttpdb.as_of can be set without preloading (it only matters for ttpdb tables)');

# Now preload it: the same database sees the features as available, and the
# setting is visible from the first query of a session.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
$node->restart;
is($node->safe_psql('postgres', 'SELECT ttpdb.preloaded()'),
	't', 'preloaded after restart');
is($node->safe_psql('postgres', 'SHOW ttpdb.stamp_cache_size'), '16MB',
	'the shared stamp cache exists with preloading');
is($node->safe_psql('postgres', 'SHOW ttpdb.version'),
	$node->safe_psql('postgres', 'SELECT ttpdb.library_version()'),
	'ttpdb.version reports the loaded library');
$node->safe_psql('postgres', 'CREATE TABLE t (id int) USING ttpdb; INSERT INTO t VALUES (1)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '1',
	'with preloading, ttpdb tables work');

# A misspelt ttpdb.* setting in postgresql.conf is reported, not ignored.
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', "SET ttpdb.not_a_setting = 'on'");
isnt($ret, 0, 'unknown ttpdb.* setting rejected');
like($stderr, qr/invalid configuration parameter name/,
	'with the server\'s reserved-prefix message');

$node->stop;
done_testing();
