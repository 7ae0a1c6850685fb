-- The aggregates of one pass over a statement's rows (one owner, one table)
-- evaluate the expressions they have in common once per row
-- (capture_common.c): the same date_bin(), the same key, the same argument.
-- Every aggregate stays exact through INSERT, UPDATE (old and new rows, an
-- update of a column no aggregate reads), DELETE and COPY, into the
-- partitioned table and straight into a partition laid out unlike it
-- (columns in another order, a dropped column); an aggregate with a WHERE
-- clause evaluates its own expressions, on the rows its WHERE keeps only.
-- This file fails if a shared expression is evaluated once per aggregate
-- (the calls of a counted function show it), if a member takes another
-- member's value or another row's, or if an expression guarded by a WHERE
-- is evaluated over a row the WHERE drops (a division by zero).
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE com_events (ts timestamptz NOT NULL, device int NOT NULL, value float8, region text, note text)
    PARTITION BY RANGE (ts);
CREATE TABLE com_events_april PARTITION OF com_events
    FOR VALUES FROM ('2025-04-01 00:00+00') TO ('2025-05-01 00:00+00');
-- a partition laid out unlike its parent: its rows are mapped first
CREATE TABLE com_events_may (note text, junk int, region text, value float8, device int NOT NULL, ts timestamptz NOT NULL);
ALTER TABLE com_events_may DROP COLUMN junk;
ALTER TABLE com_events ATTACH PARTITION com_events_may
    FOR VALUES FROM ('2025-05-01 00:00+00') TO ('2025-06-01 00:00+00');
INSERT INTO com_events SELECT '2025-04-01 00:00+00'::timestamptz + i * interval '1 minute', i % 5, i % 17,
       (ARRAY['north', 'south', NULL])[i % 3 + 1], NULL
  FROM generate_series(1, 300) i;

-- each call of com_counted() is counted: it tells how often a capture
-- evaluates the key it computes (declared IMMUTABLE, which hybridagg cannot
-- check)
CREATE SEQUENCE com_calls;
CREATE FUNCTION com_counted(device int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM nextval('public.com_calls');
    RETURN device % 3;
END
$$;

-- three aggregates with expressions in common, one with a text key, and one
-- with a WHERE clause guarding a division
SELECT hybridagg.create('com_hour', $q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, com_counted(device) AS k, count(*) AS n, sum(value) AS total, max(value) AS hi FROM com_events GROUP BY 1, 2$q$, mode => 'hybrid', seal_after => '1 day') IS NOT NULL AS created;
SELECT hybridagg.create('com_hour_all', $q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, count(*) AS n, avg(value) AS mean, min(value) FILTER (WHERE device > 2) AS lo_high_devices FROM com_events GROUP BY 1$q$, mode => 'streaming') IS NOT NULL AS created;
SELECT hybridagg.create('com_day', $q$SELECT date_bin('1 day', ts, '2000-01-01 00:00+00') AS day, com_counted(device) AS k, upper(region) AS region, sum(value * 2) AS doubled, count(value) AS n FROM com_events GROUP BY 1, 2, 3$q$, mode => 'kappa', seal_after => '1 day') IS NOT NULL AS created;
SELECT hybridagg.create('com_guarded', $q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, com_counted(device) AS k, sum(12.0 / device) AS inverse FROM com_events WHERE device <> 0 GROUP BY 1, 2$q$, mode => 'lambda', seal_after => '1 day') IS NOT NULL AS created;

CREATE FUNCTION com_differing() RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (VALUES
        ('com_hour', test_diff('com_hour', $q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device % 3 AS k, count(*) AS n, sum(value) AS total, max(value) AS hi FROM com_events GROUP BY 1, 2$q$, '{bucket,k}')),
        ('com_hour_all', test_diff('com_hour_all', $q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, count(*) AS n, avg(value) AS mean, min(value) FILTER (WHERE device > 2) AS lo_high_devices FROM com_events GROUP BY 1$q$, '{bucket}')),
        ('com_day', test_diff('com_day', $q$SELECT date_bin('1 day', ts, '2000-01-01 00:00+00') AS day, device % 3 AS k, upper(region) AS region, sum(value * 2) AS doubled, count(value) AS n FROM com_events GROUP BY 1, 2, 3$q$, '{day,k,region}')),
        ('com_guarded', test_diff('com_guarded', $q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device % 3 AS k, sum(12.0 / device) AS inverse FROM com_events WHERE device <> 0 GROUP BY 1, 2$q$, '{bucket,k}'))
    ) d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
SELECT * FROM com_differing();

-- calls of com_counted() a statement makes, from the sequence
CREATE FUNCTION com_calls_since(mark bigint) RETURNS bigint LANGUAGE sql AS $$
    SELECT nextval('com_calls') - 1 - mark
$$;
-- (each count in a transaction: what the worker recomputes from the table
-- calls com_counted() too, and no statement has made a group dirty yet)

-- 500 rows, 100 of them of device 0: com_hour and com_day share one call a
-- row, com_guarded makes its own on the 400 rows its WHERE keeps
BEGIN;
SELECT nextval('com_calls') AS mark \gset
INSERT INTO com_events SELECT '2025-04-02 00:00+00'::timestamptz + i * interval '7 seconds', i % 5, i,
       (ARRAY['north', 'south', NULL])[i % 3 + 1], NULL
  FROM generate_series(1, 500) i;
SELECT com_calls_since(:mark) AS calls_for_500_rows;
COMMIT;
SELECT * FROM com_differing();
-- a statement of a few rows evaluates each aggregate's own expressions
BEGIN;
SELECT nextval('com_calls') AS mark \gset
INSERT INTO com_events SELECT '2025-04-03 00:00+00'::timestamptz + i * interval '1 minute', i % 5 + 1, i, 'east', NULL
  FROM generate_series(1, 10) i;
SELECT com_calls_since(:mark) AS calls_for_10_rows;
COMMIT;
SELECT * FROM com_differing();

-- UPDATE: old and new rows, each lane shared; an update of a column no
-- aggregate reads changes nothing
BEGIN;
SELECT nextval('com_calls') AS mark \gset
UPDATE com_events SET value = value + 1, device = device + 1, region = 'west'
 WHERE ts BETWEEN '2025-04-02 00:00+00' AND '2025-04-02 00:30+00';
SELECT com_calls_since(:mark) AS calls_for_257_old_and_new_rows;
COMMIT;
UPDATE com_events SET note = 'seen' WHERE ts < '2025-04-02 00:00+00';
SELECT * FROM com_differing();
DELETE FROM com_events WHERE ts BETWEEN '2025-04-02 00:10+00' AND '2025-04-02 00:40+00';
SELECT * FROM com_differing();

-- into the partition laid out unlike its parent, through the parent and
-- straight into it; and COPY
INSERT INTO com_events SELECT '2025-05-01 00:00+00'::timestamptz + i * interval '1 minute', i % 4, i * 0.5, 'north', NULL
  FROM generate_series(1, 200) i;
INSERT INTO com_events_may (ts, device, value, region)
SELECT '2025-05-02 00:00+00'::timestamptz + i * interval '1 minute', i % 6, i, (ARRAY['south', NULL])[i % 2 + 1]
  FROM generate_series(1, 200) i;
UPDATE com_events_may SET value = -value, device = device + 2 WHERE device = 1;
COPY com_events (ts, device, value, region) FROM stdin;
2025-05-03 00:00:00+00	1	1.5	north
2025-05-03 00:01:00+00	2	2.5	\N
2025-05-03 00:02:00+00	0	3.5	south
\.
SELECT * FROM com_differing();

-- folded and sealed, still exact
SELECT count(hybridagg.fold(n)) AS folded FROM unnest(ARRAY['com_hour', 'com_hour_all', 'com_day', 'com_guarded']) n;
SELECT * FROM com_differing();

SET client_min_messages = warning;
SELECT hybridagg.drop(n) FROM unnest(ARRAY['com_hour', 'com_hour_all', 'com_day', 'com_guarded']) n;
RESET client_min_messages;
DROP TABLE com_events;
DROP FUNCTION com_differing(), com_calls_since(bigint), com_counted(int);
DROP SEQUENCE com_calls;
