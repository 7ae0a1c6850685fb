-- A timestamp or timestamptz column grouped by itself, as PipelineDB's and
-- Citus' users write over rows that already hold bucketed times (an hour
-- column): each distinct time is its own bucket, in every mode, exact after
-- create, new, late, updated and deleted rows, a fold and a materialize;
-- history gets the old ones.  A column of another type is still no time
-- bucket.  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE tc_hourly (hour timestamptz NOT NULL, project text NOT NULL, views int, local_hour timestamp);
CREATE INDEX ON tc_hourly (hour);
CREATE INDEX ON tc_hourly (local_hour);
INSERT INTO tc_hourly SELECT '2025-03-01 00:00+00'::timestamptz + (i % 72) * interval '1 hour',
                             (ARRAY['en', 'de', 'fr'])[1 + i % 3], i % 50,
                             '2025-03-01 00:00'::timestamp + (i % 48) * interval '1 hour'
  FROM generate_series(1, 3000) i;
\set q1 'SELECT hour, project, count(*) AS pages, sum(views) AS total, max(views) AS top, stddev(views) AS sd FROM tc_hourly GROUP BY hour, project'
\set q2 'SELECT local_hour, count(*) AS pages, min(views) AS low FROM tc_hourly WHERE local_hour IS NOT NULL GROUP BY 1'
SELECT count(hybridagg.create('tc_' || m, :'q1', mode => m, seal_after => '1 day'))
     + count(hybridagg.create('tl_' || m, :'q2', mode => m, seal_after => '1 day'))
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
CREATE FUNCTION tc_differing() RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (SELECT p || m, test_diff((p || m)::regclass, q, k)
                     FROM (VALUES ('tc_', $q$SELECT hour, project, count(*) AS pages, sum(views) AS total, max(views) AS top, stddev(views) AS sd FROM tc_hourly GROUP BY hour, project$q$, '{hour,project}'::text[]),
                                  ('tl_', $q$SELECT local_hour, count(*) AS pages, min(views) AS low FROM tc_hourly WHERE local_hour IS NOT NULL GROUP BY 1$q$, '{local_hour}'::text[])) d(p, q, k),
                          unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m) x(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
SELECT * FROM tc_differing();
-- new, late, updated (moved to another time) and deleted rows
INSERT INTO tc_hourly VALUES ('2025-03-04 01:00+00', 'en', 7, '2025-03-03 01:00'), ('2025-03-01 05:00+00', 'it', 3, NULL);
UPDATE tc_hourly SET hour = hour + interval '2 hours', local_hour = local_hour + interval '1 hour' WHERE views = 13;
DELETE FROM tc_hourly WHERE project = 'de' AND hour < '2025-03-02 00:00+00' AND views > 40;
SELECT * FROM tc_differing() WHERE aggregate NOT LIKE '%batch';
SELECT count(hybridagg.fold(p || m)) >= 0 AS folded FROM unnest(ARRAY['tc_', 'tl_']) p,
       unnest(ARRAY['streaming', 'hybrid', 'lambda', 'kappa']) m;
CALL hybridagg.materialize('tc_batch', '-infinity', 'infinity');
CALL hybridagg.materialize('tl_batch', '-infinity', 'infinity');
CALL hybridagg.materialize('tc_hybrid');
SELECT * FROM tc_differing();
SELECT (stored_groups('tc_hybrid')).history > 0 AS history_holds_old_hours;
SELECT hour, project, pages, total FROM tc_hybrid WHERE hour = '2025-03-01 05:00+00' ORDER BY project;

-- a column of another type is still no time bucket
\set VERBOSITY terse
SELECT hybridagg.create('tc_refused', 'SELECT views, count(*) FROM tc_hourly GROUP BY 1', mode => 'batch');
\set VERBOSITY default

SET client_min_messages = warning;
SELECT count(hybridagg.drop(name)) AS dropped FROM hybridagg.aggregates WHERE name LIKE 'tc\_%' OR name LIKE 'tl\_%';
DROP TABLE tc_hourly;
DROP FUNCTION tc_differing();
