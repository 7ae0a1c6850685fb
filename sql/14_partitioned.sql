-- A partitioned base table.  Rows are written through the parent (INSERT,
-- UPDATE moving rows across partitions, DELETE, COPY, TRUNCATE) and straight
-- into a partition, as applications and partition maintenance do; every
-- view equals its defining query after each write.
\set VERBOSITY default

CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8) PARTITION BY RANGE (ts);
CREATE TABLE events_old PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2026-11-01 00:00+00');
CREATE TABLE events_recent PARTITION OF events FOR VALUES FROM ('2026-11-01 00:00+00') TO (MAXVALUE);
CREATE INDEX ON events (ts);
INSERT INTO events SELECT now() - i * interval '3 minutes', i % 3, i % 41 FROM generate_series(1, 2000) i;
INSERT INTO events SELECT '2026-10-31 12:00+00'::timestamptz - i * interval '5 minutes', i % 3, i % 17 FROM generate_series(1, 300) i;

\set query 'SELECT date_bin(''10 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, max(value) AS hi FROM events GROUP BY 1, 2'

CREATE TABLE checks (aggregate text, query text);
INSERT INTO checks VALUES ('part_hybrid', :'query'), ('part_kappa', :'query'), ('part_batch', :'query');
CREATE FUNCTION differing() RETURNS SETOF text
LANGUAGE sql AS $$
    SELECT c.aggregate FROM checks c WHERE test_diff(c.aggregate::regclass, c.query, '{bucket,device_id}') <> 0 ORDER BY 1
$$;

SELECT hybridagg.create('part_hybrid', :'query', mode => 'hybrid');
SELECT hybridagg.create('part_kappa', :'query', mode => 'kappa');
SELECT hybridagg.create('part_batch', :'query', mode => 'batch');
SELECT * FROM differing();

-- through the parent
INSERT INTO events VALUES (now(), 1, 1), ('2026-10-15 10:00+00', 2, 2);
UPDATE events SET ts = ts - interval '30 days' WHERE device_id = 2 AND ts > now() - interval '2 hours';
DELETE FROM events WHERE device_id = 0 AND ts > now() - interval '1 hour';
COPY events FROM stdin;
2026-10-20 08:00:00+00	1	10
2026-11-20 08:00:00+00	1	20
\.
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', '2026-09-01', now());
RESET client_min_messages;
SELECT * FROM differing();

-- straight into a partition
INSERT INTO events_recent VALUES (now(), 1, 100), (now() - interval '1 day', 2, 200);
INSERT INTO events_old VALUES ('2026-10-30 10:00+00', 0, 300);
UPDATE events_recent SET value = value + 1, device_id = 1 WHERE device_id = 0 AND ts > now() - interval '1 day';
DELETE FROM events_old WHERE device_id = 1;
COPY events_recent FROM stdin;
2026-11-21 09:00:00+00	2	30
\.
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', '2026-09-01', now());
RESET client_min_messages;
SELECT * FROM differing();

-- TRUNCATE of one partition, and of the whole table
TRUNCATE events_old;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', '2026-09-01', now());
RESET client_min_messages;
SELECT * FROM differing();
TRUNCATE events;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', '2026-09-01', now());
RESET client_min_messages;
SELECT * FROM differing();
INSERT INTO events SELECT now() - i * interval '7 minutes', i % 3, i FROM generate_series(1, 500) i;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', '2026-09-01', now());
RESET client_min_messages;
SELECT * FROM differing();


-- the partition tree changes: a partition detached (its rows leave the
-- table), a table attached with rows (columns in another order and a
-- dropped column, so its rows must be converted), a new empty partition
INSERT INTO events_old VALUES ('2024-03-01 10:00+00', 1, 7);
ALTER TABLE events DETACH PARTITION events_old;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', '2000-01-01', now());
RESET client_min_messages;
SELECT * FROM differing();
CREATE TABLE events_2025 (device_id int NOT NULL, junk text, value float8, ts timestamptz NOT NULL);
ALTER TABLE events_2025 DROP COLUMN junk;
INSERT INTO events_2025 (ts, device_id, value)
SELECT '2025-06-01 00:00+00'::timestamptz + i * interval '1 hour', i % 3, i FROM generate_series(1, 50) i;
ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2026-11-01 00:00+00');
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', '2000-01-01', now());
RESET client_min_messages;
SELECT * FROM differing();
CREATE TABLE events_ancient PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2025-01-01 00:00+00');
INSERT INTO events_ancient VALUES ('2024-06-01 10:00+00', 1, 5), ('2024-06-01 10:01+00', 2, 6);
UPDATE events_2025 SET value = value * 2 WHERE device_id = 1;
DELETE FROM events_2025 WHERE device_id = 2;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', '2000-01-01', now());
RESET client_min_messages;
SELECT * FROM differing();
-- a detached table is no longer captured
INSERT INTO events_old VALUES ('2024-07-01 00:00+00', 1, 1);
SELECT count(*) AS triggers_on_detached FROM pg_trigger WHERE tgrelid = 'events_old'::regclass AND NOT tgisinternal;
SELECT * FROM differing();
ALTER TABLE events DETACH PARTITION events_2025;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', '2000-01-01', now());
RESET client_min_messages;
SELECT * FROM differing();
DROP TABLE events_2025, events_old;

SET client_min_messages = warning;
SELECT hybridagg.drop(aggregate) FROM checks ORDER BY aggregate;
RESET client_min_messages;
SELECT count(*) AS triggers_left FROM pg_trigger
 WHERE tgrelid IN ('events'::regclass, 'events_recent'::regclass, 'events_ancient'::regclass) AND NOT tgisinternal;
DROP FUNCTION differing();
DROP TABLE checks, events;
