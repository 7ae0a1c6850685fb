# A server that does not preload hybridagg: CREATE EXTENSION works, batch
# aggregates work and are exact, and every streaming mode is refused with a
# clear error (SQLSTATE 55000, naming shared_preload_libraries, with a hint)
# that leaves nothing behind.  Then a streaming aggregate made while the
# library was preloaded, on a server restarted without it: writers still
# work and the view stays exact, though no worker folds.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = PostgreSQL::Test::Cluster->new('not_preloaded');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'Asia/Kathmandu'\n");
$node->start;
load_helpers($node);

is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), '', 'nothing is preloaded');
my ($rc, $out, $err) = psql_verbose($node, 'CREATE EXTENSION hybridagg');
is($rc, 0, 'CREATE EXTENSION works without preloading') or diag $err;

my $query = q{SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi
	FROM events GROUP BY 1, 2};
my $keys = [ 'bucket', 'device_id' ];
$node->safe_psql('postgres', q{
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON events (ts);
	INSERT INTO events SELECT now() - random() * interval '3 days', i % 10, 1 + i % 100
	  FROM generate_series(1, 20000) i;
});

# every streaming mode: refused, clearly, and nothing left
my $before = inventory($node);
for my $mode (qw(hybrid streaming lambda kappa))
{
	($rc, $out, $err) = psql_verbose($node,
		"SELECT hybridagg.create('events_10m', \$q\$$query\$q\$, mode => '$mode')");
	isnt($rc, 0, "mode $mode is refused");
	like($err, qr/ERROR:  55000: .*shared_preload_libraries/, "mode $mode: SQLSTATE 55000, naming shared_preload_libraries");
	like($err, qr/^HINT:  .*shared_preload_libraries/m, "mode $mode: a hint saying what to do");
	is(inventory($node), $before, "mode $mode: nothing left behind");
}
# the default mode is hybrid: refused as well
($rc, $out, $err) = psql_verbose($node, "SELECT hybridagg.create('events_10m', \$q\$$query\$q\$)");
like($err, qr/ERROR:  55000: /, 'the default mode (hybrid) is refused the same way');
is(inventory($node), $before, 'nothing left behind');

# batch works, with the same name
($rc, $out, $err) = psql_verbose($node,
	"SELECT hybridagg.create('events_10m', \$q\$$query\$q\$, mode => 'batch', seal_after => '1 hour')");
is($rc, 0, 'mode batch works') or diag $err;
is(mismatches($node, 'events_10m', $query, $keys), 0, 'batch: exact after create');
$node->safe_psql('postgres', q{
	INSERT INTO events SELECT now() - i * interval '1 second', i % 10, i FROM generate_series(1, 1000) i;
});
is(mismatches($node, 'events_10m', $query, $keys), 0, 'batch: exact after new rows');
$node->safe_psql('postgres', q{
	INSERT INTO events SELECT now() - interval '2 days' - i * interval '1 minute', i % 10, i FROM generate_series(1, 300) i;
	UPDATE events SET device_id = device_id + 1 WHERE ts < now() - interval '2 days' AND ts > now() - interval '50 hours';
	DELETE FROM events WHERE device_id = 5 AND ts < now() - interval '1 day';
	CALL hybridagg.materialize('events_10m', now() - interval '4 days', now() - interval '1 day');
	CALL hybridagg.materialize('events_10m');
});
is(mismatches($node, 'events_10m', $query, $keys), 0, 'batch: exact after late rows, UPDATE, DELETE and materialize');
is($node->safe_psql('postgres', "SELECT mode FROM hybridagg.aggregates WHERE name = 'events_10m'"),
	'batch', 'the status view works');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'hybridagg%'"),
	'0', 'no hybridagg process runs');
($rc, $out, $err) = psql_verbose($node, "SELECT hybridagg.drop('events_10m')");
is($rc, 0, 'drop works') or diag $err;
is(inventory($node), $before, 'nothing left after drop');

# a hybrid aggregate made while preloaded, on a server restarted without
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'hybridagg'\n");
$node->restart;
$node->safe_psql('postgres',
	"SELECT hybridagg.create('events_10m', \$q\$$query\$q\$, mode => 'hybrid', seal_after => '1 hour')");
is(mismatches($node, 'events_10m', $query, $keys), 0, 'hybrid (preloaded): exact after create');
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->restart;
my $log = -s $node->logfile;
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), '', 'restarted without preloading');
($rc, $out, $err) = psql_verbose($node, q{
	INSERT INTO events SELECT now() - i * interval '3 seconds', i % 10, i FROM generate_series(1, 2000) i;
	INSERT INTO events SELECT now() - interval '2 days' - i * interval '1 minute', i % 10, i FROM generate_series(1, 200) i;
	UPDATE events SET value = value + 1 WHERE device_id = 2;
	DELETE FROM events WHERE device_id = 3 AND ts > now() - interval '1 day';
});
is($rc, 0, 'writers still work without the library preloaded') or diag $err;
is(mismatches($node, 'events_10m', $query, $keys), 0, 'hybrid (not preloaded): exact, with every delta pending');
($rc, $out, $err) = psql_verbose($node, q{CALL hybridagg.materialize('events_10m')});
is($rc, 0, 'materialize works') or diag $err;
is(mismatches($node, 'events_10m', $query, $keys), 0, 'hybrid (not preloaded): exact after materialize');
my @bad = grep { /ERROR|FATAL|PANIC/ } split /\n/, slurp_file($node->logfile, $log);
is(join("\n", @bad), '', 'no error in the log');

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
