# Batch aggregates and the sessions' TimeZones: in a cluster whose default
# TimeZone is Asia/Kathmandu while clients use UTC, batch aggregates over a
# 200,000-row table equal their raw queries after create, after new rows,
# and after late rows + UPDATE + DELETE followed by materialize of that
# range; sessions with other TimeZones (Pacific/Chatham, America/St_Johns,
# Pacific/Marquesas) write, materialize and read without changing any
# bucket.  Then, on the same table: five bad definitions are refused with an
# errcode, detail and hint and leave nothing behind; names made of quotes
# and SQL are just names.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('timezone', conf => "timezone = 'Asia/Kathmandu'\n");
{
	local $ENV{PGTZ};
	delete $ENV{PGTZ};
	is($node->safe_psql('postgres', 'SHOW TimeZone'), 'Asia/Kathmandu', 'the server default is Asia/Kathmandu');
}
# every client from here on uses UTC (libpq sends PGTZ at connection)
$ENV{PGTZ} = 'UTC';
is($node->safe_psql('postgres', 'SHOW TimeZone'), 'UTC', 'clients use UTC');
load_helpers($node);

my %query = (
	events_1h => q{SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device_id,
		count(*) AS n, count(value) AS nv, sum(value) AS total, avg(value) AS mean,
		min(value) AS lo, max(value) AS hi
		FROM events GROUP BY 1, 2},
	# days of Kathmandu (UTC+05:45), whatever the session's zone
	events_day => q{SELECT date_trunc('day', ts, 'Asia/Kathmandu') AS day, device_id,
		count(*) AS n, sum(value) AS total, max(value) AS hi
		FROM events GROUP BY 1, 2},
	# 15-minute buckets from five past the hour, and a WHERE
	events_15m => q{SELECT date_bin('15 minutes', ts, '2000-01-01 00:05+05:45') AS bucket,
		count(*) AS n, avg(value) AS mean
		FROM events WHERE device_id % 2 = 0 GROUP BY 1},
);
my %keys = (events_1h => 'bucket,device_id', events_day => 'day,device_id', events_15m => 'bucket');

$node->safe_psql('postgres', q{
	CREATE EXTENSION hybridagg;
	CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
	CREATE INDEX ON events (ts);
	INSERT INTO events
	SELECT now() - random() * interval '10 days', i % 25, CASE WHEN i % 31 = 0 THEN NULL ELSE 1 + i % 1000 END
	  FROM generate_series(1, 200000) i;
	ANALYZE events;
});

# differing groups of one aggregate, in a session of the given TimeZone
sub diff
{
	my ($agg, $tz) = @_;
	return $node->safe_psql('postgres',
		"SET TimeZone = '$tz'; SELECT test_diff('$agg', \$q\$$query{$agg}\$q\$, '{$keys{$agg}}')");
}

sub all_exact
{
	my ($name, @zones) = @_;
	@zones = ('UTC') unless @zones;
	for my $agg (sort keys %query)
	{
		is(diff($agg, $_), 0, "$agg: $name (read in $_)") for @zones;
	}
}

for my $agg (sort keys %query)
{
	my ($rc, $out, $err) = psql_verbose($node,
		"SELECT hybridagg.create('$agg', \$q\$$query{$agg}\$q\$, mode => 'batch', seal_after => '1 hour')");
	is($rc, 0, "$agg: created") or diag $err;
}
all_exact('exact after create', 'UTC', 'Asia/Kathmandu', 'Pacific/Chatham');
note $node->safe_psql('postgres', 'SELECT name, watermark FROM hybridagg.aggregates ORDER BY 1');
is($node->safe_psql('postgres',
	q{SELECT watermark > now() - interval '3 hours' AND watermark <= now() - interval '1 hour'
	    FROM hybridagg.aggregates WHERE name = 'events_1h'}),
	't', 'create with data sealed the hours older than seal_after, and no more');

# new rows (newer than seal_after, so above every watermark), written by
# sessions of other zones, some as local times
$node->safe_psql('postgres', q{
	SET TimeZone = 'Pacific/Chatham';
	INSERT INTO events SELECT now() - i * interval '1.5 seconds', i % 25, i FROM generate_series(1, 2000) i;
	INSERT INTO events VALUES (localtimestamp::timestamptz, 7, 7),
	                          (date_trunc('minute', localtimestamp)::timestamptz, 8, 8);
	SET TimeZone = 'America/St_Johns';
	INSERT INTO events VALUES (localtimestamp::timestamptz - interval '5 minutes', 9, 9),
	                          ((localtimestamp - interval '10 minutes')::text::timestamptz, 10, 10);
});
all_exact('exact after new rows', 'UTC', 'America/St_Johns');

# late rows, UPDATE and DELETE, all between 6 and 3 days ago, below the
# watermark: a batch view serves them after the next materialize of that range
$node->safe_psql('postgres', q{
	SET TimeZone = 'Pacific/Chatham';
	INSERT INTO events SELECT now() - interval '5 days' - i * interval '1 minute', i % 25, i
	  FROM generate_series(1, 1000) i;
	INSERT INTO events VALUES ((localtimestamp - interval '4 days')::timestamptz, 3, 33);
	SET TimeZone = 'America/St_Johns';
	UPDATE events SET device_id = device_id + 100, value = value * 3, ts = ts + interval '20 minutes'
	 WHERE ts >= now() - interval '5 days' AND ts < now() - interval '4 days 12 hours';
	DELETE FROM events WHERE device_id % 25 = 3 AND ts >= now() - interval '4 days' AND ts < now() - interval '3 days 6 hours';
});
for my $agg (sort keys %query)
{
	cmp_ok(diff($agg, 'UTC'), '>', 0,
		"$agg: before materialize, the view still serves the old history (batch mode), and the check sees it");
}
$node->safe_psql('postgres', q{
	SET TimeZone = 'Pacific/Chatham';
	CALL hybridagg.materialize('events_1h', now() - interval '6 days', now() - interval '3 days');
	CALL hybridagg.materialize('events_15m', now() - interval '6 days', now() - interval '3 days');
	SET TimeZone = 'America/St_Johns';
	CALL hybridagg.materialize('events_day', now() - interval '6 days', now() - interval '3 days');
});
all_exact('exact after late rows, UPDATE, DELETE and materialize of that range',
	'UTC', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns');

# sealing what is due, from a session of yet another zone, changes nothing
$node->safe_psql('postgres', q{
	SET TimeZone = 'Pacific/Marquesas';
	CALL hybridagg.materialize('events_1h');
	CALL hybridagg.materialize('events_day');
	CALL hybridagg.materialize('events_15m');
});
all_exact('exact after materialize from a Pacific/Marquesas session', 'UTC', 'Pacific/Marquesas');

# ---------------------------------------------------------------------
# five bad definitions: refused, with errcode, detail and hint, and nothing left
# ---------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE TABLE devices (id int PRIMARY KEY, name text)');
my @bad = (
	[
		'2-argument date_trunc on timestamptz',
		q{SELECT date_trunc('hour', ts) AS bucket, count(*) AS n FROM events GROUP BY 1},
		'0A000', qr/date_trunc.*TimeZone/
	],
	[
		'a join',
		q{SELECT date_bin('1 hour', e.ts, '2000-01-01 00:00+00') AS bucket, d.name, count(*) AS n
		  FROM events e JOIN devices d ON d.id = e.device_id GROUP BY 1, 2},
		'0A000', qr/join/i
	],
	[
		'a volatile WHERE',
		q{SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, count(*) AS n
		  FROM events WHERE random() < 0.5 GROUP BY 1},
		'0A000', qr/random.*volatile/
	],
	[
		'no time bucket',
		q{SELECT device_id, count(*) AS n FROM events GROUP BY 1},
		'0A000', qr/time bucket/
	],
	[
		'text that is not SQL',
		q{this is not SQL},
		'42601', qr/not valid SQL/
	],
);
my $before = inventory($node);
for my $case (@bad)
{
	my ($what, $sql, $state, $message) = @$case;
	for my $mode (qw(batch hybrid))
	{
		my ($rc, $out, $err) = psql_verbose($node,
			"SELECT hybridagg.create('bad_agg', \$q\$$sql\$q\$, mode => '$mode')");
		isnt($rc, 0, "$what ($mode): refused");
		like($err, qr/ERROR:  $state: /, "$what ($mode): SQLSTATE $state");
		like($err, qr/ERROR:  \w+: .*$message/, "$what ($mode): the message says why");
		like($err, qr/^DETAIL:  \S/m, "$what ($mode): a detail");
		like($err, qr/^HINT:  \S/m, "$what ($mode): a hint");
		is(inventory($node), $before, "$what ($mode): nothing left behind");
	}
}
ok($node->safe_psql('postgres', "SELECT to_regclass('bad_agg') IS NULL"), 'no view bad_agg');

# ---------------------------------------------------------------------
# names made of quotes and SQL are just names
# ---------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE SCHEMA "odd schema"');
$before = inventory($node);
my $events_oid = $node->safe_psql('postgres', "SELECT 'events'::regclass::oid");
my @names = (
	[ q{x"; DROP TABLE events; --},            q{"x""; DROP TABLE events; --"} ],
	[ q{Robert'); DROP TABLE events; --},      q{"Robert'); DROP TABLE events; --"} ],
	[ q{"odd schema"."a view; DROP TABLE x"}, q{"odd schema"."a view; DROP TABLE x"} ],
);
for my $n (@names)
{
	my ($name, $quoted) = @$n;
	for my $mode (qw(batch hybrid))
	{
		my $q = $query{events_1h};
		my ($rc, $out, $err) = psql_verbose($node,
			"SELECT hybridagg.create(\$n\$$name\$n\$, \$q\$$q\$q\$, mode => '$mode')");
		is($rc, 0, "create $name ($mode)") or diag $err;
		is($node->safe_psql('postgres', "SELECT to_regclass(\$n\$$quoted\$n\$) IS NOT NULL"),
			't', "the view is $quoted");
		is($node->safe_psql('postgres',
				"SELECT test_diff(\$n\$$quoted\$n\$, \$q\$$q\$q\$, '{bucket,device_id}')"),
			0, "$name ($mode): exact");
		($rc, $out, $err) = psql_verbose($node, "CALL hybridagg.materialize(\$n\$$name\$n\$)");
		is($rc, 0, "materialize $name ($mode)") or diag $err;
		($rc, $out, $err) = psql_verbose($node, "SELECT hybridagg.drop(\$n\$$name\$n\$)");
		is($rc, 0, "drop $name ($mode)") or diag $err;
		is($node->safe_psql('postgres', "SELECT 'events'::regclass::oid"), $events_oid,
			'events is still there, the same table');
		is(inventory($node), $before, "$name ($mode): nothing left after drop");
	}
}
all_exact('exact at the end', 'UTC', 'Asia/Kathmandu');

ok(!$node->log_contains('terminated by signal'), 'no process crashed');
$node->stop;
done_testing();
