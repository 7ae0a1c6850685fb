-- 05: avg(numeric) (and the display scale of sum(numeric)) depend on the
-- largest scale among the rows in the group NOW.  The partial sum keeps the
-- scale of every row that ever passed through it (numeric_add/numeric_sub
-- keep the larger dscale), so after the row with the largest scale leaves
-- (DELETE, UPDATE), the view's avg has more digits and a different value
-- than the raw query's: 1.33333333333333333333 instead of 1.3333333333333333.
-- (sum(numeric) is still equal as a value, but prints 4.00000000000000000000
-- instead of 4, which a BI tool sees as different text.)
--
-- Run with: psql -X -f repro/05_numeric_scale_kept_after_delete.sql.
-- Modes: every streaming mode, and the folded state (recent and history):
-- capture.c accumulate() ACC_SUM_NUMERIC, layout.c append_states_added
-- and append_states_combined, view.c append_finalized (sum / count).
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS hybridagg;
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS r05 CASCADE;
CREATE TABLE r05 (ts timestamptz NOT NULL, v numeric);
INSERT INTO r05 VALUES ('2024-01-01 10:00+00', 1), ('2024-01-01 10:01+00', 1), ('2024-01-01 10:02+00', 2),
                       ('2024-01-01 10:03+00', 0.12345678901234567890);
SELECT hybridagg.create('r05_v',
  $$SELECT date_trunc('hour', ts, 'UTC') AS b, count(*) AS n, sum(v) AS s, avg(v) AS a FROM r05 GROUP BY 1$$,
  mode => 'streaming');
DELETE FROM r05 WHERE v < 1;
\echo '== raw query: s = 4, a = 1.3333333333333333'
SELECT date_trunc('hour', ts, 'UTC') AS b, count(*) AS n, sum(v) AS s, avg(v) AS a FROM r05 GROUP BY 1;
CALL hybridagg.materialize('r05_v');
\echo '== the view: s = 4.00000000000000000000, a = 1.33333333333333333333'
SELECT * FROM r05_v;
\echo '== and they differ as values, not only as text:'
SELECT v.a = r.a AS avg_equal, v.s = r.s AS sum_equal, v.s::text = r.s::text AS sum_text_equal
  FROM r05_v v, (SELECT sum(v) AS s, avg(v) AS a FROM r05) r;
DROP TABLE r05 CASCADE;
