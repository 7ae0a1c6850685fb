# The cost counters of hybridagg.aggregates (costs.c): exact under
# concurrent writers (four pgbench clients, each statement counted once),
# and they outlive a restart, as pg_stat_statements' do: the postmaster
# saves them when it shuts down (also in an immediate stop) and reads them
# back at start; after a crash (a crash restart of the cluster) they start
# again from zero.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('costs', conf => "restart_after_crash = on\n");

my $query = q{SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device,
	count(*) AS n FROM events GROUP BY 1, 2};
$node->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE TABLE events (ts timestamptz NOT NULL, device int NOT NULL);
	SELECT hybridagg.create('events_1h', \$q\$$query\$q\$, mode => 'streaming');
	SELECT hybridagg.reset_costs('events_1h');
	INSERT INTO events SELECT '2024-01-01 00:00+00'::timestamptz + i * interval '1 minute', i % 3
	  FROM generate_series(1, 100) i;
	INSERT INTO events VALUES ('2024-01-02 00:00+00', 1);
	INSERT INTO events VALUES ('2024-01-02 00:00+00', 2);
});
my $counters = q{SELECT capture_statements || '/' || capture_rows || '/' || capture_groups
	FROM hybridagg.aggregates WHERE name = 'events_1h'};
is($node->safe_psql('postgres', $counters), '3/102/8', 'three statements counted');
my $since = $node->safe_psql('postgres',
	"SELECT costs_since FROM hybridagg.aggregates WHERE name = 'events_1h'");

$node->restart;
is($node->safe_psql('postgres', $counters), '3/102/8',
	'the counters survive a clean restart');
is($node->safe_psql('postgres',
	"SELECT costs_since FROM hybridagg.aggregates WHERE name = 'events_1h'"),
	$since, 'and still count from when they were reset');
ok(!-e $node->data_dir . '/pg_stat/hybridagg_costs.stat',
	'the file is removed once read');

$node->safe_psql('postgres', "INSERT INTO events VALUES ('2024-01-03 00:00+00', 1)");
is($node->safe_psql('postgres', $counters), '4/103/9', 'and go on counting');

# four clients, 500 transactions each of a 1-row and a 3-row INSERT, at
# once: every statement and row counted, and every delta row folded exactly
# once (counted from a reset when nothing was pending)
$node->poll_query_until('postgres',
	"SELECT pending_deltas = 0 FROM hybridagg.aggregates WHERE name = 'events_1h'")
  or die 'deltas still pending';
$node->safe_psql('postgres', "SELECT hybridagg.reset_costs('events_1h')");
$node->pgbench('--no-vacuum --client=4 --jobs=4 --transactions=500', 0,
	[qr{processed: 2000/2000}], [qr{^$}], 'concurrent writers',
	{ 'costs_writes' => q{
INSERT INTO events VALUES ('2024-02-01 00:00+00'::timestamptz + random() * interval '1 day', 1);
INSERT INTO events SELECT '2024-02-01 00:00+00'::timestamptz + random() * interval '1 day', i FROM generate_series(1, 3) i;
} });
is($node->safe_psql('postgres', q{SELECT capture_statements || '/' || capture_rows
	FROM hybridagg.aggregates WHERE name = 'events_1h'}),
	'4000/8000', 'every concurrent statement and row counted once');
ok($node->poll_query_until('postgres', q{SELECT pending_deltas = 0 AND fold_deltas = capture_groups
	FROM hybridagg.aggregates WHERE name = 'events_1h'}),
	'every delta row folded and counted once')
  or diag $node->safe_psql('postgres', q{SELECT pending_deltas, fold_deltas, capture_groups
	FROM hybridagg.aggregates WHERE name = 'events_1h'});
$counters = q{SELECT capture_statements || '/' || capture_rows || '/' || capture_groups
	FROM hybridagg.aggregates WHERE name = 'events_1h'};
my $before_stop = $node->safe_psql('postgres', $counters);

# an immediate stop is a clean exit of the postmaster too: kept
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', $counters), $before_stop,
	'the counters survive an immediate stop');

# a crash (a backend killed: the postmaster restarts every process and
# shared memory) loses them: they count again from zero
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'hybridagg worker'")
  or die 'no worker';
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'hybridagg worker'");
kill 'KILL', $pid;
# psql fails while the cluster restarts: poll until it answers again
ok(poll_within($node, "SELECT ($counters) = '0/0/0'", 60),
	'after a crash they start again from zero');
ok($node->safe_psql('postgres',
	"SELECT costs_since > '$since' FROM hybridagg.aggregates WHERE name = 'events_1h'") eq 't',
	'from the restart');

$node->stop;
done_testing();
