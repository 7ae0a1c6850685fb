-- Security: create() refuses base tables an aggregate would go wrong on,
-- and leaves nothing behind: UNLOGGED tables and partitions, a partition as
-- the base table (streaming modes), inheritance children (streaming modes,
-- also with FROM ONLY), row-level security.  Then: internal tables whose
-- kind the owner changed (a table turned into a view by an ON SELECT
-- rule) must not crash the server.
-- This file fails if: a refused create succeeds or fails with another
-- SQLSTATE, a refused create leaves a relation in hybridagg_internal or a
-- catalog row, or reading an aggregate whose delta table its owner turned
-- into a view crashes the backend (the file then stops: the server
-- restarted).
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_o;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_o;
SET ROLE regress_hybridagg_o;
CREATE UNLOGGED TABLE sec29_unlogged (ts timestamptz NOT NULL, value int NOT NULL);
CREATE TABLE sec29_parted (ts timestamptz NOT NULL, value int NOT NULL) PARTITION BY RANGE (ts);
CREATE TABLE sec29_parted_a PARTITION OF sec29_parted FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2025-01-01 00:00+00');
CREATE UNLOGGED TABLE sec29_parted_b PARTITION OF sec29_parted FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2026-01-01 00:00+00');
CREATE TABLE sec29_logged_parted (ts timestamptz NOT NULL, value int NOT NULL) PARTITION BY RANGE (ts);
CREATE TABLE sec29_logged_part PARTITION OF sec29_logged_parted FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2025-01-01 00:00+00');
CREATE TABLE sec29_parent (ts timestamptz NOT NULL, value int NOT NULL);
CREATE TABLE sec29_child () INHERITS (sec29_parent);
CREATE TABLE sec29_rls (ts timestamptz NOT NULL, value int NOT NULL);
ALTER TABLE sec29_rls ENABLE ROW LEVEL SECURITY;
CREATE TABLE sec29_forced (ts timestamptz NOT NULL, value int NOT NULL);
ALTER TABLE sec29_forced ENABLE ROW LEVEL SECURITY;
ALTER TABLE sec29_forced FORCE ROW LEVEL SECURITY;
INSERT INTO sec29_parted VALUES ('2024-06-01 00:00+00', 1);
INSERT INTO sec29_logged_parted VALUES ('2024-06-01 00:00+00', 1);
INSERT INTO sec29_parent VALUES ('2024-06-01 00:00+00', 1);
INSERT INTO sec29_child VALUES ('2024-06-01 00:00+00', 2);
RESET ROLE;

CREATE FUNCTION sec29_left() RETURNS TABLE (internal_relations bigint, aggregates bigint, views bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'hybridagg_internal'::regnamespace),
           (SELECT count(*) FROM hybridagg_internal.aggregate),
           (SELECT count(*) FROM pg_class WHERE relname LIKE 'sec29\_agg%')
$$;
SELECT * FROM sec29_left() \gset before_

SET ROLE regress_hybridagg_o;
\set VERBOSITY sqlstate
-- UNLOGGED table, in every mode
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_unlogged GROUP BY 1', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_unlogged GROUP BY 1', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
-- an UNLOGGED partition (streaming modes)
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_parted GROUP BY 1', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_parted GROUP BY 1', mode => 'lambda');
\echo :LAST_ERROR_SQLSTATE
-- an UNLOGGED partition as the base table itself
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_parted_b GROUP BY 1', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
-- a partition as the base table (streaming modes)
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_logged_part GROUP BY 1', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_logged_part GROUP BY 1', mode => 'kappa');
\echo :LAST_ERROR_SQLSTATE
-- inheritance children (streaming modes), with and without ONLY
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_parent GROUP BY 1', mode => 'streaming');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM ONLY sec29_parent GROUP BY 1', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
-- row-level security, enabled or forced, in every mode
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_rls GROUP BY 1', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_rls GROUP BY 1', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec29_agg', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_forced GROUP BY 1', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET ROLE;
-- nothing was left behind
SELECT * FROM sec29_left() \gset after_
SELECT :after_internal_relations - :before_internal_relations AS new_internal_relations,
       :after_aggregates - :before_aggregates AS new_aggregates,
       :after_views - :before_views AS new_views;
SELECT count(*) AS capture_triggers_left FROM pg_trigger WHERE tgfoid = 'hybridagg_internal.capture()'::regprocedure
   AND tgrelid IN ('sec29_parted'::regclass, 'sec29_parted_a'::regclass, 'sec29_parted_b'::regclass,
                   'sec29_logged_part'::regclass, 'sec29_parent'::regclass, 'sec29_child'::regclass, 'sec29_rls'::regclass);
-- what is allowed: batch mode of a partition and of a table with children
SET ROLE regress_hybridagg_o;
SELECT hybridagg.create('sec29_agg_part', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_logged_part GROUP BY 1', mode => 'batch');
SELECT hybridagg.create('sec29_agg_inh', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_parent GROUP BY 1', mode => 'batch');
SELECT test_diff('sec29_agg_inh', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec29_parent GROUP BY 1', '{bucket}') AS inh_exact;
SET client_min_messages = warning;
SELECT hybridagg.drop('sec29_agg_part');
SELECT hybridagg.drop('sec29_agg_inh');
RESET client_min_messages;
RESET ROLE;

-- the owner turns its (empty) delta table into a view, with an ON SELECT
-- rule: reading the aggregate must not crash the server (whether the rule
-- is refused, or the read fails cleanly).  All in one transaction, rolled
-- back, so that the worker never sees it.
CREATE TABLE sec29_events (ts timestamptz NOT NULL, value int NOT NULL);
INSERT INTO sec29_events VALUES ('2024-06-01 00:00+00', 1), ('2024-06-01 00:10+00', 2);
GRANT SELECT, TRIGGER ON sec29_events TO regress_hybridagg_o;
SET ROLE regress_hybridagg_o;
SELECT hybridagg.create('sec29_agg_rule', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n, min(value) AS lo FROM sec29_events GROUP BY 1', mode => 'hybrid');
RESET ROLE;
SELECT format('hybridagg_internal.delta_%s', id) AS delta FROM hybridagg_internal.aggregate WHERE view = 'sec29_agg_rule'::regclass \gset
SELECT set_config('sec29.delta', :'delta', false) AS ignored \gset
BEGIN;
SET LOCAL ROLE regress_hybridagg_o;
DO $$
BEGIN
    EXECUTE format('CREATE RULE "_RETURN" AS ON SELECT TO %s DO INSTEAD SELECT ''2024-06-01 00:00+00''::timestamptz AS g1, 1::bigint AS __rows, 1 AS min_v1, true AS __dirty', current_setting('sec29.delta'));
EXCEPTION WHEN OTHERS THEN
    NULL;
END
$$;
RESET ROLE;
DO $$
BEGIN
    PERFORM count(*) FROM sec29_agg_rule;
EXCEPTION WHEN OTHERS THEN
    NULL;
END
$$;
DO $$
BEGIN
    INSERT INTO sec29_events VALUES ('2024-06-01 00:20+00', 3);
EXCEPTION WHEN OTHERS THEN
    NULL;
END
$$;
SELECT 'the server is still up' AS survived;
ROLLBACK;
SELECT test_diff('sec29_agg_rule', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n, min(value) AS lo FROM sec29_events GROUP BY 1', '{bucket}') AS rule_agg_exact;

-- clean up
SET client_min_messages = warning;
SELECT hybridagg.drop('sec29_agg_rule');
RESET client_min_messages;
DROP FUNCTION sec29_left();
DROP TABLE sec29_unlogged, sec29_parted, sec29_logged_parted, sec29_child, sec29_parent, sec29_rls, sec29_forced, sec29_events;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_o;
DROP ROLE regress_hybridagg_o;
