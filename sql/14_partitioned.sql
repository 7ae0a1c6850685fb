-- A partitioned base table.  Rows are written through the parent (INSERT,
-- UPDATE moving rows across partitions, DELETE, COPY, TRUNCATE) and straight
-- into a partition, as applications and partition maintenance do; every
-- view equals its defining query after each write.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

-- Every time is relative to now(): split, the bound between events_old and
-- events_recent, is a midnight (UTC) 25 to 26 days back; cut, the bound of
-- the partitions of the older years attached later, is 700 days before it;
-- rows of those stand at fixed offsets from these two.
-- (kept in a table too, for \copy, whose arguments take no variables)
CREATE TEMP TABLE bounds AS
SELECT split, split - interval '700 days' AS cut FROM date_trunc('day', now() - interval '25 days', 'UTC') split;
SELECT split, cut FROM bounds \gset
CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8) PARTITION BY RANGE (ts);
CREATE TABLE events_old PARTITION OF events FOR VALUES FROM (MINVALUE) TO (:'split');
CREATE TABLE events_recent PARTITION OF events FOR VALUES FROM (:'split') TO (MAXVALUE);
CREATE INDEX ON events (ts);
INSERT INTO events SELECT now() - i * interval '3 minutes', i % 3, i % 41 FROM generate_series(1, 2000) i;
INSERT INTO events SELECT :'split'::timestamptz - interval '12 hours' - i * interval '5 minutes', i % 3, i % 17 FROM generate_series(1, 300) i;

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
INSERT INTO events VALUES (now(), 1, 1), (:'split'::timestamptz - interval '17 days' + interval '10 hours', 2, 2);
UPDATE events SET ts = ts - interval '30 days' WHERE device_id = 2 AND ts > now() - interval '2 hours';
-- (the UPDATE moved rows from events_recent into events_old)
SELECT count(*) AS moved_across_partitions FROM events_old
 WHERE ts > now() - interval '30 days 2 hours' AND ts <= now() - interval '30 days';
DELETE FROM events WHERE device_id = 0 AND ts > now() - interval '1 hour';
-- COPY, a row for each partition (COPY's data cannot say now(): the rows go
-- through a file; \copy ... FROM sends them as COPY ... FROM STDIN)
\copy (SELECT split + d * interval '1 day' + interval '8 hours', 1, v FROM bounds, (VALUES (-12, 10), (19, 20)) r (d, v)) TO 'results/14_partitioned.copy'
\copy events FROM 'results/14_partitioned.copy'
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', :'split'::timestamptz - interval '61 days', now());
RESET client_min_messages;
SELECT * FROM differing();

-- straight into a partition
INSERT INTO events_recent VALUES (now(), 1, 100), (now() - interval '1 day', 2, 200);
INSERT INTO events_old VALUES (:'split'::timestamptz - interval '2 days' + interval '10 hours', 0, 300);
UPDATE events_recent SET value = value + 1, device_id = 1 WHERE device_id = 0 AND ts > now() - interval '1 day';
DELETE FROM events_old WHERE device_id = 1;
\copy (SELECT split + interval '20 days 9 hours', 2, 30 FROM bounds) TO 'results/14_partitioned.copy'
\copy events_recent FROM 'results/14_partitioned.copy'
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', :'split'::timestamptz - interval '61 days', now());
RESET client_min_messages;
SELECT * FROM differing();

-- TRUNCATE of one partition, and of the whole table
TRUNCATE events_old;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', :'split'::timestamptz - interval '61 days', now());
RESET client_min_messages;
SELECT * FROM differing();
TRUNCATE events;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', :'split'::timestamptz - interval '61 days', now());
RESET client_min_messages;
SELECT * FROM differing();
INSERT INTO events SELECT now() - i * interval '7 minutes', i % 3, i FROM generate_series(1, 500) i;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', :'split'::timestamptz - interval '61 days', now());
RESET client_min_messages;
SELECT * FROM differing();


-- the partition tree changes: a partition detached (its rows leave the
-- table), a table attached with rows (columns in another order and a
-- dropped column, so its rows must be converted), a new empty partition
INSERT INTO events_old VALUES (:'cut'::timestamptz - interval '306 days' + interval '10 hours', 1, 7);
ALTER TABLE events DETACH PARTITION events_old;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', :'cut'::timestamptz - interval '2 years', now());
RESET client_min_messages;
SELECT * FROM differing();
CREATE TABLE events_2025 (device_id int NOT NULL, junk text, value float8, ts timestamptz NOT NULL);
ALTER TABLE events_2025 DROP COLUMN junk;
INSERT INTO events_2025 (ts, device_id, value)
SELECT :'cut'::timestamptz + interval '151 days' + i * interval '1 hour', i % 3, i FROM generate_series(1, 50) i;
ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM (:'cut') TO (:'split');
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', :'cut'::timestamptz - interval '2 years', now());
RESET client_min_messages;
SELECT * FROM differing();
CREATE TABLE events_ancient PARTITION OF events FOR VALUES FROM (MINVALUE) TO (:'cut');
INSERT INTO events_ancient VALUES (:'cut'::timestamptz - interval '214 days' + interval '10 hours', 1, 5),
                                  (:'cut'::timestamptz - interval '214 days' + interval '10 hours 1 minute', 2, 6);
UPDATE events_2025 SET value = value * 2 WHERE device_id = 1;
DELETE FROM events_2025 WHERE device_id = 2;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', :'cut'::timestamptz - interval '2 years', now());
RESET client_min_messages;
SELECT * FROM differing();
-- a detached table is no longer captured
INSERT INTO events_old VALUES (:'cut'::timestamptz - interval '184 days', 1, 1);
SELECT count(*) AS triggers_on_detached FROM pg_trigger WHERE tgrelid = 'events_old'::regclass AND NOT tgisinternal;
SELECT * FROM differing();
ALTER TABLE events DETACH PARTITION events_2025;
SET client_min_messages = warning;
CALL hybridagg.materialize('part_batch', :'cut'::timestamptz - interval '2 years', now());
RESET client_min_messages;
SELECT * FROM differing();
DROP TABLE events_2025, events_old;

SET client_min_messages = warning;
SELECT hybridagg.drop(aggregate) FROM checks ORDER BY aggregate;
RESET client_min_messages;
SELECT count(*) AS triggers_left FROM pg_trigger
 WHERE tgrelid IN ('events'::regclass, 'events_recent'::regclass, 'events_ancient'::regclass) AND NOT tgisinternal;
DROP FUNCTION differing();
DROP TABLE checks, events, bounds;
