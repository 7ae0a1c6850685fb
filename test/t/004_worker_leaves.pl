# A worker leaves a database that has no streaming aggregate (after a short
# grace), so that the database can be renamed and copied as a template;
# probes of databases without one leave at once.  A database with streaming
# aggregates keeps its worker: the README's recipe (ALLOW_CONNECTIONS false,
# end the worker) renames and copies it, and it gets its worker back after.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('leaves', conf => "hybridagg.launcher_interval = 1s\n");

my $query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total FROM events GROUP BY 1, 2};

sub worker_of
{
	my ($db) = @_;
	return "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = '$db'";
}

sub no_worker_of
{
	my ($db) = @_;
	return "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = '$db'";
}

# run $sql in postgres until it succeeds, for at most $seconds
sub succeeds_within
{
	my ($sql, $seconds) = @_;
	my $deadline = time + $seconds;
	my ($rc, $out, $err);
	while (time < $deadline)
	{
		($rc, $out, $err) = $node->psql('postgres', $sql);
		return 1 if $rc == 0;
		select(undef, undef, undef, 0.2);
	}
	diag("$sql: $err");
	return 0;
}

sub make_streaming
{
	my ($db) = @_;
	$node->safe_psql($db, qq{
		CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
		INSERT INTO events SELECT now() - i * interval '1 second', i % 5, i FROM generate_series(1, 300) i;
		SELECT hybridagg.create('events_1m', \$q\$$query\$q\$, mode => 'streaming');
	});
}

# 1. a database whose last streaming aggregate goes
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION hybridagg');
make_streaming('src');
ok(defined poll_within($node, worker_of('src'), 60), 'src has a worker');
my ($rc, $out, $err) = $node->psql('postgres', 'CREATE DATABASE copy1 TEMPLATE src');
like($err, qr/is being accessed by other users/, 'the worker keeps CREATE DATABASE ... TEMPLATE src from working');

$node->safe_psql('src', "SELECT hybridagg.drop('events_1m')");
ok(defined poll_within($node, no_worker_of('src'), 60),
	'the worker leaves once the database has no streaming aggregate');
ok(succeeds_within('CREATE DATABASE copy1 TEMPLATE src', 60), 'CREATE DATABASE ... TEMPLATE src works');
ok(succeeds_within('ALTER DATABASE src RENAME TO src_renamed', 60), 'ALTER DATABASE src RENAME works');

# 2. a new database with the extension and no streaming aggregate (copy1)
# is probed; the probe leaves at once
ok(succeeds_within('ALTER DATABASE copy1 RENAME TO copy1_renamed', 60),
	'a database with the extension but no streaming aggregate can be renamed');

# 3. a database with a streaming aggregate: the recipe of the README
$node->safe_psql('postgres', 'CREATE DATABASE busy');
$node->safe_psql('busy', 'CREATE EXTENSION hybridagg');
make_streaming('busy');
ok(defined poll_within($node, worker_of('busy'), 60), 'busy has a worker');
$node->safe_psql('postgres', q{
	ALTER DATABASE busy ALLOW_CONNECTIONS false;
	SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	 WHERE backend_type = 'hybridagg worker' AND datname = 'busy';
});
ok(defined poll_within($node, no_worker_of('busy'), 60), 'its worker ended');
ok(succeeds_within('ALTER DATABASE busy RENAME TO busy_renamed', 60), 'ALTER DATABASE busy RENAME works');
ok(succeeds_within('CREATE DATABASE busy_copy TEMPLATE busy_renamed', 60),
	'CREATE DATABASE ... TEMPLATE busy_renamed works');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'busy_renamed'"),
	'0', 'no worker came back while connections are not allowed');
$node->safe_psql('postgres', 'ALTER DATABASE busy_renamed ALLOW_CONNECTIONS true');
ok(defined poll_within($node, worker_of('busy_renamed'), 60), 'the worker comes back once they are');
ok(defined poll_within($node, worker_of('busy_copy'), 60), 'the copy gets a worker too');
for my $db ('busy_renamed', 'busy_copy')
{
	$node->safe_psql($db,
		"INSERT INTO events SELECT now() - i * interval '1 second', i % 3, i FROM generate_series(1, 100) i");
	ok(defined poll_within($node, 'SELECT pending_deltas = 0 FROM hybridagg.aggregates', 60, db => $db),
		"$db folds");
	load_helpers($node, $db);
	is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ], $db), 0, "$db is exact");
}

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
