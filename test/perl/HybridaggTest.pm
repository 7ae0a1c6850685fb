# HybridaggTest: what every TAP test of hybridagg needs.
#
#   my $node = hybridagg_node('name');           # initdb, preload, start
#   load_helpers($node);                         # test_diff() and friends
#   is(mismatches($node, 'events_1m', $query, ['bucket', 'device_id']), 0, ...);
#   ok(defined poll_within($node, $sql, 60), ...);  # poll with a deadline (60 s or more)
#   my ($rc, $out, $err) = psql_verbose($node, $sql);  # errors with SQLSTATE, DETAIL, HINT
#   my $h = start_pgbench($node, seconds => 20, scripts => ['insert.sql@3']);
#   my ($rc, $out, $err) = finish_pgbench($h);
#   is(inventory($node), $before, 'nothing left behind');
package HybridaggTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Time::HiRes qw(usleep gettimeofday tv_interval);

our @EXPORT = qw(hybridagg_node load_helpers mismatches poll_within
  psql_verbose start_pgbench finish_pgbench pgbench_script inventory
  server_crashes pgbench_running);

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

# Poll until $query returns 't', for at most $seconds.  Returns the seconds it
# took, or undef on time-out (unlike poll_query_until, whose deadline is the
# 180 s default).  Connection failures count as "not yet".  A deadline is
# what a test waits at most on a slow, busy machine, not a speed claim: give
# 60 s or more, and report the seconds taken with note() only.
# Options: db => 'postgres', quiet => 1 (no diagnostic on time-out).
sub poll_within
{
	my ($node, $query, $seconds, %o) = @_;
	my $db = $o{db};
	my $start = [gettimeofday];
	my ($rc, $out, $err) = (0, '', '');
	while (1)
	{
		($rc, $out, $err) = $node->psql($db // 'postgres', $query);
		return tv_interval($start) if $rc == 0 && $out eq 't';
		last if tv_interval($start) > $seconds;
		usleep(50_000);
	}
	return undef if $o{quiet};
	Test::More::diag("poll_within: not 't' after $seconds s: $query\n"
		  . "last output: $out\nstderr: $err");
	return undef;
}

# Run SQL through psql with VERBOSITY verbose, so that an error shows its
# SQLSTATE ("ERROR:  55000: ..."), DETAIL and HINT.  Returns (rc, out, err).
sub psql_verbose
{
	my ($node, $sql, $db) = @_;
	my ($rc, $out, $err) =
	  $node->psql($db // 'postgres', "\\set VERBOSITY verbose\n$sql");
	return ($rc, $out, $err);
}

# Path of a pgbench script of test/pgbench
sub pgbench_script
{
	my ($name) = @_;
	return "$ENV{TESTDIR}/test/pgbench/$name";
}

# Start pgbench in the background against $node.
#   scripts => ['file.sql@3', ...]  (names in test/pgbench, weights optional)
#   clients => 2, seconds => 20, extra => [more pgbench options]
# Returns a handle for finish_pgbench.
sub start_pgbench
{
	my ($node, %o) = @_;
	my @cmd = (
		$node->installed_command('pgbench'), '-n',
		'-h', $node->host, '-p', $node->port,
		'-c', $o{clients} // 2, '-j', $o{clients} // 2,
		'-T', $o{seconds} // 20,
		@{ $o{extra} // [] });
	push @cmd, '-f', pgbench_script($_) for @{ $o{scripts} };
	push @cmd, $o{db} // 'postgres';
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(\@cmd, '<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout(($o{seconds} // 20) + 120));
	return { h => $h, out => \$out, err => \$err, cmd => \@cmd };
}

# Is the pgbench still running?
sub pgbench_running
{
	my ($p) = @_;
	return 0 if $p->{done};
	my $running = eval { $p->{h}->pump_nb; $p->{h}->pumpable; };
	$p->{done} = 1 unless $running;
	return $running;
}

# Wait for a pgbench of start_pgbench; returns (exit status, stdout, stderr)
sub finish_pgbench
{
	my ($p) = @_;
	eval { $p->{h}->finish; };
	my $rc = $@ ? -1 : $p->{h}->result(0);
	return ($rc, ${ $p->{out} }, ${ $p->{err} });
}

# Every object that hybridagg.create() could leave behind, as one sorted
# string: relations, views, triggers, functions and types outside the system
# schemas, and hybridagg's catalog rows.
sub inventory
{
	my ($node, $db) = @_;
	return $node->safe_psql($db // 'postgres', q{
		SELECT string_agg(x, E'\n' ORDER BY x) FROM (
			SELECT 'rel ' || c.oid::regclass::text || ' ' || c.relkind::text AS x
			  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
			   AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
			UNION ALL
			SELECT 'trigger ' || tgrelid::regclass::text || ' ' || tgname
			  FROM pg_trigger WHERE NOT tgisinternal
			UNION ALL
			SELECT 'proc ' || p.oid::regprocedure::text
			  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
			UNION ALL
			SELECT 'type ' || t.oid::regtype::text
			  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
			 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
			   AND n.nspname NOT LIKE 'pg_toast%' AND t.typrelid = 0
			UNION ALL
			SELECT 'aggregate ' || id || ' ' || view::text FROM hybridagg_internal.aggregate
			UNION ALL
			SELECT 'depend ' || classid::regclass::text || ' ' || objid
			  FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
			   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'hybridagg')
		) s});
}

# Lines of the server log (from byte $offset on) that report a crash of a
# server process other than by SIGKILL, or a PANIC.
sub server_crashes
{
	my ($node, $offset) = @_;
	my $log = slurp_file($node->logfile, $offset // 0);
	my @lines = grep {
		(/terminated by signal/ && !/terminated by signal 9\b/)
		  || /\bPANIC:/ || /TRAP:/
	} split /\n/, $log;
	return join("\n", @lines);
}

1;
