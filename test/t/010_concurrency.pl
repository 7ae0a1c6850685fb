# Concurrent writers, batch runs and crashes: a hybrid aggregate over a
# 100,000-row table, in a cluster whose default TimeZone is Asia/Kathmandu, stays exact
# in every check made while two pgbench writers run a mix of bulk, single-row
# and late inserts, updates that move rows between buckets and devices, and
# deletes, in sessions with odd TimeZones, while materialize runs every
# second; through a kill -9 of the worker (a crash restart of the cluster),
# a kill -9 of a backend in the middle of materialize, and an immediate
# shutdown, each in the middle of that load; after TRUNCATE and
# COPY; and pending deltas drain to zero once writes stop.  Deadlines are
# generous (60 s and more); how many checks ran and how long a drain took
# are noted, never asserted.
#
# A third aggregate, events_rc, keeps typed states (count, avg) beside
# aggregates kept as recomputed values (percentile_cont, count(DISTINCT),
# hybridagg.last), whose groups every change makes dirty.  A fourth,
# events_cs, keeps combined states (stddev, corr, bit_or: the aggregates' own
# transition states, fed by the capture), whose groups only a deleted or
# updated row makes dirty.
#
# Every check compares the views with their defining queries in one
# statement (test_diff), and the total count of the view with count(*).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use HybridaggTest;

my $node = hybridagg_node('concurrency', conf => q{
timezone = 'Asia/Kathmandu'
restart_after_crash = on
log_statement = none
max_connections = 40
});
load_helpers($node);

my $q1m = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, count(value) AS nv, sum(value) AS total, avg(value) AS mean,
	min(value) AS lo, max(value) AS hi
	FROM events GROUP BY 1, 2};
# hours that start at half past, and a WHERE
my $q1h = q{SELECT date_bin('1 hour', ts, '2000-01-01 00:30+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total, max(value) AS hi
	FROM events WHERE device_id < 7 GROUP BY 1, 2};
# typed states and recomputed values side by side
my $qrc = q{SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, avg(value) AS mean, stddev(value) AS sd,
	percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median,
	count(DISTINCT round(value)) AS distinct_values, hybridagg.last(value, ts) AS latest
	FROM events WHERE device_id < 5 GROUP BY 1, 2};
# typed and combined states side by side
my $qcs = q{SELECT date_bin('5 minutes', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, stddev(value) AS sd, var_pop(value) FILTER (WHERE device_id % 2 = 0) AS vp,
	corr(value, round(value)) AS r, bit_or(round(value)::int) AS bits
	FROM events GROUP BY 1, 2};

$node->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON events (ts);
	INSERT INTO events
	SELECT now() - random() * interval '2 days', (random() * 9)::int,
	       CASE WHEN i % 23 = 0 THEN NULL ELSE 1 + random() * 99 END
	  FROM generate_series(1, 100000) i;
	ANALYZE events;
	SELECT hybridagg.create('events_1m', \$q\$$q1m\$q\$, mode => 'hybrid', seal_after => '30 minutes');
	SELECT hybridagg.create('events_1h', \$q\$$q1h\$q\$, mode => 'hybrid', seal_after => '30 minutes');
	SELECT hybridagg.create('events_rc', \$q\$$qrc\$q\$, mode => 'hybrid', seal_after => '30 minutes');
	SELECT hybridagg.create('events_cs', \$q\$$qcs\$q\$, mode => 'hybrid', seal_after => '30 minutes');
});

# One statement: differing groups of each view, and the view's total count
# against count(*) of the table.  '0|0|0|0|t' when exact.
my $check_sql = qq{
	SET jit = off;
	SELECT test_diff('events_1m', \$q\$$q1m\$q\$, '{bucket,device_id}'),
	       test_diff('events_1h', \$q\$$q1h\$q\$, '{bucket,device_id}'),
	       test_diff('events_rc', \$q\$$qrc\$q\$, '{bucket,device_id}'),
	       test_diff('events_cs', \$q\$$qcs\$q\$, '{bucket,device_id}'),
	       (SELECT coalesce(sum(n), 0) FROM events_1m) = (SELECT count(*) FROM events)};
sub check_exact { return $node->safe_psql('postgres', $check_sql); }

# the largest pile of pending deltas and dirty groups a check has seen
my ($max_pending, $max_dirty) = (0, 0);
sub note_pile
{
	my ($pending, $dirty) = split /\|/, $node->safe_psql('postgres',
		'SELECT sum(pending_deltas), sum(dirty_groups) FROM hybridagg.aggregates');
	$max_pending = $pending if $pending > $max_pending;
	$max_dirty = $dirty if $dirty > $max_dirty;
}

is(check_exact(), '0|0|0|0|t', 'exact after create');

sub worker_pid
{
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres'");
}
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres'"),
	'the worker runs');

# Two writers and the batch side, for $seconds.  The writers are held to
# 400 transactions a second in all (some 8,000 rows written a second, a
# third of the transactions deletes or updates that make groups dirty): the
# rate at which, on two shared cores, a check of the whole view takes well
# under a second.
sub start_load
{
	my ($seconds) = @_;
	return [
		start_pgbench($node,
			clients => 2,
			seconds => $seconds,
			extra => [ '--max-tries=20', '--rate=400' ],
			scripts => [
				qw(mix_bulk.sql@2 mix_single.sql@5 mix_late.sql@3
				  mix_update.sql@3 mix_update_recent.sql@2 mix_delete.sql@2)
			]),
		start_pgbench($node,
			clients => 1,
			seconds => $seconds,
			scripts => [qw(mix_materialize.sql@3 mix_materialize_range.sql@1)]),
	];
}

sub load_running { return scalar grep { pgbench_running($_) } @{ $_[0] }; }

# Check, again and again, while the load runs, for at most $seconds
sub checks_during
{
	my ($load, $seconds) = @_;
	my $deadline = time + $seconds;
	my @results;
	while (load_running($load) && time < $deadline)
	{
		push @results, check_exact();
		note_pile();
		usleep(200_000);
	}
	return @results;
}

sub all_exact { return !grep { $_ ne '0|0|0|0|t' } @_; }

# ---------------------------------------------------------------------
# 20 s of load, checked all along
# ---------------------------------------------------------------------
my $log_start = -s $node->logfile;
my $load = start_load(20);
my @results = checks_during($load, 60);
my ($writers_rc, $writers_out, $writers_err) = finish_pgbench($load->[0]);
my ($batch_rc, $batch_out, $batch_err) = finish_pgbench($load->[1]);
note "writers: $writers_out";
note "batch side: $batch_out";
note scalar(@results) . ' checks during 20 s of load';
cmp_ok(scalar @results, '>', 0, 'checks ran during the load');
ok(all_exact(@results), 'every check during the load is exact')
  or diag join(' ', @results);
is($writers_rc, 0, 'the writers ran without an error') or diag $writers_err;
like($writers_out, qr/number of failed transactions: 0 /, 'no writer transaction failed')
  or diag $writers_out;
like($writers_out, qr/number of transactions actually processed: [1-9]/, 'the writers wrote');
is($batch_rc, 0, 'materialize ran without an error every second') or diag $batch_err;
is(check_exact(), '0|0|0|0|t', 'exact after the load');
note "largest pile seen by a check: $max_pending pending deltas, $max_dirty dirty groups";
ok($max_pending > 0 && $max_dirty > 0, 'checks ran while deltas and dirty groups were pending');

# ---------------------------------------------------------------------
# kill -9 of the worker in the middle of the load: the postmaster restarts
# the cluster (crash recovery)
# ---------------------------------------------------------------------
# (the load would run for 120 s: the crash restart ends it much sooner)
$load = start_load(120);
@results = checks_during($load, 5);
ok(all_exact(@results), 'exact before the kill -9') or diag join(' ', @results);
ok(load_running($load), 'the load still runs when the worker is killed');
# catch the worker in the middle of a fold, if it can be caught within 5 s
# (not a test: the kill comes either way)
my $pid;
poll_within($node,
	"SELECT state = 'active' FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres'",
	5, quiet => 1);
$pid = worker_pid();
like($pid, qr/^\d+$/, 'the worker is found in pg_stat_activity');
note "kill -9 of the hybridagg worker $pid";
kill 'KILL', $pid;
finish_pgbench($_) for @$load;    # their connections are gone: they stop
my $gone = 0;
for (1 .. 600) { if (!kill(0, $pid)) { $gone = 1; last; } usleep(100_000); }
ok($gone, 'the killed worker is gone');
ok($node->poll_query_until('postgres', 'SELECT true'), 'the server accepts connections after crash recovery');
ok($node->log_contains("terminated by signal 9", $log_start), 'the postmaster saw the worker die');
is(check_exact(), '0|0|0|0|t', 'exact after crash recovery: nothing lost, nothing counted twice');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres' AND pid <> $pid"),
	'a new worker runs after crash recovery');
my $after_crash = $node->safe_psql('postgres', 'SELECT clock_timestamp()');

$load = start_load(8);
@results = checks_during($load, 30);
my ($rc, $out, $err) = finish_pgbench($load->[0]);
finish_pgbench($load->[1]);
note scalar(@results) . ' checks during 8 s of load after the crash';
cmp_ok(scalar @results, '>', 0, 'checks made during the load after the crash');
ok(all_exact(@results), 'exact under load after the crash') or diag join(' ', @results);
is($rc, 0, 'the writers ran without an error after the crash') or diag $err;
ok(defined poll_within($node,
	"SELECT bool_and(last_fold_at > '$after_crash') FROM hybridagg.aggregates", 120),
	'the new worker folds both aggregates')
  or diag $node->safe_psql('postgres',
	'SELECT now(), name, folds, folded_deltas, last_fold_at, pending_deltas, last_error FROM hybridagg.aggregates');
is(check_exact(), '0|0|0|0|t', 'exact after the load that followed the crash');

# ---------------------------------------------------------------------
# kill -9 of the backend that runs materialize, in the middle of it
# ---------------------------------------------------------------------
$load = start_load(120);
@results = checks_during($load, 3);
ok(all_exact(@results), 'exact before killing materialize') or diag join(' ', @results);
my $mat_pid;
for (1 .. 1200)
{
	$mat_pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'CALL hybridagg.materialize%'");
	last if $mat_pid =~ /^\d+$/;
	usleep(50_000);
}
like($mat_pid, qr/^\d+$/, 'a backend running materialize is found');
note "kill -9 of the backend $mat_pid running materialize";
kill 'KILL', $mat_pid if $mat_pid =~ /^\d+$/;
finish_pgbench($_) for @$load;
$gone = 0;
for (1 .. 600) { if (!kill(0, $mat_pid)) { $gone = 1; last; } usleep(100_000); }
ok($gone, 'the killed backend is gone');
ok($node->poll_query_until('postgres', 'SELECT true'), 'the server accepts connections after crash recovery');
is(check_exact(), '0|0|0|0|t', 'exact after a crash in the middle of materialize');
($rc, $out, $err) = psql_verbose($node, "CALL hybridagg.materialize('events_1m'); CALL hybridagg.materialize('events_1h'); CALL hybridagg.materialize('events_rc'); CALL hybridagg.materialize('events_cs');");
is($rc, 0, 'materialize runs again after the crash') or diag $err;
is(check_exact(), '0|0|0|0|t', 'exact after materialize ran again');

# ---------------------------------------------------------------------
# immediate shutdown in the middle of the load, then start
# ---------------------------------------------------------------------
$load = start_load(120);
@results = checks_during($load, 4);
ok(all_exact(@results), 'exact before the immediate shutdown') or diag join(' ', @results);
ok(load_running($load), 'the load still runs at the immediate shutdown');
$node->stop('immediate');
finish_pgbench($_) for @$load;
$node->start;
is(check_exact(), '0|0|0|0|t', 'exact after an immediate shutdown and restart');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker' AND datname = 'postgres'"),
	'the worker runs again after the restart');

$load = start_load(8);
@results = checks_during($load, 30);
($rc, $out, $err) = finish_pgbench($load->[0]);
finish_pgbench($load->[1]);
note scalar(@results) . ' checks during 8 s of load after the restart';
cmp_ok(scalar @results, '>', 0, 'checks made during the load after the restart');
ok(all_exact(@results), 'exact under load after the restart') or diag join(' ', @results);
is($rc, 0, 'the writers ran without an error after the restart') or diag $err;

# ---------------------------------------------------------------------
# writes stop: pending deltas drain, and the folded state is exact
# ---------------------------------------------------------------------
my $took = poll_within($node,
	"SELECT bool_and(pending_deltas = 0) FROM hybridagg.aggregates", 120);
ok(defined $took, 'pending deltas reach 0 after writes stop');
note sprintf('drained in %.1f s', $took // -1);
ok(defined poll_within($node,
	"SELECT bool_and(dirty_groups = 0) FROM hybridagg.aggregates", 120),
	'dirty groups reach 0 too');
is(check_exact(), '0|0|0|0|t', 'exact once everything is folded');
is($node->safe_psql('postgres', 'SELECT count(*) FROM hybridagg.aggregates WHERE last_error IS NOT NULL'),
	'0', 'no aggregate has an error');

# ---------------------------------------------------------------------
# TRUNCATE and COPY
# ---------------------------------------------------------------------
my $dir = PostgreSQL::Test::Utils::tempdir;
$node->safe_psql('postgres', qq{
	COPY events TO '$dir/events.copy';
	TRUNCATE events;
});
is(check_exact(), '0|0|0|0|t', 'exact after TRUNCATE');
is($node->safe_psql('postgres', 'SELECT count(*) FROM events_1m'), '0', 'the view is empty after TRUNCATE');
$node->safe_psql('postgres', qq{COPY events FROM '$dir/events.copy'});
is(check_exact(), '0|0|0|0|t', 'exact after COPY');
ok(defined poll_within($node,
	"SELECT bool_and(pending_deltas = 0) FROM hybridagg.aggregates", 120),
	'the COPY is folded');
is(check_exact(), '0|0|0|0|t', 'exact after the COPY is folded');

is(server_crashes($node, $log_start), '', 'no server process crashed but the one killed');
my $log = slurp_file($node->logfile, $log_start);
my $kills = () = $log =~ /terminated by signal 9/g;
is($kills, 2, 'exactly two processes died of SIGKILL: the worker and the backend running materialize');

$node->stop;
done_testing();
