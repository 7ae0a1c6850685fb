# The upgrade path: a database that installed hybridagg 0.1.0 and runs
# ALTER EXTENSION hybridagg UPDATE ends with exactly the objects of a fresh
# 0.2.0 install: the same functions (signature, result, language, symbol,
# volatility, strictness, parallel safety, rows, privileges), tables and
# columns, constraints, views, event triggers (with their tags and enabled
# state), comments, privileges on schemas and tables, and dumped
# configuration tables.  A 0.1.0 database that has aggregates is refused
# with a hint, and changes nothing.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HybridaggTest;

my $node = hybridagg_node('upgrade');

# everything the extension made, one sorted line per fact
my $describe = q{
	WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'hybridagg'),
	members AS (SELECT classid, objid FROM pg_depend, ext
	             WHERE refclassid = 'pg_extension'::regclass AND refobjid = ext.oid AND deptype = 'e')
	SELECT string_agg(line, E'\n' ORDER BY line) FROM (
		SELECT 'function ' || p.oid::regprocedure || ' returns ' || pg_get_function_result(p.oid)
		       || ' language ' || l.lanname || ' symbol ' || coalesce(nullif(p.prosrc, ''), '-')
		       || ' volatile ' || p.provolatile::text || ' strict ' || p.proisstrict
		       || ' parallel ' || p.proparallel::text || ' rows ' || p.prorows || ' kind ' || p.prokind::text
		       || ' acl ' || coalesce(p.proacl::text, 'default')
		       || ' comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-') AS line
		  FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
		  JOIN pg_language l ON l.oid = p.prolang
		UNION ALL
		SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text
		       || ' acl ' || coalesce(c.relacl::text, 'default')
		       || ' options ' || coalesce(c.reloptions::text, '-')
		       || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
		       || ' view ' || coalesce(pg_get_viewdef(c.oid), '-')
		  FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
		UNION ALL
		SELECT 'column ' || c.oid::regclass || ' ' || a.attnum_visible || ' ' || a.attname || ' '
		       || format_type(a.atttypid, a.atttypmod) || ' notnull ' || a.attnotnull
		       || ' default ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
		  FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
		  JOIN (SELECT *, row_number() OVER (PARTITION BY attrelid ORDER BY attnum) AS attnum_visible
		          FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped) a ON a.attrelid = c.oid
		  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
		UNION ALL
		SELECT 'constraint ' || r.conrelid::regclass || ' ' || r.contype::text || ' ' || pg_get_constraintdef(r.oid)
		  FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
		  JOIN pg_constraint r ON r.conrelid = c.oid
		UNION ALL
		SELECT 'index ' || pg_get_indexdef(i.indexrelid)
		  FROM members m JOIN pg_index i ON m.classid = 'pg_class'::regclass AND i.indrelid = m.objid
		UNION ALL
		SELECT 'event trigger ' || e.evtname || ' on ' || e.evtevent || ' tags ' || coalesce(e.evttags::text, '-')
		       || ' function ' || e.evtfoid::regproc || ' enabled ' || e.evtenabled::text
		  FROM members m JOIN pg_event_trigger e ON m.classid = 'pg_event_trigger'::regclass AND e.oid = m.objid
		UNION ALL
		SELECT 'schema ' || n.nspname || ' acl ' || coalesce(n.nspacl::text, 'default')
		       || ' comment ' || coalesce(obj_description(n.oid, 'pg_namespace'), '-')
		  FROM members m JOIN pg_namespace n ON m.classid = 'pg_namespace'::regclass AND n.oid = m.objid
		UNION ALL
		SELECT 'config ' || c::regclass || ' ' || coalesce(w, '-')
		  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(c, w)
		 WHERE e.extname = 'hybridagg'
		UNION ALL
		SELECT 'version ' || extversion FROM pg_extension WHERE extname = 'hybridagg'
	) facts
};

$node->safe_psql('postgres', q{
	CREATE DATABASE fresh;
	CREATE DATABASE upgraded;
	CREATE DATABASE with_aggregates;
});
$node->safe_psql('fresh', 'CREATE EXTENSION hybridagg');
$node->safe_psql('upgraded', q{
	CREATE EXTENSION hybridagg VERSION '0.1.0';
	ALTER EXTENSION hybridagg UPDATE;
});
my $fresh = $node->safe_psql('fresh', $describe);
my $upgraded = $node->safe_psql('upgraded', $describe);
like($fresh, qr/^version 0\.2\.0$/m, 'the fresh install is 0.2.0');
cmp_ok(scalar(split /\n/, $fresh), '>', 60, 'and has its objects described');
is($upgraded, $fresh, 'an upgraded 0.1.0 install equals a fresh 0.2.0 install');

# a 0.1.0 database with an aggregate: refused, nothing changed
$node->safe_psql('with_aggregates', q{
	CREATE EXTENSION hybridagg VERSION '0.1.0';
	CREATE TABLE events (ts timestamptz NOT NULL, v int);
	INSERT INTO hybridagg_internal.aggregate (id, view, base_table, owner, definition, mode, seal_after,
	    time_type, bucket_function, bucket_width, bucket_origin)
	VALUES (1, 'events'::regclass, 'events'::regclass, current_user::regrole, 'SELECT 1', 'batch', '1 hour',
	    'timestamptz', 'date_bin', '1 hour', '2000-01-01 00:00+00');
});
my $before = $node->safe_psql('with_aggregates', $describe);
my ($rc, $out, $err) = psql_verbose($node, 'ALTER EXTENSION hybridagg UPDATE', 'with_aggregates');
isnt($rc, 0, 'the update of a database with 0.1.0 aggregates is refused');
like($err, qr/55000: hybridagg 0.2.0 cannot update a database that has hybridagg 0.1.0 aggregates/,
	'with a clear error');
like($err, qr/HINT:  .*drop them with hybridagg.drop\(\), update, and create them again/, 'and a hint');
is($node->safe_psql('with_aggregates', $describe), $before, 'and nothing changed');

$node->stop;
done_testing();
