-- The views read by parallel plans: CREATE TABLE AS, CREATE MATERIALIZED
-- VIEW and its REFRESH, and a plain SELECT, with parallel workers forced,
-- in a new session (so that each view's first use in the session is in
-- that parallel query) and with deltas pending and dirty groups, in every
-- mode.  Such a query allows no command to start: the view's reads of
-- hybridagg's catalog must run inside the caller's snapshot, read-only.
-- Each copy is compared with the defining query; batch mode's, which serves
-- these late rows below its watermark stale until its next run, after that
-- run.  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE par (ts timestamptz NOT NULL, k int NOT NULL, v float8);
INSERT INTO par SELECT '2025-01-01 00:00+00'::timestamptz + i * interval '7 seconds', i % 5, i % 1000
  FROM generate_series(1, 30000) i;
CREATE INDEX ON par (ts);
ANALYZE par;
\set q 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, k, count(*) AS n, sum(v) AS total, min(v) AS lo, stddev(v) AS sd FROM par GROUP BY 1, 2'
SELECT count(hybridagg.create('par_' || m, :'q', mode => m, seal_after => '1 day'))
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;

\c
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET min_parallel_index_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
BEGIN;
-- pending deltas, and dirty groups (a minimum deleted, stddev changed)
DELETE FROM par WHERE k = 2 AND ts < '2025-01-01 12:00+00';
INSERT INTO par VALUES ('2025-01-01 05:10+00', 1, -5), ('2025-01-03 00:00+00', 7, 1);
SELECT m, plan_has(format('CREATE TABLE c AS SELECT * FROM %I', 'par_' || m), '%Gather%') AS parallel_plan
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT format('CREATE TABLE %I AS SELECT * FROM %I', 'copy_' || m, 'par_' || m),
       format('CREATE MATERIALIZED VIEW %I AS SELECT * FROM %I', 'mv_' || m, 'par_' || m),
       format('REFRESH MATERIALIZED VIEW %I', 'mv_' || m)
  FROM unnest(ARRAY['streaming', 'hybrid', 'lambda', 'kappa']) m
\gexec
SELECT m, test_diff(('copy_' || m)::regclass, :'q', '{b,k}') AS copy_differs,
       test_diff(('mv_' || m)::regclass, :'q', '{b,k}') AS refreshed_differs
  FROM unnest(ARRAY['streaming', 'hybrid', 'lambda', 'kappa']) m;
COMMIT;
CALL hybridagg.materialize('par_batch', '-infinity', 'infinity');
\c
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
CREATE TABLE copy_batch AS SELECT * FROM par_batch;
SELECT test_diff('copy_batch', :'q', '{b,k}') AS copy_differs;
-- and the plain SELECT, with every group of every view in a parallel plan
SET force_parallel_mode = on;
SELECT m, test_diff(('par_' || m)::regclass, :'q', '{b,k}') AS view_differs
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
