# The worker never waits for an aggregate's lock.  While a session holds the
# lock of one aggregate (materialize() in an open transaction) or its base
# table (LOCK TABLE ... ACCESS EXCLUSIVE), the worker skips it and folds the
# other aggregates of the database; the blocked one is folded once the lock
# goes.  And hybridagg.drop() of an aggregate whose lock another session
# holds, while its deltas are pending, does not deadlock with the worker
# (the worker takes base table, aggregate, delta, in that order).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('locks');
load_helpers($node);

sub query_of
{
	my ($table) = @_;
	return qq{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
		count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
		FROM $table GROUP BY 1, 2};
}

# agg_a is created first: the worker comes to it before the others
$node->safe_psql('postgres', 'CREATE EXTENSION hybridagg');
for my $name ('a', 'b', 'c')
{
	my $query = query_of("events_$name");
	$node->safe_psql('postgres', qq{
		CREATE TABLE events_$name (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
		INSERT INTO events_$name SELECT now() - i * interval '1 second', i % 5, i FROM generate_series(1, 500) i;
		SELECT hybridagg.create('agg_$name', \$q\$$query\$q\$, mode => 'hybrid', seal_after => '1 day');
	});
}

sub insert_into
{
	my ($table) = @_;
	$node->safe_psql('postgres',
		"INSERT INTO $table SELECT now() - i * interval '1 second', i % 7, i FROM generate_series(1, 100) i");
}

sub pending
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT pending_deltas FROM hybridagg.aggregates WHERE name = '$name'");
}

sub drained
{
	my ($name) = @_;
	return "SELECT pending_deltas = 0 FROM hybridagg.aggregates WHERE name = '$name'";
}

ok(defined poll_within($node, drained('agg_a'), 60), 'the worker folds agg_a');

# 1. agg_a's lock held by a materialize() in an open transaction
my $session = $node->background_psql('postgres');
$session->query_safe('SET client_min_messages = warning');
$session->query_safe(q{BEGIN; CALL hybridagg.materialize('agg_a', now() - interval '1 day', now())});
insert_into('events_a');
insert_into('events_b');
ok(defined poll_within($node, drained('agg_b'), 60),
	'agg_b is folded while agg_a is locked by materialize()');
cmp_ok(pending('agg_a'), '>', 0, 'agg_a waits for its lock');
is($node->safe_psql('postgres', "SELECT worker FROM hybridagg.aggregates WHERE name = 'agg_a'"),
	'running', 'the worker runs meanwhile');
$session->query_safe('COMMIT');
ok(defined poll_within($node, drained('agg_a'), 60), 'agg_a is folded once the lock goes');

# 2. agg_a's base table locked ACCESS EXCLUSIVE
$session->query_safe('BEGIN; LOCK TABLE events_a IN ACCESS EXCLUSIVE MODE');
insert_into('events_b');
ok(defined poll_within($node, drained('agg_b'), 60),
	'agg_b is folded while the base table of agg_a is locked ACCESS EXCLUSIVE');
$session->query_safe('COMMIT');

# 3. drop() of an aggregate with pending deltas whose lock this session
# holds: the worker holds no lock on its delta table meanwhile
$session->query_safe(q{BEGIN; CALL hybridagg.materialize('agg_c', now() - interval '1 day', now())});
insert_into('events_c');
insert_into('events_b');
ok(defined poll_within($node, drained('agg_b'), 60), 'agg_b is folded while agg_c is locked');
my ($ok, $err) = (1, '');
eval { $session->query_safe(q{SELECT hybridagg.drop('agg_c')}); 1 } or ($ok, $err) = (0, $@);
ok($ok, 'drop() of the locked aggregate with pending deltas succeeds') or diag $err;
$session->query_safe('COMMIT') if $ok;
$session->quit;
ok(!$node->log_contains('deadlock detected'), 'no deadlock');
is($node->safe_psql('postgres', "SELECT count(*) FROM hybridagg.aggregates WHERE name = 'agg_c'"),
	'0', 'agg_c is gone');

insert_into('events_a');
insert_into('events_b');
ok(defined poll_within($node, drained($_), 60), "$_ still folds") for ('agg_a', 'agg_b');
is(mismatches($node, "agg_$_", query_of("events_$_"), [ 'bucket', 'device_id' ]), 0, "agg_$_ is exact")
  for ('a', 'b');
is($node->safe_psql('postgres', 'SELECT count(*) FROM hybridagg.aggregates WHERE last_error IS NOT NULL'),
	'0', 'no fold failed');
ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
