-- 01: the +infinity and -infinity buckets vanish once a DELETE (or an UPDATE)
-- makes them dirty, and materialize() of a range never brings them back.
--
-- Run with: psql -X -f repro/01_infinity_bucket_lost.sql   (a cluster that
-- preloads hybridagg).  Modes: every streaming mode (streaming, kappa,
-- hybrid, lambda) whose definition has min() or max() (also in HAVING).
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS hybridagg;
DROP TABLE IF EXISTS r01 CASCADE;
CREATE TABLE r01 (ts timestamptz NOT NULL, dev int NOT NULL, v int);
INSERT INTO r01 VALUES ('infinity', 1, 10), ('infinity', 1, 20),
                       ('-infinity', 1, 5), ('-infinity', 1, 6),
                       ('2024-01-01 10:00+00', 1, 1);
SELECT hybridagg.create('r01_v',
  $$SELECT date_trunc('hour', ts, 'UTC') AS b, dev, count(*) AS n, max(v) AS hi FROM r01 GROUP BY 1, 2$$,
  mode => 'streaming');

\echo '== raw query: 3 groups (-infinity: n=2, 2024-01-01 10:00: n=1, infinity: n=2)'
SELECT date_trunc('hour', ts, 'UTC') AS b, dev, count(*) AS n, max(v) AS hi FROM r01 GROUP BY 1, 2 ORDER BY 1;

DELETE FROM r01 WHERE v IN (6, 20);
\echo '== after the DELETE, raw query: -infinity n=1 hi=5, infinity n=1 hi=10'
SELECT date_trunc('hour', ts, 'UTC') AS b, dev, count(*) AS n, max(v) AS hi FROM r01 GROUP BY 1, 2 ORDER BY 1;
\echo '== the view, before the fold (the dirty groups are recomputed at query time): both infinite buckets are missing'
SELECT * FROM r01_v ORDER BY 1;
CALL hybridagg.materialize('r01_v');     -- streaming: fold the pending deltas now
\echo '== the view once folded: still missing'
SELECT * FROM r01_v ORDER BY 1;
CALL hybridagg.materialize('r01_v', '-infinity', 'infinity');
\echo '== after materialize(-infinity, infinity): back, since its one chunk started at -infinity'
SELECT * FROM r01_v ORDER BY 1;
DELETE FROM r01 WHERE ts = '-infinity';
UPDATE r01 SET v = 11 WHERE ts = 'infinity';
CALL hybridagg.materialize('r01_v');     -- fold
\echo '== with no -infinity row left, an UPDATE makes the infinity bucket vanish again; raw query:'
SELECT date_trunc('hour', ts, 'UTC') AS b, dev, count(*) AS n, max(v) AS hi FROM r01 GROUP BY 1, 2 ORDER BY 1;
CALL hybridagg.materialize('r01_v', '-infinity', 'infinity');
\echo '== and materialize(-infinity, infinity) no longer brings it back: its chunks start at the first finite'
\echo '   bucket and stop before +infinity (materialize.c: materialize_step, next_bucket_with_data, chunk_end)'
SELECT * FROM r01_v ORDER BY 1;
DROP TABLE r01 CASCADE;
