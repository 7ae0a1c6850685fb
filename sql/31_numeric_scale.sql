-- sum() and avg() of numeric show the largest scale among the group's values
-- now: 4 after the row 0.12345 leaves, not 4.00000, and the avg divides at
-- the scale PostgreSQL picks for that sum.  A deleted value with decimals
-- makes its group dirty (recomputed from the table), one of scale 0 does
-- not, nor does any value of a numeric(p, s), which all have the scale s.
-- Every mode, after inserts, updates and deletes, at once and after a fold.
-- Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE TABLE ns (id int PRIMARY KEY, ts timestamptz NOT NULL, g int NOT NULL, n numeric, p numeric(12, 2));
INSERT INTO ns SELECT i, '2026-01-01 00:00+00'::timestamptz + i * interval '7 minutes', i % 3, i, i
  FROM generate_series(1, 300) i;
\set q 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, g, count(*) AS c, sum(n) AS sn, avg(n) AS an, sum(n * 2) AS s2, sum(p) AS sp, avg(p) AS ap FROM ns GROUP BY 1, 2'
SELECT hybridagg.create('ns_' || m, :'q', mode => m, seal_after => '1 day')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;

CREATE PROCEDURE settle() LANGUAGE plpgsql AS $$
BEGIN
    CALL hybridagg.materialize('ns_batch', '-infinity', 'infinity');
    PERFORM hybridagg.fold(m) FROM unnest(ARRAY['ns_streaming', 'ns_hybrid', 'ns_lambda', 'ns_kappa']) m;
END
$$;
CREATE TABLE ns_query (q text);
INSERT INTO ns_query VALUES (:'q');
CREATE FUNCTION ns_differing(with_batch boolean) RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (SELECT 'ns_' || m, test_diff(('ns_' || m)::regclass, (SELECT q FROM ns_query), '{b,g}')
                     FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m
                    WHERE with_batch OR m <> 'batch') d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
-- the groups of the streaming aggregate that wait to be recomputed (read
-- in the transaction that wrote them, before the worker can fold them)
CREATE FUNCTION ns_dirty() RETURNS bigint LANGUAGE sql AS $$
    SELECT dirty_groups FROM hybridagg.aggregates WHERE name = 'ns_streaming'
$$;

-- values with more decimals join some groups, and leave again
UPDATE ns SET n = n + 0.12345, p = p + 0.5 WHERE id % 10 = 0;
INSERT INTO ns VALUES (1001, '2026-01-01 01:10+00', 1, 0.000001, 0.01);
SELECT * FROM ns_differing(false);
CALL settle();
SELECT * FROM ns_differing(true);
SELECT b, g, c, sn, an, s2 FROM ns_hybrid WHERE b = '2026-01-01 01:00+00' ORDER BY g;

BEGIN;
UPDATE ns SET n = round(n), p = round(p) WHERE id % 10 = 0;
SELECT ns_dirty() > 0 AS decimals_deleted_make_groups_dirty;
SELECT * FROM ns_differing(false);
COMMIT;
DELETE FROM ns WHERE id = 1001;
SELECT * FROM ns_differing(false);
CALL settle();
SELECT * FROM ns_differing(true);
SELECT b, g, c, sn, an, s2 FROM ns_hybrid WHERE b = '2026-01-01 01:00+00' ORDER BY g;

-- deleting and updating integers, or any numeric(12, 2), never makes a
-- group dirty
BEGIN;
SELECT ns_dirty() AS dirty_after_fold;
DELETE FROM ns WHERE id IN (7, 8, 9);
UPDATE ns SET n = n + 1 WHERE id IN (11, 12);
UPDATE ns SET g = g WHERE id = 13;
UPDATE ns SET p = p + 0.25 WHERE id = 14;
SELECT ns_dirty() AS dirty_after_integers;
SELECT * FROM ns_differing(false);
COMMIT;
CALL settle();
SELECT * FROM ns_differing(true);

-- a group whose values are all NaN shows NaN; with a finite value again, its scale
UPDATE ns SET n = 'NaN' WHERE date_bin('1 hour', ts, '2000-01-01 00:00+00') = '2026-01-01 03:00+00' AND g = 0;
SELECT * FROM ns_differing(false);
UPDATE ns SET n = 2.5 WHERE id = (SELECT min(id) FROM ns WHERE n = 'NaN');
SELECT * FROM ns_differing(false);
CALL settle();
SELECT * FROM ns_differing(true);

SELECT hybridagg.drop('ns_' || m) FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
DROP FUNCTION ns_differing(boolean);
DROP FUNCTION ns_dirty();
DROP PROCEDURE settle();
DROP TABLE ns, ns_query;
RESET TimeZone;
RESET client_min_messages;
