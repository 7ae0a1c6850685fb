-- Security: DDL on a base table that would make an aggregate silently
-- wrong is refused (row-level security, UNLOGGED, becoming a partition,
-- inheritance children, DETACH PARTITION CONCURRENTLY), by the table's own
-- unprivileged owner too; disabling the capture triggers warns and is
-- recorded; ENABLE TRIGGER ALL sets them back to fire always; writes under
-- session_replication_role = replica are captured.
-- This file fails if: a refused command takes effect (the table's
-- relrowsecurity, relpersistence, relispartition or inheritance changes)
-- or fails with another SQLSTATE, disabling a capture trigger is silent or
-- not recorded (capture column, capture_interrupted_at), ENABLE TRIGGER
-- ALL leaves a capture trigger firing on the origin only, a replica-mode
-- write is missed, or a view differs from its query.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_o;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_o;
SET ROLE regress_hybridagg_o;
CREATE TABLE sec28_events (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
INSERT INTO sec28_events
SELECT '2024-12-01 00:00+00'::timestamptz + i * interval '8 minutes', i % 3, i % 43
  FROM generate_series(1, 500) i;
CREATE TABLE sec28_parted (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL) PARTITION BY RANGE (ts);
CREATE TABLE sec28_parted_2024 PARTITION OF sec28_parted FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2025-01-01 00:00+00');
CREATE TABLE sec28_parted_2025 PARTITION OF sec28_parted FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2026-01-01 00:00+00');
INSERT INTO sec28_parted SELECT * FROM sec28_events;
INSERT INTO sec28_parted VALUES ('2025-02-01 00:00+00', 1, 5);
\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, min(value) AS lo FROM sec28_events GROUP BY 1, 2'
\set pquery 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, min(value) AS lo FROM sec28_parted GROUP BY 1, 2'
SELECT hybridagg.create('sec28_hybrid', :'query', mode => 'hybrid');
SELECT hybridagg.create('sec28_phybrid', :'pquery', mode => 'hybrid');
SELECT hybridagg.create('sec28_batch', :'query', mode => 'batch');
CREATE TABLE sec28_host (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL) PARTITION BY RANGE (ts);
CREATE TABLE sec28_loner (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);

CREATE FUNCTION sec28_state() RETURNS TABLE (rls boolean, persistence "char", is_partition boolean, children bigint)
LANGUAGE sql AS $$
    SELECT c.relrowsecurity OR c.relforcerowsecurity, c.relpersistence, c.relispartition,
           (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)
      FROM pg_class c WHERE c.oid = 'sec28_events'::regclass
$$;
SELECT * FROM sec28_state();

\set VERBOSITY sqlstate
-- row-level security on a base table (of a streaming and of a batch
-- aggregate): refused
ALTER TABLE sec28_events ENABLE ROW LEVEL SECURITY;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE sec28_events FORCE ROW LEVEL SECURITY;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE sec28_parted ENABLE ROW LEVEL SECURITY;
\echo :LAST_ERROR_SQLSTATE
-- UNLOGGED, of the table and of a partition
ALTER TABLE sec28_events SET UNLOGGED;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE sec28_parted_2025 SET UNLOGGED;
\echo :LAST_ERROR_SQLSTATE
-- the base table as a partition of another table
ALTER TABLE sec28_host ATTACH PARTITION sec28_events FOR VALUES FROM ('2000-01-01 00:00+00') TO ('2100-01-01 00:00+00');
\echo :LAST_ERROR_SQLSTATE
-- inheritance children, made or attached
CREATE TABLE sec28_child () INHERITS (sec28_events);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE sec28_loner INHERIT sec28_events;
\echo :LAST_ERROR_SQLSTATE
-- DETACH PARTITION CONCURRENTLY under a streaming aggregate
ALTER TABLE sec28_parted DETACH PARTITION sec28_parted_2025 CONCURRENTLY;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
-- nothing changed
SELECT * FROM sec28_state();
SELECT relname, relpersistence, relispartition, relrowsecurity FROM pg_class
 WHERE relname IN ('sec28_parted', 'sec28_parted_2025', 'sec28_loner') ORDER BY 1;
SELECT to_regclass('sec28_child') IS NULL AS no_child;
SELECT test_diff('sec28_hybrid', :'query', '{bucket,device}') AS hybrid_exact;
SELECT test_diff('sec28_phybrid', :'pquery', '{bucket,device}') AS phybrid_exact;
RESET ROLE;

-- disabling a capture trigger: a WARNING, and the status says so
SELECT id AS agg_id FROM hybridagg_internal.aggregate WHERE view = 'sec28_hybrid'::regclass \gset
SELECT format('hybridagg_capture_%s_insert', :agg_id) AS insert_trigger \gset
SELECT capture, capture_interrupted_at IS NULL AS not_interrupted FROM hybridagg.aggregates WHERE name = 'sec28_hybrid';
SET ROLE regress_hybridagg_o;
ALTER TABLE sec28_events DISABLE TRIGGER :"insert_trigger";
RESET ROLE;
SELECT capture, capture_interrupted_at IS NOT NULL AS interrupted FROM hybridagg.aggregates WHERE name = 'sec28_hybrid';
-- as it says, a write now is missed
INSERT INTO sec28_events VALUES ('2024-12-01 00:02+00', 1, -1);
SELECT test_diff('sec28_hybrid', :'query', '{bucket,device}') > 0 AS write_missed;
-- ENABLE TRIGGER ALL (which means: fire on the origin only) fires them always again
SET ROLE regress_hybridagg_o;
ALTER TABLE sec28_events ENABLE TRIGGER ALL;
RESET ROLE;
SELECT tgenabled, count(*) FROM pg_trigger
 WHERE tgrelid = 'sec28_events'::regclass AND tgfoid = 'hybridagg_internal.capture()'::regprocedure GROUP BY 1;
SELECT capture, capture_interrupted_at IS NOT NULL AS still_interrupted FROM hybridagg.aggregates WHERE name = 'sec28_hybrid';
-- replica only: a WARNING too; ENABLE ALWAYS puts it right
SET ROLE regress_hybridagg_o;
ALTER TABLE sec28_events ENABLE REPLICA TRIGGER :"insert_trigger";
SELECT capture FROM hybridagg.aggregates WHERE name = 'sec28_hybrid';
ALTER TABLE sec28_events ENABLE ALWAYS TRIGGER :"insert_trigger";
RESET ROLE;
SELECT capture FROM hybridagg.aggregates WHERE name = 'sec28_hybrid';
-- what was missed comes back with a full recompute, which also clears the mark
SET ROLE regress_hybridagg_o;
SET client_min_messages = warning;
CALL hybridagg.materialize('sec28_hybrid', '-infinity', 'infinity');
RESET client_min_messages;
RESET ROLE;
SELECT capture, capture_interrupted_at IS NULL AS not_interrupted FROM hybridagg.aggregates WHERE name = 'sec28_hybrid';
SELECT test_diff('sec28_hybrid', :'query', '{bucket,device}') AS hybrid_exact_after_recompute;

-- writes applied as logical replication applies them are captured
SET session_replication_role = replica;
INSERT INTO sec28_events VALUES ('2024-12-01 00:01+00', 1, -5), ('2024-12-02 00:01+00', 2, -6);
UPDATE sec28_events SET value = value + 100 WHERE ts = '2024-12-01 00:08+00';
DELETE FROM sec28_events WHERE ts = '2024-12-01 00:16+00';
INSERT INTO sec28_parted VALUES ('2025-02-01 00:01+00', 1, -7);
RESET session_replication_role;
SELECT test_diff('sec28_hybrid', :'query', '{bucket,device}') AS hybrid_exact_after_replica;
SELECT test_diff('sec28_phybrid', :'pquery', '{bucket,device}') AS phybrid_exact_after_replica;
CALL wait_until($$(SELECT bool_and(pending_deltas = 0 AND dirty_groups = 0) FROM hybridagg.aggregates WHERE name IN ('sec28_hybrid', 'sec28_phybrid'))$$);
SELECT test_diff('sec28_hybrid', :'query', '{bucket,device}') AS hybrid_exact_after_fold;
SELECT test_diff('sec28_phybrid', :'pquery', '{bucket,device}') AS phybrid_exact_after_fold;

-- clean up
SET client_min_messages = warning;
SELECT hybridagg.drop('sec28_hybrid');
SELECT hybridagg.drop('sec28_phybrid');
SELECT hybridagg.drop('sec28_batch');
RESET client_min_messages;
DROP FUNCTION sec28_state();
DROP TABLE sec28_events, sec28_parted, sec28_host, sec28_loner;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_o;
DROP ROLE regress_hybridagg_o;
