-- The four streaming modes (streaming, hybrid, lambda, kappa), two
-- aggregates each (test/sql/streaming_modes.sql), under every kind of
-- write: INSERT, UPDATE moving rows between buckets, devices and the WHERE
-- clause, DELETE, COPY, MERGE, late rows days back, several writes in a
-- transaction, committed or rolled back.  After each, every view equals its
-- defining query at once, without waiting for the worker; and again once
-- the worker has folded every pending delta.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

\i test/sql/streaming_modes.sql

-- INSERT of fresh rows, one and many
INSERT INTO events (ts, device_id, site, value, qty) VALUES (now(), 1, 'site1', 1.5, 3);
SELECT add_events(500, now(), '2 seconds');
SELECT * FROM differing();

-- UPDATE moving rows between buckets, devices and sites, into and out of
-- the WHERE clause, and changing the extremes of groups
UPDATE events SET ts = ts - interval '7 minutes', device_id = (device_id + 1) % 5 WHERE id % 13 = 0;
UPDATE events SET site = CASE WHEN site IS NULL THEN 'site9' END, qty = -qty WHERE id % 11 = 0;
UPDATE events SET value = value * 3 WHERE id % 7 = 0;
UPDATE events SET value = NULL WHERE id % 19 = 0;
SELECT * FROM differing();

-- DELETE of scattered rows, and of every row of some buckets
DELETE FROM events WHERE id % 17 = 0;
DELETE FROM events WHERE ts >= now() - interval '2 hours' AND ts < now() - interval '100 minutes';
SELECT * FROM differing();

-- COPY: fresh rows (ts defaults to now()) and late rows two weeks back
COPY events (device_id, site, value, qty) FROM stdin;
1	site1	10	5
2	\N	20	6
3	site2	\N	7
1	site1	-4.5	-1
\.
-- (COPY's data cannot say now(): the late rows go through a file, at fixed
-- offsets from the start of an hour two weeks back; \copy ... FROM sends
-- them as COPY ... FROM STDIN)
\copy (SELECT date_bin('1 hour', now() - interval '14 days', '2000-01-01 00:00+00') + m * interval '1 minute', d, s, v, q FROM (VALUES (0, 1, 'site1', 100, 1), (1, 1, 'site1', 200, 1), (7, 2, 'site2', 300, 2), (90, 4, NULL, NULL, 0)) r (m, d, s, v, q)) TO 'results/09_streaming_writes.copy'
\copy events (ts, device_id, site, value, qty) FROM 'results/09_streaming_writes.copy'
SELECT * FROM differing();

-- MERGE: one statement that updates, deletes and inserts
MERGE INTO events e
USING (SELECT i AS id, CASE WHEN i % 3 = 0 THEN 'delete' WHEN i % 3 = 1 THEN 'update' END AS action
         FROM generate_series(1, 60) i
       UNION ALL
       SELECT 100000 + i, 'insert' FROM generate_series(1, 10) i) s
   ON e.id = s.id
 WHEN MATCHED AND s.action = 'delete' THEN DELETE
 WHEN MATCHED AND s.action = 'update' THEN UPDATE SET value = value * 2, device_id = 3
 WHEN NOT MATCHED THEN INSERT (id, ts, device_id, site, value, qty)
      VALUES (s.id, now() - interval '2 hours', 2, 'site9', 7, 1);
SELECT count(*) FILTER (WHERE id <= 60) AS kept_of_60,
       count(*) FILTER (WHERE id <= 60 AND device_id = 3) AS moved_to_device_3,
       count(*) FILTER (WHERE id > 100000) AS inserted
  FROM events;
SELECT * FROM differing();

-- late rows, days back, below every watermark, and their deletion
SELECT add_events(300, now() - interval '3 days', '1 minute');
SELECT add_events(100, now() - interval '20 days', '10 minutes');
SELECT * FROM differing();
DELETE FROM events WHERE ts < now() - interval '3 days 2 hours' AND id % 2 = 0;
UPDATE events SET ts = ts + interval '3 days' WHERE ts < now() - interval '20 days' AND id % 3 = 0;
SELECT * FROM differing();

-- several writes in one transaction: exact inside it, and after COMMIT ...
BEGIN;
SELECT add_events(50, now(), '3 seconds');
UPDATE events SET value = value + 1 WHERE id % 23 = 0;
DELETE FROM events WHERE id % 29 = 0;
SELECT * FROM differing();
COMMIT;
SELECT * FROM differing();
-- ... or after ROLLBACK
BEGIN;
SELECT add_events(50, now() - interval '1 day', '3 seconds');
DELETE FROM events WHERE id % 31 = 0;
ROLLBACK;
SELECT * FROM differing();

-- the worker folds every pending delta: exact again
CALL wait_drained();
SELECT * FROM differing();
SELECT name, folds > 0 AS folded, folded_deltas > 0 AS counted, last_fold_at IS NOT NULL AS has_fold_time,
       last_error IS NULL AS no_error
  FROM hybridagg.aggregates WHERE name IN (SELECT aggregate FROM checks) ORDER BY name;

SET client_min_messages = warning;
SELECT hybridagg.drop(aggregate) FROM checks ORDER BY aggregate;
RESET client_min_messages;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'events'::regclass;
DROP PROCEDURE wait_drained(interval);
DROP FUNCTION differing();
DROP TABLE checks;
DROP FUNCTION add_events(int, timestamptz, interval);
DROP TABLE events;
