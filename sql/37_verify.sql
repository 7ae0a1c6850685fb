-- hybridagg.verify(name, range_start, range_end): the buckets of a range
-- recomputed from the base table and compared with what the view serves
-- and what is stored, in one snapshot.  Healthy aggregates of every mode
-- give no row, also with pending deltas and dirty groups (counted as
-- pending); a corruption planted by hand in history is found, served and
-- stored wrong, and gone after a materialize of its range; batch mode's
-- stale buckets below the watermark show until the next materialize.  The
-- totals go to hybridagg.aggregates.  Only the owner may verify.  Every
-- date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
SET TimeZone = 'UTC';

CREATE TABLE vf (ts timestamptz NOT NULL, dev int NOT NULL, v float8, n numeric);
CREATE INDEX ON vf (ts);
INSERT INTO vf SELECT '2026-02-01 00:00+00'::timestamptz + i * interval '29 seconds', i % 4, i % 13 + 0.25, i % 7 * 1.5
  FROM generate_series(1, 6000) i;
\set q 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, dev, count(*) AS n, sum(v) AS s, avg(n) AS a, min(v) AS lo, max(n) AS hi, stddev(v) AS sd, count(DISTINCT n) AS dn FROM vf GROUP BY 1, 2'
SELECT hybridagg.create('vf_' || m, :'q', mode => m, seal_after => '1 day')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;

-- healthy: nothing differs
SELECT 'vf_' || m AS aggregate, count(*) AS wrong_buckets
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m,
       LATERAL hybridagg.verify('vf_' || m, '-infinity', 'infinity') GROUP BY 1 ORDER BY 1;
SELECT name, last_verify_groups, last_verify_wrong, last_verify_at IS NOT NULL AS verified
  FROM hybridagg.aggregates WHERE name LIKE 'vf\_%' ORDER BY name;

-- pending deltas and dirty groups, in the writer's transaction: pending, not wrong
BEGIN;
DELETE FROM vf WHERE ts < '2026-02-01 03:00+00' AND dev = 1;
INSERT INTO vf VALUES ('2026-02-01 04:30+00', 2, 100, 100);
SELECT bucket, groups, served_wrong, stored_wrong, pending FROM hybridagg.verify('vf_hybrid', '2026-02-01', '2026-02-02');
SELECT last_verify_groups > 0 AS checked, last_verify_wrong FROM hybridagg.aggregates WHERE name = 'vf_hybrid';
COMMIT;

-- a corruption planted in history: a group's count and stored values
SELECT id AS hybrid_id FROM hybridagg_internal.aggregate WHERE view = 'vf_hybrid'::regclass \gset
SELECT format('hybridagg_internal.history_%s', :hybrid_id) AS history \gset
SELECT hybridagg.fold('vf_hybrid') >= 0 AS folded;
UPDATE :history SET __rows = __rows + 1 WHERE g1 = '2026-02-01 10:00+00' AND g2 = 3;
UPDATE :history SET value_2 = value_2 + 1 WHERE g1 = '2026-02-01 11:00+00' AND g2 = 0;
-- a float planted as NaN or an infinity matches nothing but itself
-- (stddev's state, combined_states.c, of a NaN: its stddev is NaN)
UPDATE :history SET state_1 = (SELECT hybridagg_internal.partial_state('stddev(float8)'::regprocedure, x) FROM (VALUES ('NaN'::float8), (1)) v(x))
 WHERE g1 = '2026-02-01 12:00+00' AND g2 = 1;
UPDATE :history SET min_v1 = '-Infinity' WHERE g1 = '2026-02-01 13:00+00' AND g2 = 2;
SELECT bucket, groups, served_wrong, stored_wrong, pending FROM hybridagg.verify('vf_hybrid', '-infinity', 'infinity');
SELECT last_verify_wrong FROM hybridagg.aggregates WHERE name = 'vf_hybrid';
CALL hybridagg.materialize('vf_hybrid', '2026-02-01 10:00+00', '2026-02-01 14:00+00');
SELECT count(*) AS wrong_after_repair FROM hybridagg.verify('vf_hybrid', '-infinity', 'infinity');

-- batch: a change below the watermark is stale until materialized
UPDATE vf SET v = v + 1 WHERE ts >= '2026-02-01 20:00+00' AND ts < '2026-02-01 21:00+00';
SELECT bucket, groups, served_wrong, stored_wrong FROM hybridagg.verify('vf_batch', '2026-02-01', '2026-02-02');
CALL hybridagg.materialize('vf_batch', '2026-02-01', '2026-02-02');
SELECT count(*) AS stale_after_materialize FROM hybridagg.verify('vf_batch', '2026-02-01', '2026-02-02');

-- only the owner verifies
CREATE ROLE regress_hybridagg_verifier;
GRANT SELECT ON vf_hybrid TO regress_hybridagg_verifier;
SET ROLE regress_hybridagg_verifier;
\set VERBOSITY sqlstate
SELECT * FROM hybridagg.verify('vf_hybrid', '-infinity', 'infinity');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET ROLE;
DROP OWNED BY regress_hybridagg_verifier;
DROP ROLE regress_hybridagg_verifier;

SELECT hybridagg.drop('vf_' || m) FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
DROP TABLE vf;
RESET TimeZone;
RESET client_min_messages;
