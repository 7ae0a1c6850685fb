# pg_dump and pg_restore carry aggregates: the catalog (a configuration
# table of the extension), the internal tables with their pending deltas,
# the views and the capture triggers.  After a restore into a new cluster the
# views equal their raw queries, and writes there are captured and folded.
# One aggregate keeps recomputed values (hll and tdigest sketches, stddev,
# a DISTINCT count, first()), with their values_<id> view; one has an
# integer bucket over negative times (its catalog row keeps its width); two
# show a label of their bucket (a window's end, a day as a date).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi
	FROM events GROUP BY 1, 2};
my @keys = ('bucket', 'device_id');
my $sketch_query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, hll_cardinality(hll_add_agg(hll_hash_integer(value::int))) AS distinct_values,
	tdigest_percentile(value, 100, 0.9) AS p90, stddev(value) AS sd, count(DISTINCT value) AS dv,
	hybridagg.first(value, ts) AS opening
	FROM events GROUP BY 1, 2};
my $label_query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') + interval '1 minute' AS window_end,
	device_id, count(*) AS n, max(value) AS hi
	FROM events GROUP BY window_end, device_id};
my @label_keys = ('window_end', 'device_id');
my $day_query = q{SELECT (ts AT TIME ZONE 'UTC')::date AS day, count(*) AS n, sum(value) AS total
	FROM events GROUP BY 1};
my $int_query = q{SELECT t - (t % 60 + 60) % 60 AS bucket, device_id,
	count(*) AS n, sum(value) AS total, stddev(value) AS sd
	FROM ticks GROUP BY 1, 2};

my $source = hybridagg_node('source');
$source->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE EXTENSION hll;
	CREATE EXTENSION tdigest;
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON events (ts);
	INSERT INTO events SELECT now() - i * interval '7 seconds', i % 13, i % 101
	  FROM generate_series(1, 20000) i;
	SELECT hybridagg.create('events_hybrid', \$q\$$query\$q\$, mode => 'hybrid', seal_after => '30 minutes');
	SELECT hybridagg.create('events_batch', \$q\$$query\$q\$, mode => 'batch');
	SELECT hybridagg.create('"Odd; name"', \$q\$$query\$q\$, mode => 'kappa');
	SELECT hybridagg.create('events_sketch', \$q\$$sketch_query\$q\$, mode => 'hybrid', seal_after => '30 minutes');
	SELECT hybridagg.create('events_window_end', \$q\$$label_query\$q\$, mode => 'hybrid', seal_after => '30 minutes');
	SELECT hybridagg.create('events_day', \$q\$$day_query\$q\$, mode => 'batch');
	CREATE TABLE ticks (t bigint NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON ticks (t);
	INSERT INTO ticks SELECT i * 7 - 5000, i % 4, i % 17 FROM generate_series(1, 2000) i;
	SELECT hybridagg.create('ticks_int', \$q\$$int_query\$q\$, mode => 'hybrid');
});
# stop the worker from folding, so that pending deltas travel in the dump
$source->append_conf('postgresql.conf', "hybridagg.fold_interval = '1h'");
$source->reload;
$source->safe_psql('postgres', q{
	INSERT INTO events SELECT now() - i * interval '3 seconds', i % 5, i FROM generate_series(1, 500) i;
	DELETE FROM events WHERE device_id = 3 AND ts > now() - interval '10 minutes';
	INSERT INTO ticks SELECT -i, 1, i FROM generate_series(1, 200) i;
	DELETE FROM ticks WHERE device_id = 2 AND t < 0;
});
load_helpers($source);
is(mismatches($source, 'events_hybrid', $query, \@keys), 0, 'source: hybrid view exact before the dump');
is(mismatches($source, 'events_sketch', $sketch_query, \@keys), 0, 'source: sketch view exact before the dump');
is(mismatches($source, 'ticks_int', $int_query, \@keys), 0, 'source: integer view exact before the dump');
is(mismatches($source, 'events_window_end', $label_query, \@label_keys), 0, 'source: window-end view exact before the dump');
is(mismatches($source, 'events_day', $day_query, ['day']), 0, 'source: day view exact before the dump');

my $dump = $source->basedir . '/dump.custom';
$source->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $source->connstr('postgres') ],
	'pg_dump');

my $target = hybridagg_node('target');
$target->command_ok([ 'pg_restore', '-d', $target->connstr('postgres'), $dump ], 'pg_restore');
load_helpers($target);

is($target->safe_psql('postgres', 'SELECT count(*) FROM hybridagg.aggregates'), '7',
	'the seven aggregates are in the restored catalog');
is($target->safe_psql('postgres',
	"SELECT bucket_function || ' ' || integer_width FROM hybridagg_internal.aggregate WHERE view = 'ticks_int'::regclass"),
	'integer_floor 60', 'the integer bucket keeps its width');
is($target->safe_psql('postgres',
	"SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events'::regclass AND tgname LIKE 'hybridagg_capture_%'"),
	'16', 'the capture triggers of the four streaming aggregates are restored');
for my $view ('events_hybrid', 'events_batch', '"Odd; name"')
{
	is(mismatches($target, $view, $query, \@keys), 0, "restored $view equals its raw query");
}
is(mismatches($target, 'events_sketch', $sketch_query, \@keys), 0, 'restored events_sketch equals its raw query');
is(mismatches($target, 'ticks_int', $int_query, \@keys), 0, 'restored ticks_int equals its raw query');
is(mismatches($target, 'events_window_end', $label_query, \@label_keys), 0, 'restored events_window_end equals its raw query');
is(mismatches($target, 'events_day', $day_query, ['day']), 0, 'restored events_day equals its raw query');

# the restored aggregates keep working
$target->safe_psql('postgres', q{
	INSERT INTO events SELECT now() - i * interval '1 second', i % 7, i FROM generate_series(1, 300) i;
	UPDATE events SET value = value + 1 WHERE device_id = 4;
	CALL hybridagg.materialize('events_batch');
	CALL hybridagg.materialize('events_day', '-infinity', 'infinity');
	INSERT INTO ticks SELECT -i * 3, 3, i FROM generate_series(1, 100) i;
	UPDATE ticks SET t = -t WHERE device_id = 0 AND t % 5 = 0;
});
for my $view ('events_hybrid', '"Odd; name"')
{
	is(mismatches($target, $view, $query, \@keys), 0, "restored $view exact after new writes");
}
is(mismatches($target, 'events_sketch', $sketch_query, \@keys), 0, 'restored events_sketch exact after new writes');
is(mismatches($target, 'ticks_int', $int_query, \@keys), 0, 'restored ticks_int exact after new writes');
is(mismatches($target, 'events_window_end', $label_query, \@label_keys), 0, 'restored events_window_end exact after new writes');
is(mismatches($target, 'events_day', $day_query, ['day']), 0, 'restored events_day exact after new writes');
ok($target->poll_query_until('postgres',
	"SELECT bool_and(pending_deltas = 0) FROM hybridagg.aggregates WHERE mode <> 'batch'"),
	'the worker of the restored cluster folds');
is($target->safe_psql('postgres',
	"SELECT count(*) FROM hybridagg.aggregates WHERE last_error IS NOT NULL OR (mode <> 'batch' AND coalesce(folds, 0) = 0)"),
	'0', 'folds counted, no errors');
for my $view ('events_hybrid', '"Odd; name"')
{
	is(mismatches($target, $view, $query, \@keys), 0, "restored $view exact after the folds");
}
is(mismatches($target, 'events_sketch', $sketch_query, \@keys), 0, 'restored events_sketch exact after the folds');
is(mismatches($target, 'ticks_int', $int_query, \@keys), 0, 'restored ticks_int exact after the folds');
is(mismatches($target, 'events_window_end', $label_query, \@label_keys), 0, 'restored events_window_end exact after the folds');

$source->stop;
$target->stop;
done_testing();
