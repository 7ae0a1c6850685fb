-- Sealing moves the watermark W forward as buckets complete.  In hybrid
-- mode the worker seals by moving recent rows older than seal_after into
-- history; in lambda and batch mode materialize() seals by an exact
-- recompute.  One-second buckets let the clock move W during the test; the
-- views stay exact throughout, and W never passes now() - seal_after.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE TABLE ticks (ts timestamptz NOT NULL DEFAULT clock_timestamp(), v int NOT NULL);
CREATE INDEX ON ticks (ts);
INSERT INTO ticks SELECT now() - i * interval '100 milliseconds', i FROM generate_series(1, 200) i;

\set query 'SELECT date_bin(''1 second'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi FROM ticks GROUP BY 1'

CREATE TABLE checks (aggregate text, query text);
INSERT INTO checks VALUES ('ticks_hybrid', :'query'), ('ticks_lambda', :'query'), ('ticks_batch', :'query');
-- the aggregates whose view differs from the query
CREATE FUNCTION differing() RETURNS SETOF text
LANGUAGE sql AS $$
    SELECT c.aggregate FROM checks c WHERE test_diff(c.aggregate::regclass, c.query, '{bucket}') <> 0 ORDER BY 1
$$;

SELECT hybridagg.create('ticks_hybrid', :'query', mode => 'hybrid', seal_after => '1 second');
SELECT hybridagg.create('ticks_lambda', :'query', mode => 'lambda', seal_after => '1 second');
SELECT hybridagg.create('ticks_batch', :'query', mode => 'batch', seal_after => '1 second');
CREATE TEMP TABLE start AS SELECT name, watermark, (stored_groups(view)).history AS history_rows FROM hybridagg.aggregates WHERE name LIKE 'ticks\_%';
SELECT * FROM differing();

-- rows keep coming; the worker seals the hybrid aggregate as seconds pass
INSERT INTO ticks (v) SELECT i FROM generate_series(1, 50) i;
SELECT * FROM differing();
CALL wait_until($$(SELECT a.watermark > s.watermark + interval '1 second'
                     FROM hybridagg.aggregates a JOIN start s USING (name) WHERE name = 'ticks_hybrid')$$);
INSERT INTO ticks (v) SELECT i FROM generate_series(51, 100) i;
DELETE FROM ticks WHERE v % 7 = 0;
-- (batch mode serves the rows deleted below its W until a batch recomputes
-- their range: ticks_batch differs, as documented)
SELECT * FROM differing();
SELECT a.name, (stored_groups(a.view)).history > s.history_rows AS history_grew,
       a.watermark <= now() - a.seal_after AS watermark_not_in_future
  FROM hybridagg.aggregates a JOIN start s USING (name) WHERE name = 'ticks_hybrid';
-- lambda and batch move W only when a batch runs
SELECT a.name, a.watermark = s.watermark AS watermark_unmoved
  FROM hybridagg.aggregates a JOIN start s USING (name) WHERE name IN ('ticks_lambda', 'ticks_batch') ORDER BY 1;
SET client_min_messages = warning;
CALL hybridagg.materialize('ticks_lambda');
CALL hybridagg.materialize('ticks_batch');
RESET client_min_messages;
SELECT a.name, a.watermark > s.watermark AS watermark_moved, (stored_groups(a.view)).history > s.history_rows AS history_grew,
       a.watermark <= now() - a.seal_after AS watermark_not_in_future
  FROM hybridagg.aggregates a JOIN start s USING (name) WHERE name IN ('ticks_lambda', 'ticks_batch') ORDER BY 1;
-- in batch mode the late changes below W wait for a recompute of their
-- range (so ticks_batch differs); the other two are exact at once
UPDATE ticks SET v = v + 1000 WHERE ts < now() - interval '5 seconds' AND v % 3 = 0;
SELECT * FROM differing();
SET client_min_messages = warning;
CALL hybridagg.materialize('ticks_batch', now() - interval '1 hour', now());
RESET client_min_messages;
SELECT * FROM differing();
CALL wait_until($$NOT EXISTS (SELECT FROM hybridagg.aggregates WHERE name LIKE 'ticks\_%' AND pending_deltas > 0)$$);
SELECT * FROM differing();

SET client_min_messages = warning;
SELECT hybridagg.drop(aggregate) FROM checks ORDER BY aggregate;
RESET client_min_messages;
DROP FUNCTION differing();
DROP TABLE checks, ticks;
