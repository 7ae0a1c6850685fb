# pg_cron drives the batch side: every minute one job seals what is due
# (CALL hybridagg.materialize('events_1m')) and another recomputes the last
# day (CALL hybridagg.materialize('events_1m', now() - '1 day', now())), as
# a refresh window would.  After late rows, an UPDATE and a DELETE below the
# watermark, the batch view is stale until a run that started after them;
# then it equals the raw query again, and the watermark has moved on; the
# cost counters count the runs, and advise() reads the schedule.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('cron', preload => ['pg_cron'], no_start => 1);
$node->append_conf('postgresql.conf', sprintf(
	"cron.database_name = 'postgres'\ncron.host = '%s'\ntimezone = 'Asia/Kathmandu'\n", $node->host));
$node->start;
load_helpers($node);

my $query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
	FROM events GROUP BY 1, 2};
my $keys = [ 'bucket', 'device_id' ];
$node->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE EXTENSION pg_cron;
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON events (ts);
	INSERT INTO events SELECT now() - random() * interval '2 days', i % 10, 1 + i % 100
	  FROM generate_series(1, 10000) i;
	SELECT hybridagg.create('events_1m', \$q\$$query\$q\$, mode => 'batch', seal_after => '1 minute');
});
is(mismatches($node, 'events_1m', $query, $keys), 0, 'exact after create');

$node->safe_psql('postgres', q{
	SELECT cron.schedule('events_1m-seal', '* * * * *', $$CALL hybridagg.materialize('events_1m')$$);
	SELECT cron.schedule('events_1m-refresh', '* * * * *',
	                     $$CALL hybridagg.materialize('events_1m', now() - interval '1 day', now())$$);
});

# late rows, an UPDATE and a DELETE, all below the watermark; and new rows
my $watermark = $node->safe_psql('postgres', "SELECT watermark FROM hybridagg.aggregates WHERE name = 'events_1m'");
$node->safe_psql('postgres', q{
	SET TimeZone = 'America/St_Johns';
	INSERT INTO events SELECT now() - interval '3 hours' - i * interval '10 seconds', i % 10, i
	  FROM generate_series(1, 500) i;
	INSERT INTO events SELECT now() - interval '20 hours' - i * interval '1 minute', 42, i
	  FROM generate_series(1, 50) i;
	UPDATE events SET device_id = device_id + 10, ts = ts + interval '1 hour'
	 WHERE ts > now() - interval '6 hours' AND ts < now() - interval '5 hours';
	DELETE FROM events WHERE device_id = 4 AND ts > now() - interval '12 hours' AND ts < now() - interval '2 hours';
	INSERT INTO events SELECT now() - i * interval '1 second', i % 10, i FROM generate_series(1, 30) i;
});
cmp_ok(mismatches($node, 'events_1m', $query, $keys), '>', 0,
	'the batch view does not show the late changes yet, and the check sees it');
my $written = $node->safe_psql('postgres', 'SELECT clock_timestamp()');

# a run of each job that started after the writes, and succeeded
my $ran = qq{
	SELECT count(DISTINCT j.jobname) = 2
	  FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	 WHERE d.status = 'succeeded' AND d.start_time > '$written'};
ok(defined poll_within($node, $ran, 150), 'pg_cron ran both jobs after the writes')
  or diag $node->safe_psql('postgres',
	'SELECT jobid, status, return_message, start_time, end_time FROM cron.job_run_details ORDER BY runid');
is(mismatches($node, 'events_1m', $query, $keys), 0, 'the view reflects the late rows, the UPDATE and the DELETE');
is($node->safe_psql('postgres', "SELECT watermark > '$watermark' FROM hybridagg.aggregates WHERE name = 'events_1m'"),
	't', 'the sealing job moved the watermark');
is($node->safe_psql('postgres', "SELECT count(*) FROM cron.job_run_details WHERE status <> 'succeeded' AND status <> 'running'"),
	'0', 'no pg_cron run failed')
  or diag $node->safe_psql('postgres', 'SELECT jobid, status, return_message FROM cron.job_run_details');
is($node->safe_psql('postgres', "SELECT batches > 0 AND last_error IS NULL FROM hybridagg.aggregates WHERE name = 'events_1m'"),
	't', 'the status view counts the batch runs');
is($node->safe_psql('postgres', "SELECT batch_runs > 0 AND batch_seconds > 0 FROM hybridagg.aggregates WHERE name = 'events_1m'"),
	't', 'and so do the cost counters, from pg_cron\'s sessions');

# advise() finds the job that materializes the aggregate, and its schedule:
# a run a minute, measured
is($node->safe_psql('postgres', q{
	SELECT figures LIKE '%batch: measured%schedule: pg_cron ''* * * * *''%'
	       AND round(batch_seconds_per_day / batch_seconds_per_run) = 1440
	  FROM hybridagg.advise('events_1m') WHERE mode = 'batch'}),
	't', 'advise() reads the pg_cron schedule')
  or diag $node->safe_psql('postgres', "SELECT figures, batch_seconds_per_run, batch_seconds_per_day FROM hybridagg.advise('events_1m') WHERE mode = 'batch'");

$node->safe_psql('postgres', q{SELECT cron.unschedule(jobid) FROM cron.job});
ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
