-- 02: NaN and +-Infinity poison sums and averages for good: once a group's
-- partial sum has been NaN or infinite, taking the row out again (DELETE,
-- UPDATE) subtracts it (Infinity - Infinity = NaN, NaN - NaN = NaN), while
-- the raw query over the rows that are left is finite.
--
-- Run with: psql -X -f repro/02_nan_infinity_poison_sums.sql   (a cluster
-- that preloads hybridagg).  Modes: every streaming mode (streaming, kappa,
-- hybrid, lambda): capture.c accumulate() (ACC_SUM_FLOAT8, ACC_SUM_NUMERIC
-- with sign -1) and the fold's "t.sum + excluded.sum" (layout.c
-- append_states_added) keep sums as plain running totals.
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS hybridagg;
DROP TABLE IF EXISTS r02 CASCADE;
CREATE TABLE r02 (ts timestamptz NOT NULL, dev int NOT NULL, f float8, n numeric);
INSERT INTO r02 VALUES ('2024-01-01 10:00+00', 1, 1.5, 2.5),
                       ('2024-01-01 10:10+00', 1, 'Infinity', 'NaN'),
                       ('2024-01-01 11:00+00', 1, 'NaN', 1),
                       ('2024-01-01 11:10+00', 1, 4, 1);
SELECT hybridagg.create('r02_v',
  $$SELECT date_trunc('hour', ts, 'UTC') AS b, dev, count(*) AS c, sum(f) AS sf, avg(f) AS af, sum(n) AS sn, avg(n) AS an
      FROM r02 GROUP BY 1, 2$$,
  mode => 'streaming');
DELETE FROM r02 WHERE f = 'Infinity' OR f = 'NaN';
\echo '== raw query: 10:00 sf=1.5 af=1.5 sn=2.5 an=2.5; 11:00 sf=4 af=4 sn=1 an=1'
SELECT date_trunc('hour', ts, 'UTC') AS b, dev, count(*) AS c, sum(f) AS sf, avg(f) AS af, sum(n) AS sn, avg(n) AS an
  FROM r02 GROUP BY 1, 2 ORDER BY 1;
\echo '== the view, deltas pending: NaN in both groups'
SELECT * FROM r02_v ORDER BY 1;
CALL hybridagg.materialize('r02_v');     -- streaming: fold now
\echo '== the view, folded: still NaN (until a materialize of the range recomputes it)'
SELECT * FROM r02_v ORDER BY 1;
DROP TABLE r02 CASCADE;
