-- Security: nothing an aggregate's owner's code sets outlives the statement
-- hybridagg ran it in.  The owner's function (declared IMMUTABLE, which
-- hybridagg cannot check) calls set_config(..., false) whenever it runs: in
-- a writer's capture, in a reader's recompute of dirty groups, in verify()
-- and, in the worker's fold, it turns default_transaction_read_only on.
-- Before, a superuser who read the owner's view kept the owner's
-- search_path, and the next unqualified name (now()) ran the owner's
-- function as the superuser; and the worker stopped folding every other
-- aggregate of the database.
-- This file fails if: a writer's, a reader's or verify()'s caller's
-- search_path or work_mem changes, the worker stops folding another role's
-- aggregate after folding the owner's, or the owner can drop the values
-- view of its live aggregate.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
CREATE ROLE regress_hybridagg_sec40_owner;
CREATE ROLE regress_hybridagg_sec40_writer;
CREATE SCHEMA sec40 AUTHORIZATION regress_hybridagg_sec40_owner;
GRANT USAGE ON SCHEMA sec40 TO regress_hybridagg_sec40_writer;

SET ROLE regress_hybridagg_sec40_owner;
CREATE FUNCTION sec40.leaky(x float8) RETURNS float8 LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF (SELECT backend_type FROM pg_catalog.pg_stat_activity WHERE pid = pg_catalog.pg_backend_pid()) = 'hybridagg worker' THEN
        PERFORM pg_catalog.set_config('default_transaction_read_only', 'on', false);
    ELSE
        PERFORM pg_catalog.set_config('search_path', 'sec40, pg_catalog', false);
        PERFORM pg_catalog.set_config('work_mem', '77kB', false);
    END IF;
    RETURN x;
END
$$;
CREATE TABLE sec40.events (ts timestamptz NOT NULL, x float8);
CREATE INDEX ON sec40.events (ts);
-- sum() keeps a state that the writer's capture evaluates; stddev() a value
-- that the reader recomputes while its group is dirty
SELECT hybridagg.create('sec40.leaky_h', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, sum(sec40.leaky(x)) AS s, stddev(sec40.leaky(x)) AS sd FROM sec40.events GROUP BY 1$$, mode => 'streaming') IS NOT NULL AS created;
GRANT INSERT ON sec40.events TO regress_hybridagg_sec40_writer;
GRANT SELECT ON sec40.leaky_h TO PUBLIC;
-- nor may the owner drop an internal view of its live aggregate: without
-- values_<id> every write and read would fail
SELECT format('hybridagg_internal.values_%s', id) AS values_view
  FROM hybridagg_internal.aggregate WHERE view = 'sec40.leaky_h'::regclass \gset
\set VERBOSITY sqlstate
DROP VIEW :values_view;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT to_regclass(:'values_view') IS NOT NULL AS values_view_kept;
RESET ROLE;
SET search_path = public;
SET work_mem = '4MB';

-- a writer
SET ROLE regress_hybridagg_sec40_writer;
INSERT INTO sec40.events VALUES ('2025-01-01 00:10+00', 1), ('2025-01-01 00:20+00', 2);
SHOW search_path;
SHOW work_mem;
RESET ROLE;

-- a superuser reading the view while its group is dirty (its own write)
BEGIN;
INSERT INTO sec40.events VALUES ('2025-01-01 00:30+00', 4);
SHOW search_path;
SHOW work_mem;
SELECT b, s, round(sd::numeric, 6) AS sd FROM sec40.leaky_h ORDER BY b;
SHOW search_path;
SHOW work_mem;
COMMIT;

-- verify() (its NOTICE tells the seconds it took)
SET client_min_messages = warning;
SELECT count(*) AS wrong_buckets FROM hybridagg.verify('sec40.leaky_h');
SHOW search_path;
SHOW work_mem;
RESET client_min_messages;

-- the worker has folded the owner's aggregate: it still folds another one
CALL wait_until($$(SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates WHERE name = 'sec40.leaky_h')$$);
CREATE TABLE sec40_other (ts timestamptz NOT NULL, x float8);
SELECT hybridagg.create('sec40_other_h', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) AS n FROM sec40_other GROUP BY 1$$, mode => 'streaming') IS NOT NULL AS created;
INSERT INTO sec40.events VALUES ('2025-01-01 01:10+00', 8);
CALL wait_until($$(SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates WHERE name = 'sec40.leaky_h')$$);
INSERT INTO sec40_other VALUES ('2025-01-01 00:10+00', 1);
CALL wait_until($$(SELECT pending_deltas = 0 FROM hybridagg.aggregates WHERE name = 'sec40_other_h')$$);
SELECT name, last_error FROM hybridagg.aggregates WHERE name IN ('sec40.leaky_h', 'sec40_other_h') ORDER BY name;
SELECT test_diff('sec40.leaky_h', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, sum(x) AS s, stddev(x) AS sd FROM sec40.events GROUP BY 1$$, '{b}') AS differences;

SET client_min_messages = warning;
SELECT hybridagg.drop('sec40.leaky_h') IS NOT NULL AS dropped, hybridagg.drop('sec40_other_h') IS NOT NULL AS dropped;
DROP TABLE sec40_other;
DROP SCHEMA sec40 CASCADE;
DROP ROLE regress_hybridagg_sec40_owner, regress_hybridagg_sec40_writer;
