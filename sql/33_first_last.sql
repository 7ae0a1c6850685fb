-- hybridagg.first(value, time) and hybridagg.last(value, time), in plain
-- queries: the value of the first and of the last row ordered by time, then
-- by value (NULL values after all others), rows with a NULL time left out.
-- Each is compared with that definition written with array_agg, per group,
-- for several value and time types, with ties, NULL values and NULL times,
-- in a serial and in a parallel plan (which combines serialized states).
-- Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
SET TimeZone = 'UTC';

CREATE TABLE fl (id int, ts timestamptz, d date, g int, v float8, s text, n numeric, b bytea);
INSERT INTO fl
SELECT i, '2026-01-01 00:00+00'::timestamptz + (i % 97) * interval '1 minute',
       '2026-01-01'::date + i % 13, i % 5,
       CASE WHEN i % 17 = 0 THEN NULL ELSE (i * 7919) % 1009 END,
       CASE WHEN i % 19 = 0 THEN NULL ELSE 'v' || (i * 104729) % 997 END,
       (i * 31) % 101 / 7.0, decode(lpad(to_hex(i % 256), 2, '0'), 'hex')
  FROM generate_series(1, 20000) i;
-- rows with no time, which have no place; a group of NULL times only
INSERT INTO fl VALUES (0, NULL, NULL, 1, -1, 'no time', -1, '\x00'), (0, NULL, NULL, 9, 1, 'only', 1, '\x01');
ANALYZE fl;

CREATE FUNCTION fl_differences() RETURNS TABLE (what text, groups bigint) LANGUAGE sql AS $$
    WITH q AS (
        SELECT g,
               hybridagg.first(v, ts) AS fv, hybridagg.last(v, ts) AS lv,
               (array_agg(v ORDER BY ts, v NULLS LAST) FILTER (WHERE ts IS NOT NULL))[1] AS fv_o,
               (array_agg(v ORDER BY ts DESC, v DESC NULLS FIRST) FILTER (WHERE ts IS NOT NULL))[1] AS lv_o,
               hybridagg.first(s, ts) AS fs, hybridagg.last(s, ts) AS ls,
               (array_agg(s ORDER BY ts, s NULLS LAST) FILTER (WHERE ts IS NOT NULL))[1] AS fs_o,
               (array_agg(s ORDER BY ts DESC, s DESC NULLS FIRST) FILTER (WHERE ts IS NOT NULL))[1] AS ls_o,
               hybridagg.first(n, d) AS fn, hybridagg.last(n, d) AS ln,
               (array_agg(n ORDER BY d, n NULLS LAST) FILTER (WHERE d IS NOT NULL))[1] AS fn_o,
               (array_agg(n ORDER BY d DESC, n DESC NULLS FIRST) FILTER (WHERE d IS NOT NULL))[1] AS ln_o,
               hybridagg.first(b, id) AS fb, hybridagg.last(ts, id) AS lt,
               (array_agg(b ORDER BY id, b NULLS LAST))[1] AS fb_o,
               (array_agg(ts ORDER BY id DESC, ts DESC NULLS FIRST))[1] AS lt_o
          FROM fl GROUP BY g)
    SELECT 'value by time', count(*) FROM q WHERE fv IS DISTINCT FROM fv_o OR lv IS DISTINCT FROM lv_o
    UNION ALL
    SELECT 'text by time', count(*) FROM q WHERE fs IS DISTINCT FROM fs_o OR ls IS DISTINCT FROM ls_o
    UNION ALL
    SELECT 'numeric by date', count(*) FROM q WHERE fn::text IS DISTINCT FROM fn_o::text OR ln::text IS DISTINCT FROM ln_o::text
    UNION ALL
    SELECT 'bytea and timestamptz by int', count(*) FROM q WHERE fb IS DISTINCT FROM fb_o OR lt IS DISTINCT FROM lt_o
$$;

-- serial
SET max_parallel_workers_per_gather = 0;
SELECT * FROM fl_differences();
-- parallel: partial states serialized, sent and combined
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT g, hybridagg.first(v, ts) FROM fl GROUP BY g;
SELECT * FROM fl_differences();
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- ties at one time go to the smallest value (first) and the largest (last),
-- a NULL value after all others; no row with a time gives NULL
SELECT hybridagg.first(v, t) AS first, hybridagg.last(v, t) AS last
  FROM (VALUES (3, 1), (1, 1), (2, 1), (9, 2), (7, 2), (NULL, 2)) x(v, t);
SELECT hybridagg.first(v, t) AS first, hybridagg.last(v, t) AS last
  FROM (VALUES (1, NULL::int), (2, NULL)) x(v, t);
SELECT g, hybridagg.first(s, ts) AS first, hybridagg.last(s, ts) AS last FROM fl WHERE g = 9 GROUP BY g;
-- a value type without a btree class is refused with a hint
SELECT hybridagg.first(to_json(v), ts) FROM fl;

DROP FUNCTION fl_differences();
DROP TABLE fl;
RESET TimeZone;
RESET client_min_messages;
