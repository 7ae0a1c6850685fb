-- A timestamptz plus or minus a constant span of hours, minutes and seconds
-- does not depend on the session's TimeZone (PostgreSQL marks the operator
-- stable for days and months): a window's end as a key (RisingWave's
-- window_end), and a bucket origin written as an expression (TimescaleDB's
-- offset), are accepted and exact in every mode; a span with days is
-- refused.  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE we (ts timestamptz NOT NULL, dev int NOT NULL, v float8);
CREATE INDEX ON we (ts);
INSERT INTO we SELECT '2026-03-29 00:00+00'::timestamptz + i * interval '41 seconds', i % 3, i % 11
  FROM generate_series(1, 4000) i;
\set q 'SELECT date_bin(''5 minutes'', ts, ''2000-01-01 00:00+00''::timestamptz - interval ''2.5 minutes'') AS b, date_bin(''5 minutes'', ts, ''2000-01-01 00:00+00''::timestamptz - interval ''2.5 minutes'') + interval ''5 minutes'' AS window_end, dev, count(*) AS n, max(v) AS hi FROM we GROUP BY 1, 2, 3'
SELECT hybridagg.create('we_' || m, :'q', mode => m, seal_after => '1 hour')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT b, window_end, dev, n FROM we_hybrid ORDER BY b, dev LIMIT 3;
INSERT INTO we SELECT '2026-03-29 12:00+00'::timestamptz + i * interval '13 seconds', i % 4, i FROM generate_series(1, 500) i;
DELETE FROM we WHERE dev = 1 AND ts < '2026-03-29 06:00+00';
SELECT 'we_' || m AS aggregate, test_diff(('we_' || m)::regclass, :'q', '{b,window_end,dev}') AS differences
  FROM unnest(ARRAY['streaming', 'hybrid', 'lambda', 'kappa']) m;
CALL hybridagg.materialize('we_batch', '-infinity', 'infinity');
SELECT test_diff('we_batch', :'q', '{b,window_end,dev}') AS batch_differences;

-- a day is not a fixed span: refused
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, date_bin('1 hour', ts, '2000-01-01 00:00+00') + interval '1 day' AS next_day, count(*) FROM we GROUP BY 1, 2$$);

SELECT hybridagg.drop('we_' || m) FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
DROP TABLE we;
RESET TimeZone;
RESET client_min_messages;
