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

# Now preload it: the same database sees the features as available, and the
# setting is visible from the first query of a session.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'ttpdb'");
$node->restart;
is($node->safe_psql('postgres', 'SELECT ttpdb.preloaded()'),
	't', 'preloaded after restart');
is($node->safe_psql('postgres', 'SHOW ttpdb.version'),
	$node->safe_psql('postgres', 'SELECT ttpdb.library_version()'),
	'ttpdb.version reports the loaded library');

# A misspelt ttpdb.* setting in postgresql.conf is reported, not ignored.
my ($ret, $stdout, $stderr) =
  $node->psql('postgres', "SET ttpdb.not_a_setting = 'on'");
isnt($ret, 0, 'unknown ttpdb.* setting rejected');
like($stderr, qr/invalid configuration parameter name/,
	'with the server\'s reserved-prefix message');

$node->stop;
done_testing();
