# The launcher and the per-database worker: visible in pg_stat_activity,
# folding pending deltas to zero, recording their counters, stopping on
# SIGTERM and coming back.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('worker');
load_helpers($node);

$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg launcher'")
  or die 'no hybridagg launcher';

my $query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
	FROM events GROUP BY 1, 2};
$node->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON events (ts);
	SELECT hybridagg.create('events_1m', \$q\$$query\$q\$, mode => 'hybrid');
});

ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres'"),
	'a hybridagg worker runs for the database');
is($node->safe_psql('postgres', "SELECT worker FROM hybridagg.aggregates WHERE name = 'events_1m'"),
	'running', 'the status view says so');

$node->safe_psql('postgres', q{
	INSERT INTO events SELECT now() - i * interval '1 second', i % 10, i FROM generate_series(1, 5000) i;
	UPDATE events SET value = value * 2 WHERE device_id = 3;
	DELETE FROM events WHERE device_id = 4;
});
is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ]), 0,
	'exact while deltas are pending');
ok($node->poll_query_until('postgres',
	"SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates WHERE name = 'events_1m'"),
	'pending deltas drain to zero');
is($node->safe_psql('postgres',
	"SELECT folds > 0 AND folded_deltas > 0 AND last_error IS NULL FROM hybridagg.aggregates"),
	't', 'the fold counters moved');
is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ]), 0,
	'exact after the folds');

# SIGTERM stops the worker cleanly; the launcher starts another
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'hybridagg worker'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND pid <> $pid"),
	'the worker comes back after SIGTERM');
$node->safe_psql('postgres', "INSERT INTO events VALUES (now(), 1, 1)");
ok($node->poll_query_until('postgres',
	"SELECT pending_deltas = 0 FROM hybridagg.aggregates WHERE name = 'events_1m'"),
	'the new worker folds');
is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ]), 0, 'still exact');
ok(!$node->log_contains('terminated by signal'), 'no process crashed');

$node->stop;
done_testing();
