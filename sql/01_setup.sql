-- The extension, its objects, and the helpers the other tests use.
CREATE EXTENSION hybridagg;
SELECT extversion FROM pg_extension WHERE extname = 'hybridagg';
SELECT p.oid::regprocedure AS interface
  FROM pg_proc p WHERE p.pronamespace = 'hybridagg'::regnamespace ORDER BY p.oid::regprocedure::text;
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'hybridagg.aggregates'::regclass AND attnum > 0 ORDER BY attnum;
\i test/sql/helpers.sql
-- the helper itself can fail: a view that differs from its query
CREATE TABLE helper_check (k int, v float8);
INSERT INTO helper_check VALUES (1, 1.0), (2, 2.0), (NULL, 3.0);
CREATE VIEW helper_view AS SELECT k, v FROM helper_check WHERE k IS DISTINCT FROM 2;
SELECT test_diff('helper_view', 'SELECT k, v FROM helper_check', '{k}') AS one_group_missing;
CREATE OR REPLACE VIEW helper_view AS SELECT k, CASE WHEN k IS NULL THEN v + 1e-6 ELSE v END AS v FROM helper_check;
SELECT test_diff('helper_view', 'SELECT k, v FROM helper_check', '{k}') AS one_value_off;
CREATE OR REPLACE VIEW helper_view AS SELECT k, v * (1 + 1e-12) AS v FROM helper_check;
SELECT test_diff('helper_view', 'SELECT k, v FROM helper_check', '{k}') AS within_tolerance;
DROP VIEW helper_view;
-- a numeric that shows another scale differs
ALTER TABLE helper_check ALTER v TYPE numeric;
CREATE VIEW helper_view AS SELECT k, CASE WHEN k = 1 THEN round(v, 2) ELSE v END AS v FROM helper_check;
SELECT test_diff('helper_view', 'SELECT k, v FROM helper_check', '{k}') AS one_scale_off;
DROP VIEW helper_view;
DROP TABLE helper_check;
