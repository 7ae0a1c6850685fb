# Partition DDL racing writers (issue 14, item 5).  A hybrid and a
# streaming aggregate on a partitioned table whose default partition one
# session detaches and attaches again in a loop, while another runs DDL on
# tables no aggregate reads, two write through the parent and one writes
# straight into the default partition, attached or not.  No statement of
# the unrelated DDL or of the writers may fail (it did, with "trigger ...
# does not exist", and deadlocked); the DDL loop may fail only as
# PostgreSQL itself makes it (a deadlock with a writer, which PostgreSQL
# resolves); and once everything is folded, with the default partition
# attached, each view equals its defining query: the rows written into the
# detached partition count once it is back, and none counts twice.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('partition_ddl_race');
load_helpers($node);
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', q{
	CREATE EXTENSION hybridagg;
	CREATE SEQUENCE race_id;
	CREATE TABLE race (id bigint NOT NULL DEFAULT nextval('race_id'), ts timestamptz NOT NULL,
	                   device int NOT NULL, value int NOT NULL) PARTITION BY RANGE (ts);
	CREATE TABLE race_1 PARTITION OF race FOR VALUES FROM ('2026-01-01') TO ('2026-01-08');
	CREATE TABLE race_2 PARTITION OF race FOR VALUES FROM ('2026-01-08') TO ('2026-01-15');
	CREATE TABLE race_default PARTITION OF race DEFAULT;
	INSERT INTO race (ts, device, value)
	SELECT '2026-01-01 00:00+00'::timestamptz + (i % 20160) * interval '1 minute', i % 5, 1 + i % 50
	  FROM generate_series(1, 20000) i;
	INSERT INTO race (ts, device, value)
	SELECT '2030-01-01 00:00+00'::timestamptz + i * interval '1 minute', i % 5, 1 + i % 50
	  FROM generate_series(1, 500) i;
});
my %query = (
	race_hybrid => q{SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device,
		count(*) AS n, sum(value) AS total, min(value) AS lo FROM race GROUP BY 1, 2},
	race_streaming => q{SELECT date_trunc('day', ts, 'UTC') AS bucket, device,
		count(*) AS n, sum(value) AS total FROM race GROUP BY 1, 2});
$node->safe_psql('postgres', qq{
	SELECT hybridagg.create('race_hybrid', \$q\$$query{race_hybrid}\$q\$, mode => 'hybrid', seal_after => '1 day');
	SELECT hybridagg.create('race_streaming', \$q\$$query{race_streaming}\$q\$, mode => 'streaming');
});

my $seconds = 15;
my $ddl = start_pgbench($node, clients => 1, seconds => $seconds,
	scripts => ['race_detach_attach.sql']);
my $unrelated = start_pgbench($node, clients => 1, seconds => $seconds,
	scripts => ['race_unrelated.sql']);
my $writers = start_pgbench($node, clients => 2, seconds => $seconds,
	scripts => ['race_write.sql']);
my $default_writer = start_pgbench($node, clients => 1, seconds => $seconds,
	scripts => ['race_write_default.sql']);

my ($rc, $out, $err) = finish_pgbench($ddl);
my @ddl_errors = grep { /ERROR/ } split /\n/, $err;
my @foreign = grep { !/deadlock detected/ } @ddl_errors;
is(join("\n", @foreign), '', 'the DETACH/ATTACH loop fails only with deadlocks PostgreSQL resolves');
my ($loops) = $out =~ /number of transactions actually processed: (\d+)/;
note "DETACH/ATTACH rounds: " . ($loops // 'none') . ", failed with a deadlock: " . scalar(@ddl_errors);
cmp_ok($loops // 0, '>=', 5, 'the DETACH/ATTACH loop went round, racing the others');
for my $run ([ $unrelated, 'the DDL on unrelated tables' ], [ $writers, 'the writers' ],
	[ $default_writer, 'the writer into the default partition' ])
{
	my ($prc, $pout, $perr) = finish_pgbench($run->[0]);
	is($prc, 0, "$run->[1]: pgbench exit status");
	is(join("\n", grep { /ERROR/ } split /\n/, $perr), '', "$run->[1]: no statement failed");
	like($pout, qr/number of transactions actually processed: [1-9]/, "$run->[1] ran");
}

# the default partition back in place, if the loop ended without it
$node->safe_psql('postgres', q{
	DO $$BEGIN
		IF NOT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = 'race_default'::regclass) THEN
			ALTER TABLE race ATTACH PARTITION race_default DEFAULT;
		END IF;
	END$$});
is($node->safe_psql('postgres', q{
	SELECT string_agg(tgrelid::regclass::text || ' ' || tgenabled::text, ', ' ORDER BY tgrelid::regclass::text)
	  FROM (SELECT DISTINCT tgrelid, tgenabled FROM pg_trigger
	         WHERE tgfoid = 'hybridagg_internal.capture'::regproc) t}),
	'race A, race_1 A, race_2 A, race_default A',
	'every table of the tree carries capture triggers that fire always, and no other table does');
for my $agg (sort keys %query)
{
	ok(defined poll_within($node,
		"SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates WHERE name = '$agg'", 60),
		"$agg: folded");
	is(mismatches($node, $agg, $query{$agg}, [ 'bucket', 'device' ]), 0, "$agg: exact");
}
is(server_crashes($node, $log_offset), '', 'no server process crashed');

$node->stop;
done_testing();
