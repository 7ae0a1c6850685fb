-- hybridagg.first(value, time) and hybridagg.last(value, time), in plain
-- queries: the value of the first and of the last row ordered by time, then
-- by value (NULL values after all others), rows with a NULL time left out.
-- Each is compared with that definition written with array_agg, per group,
-- for several value and time types (anonymous, nested and named records and
-- an array of records among them), with ties, NULL values and NULL times, in
-- a serial and in a parallel plan (which combines serialized states).  The
-- references are computed apart (array_agg with ORDER BY has no partial
-- form, and would keep the whole query serial), and the plans are shown.
-- Then values that compare equal but differ, tied at the first and at the
-- last time.  Every date is literal.
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
CREATE TYPE fl_pair AS (ts timestamptz, s text);

CREATE VIEW fl_differences AS
    WITH h AS (
        SELECT g,
               hybridagg.first(v, ts) AS fv, hybridagg.last(v, ts) AS lv,
               hybridagg.first(s, ts) AS fs, hybridagg.last(s, ts) AS ls,
               hybridagg.first(n, d) AS fn, hybridagg.last(n, d) AS ln,
               hybridagg.first(b, id) AS fb, hybridagg.last(ts, id) AS lt,
               hybridagg.first(ROW(ts, s), ts) AS fr, hybridagg.last(ROW(ts, ROW(s, v)), ts) AS lr,
               hybridagg.first(ARRAY[ROW(id, s)], ts) AS fa, hybridagg.last(ROW(ts, s)::fl_pair, ts) AS lp
          FROM fl GROUP BY g),
    o AS (
        SELECT g,
               (array_agg(v ORDER BY ts, v NULLS LAST) FILTER (WHERE ts IS NOT NULL))[1] AS fv,
               (array_agg(v ORDER BY ts DESC, v DESC NULLS FIRST) FILTER (WHERE ts IS NOT NULL))[1] AS lv,
               (array_agg(s ORDER BY ts, s NULLS LAST) FILTER (WHERE ts IS NOT NULL))[1] AS fs,
               (array_agg(s ORDER BY ts DESC, s DESC NULLS FIRST) FILTER (WHERE ts IS NOT NULL))[1] AS ls,
               (array_agg(n ORDER BY d, n NULLS LAST) FILTER (WHERE d IS NOT NULL))[1] AS fn,
               (array_agg(n ORDER BY d DESC, n DESC NULLS FIRST) FILTER (WHERE d IS NOT NULL))[1] AS ln,
               (array_agg(b ORDER BY id, b NULLS LAST))[1] AS fb,
               (array_agg(ts ORDER BY id DESC, ts DESC NULLS FIRST))[1] AS lt,
               (array_agg(ROW(ts, s) ORDER BY ts, ROW(ts, s)) FILTER (WHERE ts IS NOT NULL))[1] AS fr,
               (array_agg(ROW(ts, ROW(s, v)) ORDER BY ts DESC, ROW(ts, ROW(s, v)) DESC) FILTER (WHERE ts IS NOT NULL))[1] AS lr,
               CASE WHEN count(ts) > 0 THEN ARRAY[(array_agg(ROW(id, s) ORDER BY ts, ROW(id, s)) FILTER (WHERE ts IS NOT NULL))[1]] END AS fa,
               (array_agg(ROW(ts, s)::fl_pair ORDER BY ts DESC, ROW(ts, s)::fl_pair DESC) FILTER (WHERE ts IS NOT NULL))[1] AS lp
          FROM fl GROUP BY g),
    q AS (SELECT g, h, o FROM h JOIN o USING (g))
    SELECT 'value by time' AS what, count(*) AS groups FROM q WHERE (h).fv IS DISTINCT FROM (o).fv OR (h).lv IS DISTINCT FROM (o).lv
    UNION ALL
    SELECT 'text by time', count(*) FROM q WHERE (h).fs IS DISTINCT FROM (o).fs OR (h).ls IS DISTINCT FROM (o).ls
    UNION ALL
    SELECT 'numeric by date', count(*) FROM q WHERE (h).fn::text IS DISTINCT FROM (o).fn::text OR (h).ln::text IS DISTINCT FROM (o).ln::text
    UNION ALL
    SELECT 'bytea and timestamptz by int', count(*) FROM q WHERE (h).fb IS DISTINCT FROM (o).fb OR (h).lt IS DISTINCT FROM (o).lt
    UNION ALL
    SELECT 'records: anonymous, nested, in an array, named', count(*) FROM q WHERE (h).fr::text IS DISTINCT FROM (o).fr::text OR (h).lr::text IS DISTINCT FROM (o).lr::text OR (h).fa::text IS DISTINCT FROM (o).fa::text OR (h).lp::text IS DISTINCT FROM (o).lp::text
    UNION ALL
    SELECT 'groups compared', count(*) FROM q;

-- Values that compare equal but differ: numeric 1.0 and 1.00, float8 0 and
-- -0, text 'A' and 'a' under a case-insensitive ICU collation.  In each
-- group both are tied at the first time (0) and at the last time (100),
-- with other rows between; group 0 has 1.0, 0, 'A' at the start of the
-- table and 1.00, -0, 'a' at its end, group 1 the other way round, so a
-- serial scan meets them in both orders and a parallel one in different
-- processes.  The rule: of two equal values the one with the shorter binary
-- send form, then the bytewise smaller one, comes first.  numeric_send
-- writes ndigits, weight, sign, dscale, digits: 1.0 (dscale 1) before 1.00;
-- float8send the IEEE bits: 0 (0x00...) before -0 (0x80...); textsend the
-- bytes: 'A' (0x41) before 'a' (0x61).  So in both groups first() is 1.0,
-- 0, 'A' and last() is 1.00, -0, 'a', whatever the plan.  The reference's
-- ORDER BY t, v leaves such ties to arrival order, so it agrees with them
-- only when it also orders by the send form, as here; the results are
-- compared with it by their send forms (1.0 = 1.00 would hide a
-- difference).
CREATE COLLATION fl_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE fl_ties (g int, t int, n numeric, f float8, s text COLLATE fl_ci);
INSERT INTO fl_ties VALUES (0, 0, 1.0, 0, 'A'), (0, 100, 1.0, 0, 'A'),
                           (1, 0, 1.00, '-0', 'a'), (1, 100, 1.00, '-0', 'a');
INSERT INTO fl_ties
SELECT i % 2, 1 + i % 99, i, i, 'x' || i FROM generate_series(1, 20000) i;
INSERT INTO fl_ties VALUES (0, 0, 1.00, '-0', 'a'), (0, 100, 1.00, '-0', 'a'),
                           (1, 0, 1.0, 0, 'A'), (1, 100, 1.0, 0, 'A');
ANALYZE fl_ties;
CREATE VIEW fl_ties_results AS
    WITH h AS (
        SELECT g,
               hybridagg.first(n, t) AS fn, hybridagg.last(n, t) AS ln,
               hybridagg.first(f, t) AS ff, hybridagg.last(f, t) AS lf,
               hybridagg.first(s, t) AS fs, hybridagg.last(s, t) AS ls
          FROM fl_ties GROUP BY g),
    o AS (
        SELECT g,
               (array_agg(n ORDER BY t, n, octet_length(numeric_send(n)), numeric_send(n)))[1] AS fn,
               (array_agg(n ORDER BY t DESC, n DESC, octet_length(numeric_send(n)) DESC, numeric_send(n) DESC))[1] AS ln,
               (array_agg(f ORDER BY t, f, octet_length(float8send(f)), float8send(f)))[1] AS ff,
               (array_agg(f ORDER BY t DESC, f DESC, octet_length(float8send(f)) DESC, float8send(f) DESC))[1] AS lf,
               (array_agg(s ORDER BY t, s, octet_length(textsend(s)), textsend(s)))[1] AS fs,
               (array_agg(s ORDER BY t DESC, s DESC, octet_length(textsend(s)) DESC, textsend(s) DESC))[1] AS ls
          FROM fl_ties GROUP BY g)
    SELECT g, h.fn::text AS fn, h.ln::text AS ln, h.ff::text AS ff, h.lf::text AS lf,
           h.fs COLLATE "C" AS fs, h.ls COLLATE "C" AS ls,
           (numeric_send(h.fn) IS DISTINCT FROM numeric_send(o.fn))::int
           + (numeric_send(h.ln) IS DISTINCT FROM numeric_send(o.ln))::int
           + (float8send(h.ff) IS DISTINCT FROM float8send(o.ff))::int
           + (float8send(h.lf) IS DISTINCT FROM float8send(o.lf))::int
           + (textsend(h.fs) IS DISTINCT FROM textsend(o.fs))::int
           + (textsend(h.ls) IS DISTINCT FROM textsend(o.ls))::int AS differences
      FROM h JOIN o USING (g);

-- serial
SET max_parallel_workers_per_gather = 0;
SELECT * FROM fl_differences;
SELECT * FROM fl_ties_results ORDER BY g;
-- parallel: partial states serialized, sent and combined
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT * FROM fl_differences;
SELECT * FROM fl_differences;
EXPLAIN (COSTS OFF) SELECT * FROM fl_ties_results ORDER BY g;
SELECT * FROM fl_ties_results ORDER BY g;
-- an anonymous record made in the workers, printed by the leader
EXPLAIN (COSTS OFF) SELECT hybridagg.last(ROW(ts, s, ROW(v, n)), ts) FROM fl;
SELECT hybridagg.last(ROW(ts, s, ROW(v, n)), ts) FROM fl;
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
-- equal values in both arrival orders, in one process: 1.0, then 1.00
SELECT hybridagg.first(n, t)::text AS first, hybridagg.last(n, t)::text AS last
  FROM (VALUES (1.00, 1), (1.0, 1)) x(n, t);
SELECT hybridagg.first(n, t)::text AS first, hybridagg.last(n, t)::text AS last
  FROM (VALUES (1.0, 1), (1.00, 1)) x(n, t);
SELECT g, hybridagg.first(s, ts) AS first, hybridagg.last(s, ts) AS last FROM fl WHERE g = 9 GROUP BY g;
-- a value type without a btree class is refused with a hint
SELECT hybridagg.first(to_json(v), ts) FROM fl;

DROP VIEW fl_differences;
DROP VIEW fl_ties_results;
DROP TABLE fl;
DROP TABLE fl_ties;
DROP COLLATION fl_ci;
DROP TYPE fl_pair;
RESET TimeZone;
RESET client_min_messages;
