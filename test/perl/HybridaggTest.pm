# HybridaggTest: what every TAP test of hybridagg needs.
#
#   my $node = hybridagg_node('name');           # initdb, preload, start
#   load_helpers($node);                         # test_diff() and friends
#   is(mismatches($node, 'events_1m', $query, ['bucket', 'device_id']), 0, ...);
package HybridaggTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(hybridagg_node load_helpers mismatches);

# A started cluster that preloads hybridagg (and any extra libraries), with
# a short fold interval so that tests do not wait long.
sub hybridagg_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $opts{init} // {} });
	my $preload = join(',', 'hybridagg', @{ $opts{preload} // [] });
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = '$preload'\n"
		  . "hybridagg.fold_interval = '200ms'\n"
		  . "max_worker_processes = 16\n"
		  . ($opts{conf} // ''));
	$node->start unless $opts{no_start};
	return $node;
}

# test_diff(view, query, keys) and the other SQL helpers of test/sql
sub load_helpers
{
	my ($node, $db) = @_;
	$node->safe_psql($db // 'postgres',
		slurp_file("$ENV{TESTDIR}/test/sql/helpers.sql"));
}

# Groups that differ between a view and its defining query, in one statement
sub mismatches
{
	my ($node, $view, $query, $keys, $db) = @_;
	my $keylist = join(',', @$keys);
	return $node->safe_psql($db // 'postgres',
		"SELECT test_diff('$view', \$q\$$query\$q\$, '{$keylist}')");
}

1;
