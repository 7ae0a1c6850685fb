-- NaN and the infinities in sums and averages of real, double precision
-- and numeric: PostgreSQL's own aggregates give NaN for a NaN or for both
-- infinities, an infinity for one, and an exact sum again once they are
-- gone.  A sum that added them in could not subtract them back; hybridagg
-- counts them apart.  Every mode, after inserts, updates and deletes of
-- non-finite values, at once and after a fold.  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE nf (id int PRIMARY KEY, ts timestamptz NOT NULL, g int NOT NULL, r real, d float8, n numeric);
CREATE INDEX ON nf (ts);
INSERT INTO nf SELECT i, '2026-01-01 00:00+00'::timestamptz + i * interval '7 minutes', i % 3,
                      i * 0.5, i * 1.25, i * 0.001
  FROM generate_series(1, 300) i;
\set q 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, g, count(*) AS c, sum(r) AS sr, avg(r) AS ar, sum(d) AS sd, avg(d) AS ad, sum(n) AS sn, avg(n) AS an, max(d) AS hd FROM nf GROUP BY 1, 2'
SELECT hybridagg.create('nf_' || m, :'q', mode => m, seal_after => '1 day')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;

CREATE PROCEDURE settle() LANGUAGE plpgsql AS $$
BEGIN
    CALL hybridagg.materialize('nf_batch', '-infinity', 'infinity');
    PERFORM hybridagg.fold(m) FROM unnest(ARRAY['nf_streaming', 'nf_hybrid', 'nf_lambda', 'nf_kappa']) m;
END
$$;
-- groups differing from the query in each mode; batch mode only after
-- settle(), since these old buckets are below its watermark
CREATE TABLE nf_query (q text);
INSERT INTO nf_query VALUES (:'q');
CREATE FUNCTION nf_differing(with_batch boolean) RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (SELECT 'nf_' || m, test_diff(('nf_' || m)::regclass, (SELECT q FROM nf_query), '{b,g}')
                     FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m
                    WHERE with_batch OR m <> 'batch') d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;

-- NaN, +Infinity and -Infinity into groups
UPDATE nf SET r = 'NaN', d = 'NaN', n = 'NaN' WHERE id = 10;
UPDATE nf SET r = 'Infinity', d = 'Infinity', n = 'Infinity' WHERE id IN (20, 21);
UPDATE nf SET r = '-Infinity', d = '-Infinity', n = '-Infinity' WHERE id = 21 + 60;
UPDATE nf SET r = 'Infinity', d = 'Infinity', n = 'Infinity' WHERE id = 21 + 63;
SELECT * FROM nf_differing(false);
CALL settle();
SELECT * FROM nf_differing(true);
-- what the groups hold, from the hybrid view
SELECT b, g, c, sd, ad, sn FROM nf_hybrid WHERE sd = 'NaN' OR sd = 'Infinity' OR sd = '-Infinity' ORDER BY b, g;

-- and back: the sums are exact again once the values are finite
UPDATE nf SET r = 1, d = 1, n = 1 WHERE id IN (10, 20, 81);
SELECT * FROM nf_differing(false);
DELETE FROM nf WHERE id IN (21, 84);
SELECT * FROM nf_differing(false);
CALL settle();
SELECT * FROM nf_differing(true);
SELECT count(*) AS nonfinite_left FROM nf_hybrid WHERE sd = 'NaN' OR sd = 'Infinity' OR sd = '-Infinity'
    OR sn = 'NaN' OR sn = 'Infinity' OR sn = '-Infinity';

SELECT hybridagg.drop('nf_' || m) FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
DROP FUNCTION nf_differing(boolean);
DROP PROCEDURE settle();
DROP TABLE nf, nf_query;
RESET TimeZone;
RESET client_min_messages;
