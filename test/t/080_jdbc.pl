# A JDBC client, as a BI tool is one: Debian's driver over TCP with a
# password (scram-sha-256), a read-only role, a PreparedStatement on the
# view run 32 times (so server-side, with a generic plan) while another
# connection writes, and DatabaseMetaData.  The client, test/jdbc/
# ViewClient.java, compares everything with the raw defining query; this
# test builds the cluster, runs it against a hybrid and a batch aggregate,
# and makes sure it can fail.
use strict;
use warnings;

use File::Path qw(make_path);
use File::Spec;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $jar = '/usr/share/java/postgresql.jar';

sub program_in_path
{
	my ($name) = @_;
	for my $dir (File::Spec->path)
	{
		return "$dir/$name" if -x "$dir/$name";
	}
	return undef;
}

my $javac = program_in_path('javac');
my $java  = program_in_path('java');
plan skip_all => 'javac and java not found (Debian: apt-get install openjdk-17-jdk-headless)'
  unless $javac && $java;
plan skip_all => "$jar not found (Debian: apt-get install libpostgresql-jdbc-java)"
  unless -r $jar;

# The client, compiled into tmp_check
my $classes = "$PostgreSQL::Test::Utils::tmp_check/jdbc_classes";
make_path($classes);
command_ok(
	[ $javac, '-Xlint:all', '-Werror', '-cp', $jar, '-d', $classes,
		"$ENV{TESTDIR}/test/jdbc/ViewClient.java" ],
	'ViewClient.java compiles without warnings');

# A cluster that listens on 127.0.0.1 and asks TCP clients for a scram
# password; its default TimeZone is neither the client's nor UTC.
my $node = hybridagg_node(
	'jdbc',
	no_start => 1,
	conf => "listen_addresses = '127.0.0.1'\n"
	  . "timezone = 'America/St_Johns'\n"
	  . "password_encryption = 'scram-sha-256'\n"
	  . "log_connections = on\n");
# initdb -A trust also trusts TCP, and the first matching line wins: replace
# the whole file.
open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
print $hba "local all all trust\n", "host all all 127.0.0.1/32 scram-sha-256\n";
close $hba;
$node->start;
my $port = $node->port;
my $url  = "jdbc:postgresql://127.0.0.1:$port/postgres";

# app owns the table and the aggregates; bi may only read
my %password = (app => q{app's secret 1}, bi => q{bi "secret" 2});
$node->safe_psql('postgres', qq{
	CREATE EXTENSION hybridagg;
	CREATE ROLE app LOGIN PASSWORD '@{[ $password{app} =~ s/'/''/gr ]}';
	CREATE ROLE bi LOGIN PASSWORD '@{[ $password{bi} =~ s/'/''/gr ]}';
	GRANT CREATE ON SCHEMA public TO app;
});
load_helpers($node);

# DESIGN.md section 8: owning the base table is enough to create an
# aggregate and to see its status.
is($node->safe_psql('postgres', "SELECT has_schema_privilege('app', 'hybridagg', 'USAGE')"),
	't', 'a non-superuser may use schema hybridagg');
is($node->safe_psql('postgres', "SELECT has_table_privilege('app', 'hybridagg.aggregates', 'SELECT')"),
	't', 'a non-superuser may read hybridagg.aggregates');

my $query = q{SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, device_id,
	count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi
	FROM events GROUP BY 1, 2};
# 4,000 rows over the last 200 minutes, some values NULL; most buckets are
# sealed into history, the last ten minutes stay recent.
$node->safe_psql('postgres', qq{
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int, value float8);
	CREATE INDEX ON events (ts);
	INSERT INTO events
	SELECT now() - i * interval '3 seconds', i % 8,
	       CASE WHEN i % 97 = 0 THEN NULL ELSE (i * 7919 % 1000) / 8.0 END
	  FROM generate_series(1, 4000) i;
	SELECT hybridagg.create('events_1m', \$q\$$query\$q\$, mode => 'hybrid', seal_after => '10 minutes');
	CALL hybridagg.materialize('events_1m');
	SELECT hybridagg.create('events_1m_batch', \$q\$$query\$q\$, mode => 'batch', seal_after => '10 minutes');
	CALL hybridagg.materialize('events_1m_batch');
	GRANT SELECT ON events, events_1m, events_1m_batch TO bi;
}, extra_params => [ '-U', 'app' ]);
is($node->safe_psql('postgres', q{
	SELECT string_agg(format('%s %s %s', name, history_rows > 0, watermark > '-infinity'), ', ' ORDER BY name)
	  FROM hybridagg.aggregates}),
	'events_1m t t, events_1m_batch t t',
	'both aggregates have a watermark and history');

# TCP really asks for the password
command_fails_like(
	[ 'psql', '-X', '-w', '-d', "host=127.0.0.1 port=$port dbname=postgres user=bi", '-c', 'SELECT 1' ],
	qr/password/,
	'TCP without a password is refused');

# Runs the client; returns its exit status, standard output and error.
sub view_client
{
	my (%opt) = @_;
	local $ENV{HYBRIDAGG_PASSWORD}        = $opt{password} // $password{bi};
	local $ENV{HYBRIDAGG_WRITER_PASSWORD} = $password{app};
	my @cmd = (
		$java, '-Duser.timezone=Asia/Kathmandu', '-cp', "$jar:$classes", 'ViewClient',
		'--url', $url, '--user', 'bi', '--writer-user', 'app',
		'--view', $opt{view}, '--query', $opt{query} // $query, '--table', 'events');
	my ($stdout, $stderr) = ('', '');
	note join(' ', map { /\s/ ? "'$_'" : $_ } @cmd);
	IPC::Run::run(\@cmd, '<', \undef, '>', \$stdout, '2>', \$stderr);
	my $status = $? >> 8;
	note "exit status $status\n$stdout$stderr";
	return ($status, $stdout, $stderr);
}

# The real runs: a hybrid aggregate (history, recent and pending deltas
# while the worker folds) and a batch one (history and the raw tail).
for my $view ('events_1m', 'events_1m_batch')
{
	my ($status, $stdout, $stderr) = view_client(view => $view);
	is($status, 0, "$view: the JDBC client finds the view equal to the raw query")
	  or diag "$stdout$stderr";
	like($stdout, qr/^ok: \Q$view\E \(mode \w+\) over TCP 127\.0\.0\.1:$port as bi: 32 executions/m,
		"$view: the client's summary");
	like($stdout, qr/^view: server-side prepared statement \S+, \d+ custom plans, [1-9]\d* generic plans$/m,
		"$view: the driver prepared the view query on the server, and it ran with a generic plan");
	is($stderr, '', "$view: nothing on standard error");
	is(mismatches($node, $view, $query, [ 'bucket', 'device_id' ]), 0,
		"$view: still equal to the raw query after the client's writes, seen from psql");
}

is($node->safe_psql('postgres',
	"SELECT count(*) FROM hybridagg.aggregates WHERE last_error IS NOT NULL"),
	0, 'no aggregate recorded an error');
ok($node->log_contains(qr/connection authenticated: identity="bi" method=scram-sha-256/),
	'the reader authenticated with scram-sha-256');
ok($node->log_contains(qr/connection authenticated: identity="app" method=scram-sha-256/),
	'the writer authenticated with scram-sha-256');

# The client can fail: a raw query whose total is off by one part in a
# million, one whose mean has another type, a view of another shape, and a
# wrong password.
my ($status, $stdout, $stderr) = view_client(view => 'events_1m',
	query => $query =~ s/sum\(value\) AS total/sum(value) * (1 + 1e-6) AS total/r);
is($status, 1, 'a total off by 1e-6 relative is a mismatch');
like($stderr, qr/^FAIL: round 0: .*row 1, column total/m, '... reported with its round and column');

($status, $stdout, $stderr) = view_client(view => 'events_1m',
	query => $query =~ s/avg\(value\) AS mean/avg(value)::numeric AS mean/r);
is($status, 1, 'a column of another type is a mismatch');
like($stderr, qr/^FAIL: getColumns: column 5 .*mean/m, '... reported by getColumns');

($status, $stdout, $stderr) = view_client(view => 'events_1m',
	query => $query =~ s/max\(value\) AS hi/max(value) AS high/r);
is($status, 1, 'a column of another name is a mismatch');
like($stderr, qr/^FAIL: .*column 7/m, '... reported with the column');

($status, $stdout, $stderr) = view_client(view => 'events_1m', password => 'wrong');
is($status, 2, 'a wrong password is refused');
like($stderr, qr/SQL state 28P01/, '... with invalid_password');

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
