-- The four streaming modes: streaming, hybrid, lambda and kappa.  Each keeps
-- two aggregates of one table: one with min and max (a DELETE or UPDATE
-- makes its groups dirty, recomputed from the table) and one with only
-- count, sum and avg (folded by addition).  After every kind of write --
-- INSERT, UPDATE moving rows between buckets, devices and the WHERE clause,
-- DELETE, COPY, MERGE, late rows days back, writes in a transaction, TRUNCATE --
-- every view equals its defining query at once, without waiting for the
-- worker; and again once the worker has folded every pending delta; and
-- after materialize() with and without a range.
\set VERBOSITY default

CREATE TABLE events (
    id        serial PRIMARY KEY,
    ts        timestamptz NOT NULL DEFAULT now(),
    device_id int NOT NULL,
    site      text,
    value     float8,
    qty       int
);
CREATE INDEX ON events (ts);
CREATE FUNCTION add_events(n int, newest timestamptz, step interval) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO events (ts, device_id, site, value, qty)
    SELECT newest - i * step, i % 5, CASE WHEN i % 4 <> 0 THEN 'site' || i % 3 END,
           CASE WHEN i % 9 <> 0 THEN (i % 89) / 4.0 END, i % 20 - 2
      FROM generate_series(1, n) i
$$;
SELECT add_events(3000, now(), '71 seconds');

\set q_extremes 'SELECT date_bin(''5 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, site, count(*) AS n, count(value) AS nv, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi, sum(qty) AS q FROM events WHERE qty >= 0 GROUP BY 1, 2, 3'
\set q_sums 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, avg(qty) AS mean_qty FROM events GROUP BY 1, 2'

CREATE TABLE checks (aggregate text, query text, keys text[]);
INSERT INTO checks VALUES
    ('streaming_x', :'q_extremes', '{bucket,device_id,site}'),
    ('streaming_s', :'q_sums', '{bucket,device_id}'),
    ('hybrid_x', :'q_extremes', '{bucket,device_id,site}'),
    ('hybrid_s', :'q_sums', '{bucket,device_id}'),
    ('lambda_x', :'q_extremes', '{bucket,device_id,site}'),
    ('lambda_s', :'q_sums', '{bucket,device_id}'),
    ('kappa_x', :'q_extremes', '{bucket,device_id,site}'),
    ('kappa_s', :'q_sums', '{bucket,device_id}');

-- the aggregates whose view differs from its query (none, if all is well)
CREATE FUNCTION differing() RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (
        SELECT c.aggregate,
               CASE WHEN to_regclass(c.aggregate) IS NULL THEN NULL
                    ELSE test_diff(c.aggregate::regclass, c.query, c.keys) END AS differences
          FROM checks c) d
     WHERE differences IS DISTINCT FROM 0 ORDER BY 1
$$;

CREATE PROCEDURE wait_drained(timeout interval DEFAULT '60 seconds') LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
BEGIN
    WHILE EXISTS (SELECT FROM hybridagg.aggregates
                   WHERE name IN (SELECT aggregate FROM checks) AND (pending_deltas > 0 OR dirty_groups > 0)) LOOP
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'pending deltas were not folded within %', timeout;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;

SELECT hybridagg.create('streaming_x', :'q_extremes', mode => 'streaming');
SELECT hybridagg.create('streaming_s', :'q_sums', mode => 'streaming');
SELECT hybridagg.create('hybrid_x', :'q_extremes', mode => 'hybrid', seal_after => '30 minutes');
SELECT hybridagg.create('hybrid_s', :'q_sums', mode => 'hybrid');
SELECT hybridagg.create('lambda_x', :'q_extremes', mode => 'lambda', seal_after => '30 minutes');
SELECT hybridagg.create('lambda_s', :'q_sums', mode => 'lambda');
SELECT hybridagg.create('kappa_x', :'q_extremes', mode => 'kappa');
SELECT hybridagg.create('kappa_s', :'q_sums', mode => 'kappa');
SELECT name, mode, watermark > '-infinity' AS has_watermark,
       (stored_groups(view)).history > 0 AS has_history, (stored_groups(view)).recent > 0 AS has_recent
  FROM hybridagg.aggregates WHERE name IN (SELECT aggregate FROM checks) ORDER BY name;
SELECT * FROM differing();

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
\copy (SELECT date_bin('1 hour', now() - interval '14 days', '2000-01-01 00:00+00') + m * interval '1 minute', d, s, v, q FROM (VALUES (0, 1, 'site1', 100, 1), (1, 1, 'site1', 200, 1), (7, 2, 'site2', 300, 2), (90, 4, NULL, NULL, 0)) r (m, d, s, v, q)) TO 'results/09_streaming_modes.copy'
\copy events (ts, device_id, site, value, qty) FROM 'results/09_streaming_modes.copy'
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

-- materialize() in every mode, with and without a range
SET client_min_messages = warning;
SELECT add_events(100, now() - interval '1 day', '30 seconds');
CALL hybridagg.materialize('streaming_x');
CALL hybridagg.materialize('streaming_s');
CALL hybridagg.materialize('hybrid_x');
CALL hybridagg.materialize('hybrid_s');
CALL hybridagg.materialize('lambda_x');
CALL hybridagg.materialize('lambda_s');
CALL hybridagg.materialize('kappa_x');
CALL hybridagg.materialize('kappa_s');
RESET client_min_messages;
SELECT * FROM differing();
SELECT name, watermark <= now() - seal_after AS watermark_not_in_future
  FROM hybridagg.aggregates WHERE name IN (SELECT aggregate FROM checks) AND mode IN ('hybrid', 'lambda') ORDER BY name;
UPDATE events SET value = value - 1, device_id = 4 WHERE ts > now() - interval '2 days' AND id % 5 = 0;
SET client_min_messages = warning;
CALL hybridagg.materialize('streaming_x', now() - interval '3 days', now());
CALL hybridagg.materialize('streaming_s', now() - interval '3 days', now());
CALL hybridagg.materialize('hybrid_x', now() - interval '3 days', now());
CALL hybridagg.materialize('hybrid_s', now() - interval '3 days', now());
CALL hybridagg.materialize('lambda_x', now() - interval '3 days', now() + interval '1 day');
CALL hybridagg.materialize('lambda_s', now() - interval '3 days', now() + interval '1 day');
CALL hybridagg.materialize('kappa_x', now() - interval '3 days', now());
CALL hybridagg.materialize('kappa_s', now() - interval '3 days', now());
RESET client_min_messages;
SELECT * FROM differing();

-- TRUNCATE empties every aggregate, in the truncating transaction
BEGIN;
TRUNCATE events;
SELECT * FROM differing();
SELECT count(*) AS rows_in_views FROM streaming_x, hybrid_s, lambda_x, kappa_s;
ROLLBACK;
SELECT * FROM differing();
TRUNCATE events;
SELECT * FROM differing();
SELECT name, (stored_groups(view)).* FROM hybridagg.aggregates WHERE name IN (SELECT aggregate FROM checks) ORDER BY name;
-- and the aggregates go on from there
SELECT add_events(500, now(), '40 seconds');
COPY events (device_id, site, value, qty) FROM stdin;
4	site0	1	1
\.
SELECT * FROM differing();
CALL wait_drained();
SELECT * FROM differing();

SET client_min_messages = warning;
SELECT hybridagg.drop(aggregate) FROM checks ORDER BY aggregate;
RESET client_min_messages;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'events'::regclass;
DROP PROCEDURE wait_drained(interval);
DROP FUNCTION differing();
DROP TABLE checks;
DROP FUNCTION add_events(int, timestamptz, interval);
DROP TABLE events;
