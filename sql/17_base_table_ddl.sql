-- DDL on the base table of live aggregates.  The definition is kept as a
-- tree of resolved objects, not as text: renaming a column or the table,
-- or adding and dropping columns the aggregates do not use, changes nothing,
-- and writes after each change are still captured.  Dropping or retyping a
-- column an aggregate uses is refused by PostgreSQL's dependencies (their
-- DETAIL names internal views by id, so those errors are shown terse).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, device_id int NOT NULL, value float8, extra text);
INSERT INTO events (ts, device_id, value)
SELECT now() - i * interval '1 minute', i % 3, i % 37 FROM generate_series(1, 1500) i;

SELECT hybridagg.create('ddl_hybrid', $$SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS bucket, device_id, count(*) AS n, sum(value) AS total, max(value) AS hi FROM events GROUP BY 1, 2$$, mode => 'hybrid');
SELECT hybridagg.create('ddl_streaming', $$SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS bucket, count(*) AS n, min(value) AS lo FROM events WHERE device_id <> 1 GROUP BY 1$$, mode => 'streaming');
SELECT hybridagg.create('ddl_batch', $$SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS bucket, device_id, count(*) AS n, sum(value) AS total, max(value) AS hi FROM events GROUP BY 1, 2$$, mode => 'batch');

-- the raw queries, written against the table's names of the moment
CREATE FUNCTION differing(t text, v text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    q1 text := format('SELECT date_bin(''10 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(%2$I) AS total, max(%2$I) AS hi FROM %1$I GROUP BY 1, 2', t, v);
    q2 text := format('SELECT date_bin(''10 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n, min(%2$I) AS lo FROM %1$I WHERE device_id <> 1 GROUP BY 1', t, v);
    quiet text := current_setting('client_min_messages');
BEGIN
    PERFORM set_config('client_min_messages', 'warning', false);
    CALL hybridagg.materialize('ddl_batch', now() - interval '3 days', now());
    PERFORM set_config('client_min_messages', quiet, false);
    IF test_diff('ddl_hybrid', q1, '{bucket,device_id}') <> 0 THEN RETURN NEXT 'ddl_hybrid'; END IF;
    IF test_diff('ddl_streaming', q2, '{bucket}') <> 0 THEN RETURN NEXT 'ddl_streaming'; END IF;
    IF test_diff('ddl_batch', q1, '{bucket,device_id}') <> 0 THEN RETURN NEXT 'ddl_batch'; END IF;
END
$$;
SELECT * FROM differing('events', 'value');

ALTER TABLE events RENAME COLUMN value TO amount;
INSERT INTO events (ts, device_id, amount) VALUES (now(), 0, 100), (now() - interval '1 day', 2, 200);
UPDATE events SET amount = amount + 1 WHERE id % 5 = 0;
SELECT * FROM differing('events', 'amount');

ALTER TABLE events RENAME TO renamed_events;
INSERT INTO renamed_events (ts, device_id, amount) VALUES (now(), 2, 300);
DELETE FROM renamed_events WHERE id % 7 = 0;
SELECT base_table FROM hybridagg.aggregates WHERE name = 'ddl_hybrid';
SELECT * FROM differing('renamed_events', 'amount');

ALTER TABLE renamed_events DROP COLUMN extra;
ALTER TABLE renamed_events ADD COLUMN note text DEFAULT 'n';
INSERT INTO renamed_events (ts, device_id, amount, note) VALUES (now(), 0, 400, 'new');
UPDATE renamed_events SET note = 'changed', device_id = 1 WHERE id % 11 = 0;
SELECT * FROM differing('renamed_events', 'amount');

\set VERBOSITY terse
ALTER TABLE renamed_events DROP COLUMN amount;
ALTER TABLE renamed_events ALTER COLUMN device_id TYPE bigint;
\set VERBOSITY default
SELECT * FROM differing('renamed_events', 'amount');

SET client_min_messages = warning;
SELECT hybridagg.drop('ddl_hybrid');
SELECT hybridagg.drop('ddl_streaming');
SELECT hybridagg.drop('ddl_batch');
RESET client_min_messages;
DROP FUNCTION differing(text, text);
DROP TABLE renamed_events;
