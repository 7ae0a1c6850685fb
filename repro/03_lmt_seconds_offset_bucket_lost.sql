-- 03: a zoned date_trunc bucket that starts just before a change of UTC
-- offset by seconds (America/St_Johns went from -03:30:52 to -03:30 on
-- 1935-03-30) has an empty range: bucket_end(start) = start.  Once a DELETE
-- or UPDATE makes that group dirty, its recompute reads no row and the
-- group vanishes (from the view at once, and from recent once folded).
--
--   date_trunc('hour', '1935-03-30 03:31+00', 'America/St_Johns') = 1935-03-30 03:30:00+00
--   its end, one hour later in local time then truncated
--   (bucket.c bucket_end, append_bucket_end_sql):
--   date_trunc('hour', timezone(z, timezone(z, '1935-03-30 03:30:00+00') + '1 hour'), z)
--     = 1935-03-30 03:30:00+00 again, since 03:30:00 UTC still shows as
--       23:59:08 local (-03:30:52) and 00:59:08 local truncates back.
-- Also, date_trunc there is not "bucket(t) >= B exactly when t >= B":
-- '1935-03-30 03:30:10+00' >= 03:30:00 lies in the bucket 02:30:52.
--
-- Run with: psql -X -f repro/03_lmt_seconds_offset_bucket_lost.sql.
-- Modes: every streaming mode (streaming shown); with min()/max().
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS hybridagg;
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS r03 CASCADE;
CREATE TABLE r03 (ts timestamptz NOT NULL, v int);
INSERT INTO r03 VALUES ('1935-03-30 03:31+00', 1), ('1935-03-30 03:35+00', 2), ('1935-03-30 04:31+00', 3);
SELECT hybridagg.create('r03_v',
  $$SELECT date_trunc('hour', ts, 'America/St_Johns') AS b, count(*) AS n, max(v) AS hi FROM r03 GROUP BY 1$$,
  mode => 'streaming');
\echo '== right after create: the view is exact'
SELECT * FROM r03_v ORDER BY 1;
DELETE FROM r03 WHERE v = 2;
\echo '== after the DELETE, raw query: 03:30:00 n=1 hi=1, 04:30:00 n=1 hi=3'
SELECT date_trunc('hour', ts, 'America/St_Johns') AS b, count(*) AS n, max(v) AS hi FROM r03 GROUP BY 1 ORDER BY 1;
\echo '== the view (dirty group recomputed at query time): the 03:30:00 group is missing'
SELECT * FROM r03_v ORDER BY 1;
CALL hybridagg.materialize('r03_v');
\echo '== the view once folded: still missing'
SELECT * FROM r03_v ORDER BY 1;
DROP TABLE r03 CASCADE;
