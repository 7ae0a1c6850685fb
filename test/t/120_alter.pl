# hybridagg.alter() on a live aggregate: while two pgbench writers insert
# (new and late rows), update and delete, the aggregate is switched through
# all five modes, every ordered pair of them (a walk of 20 switches, again
# and again while the writers run), and after each switch, right after and
# a moment later, the view is compared with its defining query in one
# statement: it never differs, and history never holds fewer buckets below
# the watermark.
# Then a kill -9 of a backend caught in the middle of an alter (held at the
# replacement of the view by a reader's open transaction), batch -> hybrid
# and hybrid -> batch: after crash recovery the aggregate is in its old mode
# with nothing of the alter left, exact, and the alter runs again.  Last,
# an alter to batch while a reader holds the base table leaves the capture
# triggers disabled (a drop would wait); an alter back enables them again,
# and the worker drops them once the table is free.
#
# The writers write in the last two days and an hour; seal_after is three
# days, so that batch mode's watermark stays below every write (batch serves
# the buckets below it as last materialized, by design) and history holds
# the buckets of days 3 to 5, which no writer touches.  Deadlines are
# generous; how many switches and checks ran is noted, never asserted as a
# speed.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use HybridaggTest;

my $node = hybridagg_node('alter', conf => q{
timezone = 'Asia/Kathmandu'
restart_after_crash = on
log_statement = none
max_connections = 40
});
load_helpers($node);

# typed states and a recomputed one (stddev)
my $q = q{SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo,
	max(value) AS hi, stddev(value) AS sd
	FROM events GROUP BY 1, 2};

$node->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON events (ts);
	INSERT INTO events
	SELECT now() - random() * interval '2 days', (random() * 9)::int,
	       CASE WHEN i % 23 = 0 THEN NULL ELSE 1 + random() * 99 END
	  FROM generate_series(1, 40000) i;
	INSERT INTO events
	SELECT now() - interval '3 days 4 hours' - random() * interval '44 hours',
	       (random() * 9)::int, 1 + random() * 99
	  FROM generate_series(1, 20000) i;
	ANALYZE events;
	SELECT hybridagg.create('events_10m', \$q\$$q\$q\$, mode => 'batch', seal_after => '3 days');
});
my $id = $node->safe_psql('postgres',
	"SELECT id FROM hybridagg_internal.aggregate WHERE view = 'events_10m'::regclass");

# One statement: the groups that differ, and the view's total count against
# count(*) of the table.  '0|t' when exact.
my $check_sql = qq{
	SET jit = off;
	SELECT test_diff('events_10m', \$q\$$q\$q\$, '{bucket,device_id}'),
	       (SELECT coalesce(sum(n), 0) FROM events_10m) = (SELECT count(*) FROM events)};
sub check_exact { return $node->safe_psql('postgres', $check_sql); }

sub history_buckets
{
	return $node->safe_psql('postgres',
		"SELECT count(DISTINCT h.g1) FROM hybridagg_internal.history_$id h, hybridagg_internal.aggregate a WHERE a.id = $id AND h.g1 < a.watermark");
}

sub shown_mode
{
	return $node->safe_psql('postgres',
		"SELECT mode FROM hybridagg.aggregates WHERE name = 'events_10m'");
}

is(check_exact(), '0|t', 'exact after create');
my $history = history_buckets();
cmp_ok($history, '>', 100, 'history holds the buckets of days 3 to 5');

# every ordered pair of the five modes, from batch back to batch
my @walk = qw(batch streaming batch lambda batch kappa batch hybrid streaming
  lambda streaming kappa streaming hybrid lambda kappa lambda hybrid kappa
  hybrid batch);

# ---------------------------------------------------------------------
# switches under two writers
# ---------------------------------------------------------------------
my $log_start = -s $node->logfile;
my $load = start_pgbench($node,
	clients => 2,
	seconds => 90,
	extra => [ '--max-tries=20', '--rate=300' ],
	scripts => [
		qw(mix_bulk.sql@2 mix_single.sql@5 mix_late.sql@3
		  mix_update.sql@3 mix_update_recent.sql@2 mix_delete.sql@2)
	]);

my (@wrong, @errors, @lost, @shown);
my ($switches, $checks) = (0, 0);
WALK: while (pgbench_running($load))
{
	for my $i (1 .. $#walk)
	{
		last WALK unless pgbench_running($load);
		my $mode = $walk[$i];
		my ($rc, $out, $err) = psql_verbose($node,
			"SELECT hybridagg.alter('events_10m', mode => '$mode')");
		if ($rc != 0)
		{
			push @errors, "$walk[$i - 1] -> $mode: $err";
			next;
		}
		$switches++;
		for my $when ('right after', 'a moment after')
		{
			usleep(300_000) if $when eq 'a moment after';
			my $result = check_exact();
			$checks++;
			push @wrong, "$result $when $walk[$i - 1] -> $mode"
			  if $result ne '0|t';
		}
		my $buckets = history_buckets();
		push @lost, "$history -> $buckets at $walk[$i - 1] -> $mode"
		  if $buckets < $history;
		$history = $buckets;
		my $shown = shown_mode();
		push @shown, "$shown after $walk[$i - 1] -> $mode" if $shown ne $mode;
	}
}
my ($writers_rc, $writers_out, $writers_err) = finish_pgbench($load);
note "$switches switches and $checks checks while the writers ran";
note "writers: $writers_out";

is($writers_rc, 0, 'the writers ran without an error') or diag $writers_err;
is(join("\n", @errors), '', 'every alter succeeded under the writers');
cmp_ok($switches, '>=', 20, 'all 20 ordered pairs of modes were switched while the writers ran');
is(join("\n", @wrong), '', 'the view never differed from its query, right after a switch or a moment later');
is(join("\n", @lost), '', 'history never held fewer buckets');
is(join("\n", @shown), '', 'the status view showed the new mode at once');
is(check_exact(), '0|t', 'exact once the writers stopped');

# ---------------------------------------------------------------------
# kill -9 of a backend in the middle of an alter
# ---------------------------------------------------------------------

# A reader's transaction, open for minutes, holds the view's groups_<id>:
# the alter does everything before replacing it, then waits.
sub start_sql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	my @cmd = ($node->installed_command('psql'), '-X', '-h', $node->host,
		'-p', $node->port, '-d', 'postgres', '-c', $sql);
	return IPC::Run::start(\@cmd, '<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout(600));
}

sub alter_killed_midway
{
	my ($from, $to) = @_;
	is(shown_mode(), $from, "in $from mode before the crash");
	my $reader = start_sql(
		"SELECT count(*) FROM events_10m; SELECT pg_sleep(600)");
	ok(defined poll_within($node,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM events_10m;%' AND wait_event = 'PgSleep'", 60),
		"a reader holds the view ($from -> $to)");
	my $alter = start_sql("SELECT hybridagg.alter('events_10m', mode => '$to')");
	ok(defined poll_within($node,
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT hybridagg.alter%' AND wait_event_type = 'Lock'", 60),
		"the alter $from -> $to waits, half done, for the reader");
	my $pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT hybridagg.alter%' AND wait_event_type = 'Lock'");
	like($pid, qr/^\d+$/, 'the backend running the alter is found');
	note "kill -9 of the backend $pid running the alter $from -> $to";
	kill 'KILL', $pid;
	eval { $alter->finish; };
	eval { $reader->finish; };
	ok($node->poll_query_until('postgres', 'SELECT true'),
		'the server accepts connections after crash recovery');

	is(shown_mode(), $from, "still in $from mode after the crash");
	is(check_exact(), '0|t', "exact after a crash in the middle of $from -> $to");
	my $capture = $from eq 'batch' ? 0 : 4;
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events'::regclass AND tgenabled = 'A'"),
		$capture, "the capture triggers are as in $from mode");
	is($node->safe_psql('postgres',
		"SELECT to_regclass('hybridagg_internal.recent_$id') IS NULL"),
		$from eq 'batch' ? 't' : 'f', "recent_<id> is as in $from mode");
	cmp_ok(history_buckets(), '>=', $history, 'history kept its buckets');

	my ($rc, $out, $err) = psql_verbose($node,
		"SELECT hybridagg.alter('events_10m', mode => '$to')");
	is($rc, 0, "the alter $from -> $to runs again after the crash") or diag $err;
	is(shown_mode(), $to, "in $to mode");
	$node->safe_psql('postgres', q{
		INSERT INTO events VALUES (now(), 3, 42), (now() - interval '5 hours', 4, 7);
		DELETE FROM events WHERE ctid = (SELECT ctid FROM events WHERE ts > now() - interval '1 day' LIMIT 1);
	});
	$node->safe_psql('postgres', "SELECT hybridagg.fold('events_10m')");
	is(check_exact(), '0|t', "exact after writes and a fold in $to mode");
	$history = history_buckets();
}

# the writers may have stopped in the middle of a walk
if (shown_mode() ne 'batch')
{
	my ($rc, $out, $err) = psql_verbose($node,
		"SELECT hybridagg.alter('events_10m', mode => 'batch')");
	is($rc, 0, 'back to batch mode') or diag $err;
	is(check_exact(), '0|t', 'exact in batch mode');
	$history = history_buckets();
}
alter_killed_midway('batch', 'hybrid');
alter_killed_midway('hybrid', 'batch');

# ---------------------------------------------------------------------
# capture triggers whose drop would wait: disabled, enabled again by an
# alter back, dropped by the worker once the table is free
# ---------------------------------------------------------------------
sub capture_triggers
{
	return $node->safe_psql('postgres',
		"SELECT count(*) FILTER (WHERE tgenabled = 'A') || '|' || count(*) FILTER (WHERE tgenabled = 'D') "
		  . "FROM pg_trigger WHERE tgrelid = 'events'::regclass AND tgname LIKE 'hybridagg\\_capture\\_%'");
}

sub writes_then_exact
{
	my ($what) = @_;
	$node->safe_psql('postgres', q{
		INSERT INTO events VALUES (now(), 5, 11), (now() - interval '7 hours', 6, 12);
		UPDATE events SET value = value + 1 WHERE ctid = (SELECT ctid FROM events WHERE ts > now() - interval '1 day' LIMIT 1);
	});
	$node->safe_psql('postgres', "SELECT hybridagg.fold('events_10m')");
	is(check_exact(), '0|t', "exact after writes and a fold, $what");
}

$node->safe_psql('postgres', q{
	CREATE TABLE keeps_worker (ts timestamptz NOT NULL, v int);
	SELECT hybridagg.create('keeps_worker_1h', $$SELECT date_bin('1 hour', ts, '2000-01-01') AS b, count(*) AS n FROM keeps_worker GROUP BY 1$$);
	SELECT hybridagg.alter('events_10m', mode => 'hybrid');
});
is(capture_triggers(), '4|0', 'hybrid: four capture triggers fire');
my $holder = start_sql("SELECT count(*) FROM events; SELECT pg_sleep(600)");
ok(defined poll_within($node,
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM events;%' AND wait_event = 'PgSleep'", 60),
	'a reader holds the base table');
my ($rc, $out, $err) = psql_verbose($node, "SELECT hybridagg.alter('events_10m', mode => 'batch')");
is($rc, 0, 'hybrid -> batch while a reader holds the table') or diag $err;
is(capture_triggers(), '0|4', 'the capture triggers are disabled, not dropped: a drop would wait for the reader');
writes_then_exact('in batch mode with disabled triggers');
($rc, $out, $err) = psql_verbose($node, "SELECT hybridagg.alter('events_10m', mode => 'streaming')");
is($rc, 0, 'batch -> streaming while the reader still holds the table') or diag $err;
is(capture_triggers(), '4|0', 'the same four triggers fire again');
writes_then_exact('in streaming mode with the triggers enabled again');
($rc, $out, $err) = psql_verbose($node, "SELECT hybridagg.alter('events_10m', mode => 'batch')");
is($rc, 0, 'streaming -> batch, the reader still there') or diag $err;
is(capture_triggers(), '0|4', 'disabled again');
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM events;%'");
eval { $holder->finish; };
my $took = poll_within($node, "SELECT count(*) = 0 FROM pg_trigger WHERE tgrelid = 'events'::regclass", 180);
ok(defined $took, 'the worker drops the disabled triggers once the table is free');
note sprintf('dropped after %.0f s', $took // -1);
writes_then_exact('in batch mode once the triggers are gone');

is(server_crashes($node, $log_start), '', 'no server process crashed but the ones killed');
my $log = slurp_file($node->logfile, $log_start);
my $kills = () = $log =~ /terminated by signal 9/g;
is($kills, 2, 'exactly two processes died of SIGKILL: the backends running alter');

$node->stop;
done_testing();
