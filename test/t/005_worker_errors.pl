# A fold that fails stores its message, SQLSTATE and detail for the status
# view (and logs them); the next successful fold clears all three.  The
# failure is deterministic: a function of the definition that raises SQLSTATE
# HA001 with a DETAIL when a hybridagg worker evaluates it on the value 13,
# which happens when the worker recomputes a dirty group holding 13.
# Then: under binary upgrade (postgres -b, as pg_upgrade runs it) the library
# does nothing, so no launcher and no worker start.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('errors');
load_helpers($node);

my $picky = q{
	CREATE OR REPLACE FUNCTION picky(v float8) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $f$
	BEGIN
		IF v = 13 AND (SELECT backend_type FROM pg_stat_get_activity(pg_backend_pid())) = 'hybridagg worker' THEN
			RAISE EXCEPTION 'picky refuses %', v
				USING ERRCODE = 'HA001', DETAIL = 'The value 13 is refused when a worker folds it.';
		END IF;
		RETURN v;
	END $f$;
};
my $query = q{SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, max(picky(value)) AS hi FROM events GROUP BY 1, 2};
$node->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	$picky
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	INSERT INTO events VALUES (now(), 1, 13), (now(), 1, 20), (now(), 2, 5);
	SELECT hybridagg.create('events_1h', \$q\$$query\$q\$, mode => 'streaming');
});
my $log = -s $node->logfile;

# taking away the maximum 20 makes the group dirty: the worker recomputes it
# from the base table, where 13 is left
$node->safe_psql('postgres', 'DELETE FROM events WHERE value = 20');
ok( defined poll_within(
		$node, "SELECT last_error IS NOT NULL FROM hybridagg.aggregates WHERE name = 'events_1h'", 60),
	'the fold fails');
is( $node->safe_psql(
		'postgres',
		"SELECT concat_ws(' | ', last_error, last_error_sqlstate, last_error_detail, last_error_at IS NOT NULL)
		   FROM hybridagg.aggregates WHERE name = 'events_1h'"),
	'picky refuses 13 | HA001 | The value 13 is refused when a worker folds it. | t',
	'its message, SQLSTATE and detail are stored and shown');
ok(defined $node->wait_for_log(qr/hybridagg: aggregate \d+ failed, retrying in \d+ ms: picky refuses 13/, $log),
	'the failure is logged');
like(slurp_file($node->logfile, $log), qr/DETAIL:  The value 13 is refused when a worker folds it\./,
	'with its detail');
is(mismatches($node, 'events_1h', $query, [ 'bucket', 'device_id' ]), 0, 'the view is exact meanwhile');

# repaired: the next retry folds and clears the error
$node->safe_psql('postgres', $picky =~ s/v = 13 AND/false AND/r);
ok( defined poll_within(
		$node,
		"SELECT pending_deltas = 0 AND last_error IS NULL AND last_error_sqlstate IS NULL
		        AND last_error_detail IS NULL FROM hybridagg.aggregates WHERE name = 'events_1h'",
		120),
	'a successful fold clears message, SQLSTATE and detail');
is(mismatches($node, 'events_1h', $query, [ 'bucket', 'device_id' ]), 0, 'exact after the fold');

# binary upgrade mode: the library does nothing
$node->stop;
my $pg_ctl = $node->installed_command('pg_ctl');
$log = -s $node->logfile;
system_or_bail($pg_ctl, '-D', $node->data_dir, '-l', $node->logfile, '-o', '-b', '-w', 'start');
$node->_update_pid(1);
my ($rc, $out, $err) = $node->psql('postgres', 'SHOW hybridagg.wake_threshold');
like($err, qr/unrecognized configuration parameter "hybridagg.wake_threshold"/,
	'under binary upgrade, _PG_init defines nothing');
# a launcher would be up within a moment of the start
ok( !defined poll_within(
		$node,
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type LIKE 'hybridagg%'",
		5, quiet => 1),
	'under binary upgrade, no launcher or worker starts');
is( $node->safe_psql(
		'postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'hybridagg%'"),
	'0', 'none at all');
$node->stop;

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
done_testing();
