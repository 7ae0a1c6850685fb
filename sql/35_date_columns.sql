-- A date column as the time of the buckets, as TimescaleDB's time_bucket on
-- dates: date_trunc(unit, d::timestamp) and date_bin(width, d::timestamp,
-- timestamp origin), in every mode, exact after create, writes and a fold.
-- A date cast to timestamptz (what date_trunc('month', d) resolves to) is
-- refused: its midnight is the session's.  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE sales (id int, d date NOT NULL, shop int NOT NULL, amount numeric(10, 2));
CREATE INDEX ON sales ((d::timestamp));
INSERT INTO sales SELECT i, '2025-01-01'::date + i % 400, i % 3, (i % 97) * 1.25 FROM generate_series(1, 8000) i;
\set q 'SELECT date_trunc(''month'', d::timestamp) AS b, shop, count(*) AS n, sum(amount) AS total, percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS med FROM sales GROUP BY 1, 2'
\set q2 'SELECT date_bin(''7 days'', d::timestamp, timestamp ''2000-01-03'') AS b, shop, count(*) AS n, max(amount) AS hi FROM sales GROUP BY 1, 2'
SELECT hybridagg.create('sm_' || m, :'q', mode => m, seal_after => '1 day')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT hybridagg.create('sw_' || m, :'q2', mode => m, seal_after => '1 day')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
CREATE TABLE sales_query (prefix text, q text);
INSERT INTO sales_query VALUES ('sm_', :'q'), ('sw_', :'q2');
CREATE FUNCTION sales_differing(with_batch boolean) RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (SELECT q.prefix || m, test_diff((q.prefix || m)::regclass, q.q, '{b,shop}')
                     FROM sales_query q, unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m
                    WHERE with_batch OR m <> 'batch') d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
SELECT * FROM sales_differing(true);
INSERT INTO sales SELECT 10000 + i, '2025-06-01'::date + i % 30, i % 4, i FROM generate_series(1, 300) i;
UPDATE sales SET d = d + 45 WHERE id % 11 = 0;
DELETE FROM sales WHERE shop = 1 AND d < '2025-03-01';
SELECT * FROM sales_differing(false);
SELECT count(hybridagg.fold(p || m)) AS folded FROM unnest(ARRAY['sm_', 'sw_']) p,
       unnest(ARRAY['streaming', 'hybrid', 'lambda', 'kappa']) m;
CALL hybridagg.materialize('sm_batch', '-infinity', 'infinity');
CALL hybridagg.materialize('sw_batch', '-infinity', 'infinity');
SELECT * FROM sales_differing(true);
SELECT b, shop, n, total FROM sm_hybrid WHERE b = '2025-06-01' ORDER BY shop;

-- a date cast to timestamp with time zone is the session's midnight
SELECT hybridagg.create('refused', $$SELECT date_trunc('month', d) AS b, count(*) FROM sales GROUP BY 1$$);

SELECT hybridagg.drop(p || m) FROM unnest(ARRAY['sm_', 'sw_']) p,
       unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
DROP FUNCTION sales_differing(boolean);
DROP TABLE sales, sales_query;
RESET TimeZone;
RESET client_min_messages;
