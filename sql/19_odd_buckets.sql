-- Buckets whose times are not a plain [b, next bucket): zoned hours across
-- a daylight-saving fall-back (Europe/London, 2026-10-25: 01:00 local
-- twice), hours across Asia/Kathmandu's change from +05:30 to +05:45
-- (1986-01-01: buckets at 17:30 and 18:15 UTC), the buckets of -infinity
-- and +infinity, and rows with no time.  Each aggregate is compared with
-- its defining query after every step, at once and after a fold, in every
-- mode (batch after a materialize of the range).  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE PROCEDURE fold_all(prefix text) LANGUAGE plpgsql AS $$
DECLARE
    a record;
BEGIN
    FOR a IN SELECT name, mode FROM hybridagg.aggregates WHERE name LIKE prefix || '%' ORDER BY name LOOP
        IF a.mode = 'batch' THEN
            CALL hybridagg.materialize(a.name, '-infinity', 'infinity');
        ELSE
            PERFORM hybridagg.fold(a.name);
        END IF;
    END LOOP;
END
$$;
CREATE TABLE odd_check (aggregate text, query text, keys text[]);
-- the aggregates that differ from their query; batch mode's only once it
-- was materialized (below the watermark it is as fresh as its last batch)
CREATE FUNCTION odd_differing(prefix text, with_batch boolean DEFAULT false)
RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (SELECT c.aggregate, test_diff(c.aggregate::regclass, c.query, c.keys) AS differences
                     FROM odd_check c
                    WHERE c.aggregate LIKE prefix || '%' AND (with_batch OR c.aggregate NOT LIKE '%batch')) d
     WHERE differences <> 0 ORDER BY 1
$$;

-- 1. The fall-back: recomputed groups counted rows twice (issue 13)
CREATE TABLE dst (ts timestamptz NOT NULL, y float8);
CREATE INDEX ON dst (ts);
INSERT INTO dst SELECT timestamptz '2026-10-24 22:00+00' + i * interval '1 minute', i
  FROM generate_series(0, 300) i;
\set q_dst 'SELECT date_trunc(''hour'', ts, ''Europe/London'') AS b, count(*) AS n, sum(y) AS s, max(y) AS hi FROM dst GROUP BY 1'
INSERT INTO odd_check SELECT 'dst_' || m, :'q_dst', '{b}'
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT hybridagg.create('dst_' || m, :'q_dst', mode => m, seal_after => '400 days')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT * FROM odd_differing('dst_', true);
DELETE FROM dst WHERE y::int % 7 = 0;           -- max may be gone: groups become dirty
SELECT * FROM odd_differing('dst_');
UPDATE dst SET y = y + 1000 WHERE y::int % 5 = 0;
SELECT * FROM odd_differing('dst_');
CALL fold_all('dst_');
SELECT * FROM odd_differing('dst_', true);
-- the two hours of 01:00 local, each with its own rows
SELECT b, n FROM dst_hybrid WHERE b BETWEEN '2026-10-24 23:00+00' AND '2026-10-25 02:00+00' ORDER BY b;

-- 2. Asia/Kathmandu on 1986-01-01, +05:30 to +05:45: the hour buckets 17:30
-- and 18:15 UTC (issue 14); materialize in chunks of an hour and of 45
-- minutes, and deletes in the streaming modes
CREATE TABLE ktm (ts timestamptz NOT NULL, v int);
CREATE INDEX ON ktm (ts);
INSERT INTO ktm VALUES ('1985-12-31 17:40+00', 1), ('1985-12-31 18:00+00', 2), ('1985-12-31 18:20+00', 3),
                       ('1985-12-31 18:25+00', 4), ('1985-12-31 18:40+00', 5), ('1985-12-31 19:20+00', 6);
\set q_ktm 'SELECT date_trunc(''hour'', ts, ''Asia/Kathmandu'') AS b, count(*) AS n, sum(v) AS s, min(v) AS lo FROM ktm GROUP BY 1'
SELECT DISTINCT date_trunc('hour', ts, 'Asia/Kathmandu') AS kathmandu_hours FROM ktm ORDER BY 1;
INSERT INTO odd_check SELECT 'ktm_' || m, :'q_ktm', '{b}'
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT hybridagg.create('ktm_' || m, :'q_ktm', mode => m, seal_after => '1 day', with_data => m <> 'batch')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SET hybridagg.materialize_chunk = '1h';
CALL hybridagg.materialize('ktm_batch', '1985-12-31 00:00+00', '1986-01-02 00:00+00');
CALL hybridagg.materialize('ktm_lambda', '1985-12-31 00:00+00', '1986-01-02 00:00+00');
SELECT * FROM odd_differing('ktm_', true);
SET hybridagg.materialize_chunk = '45min';
CALL hybridagg.materialize('ktm_batch', '1985-12-31 00:00+00', '1986-01-02 00:00+00');
CALL hybridagg.materialize('ktm_hybrid', '1985-12-31 00:00+00', '1986-01-02 00:00+00');
RESET hybridagg.materialize_chunk;
SELECT * FROM odd_differing('ktm_', true);
DELETE FROM ktm WHERE v = 2;                    -- the min of the 17:30 group
SELECT * FROM odd_differing('ktm_');
DELETE FROM ktm WHERE v = 3;                    -- the min of the 18:15 group
UPDATE ktm SET ts = ts - interval '25 minutes' WHERE v = 4;   -- 18:00: into the 17:30 group
SELECT * FROM odd_differing('ktm_');
CALL fold_all('ktm_');
SELECT * FROM odd_differing('ktm_', true);

-- 3. The buckets of -infinity and +infinity, and rows with no time: a
-- delete of one row of each leaves the rest (issue 14)
CREATE TABLE inf (ts timestamptz, dev int, v int);
CREATE INDEX ON inf (ts);
INSERT INTO inf VALUES ('infinity', 1, 10), ('infinity', 1, 20), ('-infinity', 1, 30), ('-infinity', 1, 40),
                       (NULL, 1, 50), (NULL, 1, 60), ('2000-01-01 12:00+00', 1, 70), ('2000-01-01 12:30+00', 2, 80);
\set q_inf 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, dev, count(*) AS n, sum(v) AS s, min(v) AS lo, max(v) AS hi FROM inf GROUP BY 1, 2'
INSERT INTO odd_check SELECT 'inf_' || m, :'q_inf', '{b,dev}'
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT hybridagg.create('inf_' || m, :'q_inf', mode => m)
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT * FROM odd_differing('inf_', true);
DELETE FROM inf WHERE v IN (10, 30, 50);        -- the min of each odd bucket
SELECT * FROM odd_differing('inf_');
CALL fold_all('inf_');
SELECT * FROM odd_differing('inf_', true);
SELECT b, n, lo FROM inf_streaming ORDER BY b NULLS LAST, dev;
-- a recompute of everything takes the NULL bucket too
UPDATE inf SET v = v + 1;
CALL hybridagg.materialize('inf_streaming', '-infinity', 'infinity');
CALL hybridagg.materialize('inf_kappa', '-infinity', 'infinity');
SELECT * FROM odd_differing('inf_');
CALL fold_all('inf_');
SELECT * FROM odd_differing('inf_', true);

-- 4. -infinity next to buckets of an origin at odd seconds: date_bin cannot
-- compute the bucket of the first time there is (it would start before
-- 4714-11-24 BC), so the first finite bucket is found further on; rows a
-- year apart get history partitions of their own
CREATE TABLE far (ts timestamptz, v int);
INSERT INTO far VALUES ('-infinity', 1), ('2022-11-05 02:30+00', 2), ('2023-11-05 02:30+00', 3), ('2023-11-05 02:44+00', 4);
\set q_far 'SELECT date_bin(''13 minutes'', ts, ''1999-12-31 23:59:30+00'') AS b, count(*) AS n, sum(v) AS s FROM far GROUP BY 1'
INSERT INTO odd_check SELECT 'far_' || m, :'q_far', '{b}'
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT hybridagg.create('far_' || m, :'q_far', mode => m)
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT * FROM odd_differing('far_', true);
INSERT INTO far VALUES ('-infinity', 5), ('2021-11-05 02:30+00', 6);
DELETE FROM far WHERE v = 3;
SELECT * FROM odd_differing('far_');
CALL fold_all('far_');
SELECT * FROM odd_differing('far_', true);
SELECT b, n, s FROM far_lambda ORDER BY b;

DO $$
DECLARE
    a text;
BEGIN
    FOR a IN SELECT aggregate FROM odd_check LOOP
        PERFORM hybridagg.drop(a);
    END LOOP;
END
$$;
DROP TABLE dst, ktm, inf, far, odd_check;
DROP FUNCTION odd_differing(text, boolean);
DROP PROCEDURE fold_all(text);
RESET TimeZone;
RESET client_min_messages;
