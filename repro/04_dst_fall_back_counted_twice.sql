-- 04: around a daylight-saving fall back, a zoned date_trunc bucket's end
-- is computed one unit later in local wall-clock time, which is a whole
-- hour too far for the last bucket before the change.  Europe/London,
-- 2023-10-29: the bucket 00:00 UTC (01:00 BST) "ends" at 02:00 UTC instead of
-- 01:00 UTC, so the recompute of the dirty groups (view.c branch C,
-- fold.c recomputed, layout.c append_dirty_recompute) reads the rows of the
-- next bucket (01:00 UTC = 01:00 GMT) twice when both buckets are dirty:
-- the group of 01:00 UTC gets twice its count and sum.
--
-- Run with: psql -X -f repro/04_dst_fall_back_counted_twice.sql.
-- Modes: every streaming mode; needs min()/max() (dirty groups).  The same
-- bucket_end is used by materialize's chunks (materialize.c chunk_end) and
-- the dirty recompute of the fold.
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS hybridagg;
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS r04 CASCADE;
CREATE TABLE r04 (ts timestamptz NOT NULL, v int);
CREATE INDEX ON r04 (ts);
INSERT INTO r04 VALUES ('2023-10-29 00:10+00', 1), ('2023-10-29 00:20+00', 2),
                       ('2023-10-29 01:10+00', 3), ('2023-10-29 01:20+00', 4), ('2023-10-29 01:30+00', 5);
SELECT hybridagg.create('r04_v',
  $$SELECT date_trunc('hour', ts, 'Europe/London') AS b, count(*) AS n, sum(v) AS s, max(v) AS hi FROM r04 GROUP BY 1$$,
  mode => 'streaming');
\echo '== end of the bucket 00:00 UTC as hybridagg computes it (bucket.c append_bucket_end_sql): 02:00, not 01:00'
SELECT date_trunc('hour', timezone('Europe/London', timezone('Europe/London', '2023-10-29 00:00+00'::timestamptz) + interval '1 hour'), 'Europe/London');
DELETE FROM r04 WHERE v IN (2, 5);
\echo '== raw query: 00:00 n=1 s=1 hi=1; 01:00 n=2 s=7 hi=4'
SELECT date_trunc('hour', ts, 'Europe/London') AS b, count(*) AS n, sum(v) AS s, max(v) AS hi FROM r04 GROUP BY 1 ORDER BY 1;
\echo '== the view, deltas pending: 01:00 n=4 s=14 (counted twice)'
SELECT * FROM r04_v ORDER BY 1;
CALL hybridagg.materialize('r04_v');
\echo '== the view once folded: still n=4 s=14'
SELECT * FROM r04_v ORDER BY 1;
DROP TABLE r04 CASCADE;
