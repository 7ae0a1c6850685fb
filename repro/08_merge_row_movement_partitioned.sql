-- 08: MERGE that moves rows between partitions of a partitioned base table
-- is captured wrongly: the rows counted TWICE, or in the wrong place.
--
-- PostgreSQL (15.20 here) puts the rows that a MERGE ... UPDATE moves to
-- another partition (a DELETE from one partition plus an INSERT into the
-- other) into the DELETE and INSERT transition tables, not into the UPDATE
-- ones, and fills those only when the MERGE has a DELETE or an INSERT action
-- of its own.  hybridagg's capture triggers (partitioned.c: statement
-- triggers with transition tables; capture.c hybridagg_capture) trust the
-- transition tables, so:
--   MERGE ... WHEN MATCHED THEN UPDATE ... WHEN NOT MATCHED THEN INSERT (an
--   upsert): the moved rows are added where they go (INSERT table) and never
--   taken away where they were (there is no DELETE table): counted twice;
--   within one bucket that crosses a partition bound, the group's count(*)
--   doubles.
--   MERGE ... WHEN MATCHED THEN UPDATE only: neither is captured; the rows
--   stay counted where they were and are missing where they went.
-- A plain UPDATE moving the same rows is captured correctly (the UPDATE
-- transition tables hold them).  Plain (unpartitioned) tables are not affected.
-- This looks like the "streaming, partitioned, text keys, twice count(*)"
-- report, if that test wrote with MERGE; the text keys do not matter.
--
-- Run with: psql -X -f repro/08_merge_row_movement_partitioned.sql.
-- Modes: every streaming mode (streaming shown), on partitioned base tables.
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS hybridagg;
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS r08 CASCADE;
CREATE TABLE r08 (ts timestamptz NOT NULL, dev text NOT NULL, v int) PARTITION BY RANGE (ts);
-- a partition bound at noon, inside the day buckets
CREATE TABLE r08_a PARTITION OF r08 FOR VALUES FROM ('2024-01-01') TO ('2024-01-10 12:00+00');
CREATE TABLE r08_b PARTITION OF r08 FOR VALUES FROM ('2024-01-10 12:00+00') TO ('2024-02-01');
INSERT INTO r08 VALUES ('2024-01-10 08:00+00', 'İ', 1), ('2024-01-10 09:00+00', '∑', 2), ('2024-01-10 10:00+00', 'a ', 3),
                       ('2024-01-05 10:00+00', 'İ', 4);
SELECT hybridagg.create('r08_v',
  $$SELECT date_trunc('day', ts, 'UTC') AS b, dev, upper(dev) AS u, count(*) AS n, sum(v) AS s FROM r08 GROUP BY 1, 2, 3$$,
  mode => 'streaming');

-- an upsert that moves the three rows of 2024-01-10 past noon: same day, same keys
MERGE INTO r08 t
USING (VALUES ('2024-01-10 08:00+00'::timestamptz, 'İ'), ('2024-01-10 09:00+00', '∑'), ('2024-01-10 10:00+00', 'a '),
              ('2024-01-11 10:00+00', 'A')) s(ts, dev)
   ON t.ts = s.ts AND t.dev = s.dev
 WHEN MATCHED THEN UPDATE SET ts = t.ts + interval '6 hours'
 WHEN NOT MATCHED THEN INSERT VALUES (s.ts, s.dev, 10);
CALL hybridagg.materialize('r08_v');     -- streaming: fold now
\echo '== raw query: 2024-01-10 has n=1 for İ, ∑ and a '
SELECT date_trunc('day', ts, 'UTC') AS b, dev, upper(dev) AS u, count(*) AS n, sum(v) AS s FROM r08 GROUP BY 1, 2, 3 ORDER BY 1, 2;
\echo '== the view, everything folded: n=2 (and s twice) for those three groups'
SELECT * FROM r08_v ORDER BY 1, 2;

-- a MERGE with only an UPDATE action, moving a row to another day and partition
MERGE INTO r08 t USING (VALUES ('2024-01-05 10:00+00'::timestamptz, 'İ')) s(ts, dev)
   ON t.ts = s.ts AND t.dev = s.dev
 WHEN MATCHED THEN UPDATE SET ts = t.ts + interval '10 days';
CALL hybridagg.materialize('r08_v');
\echo '== raw query: İ moved from 2024-01-05 to 2024-01-15'
SELECT date_trunc('day', ts, 'UTC') AS b, dev, count(*) AS n, sum(v) AS s FROM r08 WHERE v = 4 GROUP BY 1, 2;
\echo '== the view: still on 2024-01-05, nothing on 2024-01-15'
SELECT b, dev, n, s FROM r08_v WHERE b IN ('2024-01-05', '2024-01-15') ORDER BY 1;
DROP TABLE r08 CASCADE;

-- The same without hybridagg: what PostgreSQL hands to statement triggers.
DROP TABLE IF EXISTS r08_plain CASCADE;
CREATE TABLE r08_plain (ts int, dev text) PARTITION BY RANGE (ts);
CREATE TABLE r08_plain_1 PARTITION OF r08_plain FOR VALUES FROM (0) TO (10);
CREATE TABLE r08_plain_2 PARTITION OF r08_plain FOR VALUES FROM (10) TO (20);
CREATE FUNCTION pg_temp.r08_u() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'UPDATE transition tables: old %, new %', (SELECT count(*) FROM o), (SELECT count(*) FROM n); RETURN NULL; END$$;
CREATE FUNCTION pg_temp.r08_i() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'INSERT transition table: new %', (SELECT count(*) FROM n); RETURN NULL; END$$;
CREATE TRIGGER u AFTER UPDATE ON r08_plain REFERENCING OLD TABLE AS o NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.r08_u();
CREATE TRIGGER i AFTER INSERT ON r08_plain REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.r08_i();
INSERT INTO r08_plain SELECT i, 'x' FROM generate_series(0, 9) i;
\echo '== a MERGE moving 3 rows to the other partition, and inserting 1: UPDATE old 0 new 0, INSERT new 4'
MERGE INTO r08_plain t USING (SELECT i FROM generate_series(0, 2) i UNION ALL SELECT 15) s ON t.ts = s.i
 WHEN MATCHED THEN UPDATE SET ts = t.ts + 10 WHEN NOT MATCHED THEN INSERT VALUES (s.i, 'y');
\echo '== the same move by UPDATE: old 3 new 3'
UPDATE r08_plain SET ts = ts - 10 WHERE ts BETWEEN 10 AND 12;
DROP TABLE r08_plain;
