-- Integer time columns as the time of the buckets, as TimescaleDB's
-- time_bucket(w, t) on an integer column, written in plain SQL: t / w * w
-- and t - t % w (PostgreSQL's division truncates toward zero: bucket 0 holds
-- -(w-1) .. w-1, a negative bucket b holds b-w+1 .. b) and
-- t - (t % w + w) % w (floor: bucket b holds b .. b+w-1), on smallint,
-- integer and bigint columns, negative and NULL times, in every mode: exact
-- after create, after new, late, updated and deleted rows, after a fold.
-- An integer time has no clock: nothing is sealed, the watermark stays at
-- -infinity, batch mode reads the base table.  Refusals with their hints.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql

CREATE TABLE m8 (id int, ts bigint NOT NULL, dev int NOT NULL, v float8);
CREATE INDEX ON m8 (ts);
INSERT INTO m8 SELECT i, i * 7 - 3000, i % 3, (i % 13) * 1.5 FROM generate_series(1, 900) i;
CREATE TABLE m4 (id int, ts int, v float8);
CREATE INDEX ON m4 (ts);
INSERT INTO m4 SELECT i, CASE WHEN i % 50 = 0 THEN NULL ELSE i * 3 - 900 END, i % 17
  FROM generate_series(1, 600) i;
CREATE TABLE m2 (id int, ts smallint NOT NULL, dev int NOT NULL, v numeric);
CREATE INDEX ON m2 (ts);
INSERT INTO m2 SELECT i, (i - 200)::smallint, i % 2, i % 9 FROM generate_series(1, 400) i;

\set q8 'SELECT ts / 60 * 60 AS b, dev, count(*) AS n, sum(v) AS s, min(v) AS lo, stddev(v) AS sd FROM m8 GROUP BY 1, 2'
\set q4 'SELECT ts - (ts % 50 + 50) % 50 AS b, count(*) AS n, avg(v) AS a, count(v) FILTER (WHERE v > 8) AS big, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS med FROM m4 GROUP BY 1'
\set q2 'SELECT ts - ts % 7 AS b, dev, count(*) AS n, max(v) AS hi, sum(v) AS s FROM m2 GROUP BY 1, 2'
SELECT hybridagg.create('i8_' || m, :'q8', mode => m) FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT hybridagg.create('i4_' || m, :'q4', mode => m) FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT hybridagg.create('i2_' || m, :'q2', mode => m) FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
-- the catalog: the bucket's function and width; no interval width
SELECT view, time_type, bucket_function, bucket_width, integer_width, watermark
  FROM hybridagg_internal.aggregate WHERE view::text LIKE 'i_\_hybrid' ORDER BY view::text;
-- the bucket keeps the query's type
SELECT attrelid::regclass, attname, atttypid::regtype FROM pg_attribute
 WHERE attrelid IN ('i8_hybrid'::regclass, 'i4_hybrid'::regclass, 'i2_hybrid'::regclass) AND attname = 'b'
 ORDER BY 1;
CREATE TABLE int_query (prefix text, q text, keys text[]);
INSERT INTO int_query VALUES ('i8_', :'q8', '{b,dev}'), ('i4_', :'q4', '{b}'), ('i2_', :'q2', '{b,dev}');
CREATE FUNCTION int_differing() RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (SELECT q.prefix || m, test_diff((q.prefix || m)::regclass, q.q, q.keys)
                     FROM int_query q, unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m) d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
SELECT * FROM int_differing();
-- bucket 0 of a truncating bucket holds -59 .. 59: it has twice the rows
SELECT b, dev, n FROM i8_streaming WHERE b BETWEEN -120 AND 120 AND dev = 0 ORDER BY b;
SELECT b, n FROM i4_streaming WHERE b BETWEEN -100 AND 100 OR b IS NULL ORDER BY b;

-- new rows, late rows (negative, around zero), rows moved across zero and
-- to NULL, deleted rows; batch mode reads them at once (nothing is sealed)
INSERT INTO m8 SELECT 1000 + i, 4000 + i, i % 3, i FROM generate_series(1, 100) i;
INSERT INTO m8 SELECT 2000 + i, -i, 0, i FROM generate_series(1, 120) i;
-- times far outside the range of timestamps
INSERT INTO m8 VALUES (3001, -9000000000000000000, 2, 1), (3002, 9000000000000000000, 2, 2),
                      (3003, -9223372036854775808, 2, 3), (3004, 9223372036854775807, 2, 4);
UPDATE m8 SET ts = -ts WHERE id % 10 = 0;
UPDATE m8 SET v = v + 1 WHERE ts BETWEEN -59 AND 59;
DELETE FROM m8 WHERE dev = 1 AND ts < -1000;
INSERT INTO m4 VALUES (9001, NULL, 4), (9002, -49, 1), (9003, -50, 2), (9004, -51, 3), (9005, 0, 5);
UPDATE m4 SET ts = NULL WHERE id % 97 = 0;
UPDATE m4 SET ts = -ts WHERE id % 7 = 0;
DELETE FROM m4 WHERE ts BETWEEN -30 AND 30;
INSERT INTO m2 VALUES (9001, -32768, 0, 1), (9002, 32767, 1, 2), (9003, -6, 0, 3), (9004, 6, 0, 4);
UPDATE m2 SET ts = -ts WHERE id % 5 = 0;
DELETE FROM m2 WHERE id % 3 = 0;
SELECT * FROM int_differing();
SELECT count(hybridagg.fold(p || m)) AS folded FROM unnest(ARRAY['i8_', 'i4_', 'i2_']) p,
       unnest(ARRAY['streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT * FROM int_differing();
-- nothing sealed: the hybrid aggregates keep every group in recent
SELECT (stored_groups('i8_hybrid')).*, (SELECT count(*) FROM (:q8) q) AS groups;
SELECT watermark, seal_after FROM hybridagg.aggregates WHERE name LIKE 'i_\_%' GROUP BY 1, 2;
-- batch mode stores nothing, with or without materialize
CALL hybridagg.materialize('i8_batch');
CALL hybridagg.materialize('i8_batch', '-infinity', 'infinity');
SELECT (stored_groups('i8_batch')).history;
-- a recompute of the whole range in the streaming modes
CALL hybridagg.materialize('i8_lambda', '-infinity', 'infinity');
CALL hybridagg.materialize('i4_hybrid', '-infinity', 'infinity');
CALL hybridagg.materialize('i2_streaming', '-infinity', 'infinity');
SELECT (stored_groups('i8_lambda')).*, (stored_groups('i4_hybrid')).*;
-- kappa's replay of every bucket
SELECT hybridagg.reprocess('i4_kappa', '-infinity', 'infinity') > 0 AS replayed;
SELECT * FROM int_differing();
-- verify finds the aggregates healthy
SELECT p || m AS aggregate, count(v.*) AS wrong_buckets
  FROM unnest(ARRAY['i8_', 'i4_', 'i2_']) p, unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m
  LEFT JOIN LATERAL hybridagg.verify(p || m) v ON true
 GROUP BY 1 HAVING count(v.*) <> 0;

-- a corruption planted in recent is found (its bucket shows as NULL: the
-- bucket column is a timestamptz) and repaired
SELECT format('hybridagg_internal.recent_%s', id) AS i8_recent
  FROM hybridagg_internal.aggregate WHERE view = 'i8_hybrid'::regclass \gset
UPDATE :i8_recent SET __rows = __rows + 1 WHERE g1 = -60 AND g2 = 0;
SELECT bucket, groups, served_wrong, stored_wrong, pending FROM hybridagg.verify('i8_hybrid');
CALL hybridagg.materialize('i8_hybrid', '-infinity', 'infinity');
SELECT count(*) AS wrong_after_repair FROM hybridagg.verify('i8_hybrid');

-- the times hybridagg reads for a bucket are exactly the times of that
-- bucket, checked against the query's own expression for every time near
-- zero and near the ends of smallint
CREATE FUNCTION times_wrong(agg text, bucket_sql text, lo bigint, hi bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    agg_id int := (SELECT id FROM hybridagg_internal.aggregate WHERE view = agg::regclass);
    t regtype := (SELECT time_type FROM hybridagg_internal.aggregate WHERE view = agg::regclass);
    wrong bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM (SELECT b, min(ts) AS first, max(ts) AS last FROM '
                   '(SELECT ts, %s AS b FROM (SELECT ts::%s AS ts FROM generate_series($1, $2) ts) x) y GROUP BY b) e '
                   'WHERE (hybridagg_internal.bucket_times($3, e.b)).first IS DISTINCT FROM e.first '
                   '   OR (hybridagg_internal.bucket_times($3, e.b)).last IS DISTINCT FROM e.last', bucket_sql, t)
      INTO wrong USING lo, hi, agg_id;
    RETURN wrong;
END
$$;
SELECT times_wrong('i8_hybrid', 'ts / 60 * 60', -599, 599) AS truncating,
       times_wrong('i4_hybrid', 'ts - (ts % 50 + 50) % 50', -500, 499) AS flooring,
       times_wrong('i2_hybrid', 'ts - ts % 7', -32766, -31997) AS smallint_low,
       times_wrong('i2_hybrid', 'ts - ts % 7', 31997, 32766) AS smallint_high;
-- the bucket of -32768 is -32767 (it holds -32773 .. -32767: hybridagg reads
-- a superset there, times no smallint can be)
SELECT * FROM hybridagg_internal.bucket_times((SELECT id FROM hybridagg_internal.aggregate WHERE view = 'i2_hybrid'::regclass), -32767);
-- a bucket that is not a multiple of the width holds no time
SELECT * FROM hybridagg_internal.bucket_times((SELECT id FROM hybridagg_internal.aggregate WHERE view = 'i8_hybrid'::regclass), 61::bigint);
SELECT * FROM hybridagg_internal.bucket_times((SELECT id FROM hybridagg_internal.aggregate WHERE view = 'i8_hybrid'::regclass), 0::bigint);

-- the bigint values hybridagg passes for a range of times reach the index of
-- an integer column (cross-type comparisons of the integer operator family)
SELECT format('hybridagg_internal.source_%s', id) AS i4_source
  FROM hybridagg_internal.aggregate WHERE view = 'i4_hybrid'::regclass \gset
SET enable_seqscan = off;
PREPARE times_of(bigint, bigint) AS SELECT count(*) FROM :i4_source s WHERE s.__time >= $1 AND s.__time <= $2;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE times_of(-50, -1);
EXECUTE times_of(-50, -1);
DEALLOCATE times_of;
RESET plan_cache_mode;
RESET enable_seqscan;

-- other spellings of the same buckets
SELECT hybridagg.create('spelled', 'SELECT (ts / 60) * 60 AS b, count(*) FROM m8 GROUP BY 1', mode => 'hybrid');
SELECT hybridagg.create('spelled2', 'SELECT 60 * (ts / 60) AS b, count(*) FROM m8 GROUP BY b', mode => 'hybrid');
SELECT hybridagg.create('spelled3', 'SELECT ts - (50 + ts % 50) % 50 AS b, count(*) FROM m4 GROUP BY b', mode => 'streaming');
SELECT hybridagg.create('spelled4', 'SELECT ts - mod(ts, 3600::bigint) AS b, count(*) FROM m8 GROUP BY b', mode => 'streaming');
SELECT test_diff('spelled', 'SELECT (ts / 60) * 60 AS b, count(*) FROM m8 GROUP BY 1', '{b}') AS spelled,
       test_diff('spelled2', 'SELECT 60 * (ts / 60) AS b, count(*) FROM m8 GROUP BY b', '{b}') AS spelled2,
       test_diff('spelled3', 'SELECT ts - (50 + ts % 50) % 50 AS b, count(*) FROM m4 GROUP BY b', '{b}') AS spelled3,
       test_diff('spelled4', 'SELECT ts - mod(ts, 3600::bigint) AS b, count(*) FROM m8 GROUP BY b', '{b}') AS spelled4;
SELECT bucket_function, integer_width FROM hybridagg_internal.aggregate
 WHERE view::text LIKE 'spelled%' ORDER BY view::text;

-- refusals
SELECT hybridagg.create('refused', 'SELECT ts / 60 AS b, count(*) FROM m8 GROUP BY 1');
SELECT hybridagg.create('refused', 'SELECT ts / 60 * 30 AS b, count(*) FROM m8 GROUP BY 1');
SELECT hybridagg.create('refused', 'SELECT ts / dev * dev AS b, count(*) FROM m8 GROUP BY 1');
SELECT hybridagg.create('refused', 'SELECT ts / 1 * 1 AS b, count(*) FROM m8 GROUP BY 1');
SELECT hybridagg.create('refused', 'SELECT ts / -60 * -60 AS b, count(*) FROM m8 GROUP BY 1');
SELECT hybridagg.create('refused', 'SELECT ts - id % 60 AS b, count(*) FROM m8 GROUP BY 1');
SELECT hybridagg.create('refused', 'SELECT dev, count(*) FROM m8 GROUP BY 1');
-- an integer time has no clock: a seal_after of its own is refused
SELECT hybridagg.create('refused', 'SELECT ts / 60 * 60 AS b, count(*) FROM m8 GROUP BY 1', seal_after => '10 minutes');
-- a range of timestamps names no integer bucket
CALL hybridagg.materialize('i8_batch', '2025-01-01', '2025-02-01');
SELECT hybridagg.reprocess('i8_kappa', '-infinity', '2025-01-01');
SELECT * FROM hybridagg.verify('i8_hybrid', '2025-01-01', 'infinity');
-- with a timestamp bucket, an integer band is an ordinary key
CREATE TABLE banded_base (t timestamp NOT NULL, ts int);
SELECT hybridagg.create('banded', 'SELECT date_bin(''1 hour'', t, ''2000-01-01'') AS b, ts / 100 * 100 AS band, count(*) FROM banded_base GROUP BY 1, 2');
SELECT time_type, bucket_function FROM hybridagg_internal.aggregate WHERE view = 'banded'::regclass;

-- an unprivileged role keeps an integer aggregate of its own table
CREATE ROLE int_owner;
GRANT CREATE ON SCHEMA public TO int_owner;
SET ROLE int_owner;
CREATE TABLE owned_ticks (ts int NOT NULL, v int);
CREATE INDEX ON owned_ticks (ts);
INSERT INTO owned_ticks SELECT i - 100, i FROM generate_series(1, 200) i;
SELECT hybridagg.create('owned_ticks_10', 'SELECT ts / 10 * 10 AS b, count(*) AS n, sum(v) AS s, stddev(v) AS sd FROM owned_ticks GROUP BY 1');
INSERT INTO owned_ticks VALUES (-5, 1), (5, 2), (-15, 3);
DELETE FROM owned_ticks WHERE ts = -99;
SELECT test_diff('owned_ticks_10', 'SELECT ts / 10 * 10 AS b, count(*) AS n, sum(v) AS s, stddev(v) AS sd FROM owned_ticks GROUP BY 1', '{b}') AS differences;
SELECT count(hybridagg.fold('owned_ticks_10')) AS folded;
SELECT test_diff('owned_ticks_10', 'SELECT ts / 10 * 10 AS b, count(*) AS n, sum(v) AS s, stddev(v) AS sd FROM owned_ticks GROUP BY 1', '{b}') AS differences;
SELECT hybridagg.drop('owned_ticks_10');
DROP TABLE owned_ticks;
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM int_owner;
DROP ROLE int_owner;

SELECT hybridagg.drop(p || m) FROM unnest(ARRAY['i8_', 'i4_', 'i2_']) p,
       unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
SELECT hybridagg.drop(n) FROM unnest(ARRAY['spelled', 'spelled2', 'spelled3', 'spelled4', 'banded']) n;
DROP FUNCTION int_differing(), times_wrong(text, text, bigint, bigint);
DROP TABLE m8, m4, m2, int_query, banded_base;
RESET client_min_messages;
