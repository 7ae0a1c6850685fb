-- MERGE on a base table that hybridagg captures.  PostgreSQL 15 shows the
-- rows that a MERGE's UPDATE action moves to another partition to no
-- UPDATE transition table, so the capture could not see them move: such a
-- MERGE (one whose UPDATE action sets a column of a partition key, at any
-- level of the tree) is refused before it runs, with a hint.  Every other
-- MERGE runs, and the views stay exact: one that updates other columns,
-- inserts and deletes; one on an unpartitioned table that moves rows in
-- time; one on a partitioned table that only a batch aggregate reads.  The
-- same move made by UPDATE is captured.  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE mp (id int NOT NULL, ts timestamptz NOT NULL, dev text NOT NULL, v int) PARTITION BY RANGE (ts);
CREATE TABLE mp_a PARTITION OF mp FOR VALUES FROM ('2024-01-01') TO ('2024-01-10 12:00+00');
CREATE TABLE mp_b PARTITION OF mp FOR VALUES FROM ('2024-01-10 12:00+00') TO ('2024-02-01') PARTITION BY LIST (dev);
CREATE TABLE mp_b1 PARTITION OF mp_b FOR VALUES IN ('x', 'y');
CREATE TABLE mp_b2 PARTITION OF mp_b DEFAULT;
INSERT INTO mp SELECT i, '2024-01-01 00:00+00'::timestamptz + i * interval '37 minutes', (ARRAY['x', 'y', 'z'])[1 + i % 3], i % 17
  FROM generate_series(1, 1000) i;
\set q 'SELECT date_trunc(''day'', ts, ''UTC'') AS b, dev, count(*) AS n, sum(v) AS s, max(v) AS hi FROM mp GROUP BY 1, 2'
SELECT hybridagg.create('mp_streaming', :'q', mode => 'streaming');
SELECT hybridagg.create('mp_hybrid', :'q', mode => 'hybrid', seal_after => '1 day');

-- an upsert that would move rows past noon on 2024-01-10, into mp_b: refused
MERGE INTO mp t USING (SELECT i AS id FROM generate_series(200, 240) i) s ON t.id = s.id
 WHEN MATCHED THEN UPDATE SET ts = t.ts + interval '6 hours'
 WHEN NOT MATCHED THEN INSERT VALUES (s.id, '2024-01-05 00:00+00', 'x', 1);
-- a key of the sub-partitions is a partition key too
\set VERBOSITY sqlstate
MERGE INTO mp t USING (SELECT 300 AS id) s ON t.id = s.id
 WHEN MATCHED THEN UPDATE SET dev = 'z';
\echo :LAST_ERROR_SQLSTATE
-- also when the MERGE targets the sub-partitioned partition itself
MERGE INTO mp_b t USING (SELECT 900 AS id) s ON t.id = s.id
 WHEN MATCHED THEN UPDATE SET dev = 'z';
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT count(*) AS moved FROM mp WHERE id BETWEEN 200 AND 240 AND ts <> '2024-01-01 00:00+00'::timestamptz + id * interval '37 minutes';

-- a MERGE that changes other columns, deletes and inserts runs, exactly
MERGE INTO mp t USING (SELECT i AS id FROM generate_series(100, 1100, 7) i) s ON t.id = s.id
 WHEN MATCHED AND t.id % 2 = 0 THEN UPDATE SET v = t.v + 100
 WHEN MATCHED THEN DELETE
 WHEN NOT MATCHED THEN INSERT VALUES (s.id, '2024-01-20 00:00+00'::timestamptz + s.id * interval '1 minute', 'w', 5);
SELECT test_diff('mp_streaming', :'q', '{b,dev}') AS streaming_exact,
       test_diff('mp_hybrid', :'q', '{b,dev}') AS hybrid_exact;
-- the move the refused MERGE would have made, by UPDATE
UPDATE mp SET ts = ts + interval '6 hours' WHERE id BETWEEN 200 AND 240;
UPDATE mp SET dev = 'z' WHERE id IN (300, 900);
SELECT test_diff('mp_streaming', :'q', '{b,dev}') AS streaming_exact_after_update,
       test_diff('mp_hybrid', :'q', '{b,dev}') AS hybrid_exact_after_update;
SELECT FROM (SELECT hybridagg.fold('mp_streaming'), hybridagg.fold('mp_hybrid')) folded;
SELECT test_diff('mp_streaming', :'q', '{b,dev}') AS streaming_exact_after_fold,
       test_diff('mp_hybrid', :'q', '{b,dev}') AS hybrid_exact_after_fold;

-- an unpartitioned table: a MERGE moves rows in time, captured exactly
CREATE TABLE mq (id int PRIMARY KEY, ts timestamptz NOT NULL, v int);
INSERT INTO mq SELECT i, '2024-01-01 00:00+00'::timestamptz + i * interval '37 minutes', i % 17 FROM generate_series(1, 500) i;
\set q2 'SELECT date_trunc(''day'', ts, ''UTC'') AS b, count(*) AS n, sum(v) AS s FROM mq GROUP BY 1'
SELECT hybridagg.create('mq_streaming', :'q2', mode => 'streaming');
MERGE INTO mq t USING (SELECT i AS id FROM generate_series(1, 600, 3) i) s ON t.id = s.id
 WHEN MATCHED THEN UPDATE SET ts = t.ts + interval '3 days'
 WHEN NOT MATCHED THEN INSERT VALUES (s.id, '2024-01-02 00:00+00', 1);
SELECT test_diff('mq_streaming', :'q2', '{b}') AS unpartitioned_exact;

-- a partitioned table that only a batch aggregate reads: no capture, no refusal
CREATE TABLE mb (id int NOT NULL, ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
CREATE TABLE mb_a PARTITION OF mb FOR VALUES FROM ('2024-01-01') TO ('2024-01-10');
CREATE TABLE mb_b PARTITION OF mb FOR VALUES FROM ('2024-01-10') TO ('2024-02-01');
INSERT INTO mb SELECT i, '2024-01-01 00:00+00'::timestamptz + i * interval '37 minutes', i % 17 FROM generate_series(1, 500) i;
SELECT hybridagg.create('mb_batch', 'SELECT date_trunc(''day'', ts, ''UTC'') AS b, count(*) AS n FROM mb GROUP BY 1', mode => 'batch');
MERGE INTO mb t USING (SELECT i AS id FROM generate_series(300, 320) i) s ON t.id = s.id
 WHEN MATCHED THEN UPDATE SET ts = t.ts + interval '5 days';
SELECT count(*) AS moved_in_batch_table FROM mb WHERE ts >= '2024-01-10' AND id BETWEEN 300 AND 320;

SELECT hybridagg.drop(a) FROM unnest(ARRAY['mp_streaming', 'mp_hybrid', 'mq_streaming', 'mb_batch']) a;
DROP TABLE mp, mq, mb;
RESET TimeZone;
RESET client_min_messages;
