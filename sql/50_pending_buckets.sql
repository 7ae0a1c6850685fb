-- The view splits the stored groups by bucket: those of a bucket that a
-- pending delta holds come from pending_groups(), combined with the
-- deltas, the others from history and recent as stored (pending_groups.c).
-- Every case here is read in the writer's own transaction, so that the
-- deltas are pending (the worker cannot see them) while the view is
-- compared with its defining query: deltas in the bucket of rows with no
-- time only (which the range of pending buckets coalesces with
-- -infinity's), in -infinity's and +infinity's, in buckets spread over the
-- whole range, a numeric key written 1.00 where 1.0 is stored (equal keys,
-- other binary images), and a delete that empties a stored group.
-- This file fails if a group shows twice (stored and combined) or not at
-- all, or shows its stored states while a delta is pending.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE pend_events (ts timestamptz, device numeric, value float8);
CREATE INDEX ON pend_events (ts);
INSERT INTO pend_events SELECT '2025-02-01 00:00+00'::timestamptz + i * interval '5 minutes', (i % 3)::numeric(4, 1), i
  FROM generate_series(1, 2000) i;
INSERT INTO pend_events VALUES (NULL, 1.0, 1), (NULL, 2.0, 2), ('-infinity', 1.0, 3), ('-infinity', 2.0, 4),
                               ('infinity', 1.0, 5), ('infinity', 2.0, 6);
\set q 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, sum(value) AS total, max(value) AS hi FROM pend_events GROUP BY 1, 2'
SELECT hybridagg.create('pend_hybrid', :'q', mode => 'hybrid', seal_after => '1 day') IS NOT NULL AS created;
SELECT hybridagg.create('pend_streaming', :'q', mode => 'streaming') IS NOT NULL AS created;
SELECT count(hybridagg.fold(n)) AS folded FROM unnest(ARRAY['pend_hybrid', 'pend_streaming']) n;
CREATE FUNCTION pend_differing() RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (VALUES
        ('pend_hybrid', test_diff('pend_hybrid', $q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device, count(*) AS n, sum(value) AS total, max(value) AS hi FROM pend_events GROUP BY 1, 2$q$, '{bucket,device}')),
        ('pend_streaming', test_diff('pend_streaming', $q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device, count(*) AS n, sum(value) AS total, max(value) AS hi FROM pend_events GROUP BY 1, 2$q$, '{bucket,device}'))
    ) d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
CREATE FUNCTION pend_deltas() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(pending_deltas)::bigint FROM hybridagg.aggregates WHERE name LIKE 'pend\_%'
$$;
SELECT * FROM pend_differing();

-- a delta in the bucket of rows with no time only
BEGIN;
INSERT INTO pend_events VALUES (NULL, 1.0, 100);
SELECT pend_deltas() > 0 AS pending;
SELECT * FROM pend_differing();
SELECT n, total FROM pend_hybrid WHERE bucket IS NULL ORDER BY device;
SELECT n, total FROM pend_hybrid WHERE bucket = '-infinity' ORDER BY device;
ROLLBACK;

-- in -infinity's bucket, then +infinity's
BEGIN;
INSERT INTO pend_events VALUES ('-infinity', 2.0, 100);
SELECT * FROM pend_differing();
SELECT n, total FROM pend_streaming WHERE bucket = '-infinity' ORDER BY device;
SELECT n, total FROM pend_streaming WHERE bucket IS NULL ORDER BY device;
INSERT INTO pend_events VALUES ('infinity', 1.0, 100);
SELECT * FROM pend_differing();
ROLLBACK;

-- late rows in buckets spread over the whole range, each of one device of
-- three: the other devices of those buckets come from pending_groups() too
BEGIN;
INSERT INTO pend_events SELECT '2025-02-01 00:30+00'::timestamptz + i * interval '17 hours', 0, -i
  FROM generate_series(0, 9) i;
SELECT * FROM pend_differing();
SELECT count(*) AS groups_of_late_buckets FROM pend_hybrid
 WHERE bucket IN (SELECT date_bin('1 hour', '2025-02-01 00:30+00'::timestamptz + i * interval '17 hours', '2000-01-01 00:00+00')
                    FROM generate_series(0, 9) i);
ROLLBACK;

-- a key written 1.00 where 1.0 is stored: one group
BEGIN;
INSERT INTO pend_events VALUES ('2025-02-02 10:10+00', 1.00, 1000);
SELECT * FROM pend_differing();
SELECT count(*) AS groups, sum(n) AS rows FROM pend_hybrid WHERE bucket = '2025-02-02 10:00+00' AND device = 1;
ROLLBACK;

-- a delete that empties a stored group, and one that takes its max
BEGIN;
DELETE FROM pend_events WHERE ts >= '2025-02-03 00:00+00' AND ts < '2025-02-03 01:00+00' AND device = 2;
DELETE FROM pend_events WHERE value = (SELECT max(value) FROM pend_events WHERE ts >= '2025-02-03 02:00+00' AND ts < '2025-02-03 03:00+00');
SELECT * FROM pend_differing();
SELECT count(*) AS emptied_group_shown FROM pend_streaming WHERE bucket = '2025-02-03 00:00+00' AND device = 2;
ROLLBACK;

-- committed, then folded: exact throughout
INSERT INTO pend_events VALUES (NULL, 3.0, 7), ('-infinity', 1.0, 8), ('2025-02-04 00:00+00', 1.00, 9);
SELECT * FROM pend_differing();
SELECT count(hybridagg.fold(n)) AS folded FROM unnest(ARRAY['pend_hybrid', 'pend_streaming']) n;
SELECT * FROM pend_differing();

SET client_min_messages = warning;
SELECT hybridagg.drop(n) FROM unnest(ARRAY['pend_hybrid', 'pend_streaming']) n;
RESET client_min_messages;
DROP FUNCTION pend_differing(), pend_deltas();
DROP TABLE pend_events;
