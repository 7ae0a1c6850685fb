-- Security and exactness: what an aggregate stores never depends on the
-- session that writes or reads it.  Keys of a float and a bytea value are
-- written by sessions with DateStyle German, IntervalStyle sql_standard,
-- extra_float_digits -5 and 3, bytea_output escape and an odd TimeZone; the
-- view must equal the raw query run in a default session, and a reader with
-- odd settings must read what a default session reads.  Keys that turn a
-- value into text whose form depends on a setting are refused, whatever the
-- mode: a date or an interval as text (stable casts), and a float, a point
-- or a bytea as text (float8out and byteaout are immutable, but read
-- extra_float_digits and bytea_output: the view would show the text of
-- hybridagg's fixed settings, the raw query that of the session).  A citext
-- key ('A' and 'a' are one group) and min/max of citext stay exact after
-- DELETE and UPDATE.  A writer's search_path resolves no name in the
-- owner's PL/pgSQL code that the capture runs.
-- This file fails if: a writer's search_path finds a function for the
-- owner's code, a writer's settings leak into a stored key (the same
-- value gives two groups), a reader's settings change what the view
-- returns, a setting-dependent text key is accepted, citext groups split by
-- case or a min/max comes out in text order, or a view differs from its
-- query.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE sec24_events (ts timestamptz NOT NULL, v float8, b bytea, d date, iv interval, c citext, value int NOT NULL);
CREATE INDEX ON sec24_events (ts);
INSERT INTO sec24_events
SELECT '2024-08-01 00:00+00'::timestamptz + i * interval '9 minutes',
       (i % 7)::float8 / 3, decode(lpad(to_hex(i % 5), 2, '0') || 'ff00', 'hex'),
       '2024-08-01'::date + i % 3, (i % 4) * interval '1 day 02:03:04',
       (ARRAY['A', 'a', 'b', 'B', 'Straße', 'STRASSE', 'c'])[1 + i % 7], i % 89
  FROM generate_series(1, 700) i;

\set query 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, v AS vk, b AS bk, count(*) AS n, min(value) AS lo, max(v) AS hi FROM sec24_events GROUP BY 1, 2, 3'
SELECT hybridagg.create('sec24_hybrid', :'query', mode => 'hybrid');
SELECT hybridagg.create('sec24_streaming', :'query', mode => 'streaming');
SELECT hybridagg.create('sec24_batch', :'query', mode => 'batch');

-- keys whose text depends on DateStyle, IntervalStyle, extra_float_digits
-- or bytea_output are refused, whatever the mode
\set VERBOSITY sqlstate
SELECT hybridagg.create('sec24_vt', 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, v::text AS vt, count(*) AS n FROM sec24_events GROUP BY 1, 2', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec24_bt', 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, b::text AS bt, count(*) AS n FROM sec24_events GROUP BY 1, 2', mode => 'streaming');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec24_pt', 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n, max(point(v, v)::text) AS hi FROM sec24_events GROUP BY 1', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec24_vw', 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec24_events WHERE v::text <> ''0'' GROUP BY 1', mode => 'streaming');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec24_date', 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, d::text AS dt, count(*) AS n FROM sec24_events GROUP BY 1, 2', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec24_interval', 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, iv::text AS it, count(*) AS n FROM sec24_events GROUP BY 1, 2', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec24_ts', 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n, max(ts::text) AS hi FROM sec24_events GROUP BY 1', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT count(*) AS refused_left FROM pg_class WHERE relname IN ('sec24_vt', 'sec24_bt', 'sec24_pt', 'sec24_vw', 'sec24_date', 'sec24_interval', 'sec24_ts');

-- writers with odd settings
BEGIN;
SET LOCAL DateStyle = 'German';
SET LOCAL IntervalStyle = 'sql_standard';
SET LOCAL extra_float_digits = -5;
SET LOCAL bytea_output = 'escape';
SET LOCAL TimeZone = 'Pacific/Chatham';
INSERT INTO sec24_events VALUES
  ('2024-08-01 00:01+00', 1::float8 / 3, '\x00ff00', '2024-08-02', '1 day 02:03:04', 'A', 1000),
  ('2024-08-01 00:02+00', 0.1::float8 + 0.2::float8, '\x01ff00', '2024-08-02', '1 day', 'a', 1001),
  ('2024-08-01 00:03+00', 1e-7::float8 / 3, '\x5c00', '2024-08-02', '1 day', 'b', 1002);
UPDATE sec24_events SET v = 2::float8 / 3, b = '\x02ff00' WHERE ts = '2024-08-01 01:30+00';
COMMIT;
BEGIN;
SET LOCAL extra_float_digits = 3;
SET LOCAL bytea_output = 'hex';
SET LOCAL TimeZone = 'America/St_Johns';
SET LOCAL DateStyle = 'SQL, DMY';
INSERT INTO sec24_events VALUES
  ('2024-08-02 00:01+00', 1::float8 / 3, '\x00ff00', '2024-08-02', '1 day', 'B', 1003),
  ('2024-08-02 00:02+00', 0.1::float8 + 0.2::float8, '\x01ff00', '2024-08-02', '1 day', 'STRASSE', 1004);
DELETE FROM sec24_events WHERE ts = '2024-08-01 00:45+00';
COMMIT;
-- and one under each setting alone, folded in its own transaction
BEGIN;
SET LOCAL extra_float_digits = -5;
INSERT INTO sec24_events VALUES ('2024-08-03 00:01+00', 1::float8 / 7, '\x00ff00', NULL, NULL, 'c', 1005);
SELECT hybridagg.fold('sec24_hybrid') > 0 AS folded;
COMMIT;
BEGIN;
SET LOCAL bytea_output = 'escape';
INSERT INTO sec24_events VALUES ('2024-08-03 00:02+00', 1::float8 / 7, '\x03ff00', NULL, NULL, 'C', 1006);
SELECT hybridagg.fold('sec24_streaming') > 0 AS folded;
COMMIT;

-- the views in this (default) session equal the raw query in it
SHOW extra_float_digits;
SHOW bytea_output;
SELECT test_diff('sec24_hybrid', :'query', '{bucket,vk,bk}') AS hybrid_exact;
SELECT test_diff('sec24_streaming', :'query', '{bucket,vk,bk}') AS streaming_exact;
-- each value gives one group: no key in a writer's format
SELECT count(*) - count(DISTINCT (bucket, vk, bk)) AS split_groups FROM sec24_hybrid;
CALL wait_until($$(SELECT bool_and(pending_deltas = 0 AND dirty_groups = 0) FROM hybridagg.aggregates WHERE name IN ('sec24_hybrid', 'sec24_streaming'))$$);
SELECT test_diff('sec24_hybrid', :'query', '{bucket,vk,bk}') AS hybrid_exact_after_fold;
SELECT test_diff('sec24_streaming', :'query', '{bucket,vk,bk}') AS streaming_exact_after_fold;
SET client_min_messages = warning;
CALL hybridagg.materialize('sec24_batch', '2024-01-01 00:00+00', '2025-01-01 00:00+00');
RESET client_min_messages;
SELECT test_diff('sec24_batch', :'query', '{bucket,vk,bk}') AS batch_exact;

-- a reader with odd settings reads what a default session reads: rows
-- stored by hybridagg and rows the view aggregates at query time (batch
-- mode's rows above the watermark, and a group made dirty in the reader's
-- own transaction) alike
INSERT INTO sec24_events VALUES ('2999-01-01 00:01+00', 1::float8 / 3, '\x00ff00', NULL, NULL, 'A', 5),
                                ('2999-01-01 00:02+00', 1::float8 / 3, '\x00ff00', NULL, NULL, 'a', 6);
BEGIN;
DELETE FROM sec24_events WHERE ts = '2024-08-01 00:01+00';
SET LOCAL extra_float_digits = -5;
SET LOCAL bytea_output = 'escape';
SET LOCAL DateStyle = 'German';
SET LOCAL TimeZone = 'Pacific/Chatham';
CREATE TEMP TABLE sec24_seen_hybrid AS SELECT * FROM sec24_hybrid;
CREATE TEMP TABLE sec24_seen_batch AS SELECT * FROM sec24_batch;
RESET extra_float_digits;
RESET bytea_output;
RESET DateStyle;
RESET TimeZone;
SELECT test_diff('sec24_seen_hybrid', :'query', '{bucket,vk,bk}') AS hybrid_reader_exact;
-- (batch mode: above its watermark, which the rows of 2999 are; below it
-- the view is as of the last materialize, and misses the DELETE)
CREATE TEMP VIEW sec24_seen_batch_above AS
  SELECT * FROM sec24_seen_batch WHERE bucket >= (SELECT watermark FROM hybridagg.aggregates WHERE name = 'sec24_batch');
SELECT test_diff('sec24_seen_batch_above', 'SELECT * FROM (' || :'query' || ') q WHERE bucket >= (SELECT watermark FROM hybridagg.aggregates WHERE name = ''sec24_batch'')',
                 '{bucket,vk,bk}') AS batch_reader_exact,
       (SELECT count(*) FROM sec24_seen_batch_above) AS groups_above;
COMMIT;
DROP VIEW sec24_seen_batch_above;
DROP TABLE sec24_seen_hybrid, sec24_seen_batch;

-- citext: 'A' and 'a' are one group (compared by citext's default
-- operator class); which of them a group shows is PostgreSQL's choice, so
-- both sides are compared in lower case
\set ciquery 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, c, count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi FROM sec24_events GROUP BY 1, 2'
\set cicols 'bucket, lower(c::text) AS c, n, total, lo, hi'
\set mmquery 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n, min(c) AS lo, max(c) AS hi FROM sec24_events GROUP BY 1'
\set mmcols 'bucket, n, lower(lo::text) AS lo, lower(hi::text) AS hi'
SELECT hybridagg.create('sec24_ci', :'ciquery', mode => 'hybrid');
SELECT hybridagg.create('sec24_ci_batch', :'ciquery', mode => 'batch');
-- min and max of citext (citext's own aggregates, in its order): README
-- says min and max of any ordered type
SELECT hybridagg.create('sec24_ci_mm', :'mmquery', mode => 'hybrid');
CREATE FUNCTION sec24_ci_diff(view_name text, query text, cols text, keys text[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    result bigint;
BEGIN
    IF to_regclass(view_name) IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TEMP VIEW sec24_ci_cmp AS SELECT %s FROM %s', cols, view_name);
    SELECT test_diff('sec24_ci_cmp', format('SELECT %s FROM (%s) q', cols, query), keys) INTO result;
    DROP VIEW sec24_ci_cmp;
    RETURN result;
END
$$;
SELECT count(*) AS groups, count(DISTINCT (bucket, lower(c::text))) AS case_insensitive_groups FROM sec24_ci;
SELECT sec24_ci_diff('sec24_ci', :'ciquery', :'cicols', '{bucket,c}') AS ci_exact,
       sec24_ci_diff('sec24_ci_mm', :'mmquery', :'mmcols', '{bucket}') AS ci_mm_exact;
INSERT INTO sec24_events VALUES ('2024-08-04 00:01+00', NULL, NULL, NULL, NULL, 'A', 1),
                                ('2024-08-04 00:02+00', NULL, NULL, NULL, NULL, 'a', 2),
                                ('2024-08-04 00:03+00', NULL, NULL, NULL, NULL, 'b', 3),
                                ('2024-08-04 00:04+00', NULL, NULL, NULL, NULL, 'B', 4);
-- while dirty: the DELETE of a min and an UPDATE of a max, in the
-- reader's transaction
BEGIN;
DELETE FROM sec24_events WHERE ts = '2024-08-04 00:01+00';
UPDATE sec24_events SET c = 'AA', value = 0 WHERE ts = '2024-08-04 00:04+00';
SELECT sec24_ci_diff('sec24_ci', :'ciquery', :'cicols', '{bucket,c}') AS ci_exact_while_dirty,
       sec24_ci_diff('sec24_ci_mm', :'mmquery', :'mmcols', '{bucket}') AS ci_mm_exact_while_dirty;
SELECT bucket, lower(c::text) AS c, n, lo, hi FROM sec24_ci WHERE bucket = '2024-08-04 00:00+00' ORDER BY 2;
COMMIT;
CALL wait_until($$(SELECT bool_and(pending_deltas = 0 AND dirty_groups = 0) FROM hybridagg.aggregates WHERE name LIKE 'sec24\_ci%' AND mode <> 'batch')$$);
SELECT sec24_ci_diff('sec24_ci', :'ciquery', :'cicols', '{bucket,c}') AS ci_exact_after_fold,
       sec24_ci_diff('sec24_ci_mm', :'mmquery', :'mmcols', '{bucket}') AS ci_mm_exact_after_fold;
UPDATE sec24_events SET c = upper(c::text) WHERE c = 'straße';
DELETE FROM sec24_events WHERE c = 'b' AND value % 2 = 0;
SELECT sec24_ci_diff('sec24_ci', :'ciquery', :'cicols', '{bucket,c}') AS ci_exact_after_update,
       sec24_ci_diff('sec24_ci_mm', :'mmquery', :'mmcols', '{bucket}') AS ci_mm_exact_after_update;
SET client_min_messages = warning;
CALL hybridagg.materialize('sec24_ci_batch', '2024-01-01 00:00+00', '2025-01-01 00:00+00');
RESET client_min_messages;
SELECT sec24_ci_diff('sec24_ci_batch', :'ciquery', :'cicols', '{bucket,c}') AS ci_batch_exact;

-- a writer's search_path resolves no name in the owner's code: a PL/pgSQL
-- function of the definition that calls helper() unqualified finds it as
-- hybridagg's own statements do (pg_catalog, pg_temp), never in a schema
-- the writer put first, whose helper() would run as the owner
CREATE ROLE regress_hybridagg_sec24_owner;
CREATE ROLE regress_hybridagg_sec24_writer;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_sec24_owner, regress_hybridagg_sec24_writer;
CREATE TABLE sec24_path (ts timestamptz NOT NULL, d int);
GRANT SELECT, TRIGGER ON sec24_path TO regress_hybridagg_sec24_owner;
GRANT SELECT, INSERT ON sec24_path TO regress_hybridagg_sec24_writer;
CREATE FUNCTION public.sec24_helper() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'public' $$;
SET ROLE regress_hybridagg_sec24_owner;
CREATE FUNCTION sec24_unqualified(x int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN sec24_helper(); END $$;
CREATE FUNCTION sec24_qualified(x int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN public.sec24_helper(); END $$;
SELECT hybridagg.create('sec24_path_u', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, sec24_unqualified(d) AS who, count(*) AS n FROM sec24_path GROUP BY 1, 2', mode => 'streaming') IS NOT NULL AS created;
SELECT hybridagg.create('sec24_path_q', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, sec24_qualified(d) AS who, count(*) AS n FROM sec24_path GROUP BY 1, 2', mode => 'streaming') IS NOT NULL AS created;
GRANT SELECT ON sec24_path_u, sec24_path_q TO regress_hybridagg_sec24_writer;
RESET ROLE;
CREATE SCHEMA sec24_w AUTHORIZATION regress_hybridagg_sec24_writer;
GRANT USAGE ON SCHEMA sec24_w TO PUBLIC;
SET ROLE regress_hybridagg_sec24_writer;
CREATE FUNCTION sec24_w.sec24_helper() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'the writer''s code, run as ' || current_user $$;
SET search_path = sec24_w, public;
-- the unqualified name is found nowhere: the write fails, as a recompute would
\set VERBOSITY terse
INSERT INTO sec24_path VALUES ('2025-01-01 00:10+00', 1);
\set VERBOSITY default
RESET search_path;
RESET ROLE;
SET ROLE regress_hybridagg_sec24_owner;
SELECT hybridagg.drop('sec24_path_u');
RESET ROLE;
SET ROLE regress_hybridagg_sec24_writer;
SET search_path = sec24_w, public;
INSERT INTO sec24_path VALUES ('2025-01-01 00:10+00', 1);
RESET search_path;
SELECT bucket, who, n FROM sec24_path_q;
RESET ROLE;
SET client_min_messages = warning;
SELECT hybridagg.drop('sec24_path_q');
RESET client_min_messages;
DROP TABLE sec24_path;
DROP SCHEMA sec24_w CASCADE;
DROP FUNCTION public.sec24_helper();
DROP OWNED BY regress_hybridagg_sec24_owner;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_sec24_owner, regress_hybridagg_sec24_writer;
DROP ROLE regress_hybridagg_sec24_owner;
DROP ROLE regress_hybridagg_sec24_writer;

-- clean up
SET client_min_messages = warning;
SELECT hybridagg.drop('sec24_hybrid');
SELECT hybridagg.drop('sec24_streaming');
SELECT hybridagg.drop('sec24_batch');
SELECT hybridagg.drop('sec24_ci');
SELECT hybridagg.drop('sec24_ci_batch');
SELECT hybridagg.drop('sec24_ci_mm');
RESET client_min_messages;
DROP FUNCTION sec24_ci_diff(text, text, text, text[]);
DROP TABLE sec24_events;
DROP EXTENSION citext;
