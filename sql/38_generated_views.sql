-- The SQL of the generated views, in every mode: one small definition (an
-- hour bucket, one extra key, count(*), sum, avg, min and max) kept as
-- batch, streaming, hybrid, lambda and kappa, and for each the text of its
-- view, of hybridagg_internal.source_<id> and of hybridagg_internal.groups_<id>
-- (pg_get_viewdef, pretty).  Any change to the SQL a view runs shows here
-- as a diff, to be read and accepted on purpose.  The ids of the aggregates
-- depend on what ran before in the database; they are printed as <id>.
-- Constants in the text are printed in the session's TimeZone, DateStyle
-- and IntervalStyle, so this file sets them.  Every date is literal.
-- This file fails if: a generated view's text changes, or a view differs
-- from its defining query.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
\set VERBOSITY default

CREATE TABLE gv_events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
INSERT INTO gv_events VALUES
    ('2026-03-01 00:10+00', 1, 1.5), ('2026-03-01 00:20+00', 1, 4.0),
    ('2026-03-01 01:05+00', 2, NULL), ('2026-03-02 09:45+00', 1, -2.25);

\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi FROM gv_events GROUP BY 1, 2'
SELECT hybridagg.create('gv_batch', :'query', mode => 'batch');
SELECT hybridagg.create('gv_streaming', :'query', mode => 'streaming');
SELECT hybridagg.create('gv_hybrid', :'query', mode => 'hybrid');
SELECT hybridagg.create('gv_lambda', :'query', mode => 'lambda');
SELECT hybridagg.create('gv_kappa', :'query', mode => 'kappa');
SELECT view, mode, test_diff(view, :'query', '{bucket,device_id}') AS differences
  FROM hybridagg.aggregates WHERE name LIKE 'gv\_%' ORDER BY view::text;

-- the views of one aggregate, its id shown as <id>: in the names of its
-- internal relations, as the argument of the view's functions (dirty_groups,
-- pending_groups, bucket_pending) and in "a.id = <id>"
CREATE FUNCTION generated_views(agg regclass) RETURNS TABLE (relation text, definition text)
LANGUAGE sql AS $$
    SELECT replace(r.rel::text, '_' || a.id, '_<id>'),
           regexp_replace(regexp_replace(regexp_replace(pg_get_viewdef(r.rel, true),
               '\m(hybridagg_internal\.[a-z]+)_' || a.id || '\M', '\1_<id>', 'g'),
               '\m(dirty_groups|pending_groups|bucket_pending)\(' || a.id || ',', '\1(<id>,', 'g'),
               '\.id = ' || a.id || '\M', '.id = <id>', 'g')
      FROM hybridagg_internal.aggregate a,
           LATERAL (VALUES (1, a.view),
                           (2, format('hybridagg_internal.source_%s', a.id)::regclass),
                           (3, format('hybridagg_internal.groups_%s', a.id)::regclass)) r (n, rel)
     WHERE a.view = agg
     ORDER BY r.n
$$;

-- the internal views are these two, in every mode
SELECT a.mode, string_agg(replace(c.relname, '_' || a.id, '_<id>'), ', ' ORDER BY c.relname) AS internal_views
  FROM hybridagg_internal.aggregate a
  JOIN pg_class c ON c.relnamespace = 'hybridagg_internal'::regnamespace AND c.relkind = 'v'
                 AND c.relname ~ ('_' || a.id || '$')
 WHERE a.view::text LIKE 'gv\_%'
 GROUP BY a.mode ORDER BY a.mode;

\pset format unaligned
\pset tuples_only on
\pset recordsep '\n\n'
\pset fieldsep '\n'
SELECT * FROM generated_views('gv_batch');
SELECT * FROM generated_views('gv_streaming');
SELECT * FROM generated_views('gv_hybrid');
SELECT * FROM generated_views('gv_lambda');
SELECT * FROM generated_views('gv_kappa');
\pset format aligned
\pset tuples_only off
\pset recordsep '\n'
\pset fieldsep '|'

-- no id is left in the text shown
SELECT count(*) AS ids_left
  FROM hybridagg_internal.aggregate a, generated_views(a.view) g
 WHERE a.view::text LIKE 'gv\_%'
   AND (g.definition ~ 'hybridagg_internal\.[a-z_]+[0-9]' OR g.definition ~ '\.id = [0-9]');

SET client_min_messages = warning;
SELECT hybridagg.drop(view::text) FROM hybridagg.aggregates WHERE name LIKE 'gv\_%' ORDER BY view::text;
RESET client_min_messages;
DROP FUNCTION generated_views(regclass);
DROP TABLE gv_events;
RESET IntervalStyle;
RESET DateStyle;
RESET TimeZone;
