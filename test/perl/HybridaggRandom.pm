# HybridaggRandom: the generator of test/t/100_randomized.pl.
#
# Everything a round does is drawn from one seeded generator (a Park-Miller
# generator, so a seed means the same thing on every Perl): the base table,
# the defining query, the mode, and the statements.  Row values are computed
# in SQL from a row number i, so a statement is a short text that writes the
# same rows whenever it is replayed.
#
#   my $rng = HybridaggRandom::Rng->new($seed);
#   my $round = HybridaggRandom::make_round($rng, $seed);
#   $round->{create_sql}, $round->{query}, $round->{keys}, ...
#   my $step = HybridaggRandom::make_step($round, $rng);   # { name, sql, ... }
package HybridaggRandom;

use strict;
use warnings;

# ---------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------
package HybridaggRandom::Rng;

sub new
{
	my ($class, $seed) = @_;
	my $state = (($seed * 7919 + 104729) % 2147483646) + 1;
	my $self = bless { state => $state }, $class;
	$self->next for 1 .. 5;
	return $self;
}

sub next
{
	my ($self) = @_;
	$self->{state} = ($self->{state} * 48271) % 2147483647;
	return $self->{state};
}

# an integer in [0, n)
sub int { my ($self, $n) = @_; return $n <= 1 ? 0 : $self->next % $n; }

# an integer in [lo, hi]
sub range { my ($self, $lo, $hi) = @_; return $lo + $self->int($hi - $lo + 1); }

sub chance { my ($self, $p) = @_; return ($self->next % 1000000) < $p * 1000000; }

sub pick { my ($self, @list) = @_; return $list[ $self->int(scalar @list) ]; }

# pick from [weight, value] pairs
sub weighted
{
	my ($self, @pairs) = @_;
	my $total = 0;
	$total += $_->[0] for @pairs;
	my $x = $self->int($total);
	for my $p (@pairs)
	{
		return $p->[1] if $x < $p->[0];
		$x -= $p->[0];
	}
	return $pairs[-1][1];
}

# k distinct elements of a list, in list order
sub subset
{
	my ($self, $k, @list) = @_;
	my %chosen;
	$k = @list if $k > @list;
	while (keys %chosen < $k)
	{
		$chosen{ $self->int(scalar @list) } = 1;
	}
	return map { $list[$_] } sort { $a <=> $b } keys %chosen;
}

package HybridaggRandom;

# ---------------------------------------------------------------------
# What a round may pick
# ---------------------------------------------------------------------

our @ZONES = qw(UTC Europe/London America/St_Johns Australia/Lord_Howe
  Pacific/Chatham Asia/Kathmandu America/Sao_Paulo);

# Literal anchors (UTC instants) near a transition of each zone: the rows of
# a literal round lie around its anchor.
our %ANCHORS = (
	'UTC' => [ '2024-02-29 23:30:00+00', '2000-01-01 00:00:00+00', '2023-12-31 22:00:00+00' ],
	'Europe/London' => [
		'2023-10-29 01:00:00+00',    # fall back 02:00 BST -> 01:00 GMT
		'2023-03-26 01:00:00+00',    # spring forward
		'1847-12-01 00:01:15+00',    # LMT -00:01:15 -> GMT
	],
	'America/St_Johns' => [
		'2023-11-05 02:30:00+00',    # fall back (NDT -2:30 -> NST -3:30)
		'1935-03-30 03:30:52+00',    # local mean time -3:30:52 -> -3:30
		'1918-04-14 05:30:52+00',    # the first DST, still -3:30:52
	],
	'Australia/Lord_Howe' => [
		'2023-04-01 15:00:00+00',    # fall back half an hour (+11 -> +10:30)
		'2023-09-30 15:30:00+00',    # spring forward half an hour
	],
	'Pacific/Chatham' => [
		'2023-04-01 14:00:00+00',    # fall back (+13:45 -> +12:45)
		'2023-09-23 14:00:00+00',    # spring forward
	],
	'Asia/Kathmandu' => [
		'1985-12-31 18:30:00+00',    # +05:30 -> +05:45
		'1919-12-31 18:18:44+00',    # LMT +05:41:16 -> +05:30
	],
	'America/Sao_Paulo' => [
		'2018-11-04 03:00:00+00',    # spring forward at midnight: no 00:00
		'2019-02-17 02:00:00+00',    # the last fall back
	],
);

our @DEVS = ('İ', '∑', 'a ', 'A', '', 'a', 'ß', 'i', 'ı', 'Ab');

# approximate widths in seconds, to size the span of the rows
our %UNIT_SECONDS = (
	minute => 60, hour => 3600, day => 86400, week => 7 * 86400,
	month => 30 * 86400, quarter => 91 * 86400, year => 365 * 86400);

sub lit { my ($s) = @_; $s =~ s/'/''/g; return "'$s'"; }

# the time of an offset in seconds (an SQL integer expression) from the
# round's anchor: a literal instant, or now()
sub time_at
{
	my ($round, $offset) = @_;
	return "($round->{anchor_sql} + ($offset) * interval '1 second')";
}

# ---------------------------------------------------------------------
# A round: table, definition, mode
# ---------------------------------------------------------------------

sub make_round
{
	my ($rng, $seed) = @_;
	my %r = (seed => $seed);
	my $t = $r{table} = "rt_$seed";

	$r{ts_type} = $rng->chance(0.7) ? 'timestamptz' : 'timestamp';
	$r{ts_nullable} = $rng->chance(0.4);
	$r{dev_nullable} = $rng->chance(0.4);
	$r{dev_collate} = $rng->pick('', '', '', ' COLLATE "C"', ' COLLATE "tr-x-icu"', ' COLLATE "und-x-icu"');
	$r{partitioned} = $rng->chance(0.45);
	$r{default_part} = $r{partitioned} && ($rng->chance(0.5) || ($r{ts_nullable} && $rng->chance(0.5)));
	# the partition p2 partitioned again, by the text column
	$r{sub_list} = $r{partitioned} && $rng->chance(0.35);
	$r{regime} = $rng->chance(0.6) ? 'literal' : 'relative';
	$r{nan_inf} = $rng->chance(0.35) && !avoid('nan');
	my $tz = $r{ts_type} eq 'timestamptz';
	my $first = make_def($rng, \%r, "rv_$seed");
	my ($width, $zone) = ($first->{width}, $first->{zone});
	$r{width} = $width;
	# the rows span [anchor - span, anchor + span)
	my $span = $width * $rng->range(20, 80);
	$span = 4 * 3600 if $span < 4 * 3600;
	$span = 120 * 86400 if $span > 120 * 86400;
	$span = 240 * int($span / 240);    # divides by 4, 20 and 2 evenly
	$r{span} = $span;

	if ($r{regime} eq 'literal')
	{
		my @anchors = @{ $ANCHORS{$zone} };
		@anchors = grep { !/^1(847|935|918|919)-/ } @anchors if avoid('lmt');
		@anchors = @{ $ANCHORS{UTC} } unless @anchors;
		my $anchor = $rng->pick(@anchors);
		$r{anchor_text} = $anchor;
		$r{anchor_sql} = $tz ? "'$anchor'::timestamptz" : "('$anchor'::timestamptz AT TIME ZONE 'UTC')";
	}
	else
	{
		$r{anchor_text} = 'now()';
		# mostly in the past, so that there is something to seal
		$r{anchor_sql} = $tz ? "(now() - interval '$span seconds' / 2)"
		  : "((now() AT TIME ZONE 'UTC') - interval '$span seconds' / 2)";
	}

	# the table
	my $tsdef = "ts $r{ts_type}" . ($r{ts_nullable} ? '' : ' NOT NULL');
	my $devdef = "dev text$r{dev_collate}" . ($r{dev_nullable} ? '' : ' NOT NULL');
	$r{columns} = "id bigint NOT NULL DEFAULT nextval('${t}_seq'), $tsdef, k int NOT NULL, kn int, $devdef, vi int, vb bigint, vn numeric, vf float8";
	if ($r{partitioned})
	{
		# [MINVALUE, -span) [-span, 0) [0, span) gap [span, 2 span) [2 span, MAXVALUE)
		my @b = map { bound_sql(\%r, $_) } (-$span, 0, $span, 2 * $span);
		$r{parts} = {
			"${t}_pmin" => { from => 'MINVALUE', to => $b[0], lo => undef, hi => -$span },
			"${t}_p1" => { from => $b[0], to => $b[1], lo => -$span, hi => 0 },
			"${t}_p2" => { from => $b[1], to => $b[2], lo => 0, hi => $span },
			"${t}_pmax" => { from => $b[3], to => 'MAXVALUE', lo => 2 * $span, hi => undef },
		};
		$_->{attached} = 1 for values %{ $r{parts} };
		$r{has_default} = $r{default_part} ? 1 : 0;
	}

	# a second aggregate on the same table, now and then
	$r{aggs} = [$first];
	push @{ $r{aggs} }, make_def($rng, \%r, "rv_${seed}_2") if $rng->chance(0.3);

	# the row generator's per-round multipliers
	$r{mul} = [ map { $rng->pick(7, 11, 13, 17, 31, 37, 101, 7919, 104723) } 1 .. 6 ];
	return \%r;
}

# The DDL of the table.  In a relative round, $resolve (a function of a list
# of SQL expressions, returning their values as literals) first turns the
# partition bounds into constants, so that a partition attached again later
# gets the same bounds.
sub table_ddl
{
	my ($r, $resolve) = @_;
	my $t = $r->{table};
	my @ddl = ("CREATE SEQUENCE ${t}_seq");
	if ($r->{partitioned})
	{
		my @parts = sort keys %{ $r->{parts} };
		if ($r->{regime} eq 'relative')
		{
			my @slots = grep { $$_ !~ /^(MINVALUE|MAXVALUE)$/ }
			  map { (\$r->{parts}{$_}{from}, \$r->{parts}{$_}{to}) } @parts;
			my @values = $resolve->(map { $$_ } @slots);
			$$_ = shift @values for @slots;
		}
		push @ddl, "CREATE TABLE $t ($r->{columns}) PARTITION BY RANGE (ts)";
		for my $p (@parts)
		{
			my $sub = $r->{sub_list} && $p eq "${t}_p2";
			push @ddl, "CREATE TABLE $p PARTITION OF $t FOR VALUES FROM ($r->{parts}{$p}{from}) TO ($r->{parts}{$p}{to})"
			  . ($sub ? ' PARTITION BY LIST (dev)' : '');
			next unless $sub;
			push @ddl, "CREATE TABLE ${p}_l1 PARTITION OF $p FOR VALUES IN ('İ', '∑')",
			  "CREATE TABLE ${p}_l2 PARTITION OF $p FOR VALUES IN ('a ', 'A', '')",
			  "CREATE TABLE ${p}_ld PARTITION OF $p DEFAULT";
		}
		push @ddl, "CREATE TABLE ${t}_pdef PARTITION OF $t DEFAULT" if $r->{default_part};
	}
	else
	{
		push @ddl, "CREATE TABLE $t ($r->{columns})";
	}
	push @ddl, "CREATE INDEX ON $t (ts)";
	return join(";\n", @ddl) . ';';
}

# A definition over the round's table, its mode and seal_after
sub make_def
{
	my ($rng, $r, $view) = @_;
	my %d = (view => $view);
	my $t = $r->{table};
	$d{mode} = $rng->pick(qw(batch streaming hybrid lambda kappa));
	$d{seal_after} = $rng->pick('0', '5 minutes', '1 hour', '1 day', '30 days');
	my $tz = $r->{ts_type} eq 'timestamptz';
	my ($zone, $width);
	
	if ($rng->chance($tz ? 0.4 : 0.5))
	{
		my ($w, $secs) = @{ $rng->pick(
			[ '7 minutes', 420 ], [ '90 minutes', 5400 ], [ '1 day', 86400 ],
			[ '1 hour', 3600 ], [ '13 minutes', 780 ], [ '45 seconds', 45 ],
			[ '2 hours 30 minutes', 9000 ], [ '3 days', 259200 ]) };
		my $origin = $rng->pick(
			'2000-01-01 00:00:00', '2001-02-03 04:05:06', '1999-12-31 23:59:30',
			'1970-01-01 00:07:00', '2023-11-05 01:30:00');
		if ($tz)
		{
			$origin .= $rng->pick('+00', '+05:45', '-03:30', '+13:45');
			$d{bucket} = "date_bin('$w', ts, '$origin'::timestamptz)";
		}
		else
		{
			$d{bucket} = "date_bin('$w', ts, '$origin'::timestamp)";
		}
		$width = $secs;
		$zone = $rng->pick(@ZONES);
	}
	else
	{
		my $unit = $rng->weighted([ 3, 'minute' ], [ 5, 'hour' ], [ 5, 'day' ], [ 3, 'week' ],
			[ 3, 'month' ], [ 1, 'quarter' ], [ 1, 'year' ]);
		$width = $UNIT_SECONDS{$unit};
		if ($tz)
		{
			$zone = $rng->pick(@ZONES);
			$d{bucket} = "date_trunc('$unit', ts, '$zone')";
		}
		else
		{
			$d{bucket} = "date_trunc('$unit', ts)";
			$zone = $rng->pick(@ZONES);
		}
	}
	$d{width} = $width;
	$d{zone} = $zone;
	# the definition
	my @key_choices = (
		[ 'k', 'k' ], [ 'kn', 'kn' ], [ 'dev', 'dev' ], [ 'upper(dev)', 'udev' ],
		[ 'lower(dev)', 'ldev' ], [ "dev || 'x'", 'devx' ], [ 'k % 2', 'kpar' ]);
	my @keys = $rng->subset($rng->weighted([ 1, 0 ], [ 3, 1 ], [ 3, 2 ], [ 2, 3 ]), @key_choices);
	my @aggs;
	push @aggs, [ 'count(*)', 'n' ] if $rng->chance(0.85);
	my @agg_choices = (
		[ 'count(vf)', 'c_vf' ], [ 'count(dev)', 'c_dev' ], [ 'sum(vi)', 's_vi' ],
		[ 'sum(vb)', 's_vb' ], [ 'sum(vn)', 's_vn' ], [ 'sum(vf)', 's_vf' ],
		[ 'avg(vi)', 'a_vi' ], [ 'avg(vb)', 'a_vb' ], [ 'avg(vn)', 'a_vn' ],
		[ 'avg(vf)', 'a_vf' ], [ 'min(vi)', 'lo_vi' ], [ 'max(vi)', 'hi_vi' ],
		[ 'min(vf)', 'lo_vf' ], [ 'max(vf)', 'hi_vf' ], [ 'min(vn)', 'lo_vn' ],
		[ 'max(dev)', 'hi_dev' ], [ 'min(ts)', 'first_ts' ], [ 'count(kn)', 'c_kn' ]);
	push @aggs, $rng->subset($rng->range(1, 5), @agg_choices);
	my $where = $rng->chance(0.3) ? $rng->pick(
		'k <> 2', 'vi IS NULL OR vi > -100', "dev <> 'A'", 'kn IS DISTINCT FROM 1',
		'vf IS NOT NULL') : undef;
	my $having = $rng->chance(0.2) ? $rng->pick(
		'count(*) > 2', 'sum(vi) > 50', 'max(vi) IS NOT NULL', 'count(*) % 2 = 0') : undef;
	$d{keys} = [ 'b', map { $_->[1] } @keys ];
	my $select = join(', ', "$d{bucket} AS b", (map { "$_->[0] AS $_->[1]" } @keys),
		map { "$_->[0] AS $_->[1]" } @aggs);
	my $group = join(', ', 1 .. 1 + @keys);
	$d{query} = "SELECT $select FROM $t" . ($where ? " WHERE $where" : '') . " GROUP BY $group"
	  . ($having ? " HAVING $having" : '');
	$d{where} = $where;

	return \%d;
}

# a partition bound at an offset from the anchor, as an expression PostgreSQL
# evaluates once (a literal, or now() in a relative round)
sub bound_sql
{
	my ($r, $offset) = @_;
	return time_at($r, $offset);
}

# ---------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------

# SELECT list of one generated row from the integer SQL expression $i, with
# times in [lo, hi) seconds from the anchor, a function of i and salt
sub row_select
{
	my ($r, $i0, $lo, $hi, $salt, $ts) = @_;
	my ($m1, $m2, $m3, $m4, $m5, $m6) = @{ $r->{mul} };
	my $i = "($i0)::int8";
	$salt //= 0;
	if (!defined $ts)
	{
		# relative rounds: keep away from partition bounds, which stay put
		# while now() moves on
		if ($r->{regime} eq 'relative' && $r->{partitioned})
		{
			my $margin = int(($hi - $lo) / 4);
			$margin = 900 if $margin > 900;
			($lo, $hi) = ($lo + $margin, $hi - $margin);
		}
		my $len = $hi - $lo;
		$len = 1 if $len < 1;
		my $offset = "$lo + (($i) * $m1 + $salt) % $len";
		# a third of the rows close to the anchor, where the transitions are
		my ($dlo, $dhi) = ($lo > -4 * $r->{width} ? $lo : -4 * $r->{width}, $hi < 4 * $r->{width} ? $hi : 4 * $r->{width});
		if ($dhi - $dlo >= 2)
		{
			$offset = "CASE WHEN ($i) % 3 = 0 THEN $dlo + (($i) * $m1 + $salt) % " . ($dhi - $dlo) . " ELSE $offset END";
		}
		$ts = time_at($r, $offset);
	}
	my $devs = 'ARRAY[' . join(', ', map { lit($_) } @DEVS) . ']';
	my $ndev = scalar @DEVS;
	my $dev = "($devs)[1 + (($i) * $m3 + $salt) % $ndev]";
	$dev = "CASE WHEN ($i) % 9 = 4 THEN NULL ELSE $dev END" if $r->{dev_nullable};
	my $vf = "((($i) * $m5) % 4000) / 4.0 - 300";
	my $vn = "((($i) * $m6) % 100000) / 100.0 - 200";
	if ($r->{nan_inf})
	{
		$vf = "CASE WHEN ($i) % 17 = 3 THEN 'Infinity'::float8 WHEN ($i) % 19 = 5 THEN '-Infinity'::float8"
		  . " WHEN ($i) % 23 = 7 THEN 'NaN'::float8 ELSE $vf END";
		$vn = "CASE WHEN ($i) % 29 = 11 THEN 'NaN'::numeric ELSE $vn END";
	}
	return join(', ',
		$ts,
		"(($i) * $m2 + $salt) % 5",
		"CASE WHEN ($i) % 4 = 1 THEN NULL ELSE (($i) * $m2) % 3 END",
		$dev,
		"CASE WHEN ($i) % 7 = 2 THEN NULL ELSE ((($i) * $m4) % 1000) - 300 END",
		"((($i) * $m4) % 1000) * 4000000000000000::bigint",
		"CASE WHEN ($i) % 11 = 6 THEN NULL ELSE $vn END",
		"CASE WHEN ($i) % 9 = 8 THEN NULL ELSE $vf END");
}

our $COLS = '(ts, k, kn, dev, vi, vb, vn, vf)';

sub insert_rows
{
	my ($r, $target, $first, $n, $lo, $hi, $salt) = @_;
	my $last = $first + $n - 1;
	return "INSERT INTO $target $COLS SELECT " . row_select($r, 'i', $lo, $hi, $salt)
	  . " FROM generate_series($first, $last) i";
}

# ---------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------

# times of late and odd rows: an SQL expression per kind
sub odd_time
{
	my ($r, $kind, $rng) = @_;
	my $days = $rng->range(2, 400);
	return time_at($r, -$days * 86400 - $rng->int(86400)) if $kind eq 'days';
	return "($r->{anchor_sql} - interval '1 year')" if $kind eq 'year';
	return "($r->{anchor_sql} - interval '2068 years' - interval '" . $rng->int(1000) . " hours')" if $kind eq 'bc';
	return "'infinity'::$r->{ts_type}" if $kind eq 'infinity';
	return "'-infinity'::$r->{ts_type}" if $kind eq '-infinity';
	return "NULL::$r->{ts_type}" if $kind eq 'null';
	return time_at($r, -$r->{span} - 1200 - $rng->int(20 * $r->{width}));
}

# where rows of a round may go through the parent, now: [lo, hi) offsets
sub covered
{
	my ($r, $lo, $hi) = @_;
	return 1 unless $r->{partitioned};
	return 1 if $r->{has_default};
	for my $p (values %{ $r->{parts} })
	{
		next unless $p->{attached};
		my $plo = $p->{lo} // -1e18;
		my $phi = $p->{hi} // 1e18;
		return 1 if $lo >= $plo && $hi <= $phi;
	}
	for my $p (values %{ $r->{extra} // {} })
	{
		next unless $p->{attached};
		return 1 if $lo >= $p->{lo} && $hi <= $p->{hi};
	}
	return 0;
}

# HYBRIDAGG_AVOID="infinity,nan,lmt": leave out what triggers known bugs
# (for hunting others; a round then differs from the same seed without it)
sub avoid
{
	my ($what) = @_;
	return ($ENV{HYBRIDAGG_AVOID} // '') =~ /\b\Q$what\E\b/;
}

sub odd_kinds
{
	my ($r) = @_;
	my @kinds = qw(days year bc edge);
	push @kinds, 'infinity', '-infinity' unless avoid('infinity');
	push @kinds, 'null' if $r->{ts_nullable} && (!$r->{partitioned} || $r->{has_default});
	return grep { covered_kind($r, $_) } @kinds;
}

sub covered_kind
{
	my ($r, $kind) = @_;
	return 1 unless $r->{partitioned};
	return 1 if $r->{has_default};
	return 0 if $kind eq 'null';
	return $r->{parts}{"$r->{table}_pmax"}{attached} if $kind eq 'infinity';
	return $r->{parts}{"$r->{table}_pmin"}{attached};
}

# a range of seconds from the anchor, a bit wider than the rows
sub random_range
{
	my ($r, $rng) = @_;
	my $a = $rng->range(-$r->{span}, $r->{span});
	my $len = $rng->range(1, 20) * $r->{width};
	return ($a, $a + $len);
}

# One step of a round: { name, sql } (sql: statements for one psql run), or
# { name, kind => 'wait' | 'pause' | 'drain' }.  It may change $r (the
# partitions attached) as the DDL it returns will.
sub make_step
{
	my ($r, $rng) = @_;
	my $t = $r->{table};
	my $def = $rng->pick(@{ $r->{aggs} });    # for materialize and reprocess
	my $v = $def->{view};
	my @streaming = grep { $_->{mode} ne 'batch' } @{ $r->{aggs} };
	my $span = $r->{span};
	my $row = \$r->{next_row};
	my $streaming = @streaming > 0;
	my @kinds = (
		[ 10, 'bulk' ], [ 6, 'single' ], [ 6, 'late' ], [ 6, 'update_time' ],
		[ 5, 'update_keys' ], [ 3, 'update_values' ], [ 2, 'update_noop' ],
		[ 6, 'delete' ], [ 3, 'delete_range' ], [ 3, 'delete_odd' ], [ 1, 'truncate' ],
		[ 3, 'copy' ], [ 4, 'materialize' ], [ 4, 'materialize_range' ],
		[ 3, 'transaction' ], [ 2, 'rollback' ], [ 3, 'pause' ], [ 2, 'drain' ], [ 4, 'merge' ]);
	push @kinds, [ (grep { $_->{mode} eq 'kappa' } @streaming) ? 5 : 1, 'reprocess' ] if $streaming;
	push @kinds, [ 4, 'partition_insert' ], [ 7, 'partition_ddl' ] if $r->{partitioned};
	my $kind = $rng->weighted(@kinds);

	if ($kind eq 'bulk')
	{
		my $n = $rng->pick(1, 10, 100, 500, 2000);
		my $first = $$row;
		$$row += $n;
		my ($lo, $hi) = (-$span, $span);
		if (!covered($r, $lo, $hi))
		{
			($lo, $hi) = covered($r, -$span, 0) ? (-$span, 0) : (0, $span);
			return { name => 'pause', kind => 'pause' } unless covered($r, $lo, $hi);
		}
		return { name => "bulk insert of $n rows", sql => insert_rows($r, $t, $first, $n, $lo, $hi, $rng->int(1000)) };
	}
	if ($kind eq 'single')
	{
		my @sql;
		for (1 .. $rng->range(1, 4))
		{
			my $first = $$row++;
			my ($lo, $hi) = covered($r, -$span, $span) ? (-$span, $span) : covered($r, 0, $span) ? (0, $span) : (-$span, 0);
			next unless covered($r, $lo, $hi);
			push @sql, insert_rows($r, $t, $first, 1, $lo, $hi, $rng->int(100000));
		}
		return { name => 'pause', kind => 'pause' } unless @sql;
		return { name => 'single-row inserts', sql => join(";\n", @sql) };
	}
	if ($kind eq 'late')
	{
		my @kinds = odd_kinds($r);
		return { name => 'pause', kind => 'pause' } unless @kinds;
		my @sql;
		my @what;
		for (1 .. $rng->range(1, 4))
		{
			my $k = $rng->pick(@kinds);
			my $first = $$row;
			my $n = $rng->pick(1, 1, 3, 20);
			$$row += $n;
			my $ts = odd_time($r, $k, $rng);
			push @what, "$n $k";
			my $sel = row_select($r, 'i', 0, 1, 0, $ts);
			push @sql, "INSERT INTO $t $COLS SELECT $sel FROM generate_series($first, " . ($first + $n - 1) . ") i";
		}
		return { name => 'late and odd rows (' . join(', ', @what) . ')', sql => join(";\n", @sql) };
	}
	if ($kind eq 'update_time')
	{
		my $m = $rng->pick(3, 7, 13, 50);
		my $x = $rng->int($m);
		my $shift = $rng->pick($r->{width}, -$r->{width}, $rng->range(-3 * $r->{width}, 3 * $r->{width}),
			$rng->range(-int($span / 4), int($span / 4)), 3600, -86400);
		my $sql = "UPDATE $t SET ts = ts + ($shift) * interval '1 second' WHERE id % $m = $x";
		if ($rng->chance(0.15) && $r->{ts_nullable} && (!$r->{partitioned} || $r->{has_default}))
		{
			$sql = "UPDATE $t SET ts = NULL WHERE id % $m = $x";
		}
		elsif ($rng->chance(0.15))
		{
			$sql = "UPDATE $t SET ts = " . odd_time($r, $rng->pick(odd_kinds($r)), $rng) . " WHERE id % $m = $x"
			  if odd_kinds($r);
		}
		return { name => 'update moving rows in time', sql => $sql, tolerate => qr/no partition of relation/ };
	}
	if ($kind eq 'update_keys')
	{
		my $m = $rng->pick(3, 5, 11);
		my $x = $rng->int($m);
		my $newdev = $rng->pick(map { lit($_) } @DEVS);
		$newdev = 'NULL' if $r->{dev_nullable} && $rng->chance(0.3);
		my $set = $rng->pick("dev = $newdev", "k = (k + 1) % 5", "kn = CASE WHEN kn IS NULL THEN 1 WHEN kn = 2 THEN NULL ELSE kn + 1 END",
			"dev = $newdev, k = (k + 2) % 5, vi = vi + 1", "dev = upper(dev)");
		$set = "dev = coalesce(upper(dev), 'x')" if $set eq 'dev = upper(dev)' && !$r->{dev_nullable};
		return { name => 'update moving rows between keys', sql => "UPDATE $t SET $set WHERE id % $m = $x" };
	}
	if ($kind eq 'update_values')
	{
		my $m = $rng->pick(2, 5, 9);
		my $x = $rng->int($m);
		my $set = $rng->pick('vi = vi + 7, vf = vf * 2', 'vi = NULL, vn = vn + 1', 'vf = NULL, vb = -vb',
			"vf = CASE WHEN id % 2 = 0 THEN 'Infinity' ELSE vf END", 'vn = vn * 3, vi = -vi', 'vn = round(vn, 1)');
		$set = 'vf = vf + 0.25' if !$r->{nan_inf} && $set =~ /Infinity/;
		return { name => 'update of values', sql => "UPDATE $t SET $set WHERE id % $m = $x" };
	}
	if ($kind eq 'update_noop')
	{
		return { name => 'update changing nothing the aggregate reads', sql => "UPDATE $t SET id = id WHERE id % 3 = 0" };
	}
	if ($kind eq 'delete')
	{
		my $m = $rng->pick(2, 3, 7, 19, 97);
		my $x = $rng->int($m);
		return { name => "delete of a 1/$m of the rows", sql => "DELETE FROM $t WHERE id % $m = $x" };
	}
	if ($kind eq 'delete_range')
	{
		my ($a, $b) = random_range($r, $rng);
		return { name => 'delete of a time range', sql => "DELETE FROM $t WHERE ts >= " . time_at($r, $a) . " AND ts < " . time_at($r, $b) };
	}
	if ($kind eq 'delete_odd')
	{
		my $cond = $rng->pick('ts IS NULL', 'ts < ' . time_at($r, -$span),
			"ts < '0001-01-01'", 'ts >= ' . time_at($r, $span));
		return { name => "delete of odd rows ($cond)", sql => "DELETE FROM $t WHERE $cond" };
	}
	if ($kind eq 'truncate')
	{
		if ($r->{partitioned} && $rng->chance(0.6))
		{
			my @p = grep { $r->{parts}{$_}{attached} } sort keys %{ $r->{parts} };
			return { name => 'pause', kind => 'pause' } unless @p;
			my $p = $rng->pick(@p);
			return { name => "truncate of partition $p", sql => "TRUNCATE $p" };
		}
		return { name => 'truncate', sql => "TRUNCATE $t" };
	}
	if ($kind eq 'copy')
	{
		my $n = $rng->pick(10, 300, 1500);
		my $first = $$row;
		$$row += $n;
		my ($lo, $hi) = covered($r, -$span, $span) ? (-$span, $span) : (0, $span);
		return { name => 'pause', kind => 'pause' } unless covered($r, $lo, $hi);
		my $file = "$r->{dir}/copy_$r->{seed}_$first";
		return {
			name => "COPY of $n rows",
			sql => "COPY (SELECT " . row_select($r, 'i', $lo, $hi, 5) . " FROM generate_series($first, " . ($first + $n - 1) . ") i) TO '$file';\n"
			  . "COPY $t $COLS FROM '$file'"
		};
	}
	if ($kind eq 'materialize')
	{
		return { name => 'materialize', sql => "CALL hybridagg.materialize('$v')", batch_side => 1 };
	}
	if ($kind eq 'materialize_range')
	{
		my ($a, $b) = random_range($r, $rng);
		($a, $b) = (-$span * 3, $span * 3) if $rng->chance(0.2);
		my $lo = "(" . time_at($r, $a) . ")::timestamptz";
		my $hi = "(" . time_at($r, $b) . ")::timestamptz";
		($lo, $hi) = ("'-infinity'", "'infinity'") if $rng->chance(0.15);
		return { name => 'materialize of a range', sql => "CALL hybridagg.materialize('$v', $lo, $hi)", batch_side => 1, full => ($lo eq "'-infinity'" ? $v : undef) };
	}
	if ($kind eq 'reprocess')
	{
		$v = $rng->pick(@streaming)->{view};
		my ($a, $b) = random_range($r, $rng);
		($a, $b) = (-$span * 3, $span * 3) if $rng->chance(0.3);
		return { name => 'reprocess of a range',
			sql => "SELECT hybridagg.reprocess('$v', (" . time_at($r, $a) . ")::timestamptz, (" . time_at($r, $b) . ")::timestamptz)", batch_side => 1 };
	}
	if ($kind eq 'transaction')
	{
		my $first = $$row;
		$$row += 50;
		my ($lo, $hi) = covered($r, 0, $span) ? (0, $span) : (-$span, 0);
		return { name => 'pause', kind => 'pause' } unless covered($r, $lo, $hi);
		return {
			name => 'transaction of insert, update, delete',
			sql => "BEGIN;\n" . insert_rows($r, $t, $first, 50, $lo, $hi, 3) . ";\n"
			  . "UPDATE $t SET dev = 'A', vi = vi + 1 WHERE id >= $first AND id % 2 = 0;\n"
			  . "DELETE FROM $t WHERE id % 5 = 1;\nCOMMIT"
		};
	}
	if ($kind eq 'rollback')
	{
		my $first = $$row;
		$$row += 30;
		return {
			name => 'writes rolled back (whole and to a savepoint)',
			sql => "BEGIN;\nDELETE FROM $t WHERE id % 4 = 0;\nSAVEPOINT s;\n"
			  . "UPDATE $t SET ts = ts + interval '1 hour' WHERE id % 3 = 0;\nROLLBACK TO SAVEPOINT s;\n"
			  . "UPDATE $t SET vi = 1 WHERE id % 6 = 1;\nROLLBACK;\n"
			  . "BEGIN;\nDELETE FROM $t WHERE id % 10 = 3;\nSAVEPOINT s;\nDELETE FROM $t WHERE id % 10 = 4;\nROLLBACK TO SAVEPOINT s;\nCOMMIT",
			tolerate => qr/no partition of relation/
		};
	}
	if ($kind eq 'merge')
	{
		# ids from rows that exist and from rows that do not yet
		my $first = $rng->range(1, $$row);
		my $n = $rng->pick(5, 30, 200);
		my $last = $first + $n - 1;
		$$row = $last + 1 if $last >= $$row;
		my $shift = $rng->pick($r->{width}, -$r->{width}, 3600, int($span / 3), 60);
		my @when = ("WHEN MATCHED AND t.id % 3 = 0 THEN UPDATE SET ts = t.ts + ($shift) * interval '1 second', vi = t.vi + 1");
		push @when, "WHEN MATCHED AND t.id % 3 = 1 THEN UPDATE SET dev = " . ($r->{dev_nullable} ? "upper(t.dev)" : "coalesce(upper(t.dev), 'x')") if $rng->chance(0.5);
		push @when, "WHEN MATCHED AND t.id % 7 = 2 THEN DELETE" if $rng->chance(0.4);
		my ($lo, $hi) = covered($r, -$span, $span) ? (-$span, $span) : covered($r, 0, $span) ? (0, $span) : (-$span, 0);
		push @when, "WHEN NOT MATCHED THEN INSERT $COLS VALUES (" . row_select($r, 's.id', $lo, $hi, 7) . ")"
		  if $rng->chance(0.7) && covered($r, $lo, $hi);
		return { name => 'MERGE (' . join(', ', map { /UPDATE SET ts/ ? 'update moving rows' : /UPDATE/ ? 'update keys' : /DELETE/ ? 'delete' : 'insert' } @when) . ')',
			sql => "MERGE INTO $t t USING (SELECT i::int8 AS id FROM generate_series($first, $last) i) s ON t.id = s.id\n " . join("\n ", @when),
			# on a partitioned table that hybridagg captures, a MERGE that
			# sets a partition key is refused (PostgreSQL 15 hides its moved
			# rows from the UPDATE transition tables: merge_guard.c)
			tolerate => $r->{partitioned} ? qr/no partition of relation|MERGE cannot change column/ : qr/no partition of relation/ };
	}
	if ($kind eq 'pause')
	{
		return { name => 'pause', kind => 'pause' };
	}
	if ($kind eq 'drain')
	{
		return { name => 'wait until folded', kind => 'drain' };
	}
	if ($kind eq 'partition_insert')
	{
		my @p = grep { $r->{parts}{$_}{attached} && defined $r->{parts}{$_}{lo} && defined $r->{parts}{$_}{hi} }
		  sort keys %{ $r->{parts} };
		return { name => 'pause', kind => 'pause' } unless @p;
		my $p = $rng->pick(@p);
		my $n = $rng->pick(1, 20, 400);
		my $first = $$row;
		$$row += $n;
		return { name => "insert of $n rows straight into partition $p",
			sql => insert_rows($r, $p, $first, $n, $r->{parts}{$p}{lo}, $r->{parts}{$p}{hi}, 9) };
	}
	if ($kind eq 'partition_ddl')
	{
		return partition_ddl($r, $rng);
	}
	die "unknown step kind $kind";
}

sub partition_ddl
{
	my ($r, $rng) = @_;
	my $t = $r->{table};
	my @attached = grep { $r->{parts}{$_}{attached} } sort keys %{ $r->{parts} };
	my @detached = grep { !$r->{parts}{$_}{attached} } sort keys %{ $r->{parts} };
	my @choices = ([ 3, 'detach' ], [ 3, 'attach_back' ], [ 3, 'attach_new' ], [ 2, 'create_in_gap' ],
		[ 1, 'default' ], [ 1, 'detach_default' ]);
	push @choices, [ 4, 'sub_partition' ] if $r->{sub_list} && $r->{parts}{"${t}_p2"}{attached};
	my $what = $rng->weighted(@choices);
	$r->{extra} //= {};

	if ($what eq 'detach' && @attached)
	{
		my $p = $rng->pick(@attached);
		$r->{parts}{$p}{attached} = 0;
		my @sql = ("ALTER TABLE $t DETACH PARTITION $p" . ($rng->chance(0.3) ? ' CONCURRENTLY' : ''));
		# rows written to the table while it is not a partition
		if ($rng->chance(0.5) && defined $r->{parts}{$p}{lo} && defined $r->{parts}{$p}{hi})
		{
			my $first = $r->{next_row};
			$r->{next_row} += 40;
			push @sql, insert_rows($r, $p, $first, 40, $r->{parts}{$p}{lo}, $r->{parts}{$p}{hi}, 1);
			push @sql, "DELETE FROM $p WHERE id % 5 = 0";
		}
		return { name => "detach partition $p", sql => join(";\n", @sql),
			# and refused under a streaming aggregate (its rows leave in two
			# transactions: ddl_guard.c)
			tolerate => qr/cannot detach partitions concurrently when a default partition exists|DETACH PARTITION CONCURRENTLY is not supported under hybridagg/,
			on_tolerated => sub { $r->{parts}{$p}{attached} = 1; } };
	}
	if ($what eq 'attach_back' && @detached)
	{
		my $p = $rng->pick(@detached);
		$r->{parts}{$p}{attached} = 1;
		return { name => "attach partition $p again",
			sql => "ALTER TABLE $t ATTACH PARTITION $p FOR VALUES FROM ($r->{parts}{$p}{from}) TO ($r->{parts}{$p}{to})",
			tolerate => qr/would be violated|is already a partition/,
			on_tolerated => sub { $r->{parts}{$p}{attached} = 0; } };
	}
	if ($what eq 'attach_new' || $what eq 'create_in_gap')
	{
		# a slice of the gap [span, 2 span), as a table of its own first
		my $n = scalar keys %{ $r->{extra} };
		return { name => 'pause', kind => 'pause' } if $n >= 3;
		my $lo = $r->{span} + $n * $r->{span} / 4;
		my $hi = $lo + $r->{span} / 4;
		my $p = "${t}_g$n";
		my ($from, $to) = (bound_sql($r, $lo), bound_sql($r, $hi));
		$r->{extra}{$p} = { lo => $lo, hi => $hi, attached => 1 };
		my $first = $r->{next_row};
		$r->{next_row} += 60;
		if ($what eq 'create_in_gap')
		{
			return { name => "create partition $p in the gap",
				sql => "CREATE TABLE $p PARTITION OF $t FOR VALUES FROM ($from) TO ($to);\n"
				  . insert_rows($r, $t, $first, 60, $lo, $hi, 2),
				tolerate => qr/would be violated|violates partition constraint/,
				on_tolerated => sub { delete $r->{extra}{$p}; } };
		}
		# columns in another order, and a dropped one: its rows are laid out
		# unlike the parent's
		my $cols = "vf float8, junk int, dev text$r->{dev_collate}" . ($r->{dev_nullable} ? '' : ' NOT NULL')
		  . ", vn numeric, k int NOT NULL, id bigint NOT NULL DEFAULT nextval('${t}_seq'), kn int, vb bigint, vi int, ts $r->{ts_type}"
		  . ($r->{ts_nullable} ? '' : ' NOT NULL');
		return { name => "attach new table $p (other column order) in the gap",
			sql => "CREATE TABLE $p ($cols);\nALTER TABLE $p DROP COLUMN junk;\n"
			  . insert_rows($r, $p, $first, 60, $lo, $hi, 4) . ";\n"
			  . "ALTER TABLE $t ATTACH PARTITION $p FOR VALUES FROM ($from) TO ($to)",
			tolerate => qr/would be violated|violates partition constraint/,
			on_tolerated => sub { delete $r->{extra}{$p}; } };
	}
	if ($what eq 'sub_partition')
	{
		my $p = "${t}_p2";
		my $leaf = $rng->pick("${p}_l1", "${p}_l2", "${p}_ld");
		my $sql = $rng->pick(
			"DELETE FROM $leaf WHERE id % 3 = 1",
			"UPDATE $leaf SET vi = vi + 1, ts = ts + interval '1 minute' WHERE id % 2 = 0",
			"UPDATE $p SET dev = CASE dev WHEN 'İ' THEN 'a ' WHEN '∑' THEN 'ß' WHEN 'a ' THEN '∑' ELSE 'İ' END WHERE id % 3 = 0",
			"UPDATE ${p}_l1 SET dev = CASE WHEN dev = 'İ' THEN '∑' ELSE 'İ' END WHERE id % 2 = 1",
			"TRUNCATE $leaf",
			"ALTER TABLE $p DETACH PARTITION $leaf;\nALTER TABLE $p ATTACH PARTITION $leaf "
			  . ($leaf =~ /_ld$/ ? 'DEFAULT' : $leaf =~ /_l1$/ ? "FOR VALUES IN ('İ', '∑')" : "FOR VALUES IN ('a ', 'A', '')"));
		return { name => "writes to the sub-partitions of $p", sql => $sql, tolerate => qr/violates partition constraint|no partition of relation/ };
	}
	if ($what eq 'default' && !$r->{has_default})
	{
		$r->{has_default} = 1;
		return { name => 'create the default partition', sql => "CREATE TABLE ${t}_pdef PARTITION OF $t DEFAULT" };
	}
	if ($what eq 'detach_default' && $r->{has_default})
	{
		$r->{has_default} = 0;
		my $i = ++$r->{defaults_detached};
		return { name => 'detach the default partition',
			sql => "ALTER TABLE $t DETACH PARTITION ${t}_pdef;\nALTER TABLE ${t}_pdef RENAME TO ${t}_olddef$i" };
	}
	return { name => 'pause', kind => 'pause' };
}

# ---------------------------------------------------------------------
# pgbench scripts of the concurrent phase
# ---------------------------------------------------------------------

sub pgbench_scripts
{
	my ($r) = @_;
	my $t = $r->{table};
	my $span = $r->{span};
	my %s;
	my ($lo, $hi) = covered($r, -$span, $span) ? (-$span, $span) : covered($r, 0, $span) ? (0, $span) : (-$span, 0);
	my $ok = covered($r, $lo, $hi);
	if ($ok)
	{
		$s{'w_bulk.sql'} = "\\set r random(10000000, 90000000)\n"
		  . insert_rows_var($r, $t, ':r', 20, $lo, $hi) . ";\n";
		$s{'w_single.sql'} = "\\set r random(10000000, 90000000)\n"
		  . insert_rows_var($r, $t, ':r', 1, $lo, $hi) . ";\n";
		$s{'w_update.sql'} = "\\set r random(0, 1008)\n\\set d random(-3, 3)\n"
		  . "UPDATE $t SET ts = ts + (:d * " . ($r->{width} / 2 < $span / 12 ? int($r->{width} / 2) : int($span / 12)) . ") * interval '1 second', dev = upper(dev), k = (k + 1) % 5"
		  . " WHERE id % 1009 = :r AND ts >= " . time_at($r, $lo + $span / 2) . " AND ts < " . time_at($r, $hi - $span / 2) . ";\n";
	}
	my @odd = grep { $_ ne 'null' || covered_kind($r, 'null') } odd_kinds($r);
	if (grep { $_ eq 'days' } @odd)
	{
		$s{'w_late.sql'} = "\\set r random(10000000, 90000000)\n\\set d random(2, 400)\n"
		  . "INSERT INTO $t $COLS SELECT " . row_select_time($r, ':r', time_at($r, ":d * -86400 - 3600")) . ";\n";
	}
	$s{'w_delete.sql'} = "\\set r random(0, 996)\nDELETE FROM $t WHERE id % 997 = :r;\n";
	if ($ok)
	{
		# on a partitioned table the MERGE leaves the partition key alone,
		# which hybridagg refuses to let a MERGE change (merge_guard.c)
		$s{'w_merge.sql'} = "\\set r random(1, 5000)\n"
		  . "MERGE INTO $t t USING (SELECT i::int8 AS id FROM generate_series(:r, :r + 4) i) s ON t.id = s.id\n"
		  . " WHEN MATCHED AND t.id % 2 = 0 AND t.ts >= " . time_at($r, $lo + $span / 2) . " AND t.ts < " . time_at($r, $hi - $span / 2)
		  . " THEN UPDATE SET "
		  . ($r->{partitioned} ? "" : "ts = t.ts + (" . ($r->{width} / 2 < $span / 4 ? int($r->{width} / 2) : int($span / 4)) . ") * interval '1 second', ")
		  . "vi = t.vi + 1\n"
		  . " WHEN NOT MATCHED THEN INSERT $COLS VALUES (" . row_select($r, 's.id + 90000000', $lo, $hi, 3) . ");\n";
	}
	$s{'w_update_values.sql'} = "\\set r random(0, 500)\nUPDATE $t SET vi = vi - 1, vn = vn + 0.5, vf = vf - 0.25 WHERE id % 501 = :r;\n";
	for my $d (@{ $r->{aggs} })
	{
		my $v = $d->{view};
		$s{"m_materialize_$v.sql"} = "CALL hybridagg.materialize('$v');\n\\sleep 300 ms\n";
		$s{"m_range_$v.sql"} = "\\set a random(-20, 20)\n"
		  . "CALL hybridagg.materialize('$v', (" . time_at($r, ":a * $span / 20") . ")::timestamptz, ("
		  . time_at($r, ":a * $span / 20 + $span / 5") . ")::timestamptz);\n\\sleep 300 ms\n";
		next if $d->{mode} eq 'batch';
		$s{"m_reprocess_$v.sql"} = "\\set a random(-20, 20)\n"
		  . "SELECT hybridagg.reprocess('$v', (" . time_at($r, ":a * $span / 20") . ")::timestamptz, ("
		  . time_at($r, ":a * $span / 20 + $span / 5") . ")::timestamptz);\n\\sleep 300 ms\n";
	}
	return \%s;
}

sub insert_rows_var
{
	my ($r, $target, $var, $n, $lo, $hi) = @_;
	return "INSERT INTO $target $COLS SELECT " . row_select($r, 'i', $lo, $hi, 0)
	  . " FROM generate_series($var, $var + " . ($n - 1) . ") i";
}

sub row_select_time
{
	my ($r, $i, $ts) = @_;
	return row_select($r, $i, 0, 1, 0, $ts);
}

1;
