# TRUNCATE, COPY and partitioned base tables, in every mode that captures
# changes (hybrid, streaming, lambda, kappa): after each step the view
# equals its defining query run on the base table, compared in one
# statement; and again once the worker has folded everything.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('truncate_copy', conf => "timezone = 'Asia/Kathmandu'\n");
load_helpers($node);
$node->safe_psql('postgres', 'CREATE EXTENSION hybridagg');

my $dir = PostgreSQL::Test::Utils::tempdir;
# a file of 3,000 rows for COPY: recent rows and late ones, some NULL values
$node->safe_psql('postgres', qq{
	COPY (SELECT now() - (i % 3000) * interval '1 minute' - interval '13 seconds',
	             i % 7, CASE WHEN i % 11 = 0 THEN NULL ELSE 1 + i % 50 END
	        FROM generate_series(1, 3000) i)
	  TO '$dir/rows.copy'});

sub query_of
{
	my ($table) = @_;
	return qq{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
		count(*) AS n, count(value) AS nv, sum(value) AS total, avg(value) AS mean,
		min(value) AS lo, max(value) AS hi
		FROM $table GROUP BY 1, 2};
}

my %aggregate;    # aggregate name => base table

sub exact
{
	my ($agg, $name) = @_;
	is(mismatches($node, $agg, query_of($aggregate{$agg}), [ 'bucket', 'device_id' ]),
		0, "$agg: $name");
}

sub drained
{
	my ($agg, $name) = @_;
	ok(defined poll_within($node,
		"SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates WHERE name = '$agg'", 120),
		"$agg: deltas folded $name");
	exact($agg, "exact once folded $name");
}

# Rows over the last three days, an aggregate on them, and every write
# that follows, all through the table named (the parent, if partitioned).
sub exercise
{
	my ($mode, $table, $agg) = @_;
	$aggregate{$agg} = $table;
	my $q = query_of($table);

	$node->safe_psql('postgres', qq{
		INSERT INTO $table SELECT now() - random() * interval '3 days', i % 7,
		       CASE WHEN i % 13 = 0 THEN NULL ELSE 1 + i % 100 END
		  FROM generate_series(1, 20000) i;
		SELECT hybridagg.create('$agg', \$q\$$q\$q\$, mode => '$mode', seal_after => '1 hour');
		CALL hybridagg.materialize('$agg');
	});
	exact($agg, 'exact after create');

	# late rows, updates across buckets, devices (and partitions), deletes
	$node->safe_psql('postgres', qq{
		INSERT INTO $table SELECT now() - interval '2 days' - i * interval '1 minute', i % 7, i
		  FROM generate_series(1, 300) i;
		INSERT INTO $table SELECT now() - i * interval '1 second', i % 7, i FROM generate_series(1, 300) i;
		UPDATE $table SET ts = ts - interval '1 day', device_id = device_id + 1
		 WHERE ts > now() - interval '30 hours' AND ts < now() - interval '25 hours';
		UPDATE $table SET ts = ts + interval '20 hours' WHERE device_id = 2 AND ts < now() - interval '2 days';
		DELETE FROM $table WHERE device_id = 3 AND ts > now() - interval '40 hours';
	});
	exact($agg, 'exact after late rows, updates and deletes');

	# TRUNCATE rolled back, whole or to a savepoint
	$node->safe_psql('postgres', "BEGIN; TRUNCATE $table; ROLLBACK;");
	exact($agg, 'exact after a TRUNCATE rolled back');
	$node->safe_psql('postgres', qq{
		BEGIN;
		INSERT INTO $table VALUES (now() - interval '3 hours', 1, 5);
		SAVEPOINT s;
		TRUNCATE $table;
		INSERT INTO $table VALUES (now(), 1, 7);
		ROLLBACK TO SAVEPOINT s;
		INSERT INTO $table VALUES (now() - interval '50 hours', 2, 9);
		COMMIT;
	});
	exact($agg, 'exact after a TRUNCATE rolled back to a savepoint');
	drained($agg, 'before TRUNCATE');

	# TRUNCATE: empty view, history below the watermark included
	$node->safe_psql('postgres', "TRUNCATE $table");
	exact($agg, 'exact after TRUNCATE');
	is($node->safe_psql('postgres', "SELECT count(*) FROM $agg"), '0', "$agg: empty after TRUNCATE");
	$node->safe_psql('postgres', qq{
		INSERT INTO $table VALUES (now() - interval '2 days', 1, 1), (now() - interval '2 days', 1, 3),
		                          (now() - interval '5 minutes', 2, 4), (now(), 3, NULL);
	});
	exact($agg, 'exact after rows, late and fresh, following TRUNCATE');
	drained($agg, 'after TRUNCATE');

	# TRUNCATE and rows in one transaction, and pending deltas before it
	$node->safe_psql('postgres', qq{
		INSERT INTO $table VALUES (now() - interval '1 day', 4, 4);
		BEGIN;
		INSERT INTO $table VALUES (now() - interval '1 day', 5, 5);
		TRUNCATE $table;
		INSERT INTO $table SELECT now() - i * interval '17 minutes', i % 7, i FROM generate_series(1, 400) i;
		DELETE FROM $table WHERE device_id = 4;
		COMMIT;
	});
	exact($agg, 'exact after TRUNCATE and writes in one transaction');
	drained($agg, 'after TRUNCATE and writes in one transaction');

	# COPY from a file, from a program, from psql's stdin (\copy), and
	# COPY FREEZE into the table truncated in the same transaction
	$node->safe_psql('postgres', "COPY $table FROM '$dir/rows.copy'");
	exact($agg, 'exact after COPY FROM a file');
	$node->safe_psql('postgres', "COPY $table FROM PROGRAM 'cat $dir/rows.copy'");
	exact($agg, 'exact after COPY FROM PROGRAM');
	$node->safe_psql('postgres', "\\copy $table FROM '$dir/rows.copy'");
	exact($agg, 'exact after \copy (COPY FROM STDIN)');
	drained($agg, 'after COPY');
	$node->safe_psql('postgres', "BEGIN; TRUNCATE $table; COPY $table FROM '$dir/rows.copy' WITH (FREEZE); COMMIT;")
	  unless $table =~ /^p/;    # FREEZE is refused on partitioned tables
	$node->safe_psql('postgres', "BEGIN; TRUNCATE $table; COPY $table FROM '$dir/rows.copy'; COMMIT;")
	  if $table =~ /^p/;
	exact($agg, 'exact after TRUNCATE and COPY in one transaction');
	drained($agg, 'after TRUNCATE and COPY');
	is($node->safe_psql('postgres', "SELECT last_error FROM hybridagg.aggregates WHERE name = '$agg'"),
		'', "$agg: no error recorded");
}

for my $mode (qw(hybrid streaming lambda kappa))
{
	# a plain table
	$node->safe_psql('postgres', qq{
		CREATE TABLE ev_$mode (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
		CREATE INDEX ON ev_$mode (ts);
	});
	exercise($mode, "ev_$mode", "agg_$mode");

	# a partitioned table: a partition a day, and a default one
	$node->safe_psql('postgres', qq{
		CREATE TABLE pev_$mode (ts timestamptz NOT NULL, device_id int NOT NULL, value float8)
		  PARTITION BY RANGE (ts);
		CREATE INDEX ON pev_$mode (ts);
		CREATE TABLE pev_${mode}_default PARTITION OF pev_$mode DEFAULT;
		DO \$\$
		DECLARE d date;
		BEGIN
		  FOR d IN SELECT current_date + i FROM generate_series(-4, 1) i LOOP
		    EXECUTE format('CREATE TABLE %I PARTITION OF pev_$mode FOR VALUES FROM (%L) TO (%L)',
		                   'pev_${mode}_' || to_char(d, 'YYYYMMDD'), d, d + 1);
		  END LOOP;
		END \$\$;
	});
	exercise($mode, "pev_$mode", "pagg_$mode");
}

# one TRUNCATE of several tables, each with its aggregate
$node->safe_psql('postgres', q{
	INSERT INTO ev_hybrid SELECT now() - i * interval '5 minutes', i % 7, i FROM generate_series(1, 1000) i;
	INSERT INTO ev_streaming SELECT now() - i * interval '5 minutes', i % 7, i FROM generate_series(1, 1000) i;
	INSERT INTO pev_lambda SELECT now() - i * interval '5 minutes', i % 7, i FROM generate_series(1, 1000) i;
	TRUNCATE ev_hybrid, ev_streaming, pev_lambda;
	INSERT INTO ev_streaming VALUES (now(), 1, 1);
});
exact($_, 'exact after a TRUNCATE of three tables') for qw(agg_hybrid agg_streaming pagg_lambda);

# Writes straight to a partition (not through the parent) change what the
# defining query returns just the same.  The days are read once, so that a
# midnight between two statements cannot move the rows to another partition.
for my $mode (qw(hybrid streaming))
{
	my $agg = "pagg_$mode";
	my ($yesterday, $later) = split /\|/, $node->safe_psql('postgres',
		"SELECT to_char(current_date - 1, 'YYYY-MM-DD'), to_char(current_date + 2, 'YYYY-MM-DD')");
	my $part = $node->safe_psql('postgres', qq{
		SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = 'pev_$mode'::regclass AND c.relname LIKE '%' || to_char('$yesterday'::date, 'YYYYMMDD')});
	$node->safe_psql('postgres', qq{
		INSERT INTO $part SELECT '$yesterday'::date + i * interval '1 minute', i % 7, i FROM generate_series(1, 500) i;
	});
	exact($agg, "exact after INSERT straight into partition $part");
	$node->safe_psql('postgres', qq{
		UPDATE $part SET device_id = device_id + 10, value = value + 1 WHERE device_id < 3;
		DELETE FROM $part WHERE device_id = 5;
	});
	exact($agg, "exact after UPDATE and DELETE straight in partition $part");
	$node->safe_psql('postgres', "TRUNCATE $part");
	exact($agg, "exact after TRUNCATE of partition $part");
	drained($agg, 'after writes straight to a partition');

	# a partition created after the aggregate (as a daily job would),
	# written through the parent and straight
	my $new = "pev_${mode}_new";
	$node->safe_psql('postgres', qq{
		CREATE TABLE $new PARTITION OF pev_$mode
		  FOR VALUES FROM (('$later'::date)::timestamptz) TO (('$later'::date + 1)::timestamptz);
		INSERT INTO pev_$mode SELECT '$later'::date + i * interval '1 minute', i % 7, i FROM generate_series(1, 100) i;
	});
	exact($agg, 'exact after INSERT through the parent into a partition created after the aggregate');
	$node->safe_psql('postgres', qq{
		INSERT INTO $new SELECT '$later'::date + i * interval '1 minute', i % 7, i FROM generate_series(1, 100) i;
	});
	exact($agg, 'exact after INSERT straight into a partition created after the aggregate');
	$node->safe_psql('postgres', "DELETE FROM $new WHERE device_id = 1");
	exact($agg, 'exact after DELETE straight in a partition created after the aggregate');
	drained($agg, 'after writes to a partition created after the aggregate');
}

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
