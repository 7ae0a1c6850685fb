-- Security: hybridagg_internal.dirty_groups(id, token) recomputes dirty
-- groups from the base table as the aggregate's owner, so it serves only
-- callers that pass the aggregate's token, which only the owner may read;
-- so do pending_groups(id, token) and bucket_pending(id, token, bucket),
-- which read the aggregate's stored groups and pending deltas.
-- A reader of the view calling it directly (NULL token, a wrong token, the
-- token of another aggregate) gets 42501; a role with SELECT only on a
-- view built on top of the aggregate's view reads dirty groups right;
-- HAVING-hidden groups never show.
-- This file fails if: a direct call of any of the three returns rows or
-- an answer (or another error than 42501), a reader can read a token
-- table, the view on top errors or differs from the raw query while a
-- group is dirty (the DELETE and the read in one transaction, so the
-- worker cannot fold it first), a group that HAVING hides is visible, or a
-- view differs from its query.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_o;
CREATE ROLE regress_hybridagg_o2;
CREATE ROLE regress_hybridagg_r;
CREATE ROLE regress_hybridagg_r2;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_o, regress_hybridagg_o2;

SET ROLE regress_hybridagg_o;
CREATE TABLE sec22_events (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
CREATE INDEX ON sec22_events (ts);
INSERT INTO sec22_events
SELECT '2024-06-01 00:00+00'::timestamptz + i * interval '3 minutes', i % 4, i % 101
  FROM generate_series(1, 2000) i;
-- a few small groups, that HAVING hides
INSERT INTO sec22_events VALUES ('2024-06-01 00:05+00', 9, 1), ('2024-06-01 01:05+00', 9, 2);
\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, min(value) AS lo, max(value) AS hi FROM sec22_events GROUP BY 1, 2 HAVING count(*) > 3'
SELECT hybridagg.create('sec22_agg', :'query', mode => 'hybrid', seal_after => '1 hour');
-- a view on top, for a role that may read only it
CREATE VIEW sec22_top AS SELECT bucket, device, n, lo, hi FROM sec22_agg WHERE device <> 3;
GRANT SELECT ON sec22_agg TO regress_hybridagg_r;
GRANT SELECT ON sec22_top TO regress_hybridagg_r2;
RESET ROLE;
\set top_query 'SELECT bucket, device, n, lo, hi FROM (' :query ') q WHERE device <> 3'

-- another owner's aggregate, whose token that owner may read
SET ROLE regress_hybridagg_o2;
CREATE TABLE sec22_other (ts timestamptz NOT NULL, value int NOT NULL);
INSERT INTO sec22_other VALUES ('2024-06-01 00:00+00', 1);
SELECT hybridagg.create('sec22_agg2', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, min(value) AS lo FROM sec22_other GROUP BY 1', mode => 'streaming');
RESET ROLE;
SELECT id AS agg_id FROM hybridagg_internal.aggregate WHERE view = 'sec22_agg'::regclass \gset
SELECT id AS agg2_id FROM hybridagg_internal.aggregate WHERE view = 'sec22_agg2'::regclass \gset
SELECT format('hybridagg_internal.token_%s', :agg_id) AS token_table,
       format('hybridagg_internal.token_%s', :agg2_id) AS token2_table \gset
-- the column list dirty_groups() returns for sec22_agg
\set cols 'c(g1 timestamptz, g2 int, __rows bigint, min_v1 int, max_v1 int)'

-- the token tables: only their owners may read them
SELECT has_table_privilege('regress_hybridagg_r', :'token_table', 'SELECT') AS r_reads_token,
       has_table_privilege('regress_hybridagg_o2', :'token_table', 'SELECT') AS o2_reads_token,
       has_table_privilege('regress_hybridagg_o', :'token_table', 'SELECT') AS owner_reads_token;

-- direct calls, with a group dirty in the caller's own transaction
BEGIN;
SET LOCAL ROLE regress_hybridagg_o;
DELETE FROM sec22_events WHERE ts >= '2024-06-01 02:00+00' AND ts < '2024-06-01 03:00+00'
   AND value = (SELECT min(value) FROM sec22_events WHERE ts >= '2024-06-01 02:00+00' AND ts < '2024-06-01 03:00+00' AND device = 1)
   AND device = 1;
SET LOCAL ROLE regress_hybridagg_r;
SELECT count(*) AS dirty_rows_for_r FROM hybridagg_internal.dirty_groups(:agg_id, NULL) AS :cols;
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL ROLE regress_hybridagg_r;
SELECT count(*) FROM hybridagg_internal.dirty_groups(:agg_id, '\x00112233445566778899aabbccddeeff'::bytea) AS :cols;
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL ROLE regress_hybridagg_r;
SELECT count(*) FROM hybridagg_internal.dirty_groups(:agg_id, ''::bytea) AS :cols;
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
-- the other owner, with the token of its own aggregate
BEGIN;
SET LOCAL ROLE regress_hybridagg_o2;
SELECT count(*) FROM hybridagg_internal.dirty_groups(:agg_id, (SELECT token FROM :token2_table)) AS :cols;
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
-- pending_groups() and bucket_pending(), with a delta pending in the
-- caller's own transaction: no token, a wrong one, another aggregate's
\set pcols 'p(g1 timestamptz, g2 int, __rows bigint, min_v1 int, max_v1 int)'
BEGIN;
SET LOCAL ROLE regress_hybridagg_o;
INSERT INTO sec22_events VALUES ('2024-06-01 06:10+00', 1, 5);
SET LOCAL ROLE regress_hybridagg_r;
SELECT count(*) AS pending_rows_for_r FROM hybridagg_internal.pending_groups(:agg_id, NULL) AS :pcols;
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL ROLE regress_hybridagg_o;
INSERT INTO sec22_events VALUES ('2024-06-01 06:10+00', 1, 5);
SET LOCAL ROLE regress_hybridagg_r;
SELECT count(*) FROM hybridagg_internal.pending_groups(:agg_id, '\x00112233445566778899aabbccddeeff'::bytea) AS :pcols;
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL ROLE regress_hybridagg_o2;
SELECT count(*) FROM hybridagg_internal.pending_groups(:agg_id, (SELECT token FROM :token2_table)) AS :pcols;
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL ROLE regress_hybridagg_o;
INSERT INTO sec22_events VALUES ('2024-06-01 06:10+00', 1, 5);
SET LOCAL ROLE regress_hybridagg_r;
SELECT hybridagg_internal.bucket_pending(:agg_id, NULL, '2024-06-01 06:00+00'::timestamptz) AS pending_for_r;
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET LOCAL ROLE regress_hybridagg_o2;
SELECT hybridagg_internal.bucket_pending(:agg_id, (SELECT token FROM :token2_table), NULL::timestamptz);
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
-- an id with no token (a batch aggregate's, or no aggregate's) is refused
-- the same way, and names nothing internal
SET ROLE regress_hybridagg_o2;
SELECT hybridagg.create('sec22_batch', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, min(value) AS lo FROM sec22_other GROUP BY 1', mode => 'batch') IS NOT NULL AS created;
RESET ROLE;
SELECT id AS batch_id FROM hybridagg_internal.aggregate WHERE view = 'sec22_batch'::regclass \gset
SET ROLE regress_hybridagg_r;
SELECT count(*) FROM hybridagg_internal.pending_groups(:batch_id, NULL) AS :pcols;
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg_internal.bucket_pending(-1, NULL, now());
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT hybridagg.drop('sec22_batch');

-- a function of the owner's definition that calls dirty_groups() with no
-- token while the view's recompute of a dirty group runs it, and catches
-- the refusal: the recompute goes on, exact
SET ROLE regress_hybridagg_o;
CREATE FUNCTION sec22_probe(x int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN
    IF current_setting('sec22.probe', true) = 'on' THEN
        BEGIN
            PERFORM * FROM hybridagg_internal.dirty_groups(current_setting('sec22.id')::int, NULL)
                AS c(g1 timestamptz, g2 int, __rows bigint, lo int);
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END;
    END IF;
    RETURN x;
END
$f$;
SELECT hybridagg.create('sec22_probed', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, public.sec22_probe(device) AS device, min(value) AS lo FROM sec22_events GROUP BY 1, 2', mode => 'streaming') IS NOT NULL AS created;
RESET ROLE;
SELECT id AS probed_id FROM hybridagg_internal.aggregate WHERE view = 'sec22_probed'::regclass \gset
BEGIN;
DELETE FROM sec22_events WHERE device = 3 AND ts >= '2024-06-01 07:00+00' AND ts < '2024-06-01 08:00+00'
   AND value = (SELECT min(value) FROM sec22_events WHERE device = 3 AND ts >= '2024-06-01 07:00+00' AND ts < '2024-06-01 08:00+00');
SELECT set_config('sec22.id', :'probed_id', true) IS NOT NULL AS set, set_config('sec22.probe', 'on', true) AS probe;
SELECT test_diff('sec22_probed', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, min(value) AS lo FROM sec22_events GROUP BY 1, 2', '{bucket,device}') AS probed_exact_while_dirty;
ROLLBACK;
SET client_min_messages = warning;
SELECT hybridagg.drop('sec22_probed');
RESET client_min_messages;
DROP FUNCTION sec22_probe(int);

-- a reader cannot get at the token
BEGIN;
SET LOCAL ROLE regress_hybridagg_r;
\set VERBOSITY sqlstate
SELECT token IS NOT NULL FROM :token_table;
\set VERBOSITY default
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE

-- the reader of the view on top may not read the aggregate's view itself
SET ROLE regress_hybridagg_r2;
SELECT count(*) FROM sec22_agg;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- while a group is dirty (its min deleted in this transaction, which the
-- worker cannot see), the reader of the view on top reads it right
BEGIN;
SET LOCAL ROLE regress_hybridagg_o;
DELETE FROM sec22_events WHERE device = 1 AND ts >= '2024-06-01 02:00+00' AND ts < '2024-06-01 03:00+00'
   AND value = (SELECT min(value) FROM sec22_events WHERE device = 1 AND ts >= '2024-06-01 02:00+00' AND ts < '2024-06-01 03:00+00');
UPDATE sec22_events SET value = value + 1000 WHERE device = 2 AND ts >= '2024-06-01 04:00+00' AND ts < '2024-06-01 05:00+00'
   AND value = (SELECT max(value) FROM sec22_events WHERE device = 2 AND ts >= '2024-06-01 04:00+00' AND ts < '2024-06-01 05:00+00');
RESET ROLE;
SELECT dirty_groups > 0 AS some_dirty FROM hybridagg.aggregates WHERE name = 'sec22_agg';
SET LOCAL ROLE regress_hybridagg_r2;
CREATE TEMP TABLE sec22_seen_top AS SELECT * FROM sec22_top;
SET LOCAL ROLE regress_hybridagg_r;
CREATE TEMP TABLE sec22_seen AS SELECT * FROM sec22_agg;
-- HAVING hides the small groups from the reader
SELECT count(*) AS hidden_groups_seen FROM sec22_agg WHERE n <= 3 OR device = 9;
RESET ROLE;
SELECT test_diff('sec22_seen_top', :'top_query', '{bucket,device}') AS top_exact_while_dirty;
SELECT test_diff('sec22_seen', :'query', '{bucket,device}') AS view_exact_while_dirty;
SELECT count(*) AS top_rows FROM sec22_seen_top;
COMMIT;
DROP TABLE sec22_seen_top, sec22_seen;

-- after the worker folds: exact, and still nothing hidden shows
CALL wait_until($$(SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates WHERE name = 'sec22_agg')$$);
SELECT test_diff('sec22_agg', :'query', '{bucket,device}') AS exact_after_fold;
SET ROLE regress_hybridagg_r2;
SELECT count(*) AS hidden_groups_seen FROM sec22_top WHERE n <= 3 OR device IN (3, 9);
RESET ROLE;

-- clean up
DROP VIEW sec22_top;
SET client_min_messages = warning;
SELECT hybridagg.drop('sec22_agg2');
SELECT hybridagg.drop('sec22_agg');
RESET client_min_messages;
DROP TABLE sec22_events, sec22_other;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_o, regress_hybridagg_o2;
DROP ROLE regress_hybridagg_o, regress_hybridagg_o2, regress_hybridagg_r, regress_hybridagg_r2;
