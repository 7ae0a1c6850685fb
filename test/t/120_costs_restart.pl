# The cost counters of hybridagg.aggregates (costs.c) outlive a restart,
# as pg_stat_statements' do: the postmaster saves them when it shuts down
# (also in an immediate stop) and reads them back at start; after a crash
# (a crash restart of the cluster) they start again from zero.
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

# an immediate stop is a clean exit of the postmaster too: kept
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', $counters), '4/103/9',
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
