-- Recomputed values at their edges (findings of a hostile review): an
-- argument is evaluated only for the rows its FILTER keeps, as PostgreSQL
-- does (1.0 / x FILTER (WHERE x <> 0) must not divide by zero on a write);
-- an explicit COLLATE on an argument stays the aggregate's collation in
-- values_<id> (an implicit one of the other argument must not win); and
-- what cannot be kept the same in every session is refused at create, with
-- a hint: an aggregate whose transition function is stable over values
-- whose text a setting changes (jsonb_object_agg of a timestamptz), a
-- user's aggregate whose transition function is volatile although CREATE
-- AGGREGATE marked it immutable, an aggregate that lists its input in the
-- order rows are read without ORDER BY inside (string_agg), XML built from
-- values, a volatile direct argument, and an anonymous record argument.
-- Every view is compared with its defining query.  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE re (ts timestamptz NOT NULL, x int, a text COLLATE "sv-x-icu", b text COLLATE "sv-x-icu");
CREATE INDEX ON re (ts);
INSERT INTO re SELECT '2025-01-01 00:00+00'::timestamptz + i * interval '7 minutes', i % 5,
                      (ARRAY['a', 'B', 'c', 'D'])[1 + i % 4], 'x'
  FROM generate_series(1, 200) i;

-- FILTER: the argument only where the filter holds, in every mode
\set q1 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bk, stddev(1.0 / x) FILTER (WHERE x <> 0) AS s, string_agg((10 / x)::text, '','' ORDER BY ts) FILTER (WHERE x > 0) AS l, count(*) AS n FROM re GROUP BY 1'
SELECT count(hybridagg.create('re_f_' || m, :'q1', mode => m, seal_after => '1 day'))
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
INSERT INTO re VALUES ('2025-01-01 00:30+00', 0, 'e', 'x'), ('2025-01-01 03:30+00', 4, 'f', 'x');
UPDATE re SET ts = ts + interval '1 minute' WHERE x = 0 AND ts < '2025-01-01 02:00+00';
DELETE FROM re WHERE x = 0 AND ts >= '2025-01-01 05:00+00' AND ts < '2025-01-01 06:00+00';
CALL hybridagg.materialize('re_f_batch', '-infinity', 'infinity');
SELECT m, test_diff(('re_f_' || m)::regclass, :'q1', '{bk}') AS differences
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;

-- an explicit collation of an argument: C orders 'B' before 'a', sv-x-icu after
\set q2 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bk, hybridagg.last(a COLLATE "C", b) AS l, min(a COLLATE "C") AS lo, string_agg(a, '''' ORDER BY a COLLATE "C") AS s FROM re GROUP BY 1'
SELECT hybridagg.create('re_c', :'q2', mode => 'hybrid') IS NOT NULL AS created;
SELECT test_diff('re_c', :'q2', '{bk}') AS differences;
SELECT l, lo, s FROM re_c WHERE bk = '2025-01-01 01:00+00';
INSERT INTO re VALUES ('2025-01-01 01:10+00', 1, 'A', 'x');
SELECT test_diff('re_c', :'q2', '{bk}') AS differences;

-- refused at create, each with its reason and what to write instead
\set VERBOSITY default
CREATE TABLE rj (ts timestamptz NOT NULL, k text, v float8);
SELECT hybridagg.create('rj_ts', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, jsonb_object_agg(k, ts) AS j FROM rj GROUP BY 1$$, mode => 'streaming');
SELECT hybridagg.create('rj_float', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, json_agg(v) AS j FROM rj GROUP BY 1$$, mode => 'streaming');
SELECT hybridagg.create('rj_text', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, jsonb_object_agg(k, v::numeric ORDER BY ts, k) AS j FROM rj GROUP BY 1$$, mode => 'streaming') IS NOT NULL AS accepted_over_fixed_text;
SELECT hybridagg.create('rj_unordered', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, string_agg(k, ',') AS ks FROM rj GROUP BY 1$$, mode => 'streaming');
SELECT hybridagg.create('rj_distinct', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, string_agg(DISTINCT k, ',') AS ks FROM rj GROUP BY 1$$, mode => 'streaming') IS NOT NULL AS accepted_with_distinct;
CREATE FUNCTION re_noisy_step(float8, float8) RETURNS float8 LANGUAGE sql VOLATILE AS 'SELECT coalesce($1, 0) + $2 + random() * 0';
CREATE AGGREGATE re_noisy_sum(float8) (SFUNC = re_noisy_step, STYPE = float8);
SELECT hybridagg.create('rj_noisy', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, re_noisy_sum(v) AS s FROM rj GROUP BY 1$$, mode => 'streaming');
SELECT hybridagg.create('rj_xml_key', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, xmlelement(name e, ts)::text AS x, count(*) AS n FROM rj GROUP BY 1, 2$$, mode => 'streaming');
SELECT hybridagg.create('rj_xml_agg', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, xmlagg(xmlelement(name e, v) ORDER BY ts) AS x FROM rj GROUP BY 1$$, mode => 'streaming');
SELECT hybridagg.create('rj_direct', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, percentile_disc(random()) WITHIN GROUP (ORDER BY v) AS p FROM rj GROUP BY 1$$, mode => 'streaming');
SELECT hybridagg.create('rj_record', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, array_agg(ROW(k, v) ORDER BY k) AS r FROM rj GROUP BY 1$$, mode => 'streaming');
CREATE TYPE re_pair AS (k text, v float8);
SELECT hybridagg.create('rj_pair', $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bk, array_agg(ROW(k, v)::re_pair ORDER BY k) AS r FROM rj GROUP BY 1$$, mode => 'streaming') IS NOT NULL AS accepted_as_named_type;
SELECT count(*) AS refused_left_behind FROM pg_class WHERE relname IN ('rj_ts', 'rj_float', 'rj_unordered', 'rj_noisy', 'rj_xml_key', 'rj_xml_agg', 'rj_direct', 'rj_record');

SET client_min_messages = warning;
SELECT count(hybridagg.drop(name)) AS dropped FROM hybridagg.aggregates WHERE name LIKE 're\_%' OR name LIKE 'rj\_%';
DROP TABLE re, rj;
DROP AGGREGATE re_noisy_sum(float8);
DROP FUNCTION re_noisy_step(float8, float8);
DROP TYPE re_pair;
