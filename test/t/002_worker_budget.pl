# Worker slots and the worker budget.  With max_worker_processes = 8 there
# are 9 database slots: databases created and dropped one after another, many
# more than 9, each get a worker that folds (a dropped database gives its
# slot back).  Then more databases with a streaming aggregate than
# hybridagg.max_workers = 3: never more than 3 workers, the others say
# 'waiting for a worker slot' in hybridagg.aggregates and are logged once with
# a hint, and get a worker as soon as one leaves.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $budget = 3;
my $node = hybridagg_node('budget',
	conf => "max_worker_processes = 8\nhybridagg.max_workers = $budget\n"
	  . "hybridagg.launcher_interval = 1s\n");

my $query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total FROM events GROUP BY 1, 2};

# a database with a streaming aggregate and pending deltas
sub make_database
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{
		CREATE EXTENSION hybridagg;
		CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
		SELECT hybridagg.create('events_1m', \$q\$$query\$q\$, mode => 'streaming');
		INSERT INTO events SELECT now() - i * interval '1 second', i % 5, i FROM generate_series(1, 200) i;
	});
}

my $workers_sql =
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'hybridagg worker'";
my $most_workers = 0;

# poll $sql in $db until 't', noting the most workers seen meanwhile
sub poll_counting
{
	my ($sql, $db, $seconds) = @_;
	my $deadline = time + $seconds;
	while (time < $deadline)
	{
		my $n = $node->safe_psql('postgres', $workers_sql);
		$most_workers = $n if $n > $most_workers;
		my ($rc, $out) = $node->psql($db, $sql);
		return 1 if $rc == 0 && $out eq 't';
		select(undef, undef, undef, 0.1);
	}
	diag("not 't' after $seconds s in $db: $sql");
	return 0;
}

# 1. twelve databases, one after another, more than the 9 slots
my $all_folded = 1;
for my $i (1 .. 12)
{
	make_database("serial_$i");
	$all_folded &&= poll_counting(
		"SELECT pending_deltas = 0 FROM hybridagg.aggregates", "serial_$i", 60);
	$node->safe_psql('postgres', "DROP DATABASE serial_$i WITH (FORCE)");
	last unless $all_folded;
}
ok($all_folded, 'each of 12 databases created and dropped in turn gets a worker that folds');

# 2. five databases with streaming aggregates for a budget of three
my $log = -s $node->logfile;
my @dbs = map { "busy_$_" } 1 .. 5;
make_database($_) for @dbs;

ok(poll_counting("SELECT ($workers_sql) = $budget", 'postgres', 60),
	"$budget workers run");
my (@running, @waiting);
for my $db (@dbs)
{
	my $state = $node->safe_psql($db, 'SELECT worker FROM hybridagg.aggregates');
	push @running, $db if $state eq 'running';
	push @waiting, $db if $state eq 'waiting for a worker slot';
}
is(scalar(@running), $budget, "$budget databases show worker = 'running'");
is(scalar(@waiting), 5 - $budget, "the others show worker = 'waiting for a worker slot'");
for my $db (@waiting)
{
	ok(poll_counting("SELECT pending_deltas > 0 FROM hybridagg.aggregates", $db, 1),
		"$db: its deltas wait");
}

# logged once per waiting database, with a hint; the launcher scans every
# second meanwhile
ok( poll_counting(
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg launcher'",
		'postgres', 60),
	'the launcher runs');
my $waited = 0;
for my $db (@waiting)
{
	$waited++
	  if defined $node->wait_for_log(qr/database "$db" is waiting for a worker: all $budget hybridagg workers are busy/, $log);
}
is($waited, scalar(@waiting), 'each waiting database is logged');
# a few more launcher scans (one a second) before counting the lines
poll_counting('SELECT pg_sleep(3) IS NOT NULL', 'postgres', 10);
my $text = slurp_file($node->logfile, $log);
for my $db (@waiting)
{
	my @lines = ($text =~ /database "$db" is waiting for a worker/g);
	is(scalar(@lines), 1, "$db is logged once");
}
like($text, qr/HINT:  Raise hybridagg.max_workers/, 'with a hint naming hybridagg.max_workers');

# a running database drops its aggregate: its worker leaves, a waiting one
# gets it and folds
$node->safe_psql($running[0], "SELECT hybridagg.drop('events_1m')");
my $deadline = time + 90;
my $served;
while (!defined $served && time < $deadline)
{
	for my $db (@waiting)
	{
		$served = $db if $node->safe_psql($db,
			"SELECT pending_deltas = 0 AND worker = 'running' FROM hybridagg.aggregates") eq 't';
	}
	poll_counting('SELECT true', 'postgres', 1);
}
ok(defined $served, 'a waiting database gets the worker that left, and folds');
cmp_ok($node->safe_psql('postgres', $workers_sql), '<=', $budget, 'still within the budget');
$node->safe_psql($running[1], "SELECT hybridagg.drop('events_1m')");
ok( poll_counting(
		"SELECT pending_deltas = 0 FROM hybridagg.aggregates", $_, 90),
	"$_ folds in the end") for @waiting;
for my $db (@waiting)
{
	load_helpers($node, $db);
	is(mismatches($node, 'events_1m', $query, [ 'bucket', 'device_id' ], $db), 0, "$db is exact");
}
cmp_ok($most_workers, '<=', $budget, "never more than $budget workers at once");

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
