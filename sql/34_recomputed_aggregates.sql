-- Every deterministic aggregate, in every mode.  count, sum, avg, min and
-- max keep partial states, also with FILTER (moved into the argument);
-- stddev and corr of floats and bit_or keep their own transition states
-- (sql/51_combined_states); any other aggregate (statistics of numerics,
-- percentiles, DISTINCT, ORDER BY inside, string_agg, first/last, hll and
-- tdigest sketches) is kept as its value per group and recomputed from the
-- base table whenever its group changes: at once by the view, in the
-- reader's snapshot, and by the fold.  Each view is compared with its
-- defining query after create, after new, late, moved, updated and
-- deleted rows, rows with no time and at +-infinity, while dirty in the
-- writer's own transaction, after a fold, after a Kappa replay and (batch)
-- after a materialize.  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
CREATE EXTENSION IF NOT EXISTS hll;
CREATE EXTENSION IF NOT EXISTS tdigest;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE ra (id int PRIMARY KEY, ts timestamptz, dev int NOT NULL, v float8, n numeric, s text, ok boolean, bits int);
CREATE INDEX ON ra (ts);
INSERT INTO ra SELECT i, '2026-01-01 00:00+00'::timestamptz + i * interval '37 seconds', i % 4,
                      CASE WHEN i % 23 = 0 THEN NULL ELSE (i * 7919) % 1000 / 8.0 END,
                      (i * 31) % 1000 / 100.0, 'k' || (i * 13) % 17, i % 7 <> 0, i % 64
  FROM generate_series(1, 6000) i;
INSERT INTO ra VALUES (10001, NULL, 1, 1, 1, 'no time', true, 1), (10002, 'infinity', 2, 2, 2, 'late', false, 2),
                      (10003, '-infinity', 3, 3, 3, 'early', true, 3);
ANALYZE ra;

-- two definitions: typed aggregates with FILTER; recomputed ones
\set q1 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, dev, count(*) AS n, count(*) FILTER (WHERE v > 60) AS big, count(v) FILTER (WHERE ok) AS nok, sum(v) FILTER (WHERE s < ''k5'') AS s5, avg(n) FILTER (WHERE NOT ok) AS an, min(s) FILTER (WHERE v IS NOT NULL) AS lo, max(v) FILTER (WHERE bits < 32) AS hi FROM ra GROUP BY 1, 2'
\set q2 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, dev, count(*) AS n, stddev(v) AS sd, var_pop(n) AS vp, corr(v, sqrt(v + id % 5)) AS r, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS med, percentile_disc(ARRAY[0.1, 0.9]) WITHIN GROUP (ORDER BY n) AS deciles, mode() WITHIN GROUP (ORDER BY s) AS mo, count(DISTINCT s) AS ds, sum(DISTINCT n) AS sdn, string_agg(s, '','' ORDER BY s, id) AS ss, array_agg(v ORDER BY ts, id) FILTER (WHERE ok) AS vs, bool_and(ok) AS all_ok, bit_or(bits) AS bo, hybridagg.first(v, ts) AS fv, hybridagg.last(s, ts) AS ls, hll_cardinality(hll_add_agg(hll_hash_text(s))) AS hc, tdigest_percentile(v, 100, 0.5) AS td, round(stddev(v)::numeric, 3) + count(*) AS expr FROM ra GROUP BY 1, 2 HAVING count(DISTINCT s) > 1'
SELECT hybridagg.create('ra1_' || m, :'q1', mode => m, seal_after => '1 day')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT hybridagg.create('ra2_' || m, :'q2', mode => m, seal_after => '1 day')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;

-- the typed ones keep partial states only; those PostgreSQL can combine
-- (stddev(float8), corr, bit_or) their own states; the others their values
SELECT a.view, count(*) FILTER (WHERE c.attname LIKE 'value\_%') AS values_kept,
       count(*) FILTER (WHERE c.attname LIKE 'state\_%') AS combined_states,
       count(*) FILTER (WHERE c.attname NOT LIKE 'value\_%' AND c.attname NOT LIKE 'state\_%' AND c.attname NOT LIKE 'g%') AS partial_states,
       to_regclass(format('hybridagg_internal.values_%s', a.id)) IS NOT NULL AS has_values_view
  FROM hybridagg_internal.aggregate a
  JOIN pg_attribute c ON c.attrelid = format('hybridagg_internal.history_%s', a.id)::regclass AND c.attnum > 0
 WHERE a.view::text IN ('ra1_hybrid', 'ra2_hybrid') GROUP BY a.view, a.id ORDER BY 1;

SELECT name, recomputed_aggregates, combined_aggregates FROM hybridagg.aggregates WHERE name IN ('ra1_hybrid', 'ra2_hybrid') ORDER BY 1;

CREATE TABLE ra_query (prefix text, q text);
INSERT INTO ra_query VALUES ('ra1_', :'q1'), ('ra2_', :'q2');
CREATE FUNCTION ra_differing(with_batch boolean) RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (SELECT q.prefix || m, test_diff((q.prefix || m)::regclass, q.q, '{b,dev}')
                     FROM ra_query q, unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m
                    WHERE with_batch OR m <> 'batch') d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
CREATE PROCEDURE ra_settle() LANGUAGE plpgsql AS $$
BEGIN
    CALL hybridagg.materialize('ra1_batch', '-infinity', 'infinity');
    CALL hybridagg.materialize('ra2_batch', '-infinity', 'infinity');
    PERFORM hybridagg.fold(p || m) FROM unnest(ARRAY['ra1_', 'ra2_']) p,
                                        unnest(ARRAY['streaming', 'hybrid', 'lambda', 'kappa']) m;
END
$$;
SELECT * FROM ra_differing(true);

-- new rows, late rows, rows moved in time and between keys, values changed,
-- rows deleted: exact at once, and while dirty in the writer's transaction
INSERT INTO ra SELECT 20000 + i, '2026-01-03 00:00+00'::timestamptz + i * interval '53 seconds', i % 5, i % 100, i % 10, 'n' || i % 3, true, i % 8
  FROM generate_series(1, 800) i;
INSERT INTO ra SELECT 30000 + i, '2025-12-20 00:00+00'::timestamptz + i * interval '7 minutes', i % 4, i, i, 'late', i % 2 = 0, i
  FROM generate_series(1, 50) i;
SELECT * FROM ra_differing(false);
BEGIN;
UPDATE ra SET ts = ts + interval '3 hours', dev = (dev + 1) % 4 WHERE id % 11 = 0;
UPDATE ra SET v = v * 2, s = upper(s), ok = NOT ok WHERE id % 13 = 0;
DELETE FROM ra WHERE id % 17 = 0 OR id = 10002;
SELECT * FROM ra_differing(false);
COMMIT;
SELECT * FROM ra_differing(false);
CALL ra_settle();
SELECT * FROM ra_differing(true);
SELECT b, dev, n, med, deciles, ds, all_ok, bo, fv, ls, hc FROM ra2_hybrid
 WHERE b = '2026-01-01 02:00+00' ORDER BY dev;

-- Kappa: a replay of a day gives the same groups
SELECT hybridagg.reprocess('ra2_kappa', '2026-01-01 00:00+00', '2026-01-02 00:00+00') > 0 AS replayed;
SELECT * FROM ra_differing(false);
-- a group emptied, and one made by a single row
DELETE FROM ra WHERE ts >= '2026-01-01 05:00+00' AND ts < '2026-01-01 06:00+00';
INSERT INTO ra VALUES (40000, '2027-06-01 12:00+00', 1, 5, 5, 'alone', true, 5);
SELECT * FROM ra_differing(false);
CALL ra_settle();
SELECT * FROM ra_differing(true);
SELECT count(*) AS groups_of_the_emptied_hour FROM ra2_streaming
 WHERE b = '2026-01-01 05:00+00';

SELECT hybridagg.drop(p || m) FROM unnest(ARRAY['ra1_', 'ra2_']) p,
                                  unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT count(*) AS values_views_left FROM pg_class
 WHERE relnamespace = 'hybridagg_internal'::regnamespace AND relname LIKE 'values\_%';
DROP FUNCTION ra_differing(boolean);
DROP PROCEDURE ra_settle();
DROP TABLE ra, ra_query;
RESET TimeZone;
RESET client_min_messages;
