# The capture's memory is bounded by work_mem, whatever a statement writes:
# a numeric sum over a million rows of one group, and half a million groups
# in one statement, each with work_mem at 1MB.  The capture reports (DEBUG1)
# the most memory its groups held; that stays within twice work_mem, and the
# aggregate stays exact.  (Before, the sum kept every intermediate numeric,
# hundreds of MB, and the group table grew past its estimate.)
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('memory');
load_helpers($node);
my $query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, k,
	count(*) AS n, sum(amount) AS total, sum(x) AS sx, max(x) AS hi FROM payments GROUP BY 1, 2};
$node->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE TABLE payments (ts timestamptz NOT NULL, k int NOT NULL, amount numeric, x float8);
	CREATE INDEX ON payments (ts);
	SELECT hybridagg.create('payments_1m', \$q\$$query\$q\$, mode => 'streaming');
});

# the capture's report of a statement, as (rows, delta rows, writes, kB)
sub capture_report
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres',
		"SET work_mem = '1MB'; SET client_min_messages = debug1; $sql");
	is($rc, 0, 'the statement runs') or diag($err);
	my ($rows, $deltas, $writes, $kb) =
	  $err =~ /captured (\d+) rows into (\d+) delta rows in (\d+) writes, with at most (\d+) kB of groups/;
	ok(defined $kb, 'the capture reports its memory') or diag($err);
	return ($rows // 0, $deltas // 0, $writes // 0, $kb // 1e9);
}

# one group, a million numeric values with many digits
my ($rows, $deltas, $writes, $kb) = capture_report(q{
	INSERT INTO payments SELECT '2026-01-01 00:00:30+00', 1, i * 1.000000001, i
	  FROM generate_series(1, 1000000) i});
is($rows, 1000000, 'a million rows captured');
is($deltas, 1, 'into one delta row');
cmp_ok($kb, '<=', 2048, "the numeric sum stays within twice work_mem ($kb kB)");

# half a million groups in one statement: written out as work_mem fills
($rows, $deltas, $writes, $kb) = capture_report(q{
	INSERT INTO payments SELECT '2026-01-02 00:00+00'::timestamptz + (i / 2) * interval '1 minute', i % 2, i, i
	  FROM generate_series(1, 1000000) i});
is($rows, 1000000, 'a million rows captured');
cmp_ok($writes, '>', 1, "the groups were written out in parts ($writes writes)");
cmp_ok($kb, '<=', 2048, "the groups stay within twice work_mem ($kb kB)");

is(mismatches($node, 'payments_1m', $query, ['bucket', 'k']), 0, 'exact before the fold');
ok(defined poll_within($node, "SELECT pending_deltas = 0 FROM hybridagg.aggregates", 120),
	'the worker folds it all');
is(mismatches($node, 'payments_1m', $query, ['bucket', 'k']), 0, 'exact after the fold');

$node->stop;
done_testing();
