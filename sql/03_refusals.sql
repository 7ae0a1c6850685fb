-- Definitions and arguments that hybridagg.create() refuses, each with its
-- message: an errcode (echoed after each error), a one-line message, a
-- detail naming the offending part and a hint saying what to write instead.
-- Then the proof that no refused or failed create left anything behind.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, device_id int, value float8);
INSERT INTO events (ts, device_id, value)
SELECT now() - i * interval '1 minute', i % 3, i FROM generate_series(1, 100) i;
CREATE TABLE devices (device_id int, name text);
CREATE VIEW events_view AS SELECT * FROM events;
CREATE TABLE secured (ts timestamptz NOT NULL, v int);
ALTER TABLE secured ENABLE ROW LEVEL SECURITY;
CREATE TEMP TABLE scratch (ts timestamptz NOT NULL, v int);
CREATE TABLE parent_events (ts timestamptz NOT NULL, v int);

-- what exists before
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM hybridagg_internal.aggregate) AS aggregates,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'hybridagg_internal'::regnamespace) AS internal_relations,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace) AS public_relations,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events'::regclass) AS triggers;

-- the Bar's five: 2-argument date_trunc on timestamptz (its buckets depend
-- on the session's TimeZone), a join, a volatile WHERE, no time bucket, and
-- text that is not SQL
SELECT hybridagg.create('refused', $$SELECT date_trunc('hour', ts) AS hour, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events JOIN devices USING (device_id) GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events, devices GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events WHERE random() < 0.5 GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT device_id, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT count(*) FROM events$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$this is not sql$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE

-- stable functions: now() alone, and now() inside an expression (the error
-- names the function the user wrote, not an operator's implementation)
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events WHERE ts < now() GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events WHERE ts > now() - interval '1 day' GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, to_char(device_id, '999') AS d, count(*) FROM events GROUP BY 1, 2$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
-- not refused: the select list and HAVING over the final values run at
-- query time, as in the raw query, so a stable function there is fine
SELECT hybridagg.create('accepted', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, to_char(date_bin('1 hour', ts, '2000-01-01 00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24') AS label, count(*) FROM events GROUP BY 1 HAVING max(ts) < now()$$, mode => 'batch');
SELECT test_diff('accepted', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, to_char(date_bin('1 hour', ts, '2000-01-01 00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24') AS label, count(*) FROM events GROUP BY 1 HAVING max(ts) < now()$$, '{b}');
SELECT hybridagg.drop('accepted');

-- two statements, one of them harmful: nothing runs
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1; DROP TABLE events$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS events_still_there FROM events;
SELECT hybridagg.create('refused', $$DELETE FROM events$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE

-- shapes of query
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events WHERE device_id IN (SELECT device_id FROM devices) GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM (SELECT * FROM events) e GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$WITH e AS (SELECT * FROM events) SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM e GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1 UNION ALL SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00'), count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*), rank() OVER (ORDER BY count(*)) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT DISTINCT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1 LIMIT 10$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, device_id, count(*) FROM events GROUP BY GROUPING SETS ((1), (1, 2))$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*), generate_series(1, 2) AS g FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) INTO new_table FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE

-- aggregates: any deterministic one is kept (sql/34_recomputed_aggregates);
-- one not marked immutable, and direct arguments that read columns, are
-- refused
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, json_agg(value) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, device_id, percentile_cont(device_id / 10.0) WITHIN GROUP (ORDER BY value) FROM events GROUP BY 1, 2$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE

-- the time bucket
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts::timestamp, '2000-01-01') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 month', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('0 minutes', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, NULL) AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin(make_interval(mins => device_id), ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, date_trunc('day', ts, 'UTC') AS d, count(*) FROM events GROUP BY 1, 2$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_trunc('fortnight', ts, 'UTC') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_trunc('day', ts, 'Mars/Olympus_Mons') AS d, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE

-- duplicate column names fail after the internal objects were made: the
-- whole create rolls back
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) AS n, sum(value) AS n FROM events GROUP BY 1$$, mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE

-- base tables that cannot be aggregated
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events_view GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM secured GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM scratch GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM no_such_table GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE

-- arguments
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'fast');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, seal_after => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, with_data => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, seal_after => '-1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, seal_after => '1 day -25 hours');
\echo :LAST_ERROR_SQLSTATE
-- positive overall, though its day part is negative: accepted
SELECT hybridagg.create('accepted', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch', seal_after => '1 month -1 day') IS NOT NULL AS created;
SELECT hybridagg.drop('accepted');
SELECT hybridagg.create('', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('a.b.c', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('no_such_schema.refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('events', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'batch');
\echo :LAST_ERROR_SQLSTATE

-- NULL name or query: refused; they have no default, so the hint must not
-- say to leave them out
CREATE FUNCTION error_of(statement text, OUT code text, OUT message text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    code := 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END
$$;
SELECT code, message, hint NOT ILIKE '%default%' AS hint_fits
  FROM error_of($q$SELECT hybridagg.create(NULL, $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$)$q$);
SELECT code, message, hint NOT ILIKE '%default%' AS hint_fits
  FROM error_of($q$SELECT hybridagg.create('refused', NULL)$q$);

-- a streaming mode cannot start without the rows already in the table
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'streaming', with_data => false);
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM events GROUP BY 1$$, mode => 'hybrid', with_data => false);
\echo :LAST_ERROR_SQLSTATE

-- a table with inheritance children: rows written into a child would not
-- be captured, and with FROM ONLY an UPDATE or DELETE of the parent would
-- put the children's rows in the parent's transition tables, so the
-- streaming modes refuse both; batch mode is fine.  Once the child is gone,
-- the streaming modes accept the table.
CREATE TABLE child_events () INHERITS (parent_events);
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM parent_events GROUP BY 1$$, mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM ONLY parent_events GROUP BY 1$$, mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('parent_batch', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM parent_events GROUP BY 1$$, mode => 'batch');
SELECT hybridagg.create('parent_only_batch', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM ONLY parent_events GROUP BY 1$$, mode => 'batch');
DROP TABLE child_events;
SELECT hybridagg.create('parent_hybrid', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, count(*) FROM parent_events GROUP BY 1$$, mode => 'hybrid');
-- and a child cannot be added under a streaming aggregate later
CREATE TABLE child_events () INHERITS (parent_events);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE loose_child (ts timestamptz NOT NULL, v int);
ALTER TABLE loose_child INHERIT parent_events;
\echo :LAST_ERROR_SQLSTATE
SET client_min_messages = warning;
SELECT hybridagg.drop('parent_batch');
SELECT hybridagg.drop('parent_only_batch');
SELECT hybridagg.drop('parent_hybrid');
DROP TABLE loose_child;
RESET client_min_messages;

-- other entry points, bad input
SELECT hybridagg.drop(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.drop('no_such_aggregate');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.drop('events');
\echo :LAST_ERROR_SQLSTATE
CALL hybridagg.materialize(NULL);
\echo :LAST_ERROR_SQLSTATE
CALL hybridagg.materialize('no_such_aggregate');
\echo :LAST_ERROR_SQLSTATE
CALL hybridagg.materialize('events_view');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.reprocess(NULL, now() - interval '1 day', now());
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.reprocess('no_such_aggregate', now() - interval '1 day', now());
\echo :LAST_ERROR_SQLSTATE

-- nothing was left behind by any of the above
SELECT (SELECT count(*) FROM hybridagg_internal.aggregate) - aggregates AS new_aggregates,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'hybridagg_internal'::regnamespace) - internal_relations AS new_internal_relations,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace) - public_relations AS new_public_relations,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'events'::regclass) - triggers AS new_triggers
  FROM before;
SELECT to_regclass('refused') AS refused_view;

DROP FUNCTION error_of(text);
DROP TABLE parent_events, secured, devices, events CASCADE;

-- capture triggers made by hand, not by hybridagg.create(): a clear error
CREATE TABLE hand_made (x int);
CREATE TRIGGER hand_made_rows AFTER INSERT ON hand_made
    FOR EACH ROW EXECUTE FUNCTION hybridagg_internal.capture('1');
INSERT INTO hand_made VALUES (1);
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER hand_made_rows ON hand_made;
CREATE TRIGGER hand_made_no_id AFTER INSERT ON hand_made
    FOR EACH STATEMENT EXECUTE FUNCTION hybridagg_internal.capture();
INSERT INTO hand_made VALUES (1);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS rows_kept FROM hand_made;
DROP TABLE hand_made;
