-- Security: hybridagg.drop() takes no stronger lock on the base table than
-- its caller could take itself.  A role with SELECT and TRIGGER only (not
-- the table's owner, no UPDATE, DELETE or TRUNCATE) drops its hybrid
-- aggregate inside an open transaction: its backend holds SHARE ROW
-- EXCLUSIVE on the base table, never ACCESS EXCLUSIVE; the capture
-- triggers are disabled; the aggregate is gone; writes go on; the worker
-- drops the disabled triggers later.  The table's owner drops at once.
-- This file fails if: the backend holds AccessExclusiveLock (or any lock
-- but ShareRowExclusiveLock and AccessShareLock) on the base table, the
-- triggers are neither disabled nor dropped, the
-- aggregate or its internal objects outlive the drop, writes fail after
-- it, or the worker never drops the orphaned triggers.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_tab;
CREATE ROLE regress_hybridagg_d;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_tab, regress_hybridagg_d;

SET ROLE regress_hybridagg_tab;
CREATE TABLE sec27_events (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
INSERT INTO sec27_events
SELECT '2024-11-01 00:00+00'::timestamptz + i * interval '6 minutes', i % 3, i % 47
  FROM generate_series(1, 600) i;
GRANT SELECT, TRIGGER ON sec27_events TO regress_hybridagg_d;
\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, min(value) AS lo FROM sec27_events GROUP BY 1, 2'
-- the table's owner keeps an aggregate of its own: the worker stays
SELECT hybridagg.create('sec27_kept', :'query', mode => 'streaming');
RESET ROLE;
SET ROLE regress_hybridagg_d;
SELECT hybridagg.create('sec27_hybrid', :'query', mode => 'hybrid');
RESET ROLE;
SELECT id AS agg_id FROM hybridagg_internal.aggregate WHERE view = 'sec27_hybrid'::regclass \gset
SELECT count(*) AS capture_triggers FROM pg_trigger
 WHERE tgrelid = 'sec27_events'::regclass AND tgfoid = 'hybridagg_internal.capture()'::regprocedure
   AND tgargs = convert_to(:'agg_id', 'UTF8') || '\x00'::bytea;

-- the drop, in an open transaction of the role with SELECT and TRIGGER
SET ROLE regress_hybridagg_d;
BEGIN;
SET client_min_messages = warning;
SELECT hybridagg.drop('sec27_hybrid');
RESET client_min_messages;
SELECT mode, granted FROM pg_locks
 WHERE locktype = 'relation' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND relation = 'sec27_events'::regclass AND pid = pg_backend_pid()
 ORDER BY mode;
SELECT count(*) AS aggregate_rows FROM hybridagg_internal.aggregate WHERE id = :agg_id;
SELECT to_regclass('sec27_hybrid') IS NULL AS view_gone;
COMMIT;
RESET ROLE;
-- the capture triggers are disabled, not dropped, and everything else is gone
SELECT tgenabled, count(*) FROM pg_trigger
 WHERE tgrelid = 'sec27_events'::regclass AND tgfoid = 'hybridagg_internal.capture()'::regprocedure
   AND tgargs = convert_to(:'agg_id', 'UTF8') || '\x00'::bytea
 GROUP BY 1;
SELECT count(*) AS internal_left FROM pg_class
 WHERE relnamespace = 'hybridagg_internal'::regnamespace AND relname ~ ('^[a-z]+_' || :agg_id || '($|_)');
-- writes work, and are still captured by the aggregate that is left
INSERT INTO sec27_events VALUES ('2024-11-01 00:01+00', 1, -1);
UPDATE sec27_events SET value = value + 1 WHERE device = 2;
DELETE FROM sec27_events WHERE ts < '2024-11-01 01:00+00' AND device = 0;
SELECT test_diff('sec27_kept', :'query', '{bucket,device}') AS kept_exact;
-- the worker drops the disabled triggers when it can lock the table
CALL wait_until(format($$NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = 'sec27_events'::regclass AND tgargs = convert_to(%L, 'UTF8') || '\x00'::bytea)$$, :'agg_id'), '150 seconds');
SELECT count(*) AS capture_triggers FROM pg_trigger
 WHERE tgrelid = 'sec27_events'::regclass AND tgfoid = 'hybridagg_internal.capture()'::regprocedure;

-- the table's owner drops its aggregate at once (ACCESS EXCLUSIVE is a lock
-- it may take anyway)
SET ROLE regress_hybridagg_tab;
BEGIN;
SET client_min_messages = warning;
SELECT hybridagg.drop('sec27_kept');
RESET client_min_messages;
SELECT count(*) AS capture_triggers FROM pg_trigger
 WHERE tgrelid = 'sec27_events'::regclass AND tgfoid = 'hybridagg_internal.capture()'::regprocedure;
COMMIT;
RESET ROLE;
INSERT INTO sec27_events VALUES ('2024-11-01 00:02+00', 1, -2);
SELECT count(*) AS rows FROM sec27_events WHERE value < 0;

-- clean up
DROP TABLE sec27_events;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_tab, regress_hybridagg_d;
DROP ROLE regress_hybridagg_tab, regress_hybridagg_d;
