-- 07: Asia/Kathmandu moved from +05:30 to +05:45 at 1986-01-01 00:00 local
-- (1985-12-31 18:30 UTC): local 00:00-00:15 never happened.
--   date_trunc('hour', '1985-12-31 18:20+00', 'Asia/Kathmandu') = 17:30 UTC   (local 23:50 +05:30)
--   date_trunc('hour', '1985-12-31 18:40+00', 'Asia/Kathmandu') = 18:15 UTC   (local 00:25 +05:45)
-- So the bucket "18:15" starts 15 minutes before its first row, inside the
-- bucket 17:30, and hybridagg's bucket arithmetic (bucket.c bucket_end:
-- one unit later in local time, then floored) gives
--   bucket_end(17:30) = 18:15    but the rows of 17:30 go on until 18:30
--   bucket_end(18:15) = 18:15    an empty bucket
-- (a) materialize() of a range recomputes the bucket 17:30 from the rows in
--     [17:30, 18:15) and drops the row at 18:20: the view loses it
--     (batch and lambda shown; every mode recomputes ranges the same way).
-- (b) with chunks small enough to end inside that quarter hour,
--     materialize loops for ever on the chunk [18:15, 18:15)
--     (materialize.c chunk_end: "if (end <= start) end = bucket_end(start)"
--     returns start again); statement_timeout stops it here.
--
-- Run with: psql -X -f repro/07_kathmandu_hour_bucket_end.sql.
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS hybridagg;
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS r07 CASCADE;
CREATE TABLE r07 (ts timestamptz NOT NULL, v int);
INSERT INTO r07 VALUES ('1985-12-31 17:40+00', 1), ('1985-12-31 18:20+00', 2),
                       ('1985-12-31 18:40+00', 3), ('1985-12-31 19:20+00', 4);
SELECT hybridagg.create('r07_b', $$SELECT date_trunc('hour', ts, 'Asia/Kathmandu') AS b, count(*) AS n, sum(v) AS s FROM r07 GROUP BY 1$$,
                        mode => 'batch');
SELECT hybridagg.create('r07_l', $$SELECT date_trunc('hour', ts, 'Asia/Kathmandu') AS b, count(*) AS n, sum(v) AS s FROM r07 GROUP BY 1$$,
                        mode => 'lambda');
\echo '== raw query: 17:30 n=2 s=3, 18:15 n=1 s=3, 19:15 n=1 s=4'
SELECT date_trunc('hour', ts, 'Asia/Kathmandu') AS b, count(*) AS n, sum(v) AS s FROM r07 GROUP BY 1 ORDER BY 1;
CALL hybridagg.materialize('r07_b', '1985-12-31 18:15+00', '1985-12-31 18:30+00');
CALL hybridagg.materialize('r07_l', '1985-12-31 18:15+00', '1985-12-31 18:30+00');
\echo '== (a) after materialize of [18:15, 18:30): both views say 17:30 n=1 s=1'
SELECT 'batch' AS mode, * FROM r07_b UNION ALL SELECT 'lambda', * FROM r07_l ORDER BY 1, 2;

\echo '== (b) materialize with 10-minute chunks never ends (stopped after 5 s):'
SET hybridagg.materialize_chunk = '10min';
SET statement_timeout = '5s';
\set ON_ERROR_STOP 0
\set QUIET 1
SET client_min_messages = warning;   -- thousands of NOTICEs "recomputed buckets [18:15, 18:15)"
CALL hybridagg.materialize('r07_b', '1985-12-31 18:15+00', '1985-12-31 19:20+00');
\set ON_ERROR_STOP 1
RESET statement_timeout;
RESET client_min_messages;
DROP TABLE r07 CASCADE;
