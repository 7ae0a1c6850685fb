-- Dropping an aggregate removes everything it made: its view, its internal
-- tables and views in hybridagg_internal, the capture triggers on the base
-- table and its catalog rows.  hybridagg.drop() does it quietly; DROP VIEW
-- of the aggregate's view (directly, or by a cascade) does it too, through
-- an event trigger.  What is not an aggregate cannot be dropped as one.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
INSERT INTO events (ts, device_id, value)
SELECT now() - i * interval '5 minutes', i % 3, i FROM generate_series(1, 1000) i;
CREATE SCHEMA drop_test;

\set query 'SELECT date_bin(''15 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, min(value) AS lo FROM events GROUP BY 1, 2'

-- what an aggregate owns, found through its id
CREATE FUNCTION owned_by(agg_id int, OUT catalog_rows bigint, OUT stats_rows bigint,
                         OUT internal_relations bigint, OUT capture_triggers bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM hybridagg_internal.aggregate WHERE id = agg_id),
           (SELECT count(*) FROM hybridagg_internal.aggregate_stats WHERE id = agg_id),
           (SELECT count(*) FROM pg_class
             WHERE relnamespace = 'hybridagg_internal'::regnamespace
               AND relname ~ ('^[a-z]+_' || agg_id || '($|_)')),
           (SELECT count(*) FROM pg_trigger
             WHERE tgname ~ ('^hybridagg_capture_' || agg_id || '_'))
$$;

-- hybridagg.drop() of a batch and of a hybrid aggregate, without a NOTICE
SELECT hybridagg.create('agg_batch', :'query', mode => 'batch');
SELECT hybridagg.create('agg_hybrid', :'query', mode => 'hybrid');
SET client_min_messages = warning;
CALL hybridagg.materialize('agg_batch', now() - interval '5 days', now());
RESET client_min_messages;
SELECT id AS batch_id FROM hybridagg_internal.aggregate WHERE view = 'agg_batch'::regclass \gset
SELECT id AS hybrid_id FROM hybridagg_internal.aggregate WHERE view = 'agg_hybrid'::regclass \gset
SELECT catalog_rows, stats_rows, internal_relations > 0 AS has_internal_relations, capture_triggers
  FROM owned_by(:batch_id);
SELECT catalog_rows, stats_rows, internal_relations > 0 AS has_internal_relations, capture_triggers
  FROM owned_by(:hybrid_id);
SELECT hybridagg.drop('agg_batch');
SELECT hybridagg.drop('agg_hybrid');
SELECT * FROM owned_by(:batch_id);
SELECT * FROM owned_by(:hybrid_id);
SELECT to_regclass('agg_batch') AS batch_view, to_regclass('agg_hybrid') AS hybrid_view;
-- the base table works as before
INSERT INTO events (ts, device_id, value) VALUES (now(), 1, 1);
DELETE FROM events WHERE id = currval('events_id_seq');

-- the name is free again
SELECT hybridagg.create('agg_hybrid', :'query', mode => 'hybrid');
SELECT test_diff('agg_hybrid', :'query', '{bucket,device_id}') AS exact;

-- a drop that is rolled back leaves the aggregate whole and working
BEGIN;
SELECT hybridagg.drop('agg_hybrid');
ROLLBACK;
SELECT id AS hybrid_id FROM hybridagg_internal.aggregate WHERE view = 'agg_hybrid'::regclass \gset
SELECT catalog_rows, stats_rows, internal_relations > 0 AS has_internal_relations, capture_triggers
  FROM owned_by(:hybrid_id);
UPDATE events SET value = -value WHERE id % 7 = 0;
SELECT test_diff('agg_hybrid', :'query', '{bucket,device_id}') AS exact_after_rollback;

-- a renamed view is still the aggregate, under its new name
ALTER VIEW agg_hybrid RENAME TO agg_renamed;
SELECT name, mode FROM hybridagg.aggregates WHERE view = 'agg_renamed'::regclass;
SELECT test_diff('agg_renamed', :'query', '{bucket,device_id}') AS exact_after_rename;
SELECT hybridagg.drop('agg_hybrid');
\echo :LAST_ERROR_SQLSTATE

-- DROP VIEW of the aggregate's view drops the rest too (its NOTICE names
-- the aggregate by id, which depends on the order of the tests: hidden)
SET client_min_messages = warning;
DROP VIEW agg_renamed;
RESET client_min_messages;
SELECT * FROM owned_by(:hybrid_id);

-- and so does a cascade: from the view's schema ...
SELECT hybridagg.create('drop_test.agg_in_schema', :'query', mode => 'streaming');
SELECT id AS schema_id FROM hybridagg_internal.aggregate WHERE view = 'drop_test.agg_in_schema'::regclass \gset
SET client_min_messages = warning;
DROP SCHEMA drop_test CASCADE;
RESET client_min_messages;
SELECT * FROM owned_by(:schema_id);
-- ... or from the base table (its DETAIL names an internal view: terse)
CREATE TABLE other_events (ts timestamptz NOT NULL, v int);
INSERT INTO other_events SELECT now() - i * interval '1 hour', i FROM generate_series(1, 100) i;
SELECT hybridagg.create('agg_other', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, sum(v) AS total FROM other_events GROUP BY 1$$, mode => 'lambda');
SELECT id AS other_id FROM hybridagg_internal.aggregate WHERE view = 'agg_other'::regclass \gset
\set VERBOSITY terse
DROP TABLE other_events;
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
SET client_min_messages = warning;
DROP TABLE other_events CASCADE;
RESET client_min_messages;
SELECT * FROM owned_by(:other_id);

-- DROP VIEW of a view that is not an aggregate leaves aggregates alone
SELECT hybridagg.create('agg_kept', :'query', mode => 'kappa');
CREATE VIEW plain_view AS SELECT * FROM events;
DROP VIEW plain_view;
SELECT name FROM hybridagg.aggregates;

-- what is not an aggregate cannot be dropped as one
CREATE VIEW plain_view AS SELECT * FROM events;
SELECT hybridagg.drop('plain_view');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.drop('events');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.drop('no_such_aggregate');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.drop('no_such_schema.no_such_aggregate');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.drop(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.drop('');
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('plain_view') IS NOT NULL AS plain_view_kept, count(*) > 0 AS events_kept FROM events;
DROP VIEW plain_view;

SELECT hybridagg.drop('agg_kept');
-- (should the cascades above have left anything, drop it: later tests
-- start clean)
SET client_min_messages = warning;
SELECT hybridagg.drop(name) FROM hybridagg.aggregates WHERE name IN ('agg_other', 'drop_test.agg_in_schema');
DROP TABLE IF EXISTS other_events;
DROP SCHEMA IF EXISTS drop_test CASCADE;
RESET client_min_messages;
SELECT count(*) AS aggregates_left FROM hybridagg.aggregates;
SELECT count(*) AS internal_relations_left FROM pg_class
 WHERE relnamespace = 'hybridagg_internal'::regnamespace AND relname ~ '_[0-9]+';
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'events'::regclass;

DROP FUNCTION owned_by(int);
DROP TABLE events;
