-- hybridagg.alter(name, mode, seal_after): an aggregate switched from every
-- mode to every other one (the 20 ordered pairs, in one walk that starts and
-- ends in batch mode), with a definition of typed states (count, sum, avg,
-- min, max) and recomputed values (stddev, percentile_cont).  After each
-- switch, after writes (a new row, late rows, an update, a delete) and after
-- a fold, the view equals its defining query; it keeps its OID, its grants
-- and its readers' prepared statements; the buckets of history are never
-- fewer; the status view shows the new mode at once.  Then a range that
-- batch materialized above its watermark, seal_after alone, the refusals
-- (with their SQLSTATE, detail and hint), a no-op, an alter rolled back, a
-- partitioned base table written through its partitions, and an
-- unprivileged role: an owner without the TRIGGER privilege, an owner with
-- it, and a role that owns nothing.  Dates are relative to now()
-- everywhere; the output shows only what does not depend on the hour.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET client_min_messages = notice;

CREATE TABLE alter_ev (ts timestamptz NOT NULL, device int NOT NULL, value float8, price numeric);
CREATE INDEX ON alter_ev (ts);
-- three days of a row every 5 minutes per device: 12 rows per device and hour
INSERT INTO alter_ev
SELECT date_trunc('hour', now()) - i * interval '5 minutes', d, (i % 17) + 1 + d, (i % 7) + 0.25
  FROM generate_series(1, 864) i, generate_series(1, 3) d;
\set q 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, sum(value) AS total, avg(price) AS avg_price, min(value) AS lo, max(value) AS hi, stddev(value) AS sd, percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median FROM alter_ev GROUP BY 1, 2'
SELECT hybridagg.create('alter_1h', :'q', mode => 'batch', seal_after => '1 day');
CREATE ROLE alter_reader;
GRANT SELECT ON alter_1h TO alter_reader;
PREPARE alter_rows AS SELECT sum(n) FROM alter_1h;
SELECT 'alter_1h'::regclass::oid AS view_oid \gset

-- what a check remembers between steps: the buckets history held
CREATE TABLE alter_seen (history_buckets bigint);
INSERT INTO alter_seen VALUES (0);

-- exact: the view equals the query; kept: history has no fewer buckets below
-- the watermark than at the last check; shown: the mode the status view shows
CREATE FUNCTION alter_check(OUT exact boolean, OUT kept boolean, OUT shown text)
LANGUAGE plpgsql AS $fn$
DECLARE
    agg_id int := (SELECT id FROM hybridagg_internal.aggregate WHERE view = 'alter_1h'::regclass);
    buckets bigint;
BEGIN
    exact := test_diff('alter_1h', current_setting('alter.q'), '{bucket,device}') = 0;
    EXECUTE format('SELECT count(DISTINCT h.g1) FROM hybridagg_internal.history_%s h, hybridagg_internal.aggregate a '
                   'WHERE a.id = %s AND h.g1 < a.watermark', agg_id, agg_id) INTO buckets;
    kept := buckets >= (SELECT history_buckets FROM alter_seen);
    UPDATE alter_seen SET history_buckets = buckets;
    shown := (SELECT mode FROM hybridagg.aggregates WHERE name = 'alter_1h');
END
$fn$;
SELECT set_config('alter.q', :'q', false) IS NOT NULL AS q_set;

-- groups in history at or above the watermark
CREATE FUNCTION alter_history_above() RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    agg_id int := (SELECT id FROM hybridagg_internal.aggregate WHERE view = 'alter_1h'::regclass);
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM hybridagg_internal.history_%s h, hybridagg_internal.aggregate a '
                   'WHERE a.id = %s AND h.g1 >= a.watermark', agg_id, agg_id) INTO n;
    RETURN n;
END
$fn$;

-- a new row, late rows, an update and a delete; below the watermark only in
-- the streaming modes (batch serves the rows below it as last materialized)
CREATE FUNCTION alter_writes() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO alter_ev VALUES (now(), 1, 7.5, 2.5), (now() - interval '3 hours', 2, 30, 1.25);
    UPDATE alter_ev SET value = value + 1, device = 3 - device
     WHERE device IN (1, 2) AND ts >= now() - interval '5 hours' AND ts < now() - interval '4 hours 40 minutes';
    DELETE FROM alter_ev WHERE ctid = (SELECT ctid FROM alter_ev
                                        WHERE ts >= now() - interval '6 hours' ORDER BY ts LIMIT 1);
    IF (SELECT mode FROM hybridagg.aggregates WHERE name = 'alter_1h') <> 'batch' THEN
        INSERT INTO alter_ev VALUES (now() - interval '40 hours', 3, 0.5, 9);
        UPDATE alter_ev SET value = value * 2
         WHERE device = 1 AND ts >= now() - interval '50 hours' AND ts < now() - interval '49 hours 50 minutes';
        DELETE FROM alter_ev WHERE ctid = (SELECT ctid FROM alter_ev
                                            WHERE ts < now() - interval '60 hours' ORDER BY ts DESC LIMIT 1);
    END IF;
END
$fn$;

SELECT * FROM alter_check();

-- 1: batch -> streaming
SELECT hybridagg.alter('alter_1h', mode => 'streaming');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 2: streaming -> batch
SELECT hybridagg.alter('alter_1h', mode => 'batch');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 3: batch -> lambda
SELECT hybridagg.alter('alter_1h', mode => 'lambda');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 4: lambda -> batch
SELECT hybridagg.alter('alter_1h', mode => 'batch');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 5: batch -> kappa
SELECT hybridagg.alter('alter_1h', mode => 'kappa');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 6: kappa -> batch
SELECT hybridagg.alter('alter_1h', mode => 'batch');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 7: batch -> hybrid
SELECT hybridagg.alter('alter_1h', mode => 'hybrid');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 8: hybrid -> streaming
SELECT hybridagg.alter('alter_1h', mode => 'streaming');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 9: streaming -> lambda
SELECT hybridagg.alter('alter_1h', mode => 'lambda');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 10: lambda -> streaming
SELECT hybridagg.alter('alter_1h', mode => 'streaming');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 11: streaming -> kappa
SELECT hybridagg.alter('alter_1h', mode => 'kappa');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 12: kappa -> streaming
SELECT hybridagg.alter('alter_1h', mode => 'streaming');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 13: streaming -> hybrid
SELECT hybridagg.alter('alter_1h', mode => 'hybrid');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 14: hybrid -> lambda
SELECT hybridagg.alter('alter_1h', mode => 'lambda');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 15: lambda -> kappa
SELECT hybridagg.alter('alter_1h', mode => 'kappa');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 16: kappa -> lambda
SELECT hybridagg.alter('alter_1h', mode => 'lambda');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 17: lambda -> hybrid
SELECT hybridagg.alter('alter_1h', mode => 'hybrid');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 18: hybrid -> kappa
SELECT hybridagg.alter('alter_1h', mode => 'kappa');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 19: kappa -> hybrid
SELECT hybridagg.alter('alter_1h', mode => 'hybrid');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- 20: hybrid -> batch
SELECT hybridagg.alter('alter_1h', mode => 'batch');
SELECT * FROM alter_check();
SELECT alter_writes();
SELECT * FROM alter_check();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();

-- history holds the buckets older than a day (48 of the 72 hours at least)
SELECT history_buckets >= 48 AS history_holds_buckets FROM alter_seen;
-- what an alter leaves is what create() makes: the same internal objects
-- and the same groups_<id>, beside a fresh aggregate of the same definition
CREATE FUNCTION alter_objects(view_name regclass) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
    agg_id int := (SELECT id FROM hybridagg_internal.aggregate WHERE view = view_name);
BEGIN
    RETURN (SELECT string_agg(regexp_replace(c.relname, '_' || agg_id || '$', '_<id>') || ' ' || c.relkind::text, ', '
                              ORDER BY c.relname COLLATE "C")
              FROM pg_class c
             WHERE c.relnamespace = 'hybridagg_internal'::regnamespace AND c.relkind IN ('r', 'p', 'v')
               AND NOT c.relispartition AND c.relname ~ ('_' || agg_id || '$'))
        || E'\n' || regexp_replace(pg_get_viewdef(format('hybridagg_internal.groups_%s', agg_id)::regclass),
                                   '((source|history|recent|delta|token|values)_|a\.id = |(dirty_groups|pending_groups|bucket_pending)\()' || agg_id || '\M',
                                   '\1<id>', 'g');
END
$fn$;
SELECT hybridagg.create('alter_ref', :'q', mode => 'batch', seal_after => '1 day');
SELECT alter_objects('alter_1h') = alter_objects('alter_ref') AS same_as_created, mode
  FROM hybridagg.aggregates WHERE name = 'alter_1h';
SELECT hybridagg.drop('alter_ref');
SELECT hybridagg.alter('alter_1h', mode => 'lambda');
SELECT hybridagg.create('alter_ref', :'q', mode => 'lambda', seal_after => '1 day');
SELECT alter_objects('alter_1h') = alter_objects('alter_ref') AS same_as_created, mode
  FROM hybridagg.aggregates WHERE name = 'alter_1h';
SELECT hybridagg.drop('alter_ref');
SELECT hybridagg.alter('alter_1h', mode => 'batch');
SELECT * FROM alter_check();

-- the view is the same object: OID, grant, prepared statement
SELECT 'alter_1h'::regclass::oid = :view_oid AS same_view;
EXECUTE alter_rows \gset
SELECT :sum = (SELECT count(*) FROM alter_ev) AS prepared_statement_exact;
SET ROLE alter_reader;
SELECT sum(n) = :sum AS reader_still_reads FROM alter_1h;
RESET ROLE;
-- seal_after alone; then a lambda aggregate sealed by materialize, and back
SELECT hybridagg.alter('alter_1h', seal_after => '2 hours');
SELECT mode, seal_after FROM hybridagg.aggregates WHERE name = 'alter_1h';
-- batch mode keeps a range recomputed above its watermark (seal_after is
-- shorter now) in history, where its view does not read it: a streaming
-- mode takes those buckets to recent
SET client_min_messages = warning;
CALL hybridagg.materialize('alter_1h', now() - interval '6 hours', now() - interval '3 hours');
SET client_min_messages = notice;
SELECT alter_history_above() > 0 AS history_above_watermark;
SELECT * FROM alter_check();
SELECT hybridagg.alter('alter_1h', mode => 'streaming');
SELECT * FROM alter_check();
SELECT alter_history_above() AS history_above_watermark;
SELECT alter_writes();
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();
SELECT hybridagg.alter('alter_1h', mode => 'batch');
SELECT * FROM alter_check();
SELECT hybridagg.alter('alter_1h', mode => 'lambda', seal_after => '12 hours');
SET client_min_messages = warning;
CALL hybridagg.materialize('alter_1h');
SET client_min_messages = notice;
SELECT * FROM alter_check();
-- kappa from lambda keeps the history: a replay of everything, once folded,
-- puts its buckets back there, below the watermark
SELECT hybridagg.alter('alter_1h', mode => 'kappa');
SELECT hybridagg.reprocess('alter_1h', now() - interval '4 days', now() + interval '1 hour') > 0 AS replayed;
SELECT hybridagg.fold('alter_1h') >= 0 AS folded;
SELECT * FROM alter_check();
SELECT hybridagg.alter('alter_1h', mode => 'batch');
SELECT * FROM alter_check();
-- batch keeps no capture: its tables are gone, its triggers too
SELECT to_regclass(format('hybridagg_internal.%s_%s', t, a.id)) IS NULL AS gone
  FROM hybridagg_internal.aggregate a, unnest(ARRAY['recent', 'delta', 'token']) t
 WHERE a.view = 'alter_1h'::regclass;
SELECT count(*) FILTER (WHERE tgenabled <> 'D') AS enabled_capture_triggers
  FROM pg_trigger WHERE tgrelid = 'alter_ev'::regclass AND tgname LIKE 'hybridagg_capture_%';

-- the same mode: a notice, nothing changed
SELECT hybridagg.alter('alter_1h', mode => 'batch', seal_after => '12 hours');
SELECT hybridagg.alter('alter_1h', mode => 'batch');

-- an alter rolled back leaves nothing of it
BEGIN;
SELECT hybridagg.alter('alter_1h', mode => 'hybrid');
ROLLBACK;
SELECT mode FROM hybridagg.aggregates WHERE name = 'alter_1h';
SELECT to_regclass(format('hybridagg_internal.recent_%s', id)) IS NULL AS no_recent
  FROM hybridagg_internal.aggregate WHERE view = 'alter_1h'::regclass;
SELECT * FROM alter_check();

-- refusals
-- each with its SQLSTATE
SELECT hybridagg.alter(NULL, mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.alter('alter_1h');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.alter('alter_1h', mode => NULL, seal_after => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.alter('alter_1h', mode => 'micro-batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.alter('alter_1h', seal_after => '-1 minute');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.alter('no_such_aggregate', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.alter('alter_ev', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT hybridagg.alter('alter_1h', mode => 'streaming');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- the definition is read in the caller's session: another table of the same
-- name first in search_path is refused
CREATE SCHEMA alter_elsewhere;
CREATE TABLE alter_elsewhere.alter_ev (ts timestamptz NOT NULL, device int NOT NULL, value float8, price numeric);
SET search_path = alter_elsewhere, public;
SELECT hybridagg.alter('public.alter_1h', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
RESET search_path;
DROP SCHEMA alter_elsewhere CASCADE;
SELECT mode FROM hybridagg.aggregates WHERE name = 'alter_1h';

-- names are just names: a schema and a view with quotes and spaces
CREATE SCHEMA "Odd ""schema""";
SELECT hybridagg.create('"Odd ""schema"""."my agg; --"', :'q', mode => 'batch', seal_after => '1 day');
SELECT hybridagg.alter('"Odd ""schema"""."my agg; --"', mode => 'hybrid');
SELECT test_diff('"Odd ""schema"""."my agg; --"', :'q', '{bucket,device}');
SELECT hybridagg.alter('"Odd ""schema"""."my agg; --"', mode => 'batch');
SELECT test_diff('"Odd ""schema"""."my agg; --"', :'q', '{bucket,device}');
SELECT view::text, mode FROM hybridagg_internal.aggregate WHERE view::text LIKE '"Odd%';
SELECT hybridagg.drop('"Odd ""schema"""."my agg; --"');
DROP SCHEMA "Odd ""schema""";

-- a partitioned base table: capture on every table of the tree, and writes
-- straight into a partition, in and out of batch mode
CREATE TABLE alter_pt (ts timestamptz NOT NULL, device int NOT NULL, value float8, price numeric)
  PARTITION BY LIST (device);
CREATE TABLE alter_pt_1 PARTITION OF alter_pt FOR VALUES IN (1);
CREATE TABLE alter_pt_rest PARTITION OF alter_pt DEFAULT;
INSERT INTO alter_pt SELECT * FROM alter_ev;
SELECT replace(:'q', 'FROM alter_ev', 'FROM alter_pt') AS qp \gset
SELECT hybridagg.create('alter_pt_1h', :'qp', mode => 'batch', seal_after => '1 day');
SELECT hybridagg.alter('alter_pt_1h', mode => 'hybrid');
SELECT tgrelid::regclass AS captured, count(*) AS enabled_triggers
  FROM pg_trigger WHERE tgname LIKE 'hybridagg\_capture\_%' AND tgenabled = 'A'
   AND tgrelid IN ('alter_pt'::regclass, 'alter_pt_1'::regclass, 'alter_pt_rest'::regclass)
 GROUP BY 1 ORDER BY tgrelid::regclass::text COLLATE "C";
INSERT INTO alter_pt_1 VALUES (now(), 1, 3, 3), (now() - interval '30 hours', 1, 4, 4);
DELETE FROM alter_pt_rest WHERE ctid = (SELECT ctid FROM alter_pt_rest ORDER BY ts DESC LIMIT 1);
SELECT test_diff('alter_pt_1h', :'qp', '{bucket,device}');
SELECT hybridagg.alter('alter_pt_1h', mode => 'batch');
SELECT count(*) AS enabled_triggers FROM pg_trigger
 WHERE tgname LIKE 'hybridagg\_capture\_%' AND tgenabled <> 'D'
   AND tgrelid IN ('alter_pt'::regclass, 'alter_pt_1'::regclass, 'alter_pt_rest'::regclass);
INSERT INTO alter_pt_rest VALUES (now(), 2, 5, 5);
SELECT test_diff('alter_pt_1h', :'qp', '{bucket,device}');
SELECT hybridagg.alter('alter_pt_1h', mode => 'kappa');
INSERT INTO alter_pt_1 VALUES (now() - interval '2 hours', 1, 6, 6);
UPDATE alter_pt SET device = 2 WHERE ctid = (SELECT ctid FROM alter_pt_1 ORDER BY ts DESC LIMIT 1);
SELECT test_diff('alter_pt_1h', :'qp', '{bucket,device}');
SELECT hybridagg.drop('alter_pt_1h');
DROP TABLE alter_pt;

-- an unprivileged role: its own aggregate, first without TRIGGER on the table
CREATE ROLE alter_owner;
CREATE ROLE alter_stranger;
GRANT SELECT ON alter_ev TO alter_owner;
GRANT CREATE ON SCHEMA public TO alter_owner;
SET ROLE alter_owner;
SELECT hybridagg.create('alter_mine', :'q', mode => 'batch', seal_after => '1 day');
SELECT hybridagg.alter('alter_mine', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT mode FROM hybridagg.aggregates WHERE name = 'alter_mine';
SELECT hybridagg.alter('alter_1h', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS triggers_of_alter_mine
  FROM pg_trigger t, hybridagg_internal.aggregate a
 WHERE a.view = 'alter_mine'::regclass AND t.tgname LIKE format('hybridagg\_capture\_%s\_%%', a.id);
GRANT TRIGGER ON alter_ev TO alter_owner;
SET ROLE alter_owner;
SELECT hybridagg.alter('alter_mine', mode => 'hybrid');
SELECT mode FROM hybridagg.aggregates WHERE name = 'alter_mine';
SELECT test_diff('alter_mine', :'q', '{bucket,device}');
RESET ROLE;
INSERT INTO alter_ev VALUES (now(), 2, 1, 1), (now() - interval '30 hours', 2, 1, 1);
SET ROLE alter_owner;
SELECT test_diff('alter_mine', :'q', '{bucket,device}');
SELECT hybridagg.alter('alter_mine', mode => 'batch');
SELECT test_diff('alter_mine', :'q', '{bucket,device}');
SET ROLE alter_stranger;
SELECT hybridagg.alter('alter_mine', mode => 'streaming');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT mode FROM hybridagg.aggregates WHERE name = 'alter_mine';

SELECT hybridagg.drop('alter_mine');
SELECT hybridagg.drop('alter_1h');
DROP TABLE alter_ev, alter_seen;
DROP FUNCTION alter_check(), alter_writes(), alter_history_above(), alter_objects(regclass);
REVOKE CREATE ON SCHEMA public FROM alter_owner;
DROP ROLE alter_reader, alter_owner, alter_stranger;
