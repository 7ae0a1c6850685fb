# A hot standby of a primary with a hybrid aggregate: no hybridagg worker
# runs there and nothing errors in its log, its view is readable and equals
# its raw query after catching up (also while the primary has pending
# deltas, after materialize and after TRUNCATE); once promoted, a worker
# starts there and folds.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $primary = hybridagg_node('primary',
	init => { allows_streaming => 1 },
	conf => "max_connections = 30\ntimezone = 'Asia/Kathmandu'\nhybridagg.launcher_interval = 1\n");
load_helpers($primary);

my $query = q{SELECT date_bin('5 minutes', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi
	FROM events GROUP BY 1, 2};
my $keys = [ 'bucket', 'device_id' ];
$primary->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON events (ts);
	INSERT INTO events SELECT now() - random() * interval '2 days', i % 10, 1 + i % 100
	  FROM generate_series(1, 30000) i;
	SELECT hybridagg.create('events_5m', \$q\$$query\$q\$, mode => 'hybrid');
	CALL hybridagg.materialize('events_5m');
});
ok($primary->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker'"),
	'a worker runs on the primary');

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
my $standby_log = -s $standby->logfile;

# late rows, updates and deletes on the primary, with deltas still pending
# when the standby reads
sub write_some
{
	my ($round) = @_;
	$primary->safe_psql('postgres', qq{
		INSERT INTO events SELECT now() - i * interval '7 seconds', i % 10, $round + i % 50
		  FROM generate_series(1, 2000) i;
		INSERT INTO events SELECT now() - interval '1 day' - i * interval '1 minute', i % 10, i
		  FROM generate_series(1, 200) i;
		UPDATE events SET device_id = device_id + 1, ts = ts - interval '3 hours'
		 WHERE ts > now() - interval '20 hours' AND ts < now() - interval '19 hours';
		DELETE FROM events WHERE device_id = $round % 10 AND ts > now() - interval '6 hours';
	});
}

sub standby_exact
{
	my ($name) = @_;
	$primary->wait_for_catchup($standby);
	is(mismatches($standby, 'events_5m', $query, $keys), 0, "standby: exact $name");
}

standby_exact('after catching up with the backup');
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is($standby->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'hybridagg%'"),
	'0', 'no hybridagg launcher or worker on the standby');

for my $round (1 .. 3)
{
	write_some($round);
	standby_exact("after writes on the primary, round $round");
	is(mismatches($primary, 'events_5m', $query, $keys), 0, "primary: exact, round $round");
}

# pending deltas replayed as they are
$primary->safe_psql('postgres', q{
	BEGIN;
	INSERT INTO events SELECT now() - i * interval '1 second', 3, i FROM generate_series(1, 500) i;
	DELETE FROM events WHERE device_id = 4 AND ts > now() - interval '2 hours';
	COMMIT;
});
standby_exact('right after a commit on the primary');

ok(defined poll_within($primary,
	"SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates", 120),
	'the primary folds everything');
standby_exact('once the primary folded everything');
# a standby has no statistics of the primary's writes: its table sizes are
# the planner's, as of the last ANALYZE on the primary
$primary->safe_psql('postgres', 'ANALYZE');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres',
	"SELECT pending_deltas = 0 AND recent_rows > 0 AND history_rows > 0 FROM hybridagg.aggregates WHERE name = 'events_5m'"),
	't', 'the status view is readable on the standby');

$primary->safe_psql('postgres', q{
	UPDATE events SET value = value + 1 WHERE ts < now() - interval '1 day';
	CALL hybridagg.materialize('events_5m', now() - interval '3 days', now() - interval '1 day');
});
standby_exact('after materialize of a range on the primary');

$primary->safe_psql('postgres', q{
	TRUNCATE events;
	INSERT INTO events SELECT now() - i * interval '3 minutes', i % 10, i FROM generate_series(1, 1000) i;
});
standby_exact('after TRUNCATE and new rows on the primary');

is($standby->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'hybridagg%'"),
	'0', 'still no hybridagg process on the standby');
my $log = slurp_file($standby->logfile, $standby_log);
my @bad = grep { /ERROR|FATAL|PANIC|WARNING/ } split /\n/, $log;
is(join("\n", @bad), '', 'nothing in the standby log is an error or a warning');

# what a standby refuses, it refuses cleanly
# (PostgreSQL's own writes fail there with 25006, read_only_sql_transaction)
my ($rc, $out, $err);
for my $call (
	"CALL hybridagg.materialize('events_5m')",
	"CALL hybridagg.materialize('events_5m', now() - interval '1 day', now())",
	"SELECT hybridagg.reprocess('events_5m', now() - interval '1 day', now())",
	"SELECT hybridagg.create('events_1h', \$q\$$query\$q\$, mode => 'batch')",
	"SELECT hybridagg.drop('events_5m')")
{
	($rc, $out, $err) = psql_verbose($standby, $call);
	isnt($rc, 0, "on the standby, $call fails");
	like($err, qr/ERROR:  25006:/, "on the standby, $call fails with read_only_sql_transaction")
	  or diag $err;
}

# promoted, it gets a worker that folds
$standby->promote;
ok($standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'), 'the standby is promoted');
ok($standby->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres'"),
	'a hybridagg worker starts on the promoted standby');
$standby->safe_psql('postgres', q{
	INSERT INTO events SELECT now() - i * interval '11 seconds', i % 10, i FROM generate_series(1, 3000) i;
	DELETE FROM events WHERE device_id = 2;
});
is(mismatches($standby, 'events_5m', $query, $keys), 0, 'promoted: exact with pending deltas');
ok(defined poll_within($standby,
	"SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates", 120),
	'promoted: the new worker folds');
is(mismatches($standby, 'events_5m', $query, $keys), 0, 'promoted: exact once folded');
is($standby->safe_psql('postgres', 'SELECT last_error FROM hybridagg.aggregates'), '',
	'promoted: no error recorded');

ok(!$primary->log_contains('terminated by signal'), 'no process crashed on the primary');
ok(!$standby->log_contains('terminated by signal'), 'no process crashed on the standby');
$standby->stop;
$primary->stop;
done_testing();
