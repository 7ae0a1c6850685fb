-- A bucket written as a label of a bucket: a timestamp cast to date (Citus'
-- view_time::date), the day of a fixed-offset zone as a date, a day-or-longer
-- bucket cast to date, a date column itself, and a bucket plus or minus a
-- constant interval (RisingWave's window_end).  The aggregate keeps the
-- underlying bucket; the view shows the label with exactly the query's type.
-- In every mode, exact after create, new, late, updated and deleted rows, a
-- fold, a materialize and a Kappa replay, with NULL and infinite times and
-- dates before 2000 and far ahead; through alter() and verify() too.  What
-- would merge buckets or depend on the session's TimeZone is refused.  Every
-- date is literal; the session's zone is an odd one on purpose.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'Asia/Kathmandu';

CREATE TABLE pv (id int, view_time timestamp, tz timestamptz, d date, tenant_id int NOT NULL, page_id int, v int);
CREATE INDEX ON pv (view_time);
CREATE INDEX ON pv (tz);
CREATE INDEX ON pv ((d::timestamp));
INSERT INTO pv SELECT i, '2025-03-01 00:00'::timestamp + i * interval '29 minutes',
                      '2025-03-01 00:00+00'::timestamptz + i * interval '29 minutes',
                      '2025-03-01'::date + i % 40, i % 3, i % 5, i % 50
  FROM generate_series(1, 3000) i;
-- NULL, infinite, old, midnight-edge and far-future times
INSERT INTO pv VALUES
  (9001, NULL, NULL, NULL, 0, 1, 1),
  (9002, 'infinity', 'infinity', 'infinity', 1, 1, 2),
  (9003, '-infinity', '-infinity', '-infinity', 1, 1, 3),
  (9004, '1999-12-31 23:59:59.999999', '1999-12-31 23:59:59.999999+00', '1999-12-31', 2, 1, 4),
  (9005, '2000-01-01 00:00', '2000-01-01 00:00+00', '2000-01-01', 2, 1, 5),
  (9006, '1850-06-01 12:00', '1850-06-01 12:00+00', '1850-06-01', 2, 2, 6),
  (9007, '4713-01-01 00:00 BC', '4713-01-01 00:00+00 BC', '4713-01-01 BC', 0, 2, 7),
  (9008, '200000-01-01 23:59', '200000-01-01 23:59+00', '200000-01-01', 0, 3, 8);

CREATE TABLE pv_query (prefix text, q text, keys text[]);
INSERT INTO pv_query VALUES
  ('dc_', 'SELECT tenant_id, view_time::date AS day, page_id, count(*) AS view_count, sum(v) AS total, max(v) AS top FROM pv GROUP BY tenant_id, view_time::date, page_id', '{tenant_id,day,page_id}'),
  ('dz_', 'SELECT (tz AT TIME ZONE ''UTC'')::date AS day, count(*) AS n, min(v) AS low, stddev(v) AS sd FROM pv GROUP BY 1', '{day}'),
  ('dw_', 'SELECT CAST(date_trunc(''week'', view_time) AS date) AS week, page_id, count(*) AS n FROM pv GROUP BY 1, 2', '{week,page_id}'),
  ('dd_', 'SELECT d, count(*) AS n, sum(v) AS total FROM pv GROUP BY d', '{d}'),
  ('we_', 'SELECT tenant_id, date_bin(INTERVAL ''15'' MINUTE, tz, ''1970-01-01 00:00+00'') + INTERVAL ''15'' MINUTE AS window_end, avg(v) AS v, max(v) AS top FROM pv GROUP BY tenant_id, window_end', '{tenant_id,window_end}'),
  ('ws_', 'SELECT interval ''1 day'' + (date_trunc(''hour'', view_time) - interval ''30 minutes'') AS shifted, page_id, count(*) AS n, min(v) AS low FROM pv GROUP BY 1, 2', '{shifted,page_id}');
SELECT count(hybridagg.create(q.prefix || m, q.q, mode => m, seal_after => '1 day'))
  FROM pv_query q, unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
-- a batch aggregate created without its data: its view reads the raw rows
SELECT hybridagg.create('dc_nodata', q, mode => 'batch', with_data => false) FROM pv_query WHERE prefix = 'dc_';
CREATE FUNCTION pv_differing(with_batch boolean) RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (SELECT q.prefix || m, test_diff((q.prefix || m)::regclass, q.q, q.keys)
                     FROM pv_query q, unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa', 'nodata']) m
                    WHERE (with_batch OR m NOT IN ('batch', 'nodata')) AND (m <> 'nodata' OR q.prefix = 'dc_')) d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
SELECT * FROM pv_differing(true);

-- the view has the query's names and types
SELECT attrelid::regclass AS view, attname, format_type(atttypid, atttypmod)
  FROM pg_attribute
 WHERE attrelid IN ('dc_hybrid'::regclass, 'dz_kappa'::regclass, 'dw_batch'::regclass, 'dd_batch'::regclass,
                    'we_lambda'::regclass, 'ws_streaming'::regclass)
   AND attname IN ('day', 'week', 'd', 'window_end', 'shifted')
 ORDER BY 1;
SELECT day, sum(view_count) AS views FROM dc_hybrid
 WHERE day IN ('-infinity', 'infinity', '1999-12-31', '2000-01-01', '4713-01-01 BC', '200000-01-01') OR day IS NULL
 GROUP BY day ORDER BY day;
SELECT tenant_id, window_end AT TIME ZONE 'UTC' AS window_end_utc, top FROM we_hybrid
 WHERE window_end <= '2000-01-01 00:15+00' OR window_end >= '200000-01-01 00:00+00' OR window_end IS NULL ORDER BY 1, 2;

-- new, late (a day below the watermark), updated (moved to another day) and deleted rows
INSERT INTO pv VALUES (9101, '2025-04-20 23:59:59.999999', '2025-04-20 23:59:59.999999+00', '2025-04-20', 1, 4, 49),
                      (9102, '2025-03-02 00:00', '2025-03-02 00:00+00', '2025-03-02', 2, 9, 0),
                      (9103, NULL, '1999-12-31 23:45+00', NULL, 2, 9, 1),
                      (9104, '1969-12-31 23:59', '1969-12-31 23:59+00', '1969-12-31', 0, 9, 2);
UPDATE pv SET view_time = view_time + interval '1 day 30 minutes', tz = tz + interval '25 hours 30 minutes', d = d + 1
 WHERE id % 13 = 0;
UPDATE pv SET v = v + 100 WHERE id IN (9003, 9008);
DELETE FROM pv WHERE page_id = 2 AND id % 7 = 0;
DELETE FROM pv WHERE id IN (9002, 9004);
SELECT * FROM pv_differing(false);
SELECT count(hybridagg.fold(q.prefix || m)) >= 0 AS folded
  FROM pv_query q, unnest(ARRAY['streaming', 'hybrid', 'lambda', 'kappa']) m;
CALL hybridagg.materialize('dc_hybrid');
CALL hybridagg.materialize('we_hybrid');
CALL hybridagg.materialize('dc_lambda', '2025-01-01 00:00+00', '2025-12-31 00:00+00');
CALL hybridagg.materialize('dc_batch', '-infinity', 'infinity');
CALL hybridagg.materialize('dz_batch', '-infinity', 'infinity');
CALL hybridagg.materialize('dw_batch', '-infinity', 'infinity');
CALL hybridagg.materialize('dd_batch', '-infinity', 'infinity');
CALL hybridagg.materialize('we_batch', '-infinity', 'infinity');
CALL hybridagg.materialize('ws_batch', '-infinity', 'infinity');
CALL hybridagg.materialize('dc_nodata', '-infinity', 'infinity');
SELECT hybridagg.reprocess('dc_kappa', '2025-03-01 00:00+00', '2025-03-20 00:00+00') > 0 AS dc_replayed,
       hybridagg.reprocess('we_kappa', '-infinity', 'infinity') > 0 AS we_replayed;
SELECT * FROM pv_differing(true);
SELECT (stored_groups('dc_hybrid')).history > 0 AS dc_history_holds_old_days,
       (stored_groups('we_hybrid')).history > 0 AS we_history_holds_old_windows;
SELECT count(*) AS wrong_buckets FROM pv_query q, unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m,
       LATERAL hybridagg.verify(q.prefix || m) v;

-- alter() between modes keeps the labels: exact after more writes (batch
-- once materialized, as its view is below the watermark)
SELECT hybridagg.alter('dc_hybrid', mode => 'batch'), hybridagg.alter('we_batch', mode => 'hybrid'),
       hybridagg.alter('dd_streaming', mode => 'lambda'), hybridagg.alter('ws_kappa', mode => 'batch');
INSERT INTO pv VALUES (9201, '2025-03-05 12:00', '2025-03-05 12:00+00', '2025-03-05', 1, 1, 7);
DELETE FROM pv WHERE id = 9001;
SELECT * FROM pv_differing(false) WHERE aggregate NOT IN ('dc_hybrid', 'ws_kappa');
DO $$
DECLARE
    a text;
BEGIN
    FOR a IN SELECT name FROM hybridagg.aggregates WHERE mode = 'batch' ORDER BY 1 LOOP
        CALL hybridagg.materialize(a, '-infinity', 'infinity');
    END LOOP;
END
$$;
SELECT * FROM pv_differing(true);
SELECT hybridagg.alter('dc_hybrid', mode => 'streaming'), hybridagg.alter('ws_kappa', mode => 'kappa');
UPDATE pv SET view_time = '2025-03-01 00:00', tz = '2025-03-01 00:00+00', d = '2025-03-01' WHERE id = 9201;
INSERT INTO pv VALUES (9202, NULL, NULL, NULL, 2, 2, 2);
SELECT * FROM pv_differing(false);

-- refused: what would merge buckets or depend on the session's TimeZone
\set VERBOSITY default
SELECT hybridagg.create('refused', 'SELECT tz::date AS day, count(*) FROM pv GROUP BY 1');
SELECT hybridagg.create('refused', 'SELECT date(tz) AS day, page_id, count(*) FROM pv GROUP BY 1, 2');
SELECT hybridagg.create('refused', $$SELECT (tz AT TIME ZONE 'Europe/Paris')::date AS day, count(*) FROM pv GROUP BY 1$$);
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', view_time, '2000-01-01')::date AS day, count(*) FROM pv GROUP BY 1$$);
SELECT hybridagg.create('refused', $$SELECT date_bin('1 day', view_time, '2000-01-01 00:30')::date AS day, count(*) FROM pv GROUP BY 1$$);
SELECT hybridagg.create('refused', $$SELECT date_trunc('day', tz, 'UTC')::date AS day, count(*) FROM pv GROUP BY 1$$);
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', tz, '2000-01-01 00:00+00') + interval '1 day' AS e, count(*) FROM pv GROUP BY 1$$);
SELECT hybridagg.create('refused', $$SELECT date_trunc('day', view_time) + interval '1 month' AS e, count(*) FROM pv GROUP BY 1$$);
SELECT hybridagg.create('refused', $$SELECT date_trunc('day', view_time) + make_interval(days => page_id) AS e, count(*) FROM pv GROUP BY 1$$);
SELECT hybridagg.create('refused', $$SELECT date_bin('1 hour', view_time, '2000-01-01') AS b, tz::date AS day, count(*) FROM pv GROUP BY 1, 2$$);
SELECT count(*) AS refused_left_behind FROM hybridagg.aggregates WHERE name = 'refused';

SET client_min_messages = warning;
SELECT count(hybridagg.drop(name)) AS dropped FROM hybridagg.aggregates
 WHERE name ~ '^(dc|dz|dw|dd|we|ws)_';
DROP FUNCTION pv_differing(boolean);
DROP TABLE pv, pv_query;
RESET TimeZone;
RESET client_min_messages;
