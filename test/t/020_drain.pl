# Pending deltas drain once writes stop: after a stream of small writes,
# after one large bulk insert and after a large DELETE; and writers wake the
# worker early when many deltas pile up (hybridagg.wake_threshold): with a
# fold interval of an hour, longer than any deadline here, a fold can only
# come from that wake.  How long each drain took is noted, never asserted:
# speed is the benchmark harness's (bench/, W5 and W6).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('drain', conf => "log_statement = none\n");
load_helpers($node);

my $query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi
	FROM events GROUP BY 1, 2};
$node->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON events (ts);
	INSERT INTO events SELECT now() - random() * interval '1 day', i % 20, 1 + i % 97
	  FROM generate_series(1, 20000) i;
	SELECT hybridagg.create('events_1m', \$q\$$query\$q\$, mode => 'hybrid');
});
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres'"),
	'the worker runs');

my $pending = "SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates WHERE name = 'events_1m'";
my $has_pending = "SELECT pending_deltas > 0 FROM hybridagg.aggregates WHERE name = 'events_1m'";

# 1. a stream of small writes for 3 s (100 transactions a second), then
# nothing: drained
my $load = start_pgbench($node, clients => 2, seconds => 3,
	scripts => [qw(mix_single.sql@5 mix_bulk.sql@1 mix_late.sql@1 mix_delete.sql@1)],
	extra => [ '--max-tries=20', '--rate=100' ]);
my ($rc, $out, $err) = finish_pgbench($load);
is($rc, 0, 'the writers ran') or diag $err;
my $took = poll_within($node, $pending, 120);
ok(defined $took, 'pending deltas drain after writes stop');
note sprintf('drained in %.2f s', $took // -1);
is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ]), 0, 'exact after draining');

# 2. one statement inserting 200,000 rows over two days
$node->safe_psql('postgres', q{
	INSERT INTO events SELECT now() - random() * interval '2 days', i % 20, 1 + (i % 1000) / 10.0
	  FROM generate_series(1, 200000) i});
$took = poll_within($node, $pending, 120);
ok(defined $took, 'the deltas of a 200,000-row insert drain');
note sprintf('drained in %.2f s', $took // -1);
is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ]), 0, 'exact after the bulk insert');
# and a bulk DELETE, which makes groups dirty (min, max)
$node->safe_psql('postgres', q{DELETE FROM events WHERE device_id IN (3, 7) AND ts > now() - interval '1 day'});
$took = poll_within($node, $pending, 120);
ok(defined $took, 'the deltas and dirty groups of a large DELETE drain');
note sprintf('drained in %.2f s', $took // -1);
is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ]), 0, 'exact after draining');

# 3. a fold interval of an hour (the longest allowed: longer than every
# deadline below, so that only a wake can make the worker fold before it
# ends), and a wake threshold of 100 delta rows
$node->append_conf('postgresql.conf', "hybridagg.fold_interval = '1h'\nhybridagg.wake_threshold = 100\n");
$node->restart;
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres'"),
	'the worker runs after the restart');
is($node->safe_psql('postgres', 'SHOW hybridagg.fold_interval'), '1h', 'fold interval is an hour');
# the worker has done its first round after the start, and sleeps its hour
ok($node->poll_query_until('postgres',
	"SELECT state = 'idle' FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres'"),
	'the worker waits on its latch');

# a few delta rows, fewer than the threshold: they wait for the interval
$node->safe_psql('postgres', q{INSERT INTO events VALUES (now(), 1, 1), (now(), 2, 2)});
ok(!defined poll_within($node, "SELECT NOT ($has_pending)", 3, quiet => 1),
	'a small write below the threshold is not folded before the interval ends');
is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ]), 0, 'exact with deltas pending');

# one statement writing 2,000 delta rows (100 minutes x 20 devices) wakes
# the worker, which folds them at once
$node->safe_psql('postgres', q{
	INSERT INTO events SELECT now() - (i % 100) * interval '1 minute', (i / 100) % 20, i
	  FROM generate_series(0, 3999) i});
$took = poll_within($node, $pending, 120);
ok(defined $took, 'a write above the wake threshold is folded before the hour-long interval ends')
  or diag $node->safe_psql('postgres',
	"SELECT now(), pending_deltas, folds, last_fold_at FROM hybridagg.aggregates WHERE name = 'events_1m'");
note sprintf('drained in %.2f s', $took // -1);
is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ]), 0, 'exact after the early fold');

# the same from a transaction that crosses the threshold some time before
# it commits: its deltas are folded after the commit, not an hour later
$node->safe_psql('postgres', q{
	BEGIN;
	INSERT INTO events SELECT now() - (i % 100) * interval '1 minute', (i / 100) % 20, i
	  FROM generate_series(0, 3999) i;
	SELECT pg_sleep(0.5);
	COMMIT});
$took = poll_within($node, $pending, 120);
ok(defined $took, 'deltas of a transaction that crossed the wake threshold are folded after its commit')
  or diag $node->safe_psql('postgres',
	"SELECT now(), pending_deltas, folds, last_fold_at FROM hybridagg.aggregates WHERE name = 'events_1m'");
note sprintf('drained in %.2f s', $took // -1);
is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ]), 0, 'exact after that fold');

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
