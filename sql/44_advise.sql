-- hybridagg.advise(name, freshness, growth): one row per mode with what it
-- would cost this aggregate here, where each figure comes from, whether it
-- fits at growth times the data, and one mode recommended.
-- This file fails if: a mode is missing or two are recommended; the current
-- mode's figures are not measured, or a batch run is not sampled where the
-- aggregate never ran one; batch shows a write-path or worker cost, or a
-- streaming mode none; a freshness of a minute recommends batch (its
-- stored part trails by seal_after and more); at a huge growth batch or a
-- fold still fits; advise() leaves a trace (watermark, stored groups,
-- counters); a non-owner advises; bad arguments pass; a sample that cannot
-- run, or a figure that cannot be known (an empty table), is not said;
-- the write figures lack the transition table's copy of each row (sampled
-- over the base rows the owner may read, a positive part of the per-row
-- cost), or double the cost of statements of one size.
-- Dates: literal dates only (the figures are not printed, only their
-- signs and where they come from).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_adv_o;
CREATE ROLE regress_hybridagg_adv_reader;
CREATE ROLE regress_hybridagg_adv_member IN ROLE regress_hybridagg_adv_o;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_adv_o;

SET ROLE regress_hybridagg_adv_o;
CREATE TABLE adv40 (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
CREATE INDEX ON adv40 (ts);
INSERT INTO adv40
SELECT '2024-05-01 00:00+00'::timestamptz + i * interval '1 minute', i % 4, i % 97
  FROM generate_series(0, 3 * 1440 - 1) i;
\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, sum(value) AS total, max(value) AS hi FROM adv40 GROUP BY 1, 2'
SELECT hybridagg.create('adv40_hybrid', :'query', mode => 'hybrid') IS NOT NULL AS created;
SELECT hybridagg.create('adv40_batch', :'query', mode => 'batch') IS NOT NULL AS created;
GRANT SELECT ON adv40_hybrid, adv40_batch TO regress_hybridagg_adv_reader;
-- writes the capture of the hybrid aggregate pays for, folded by the worker
INSERT INTO adv40
SELECT '2024-05-04 00:00+00'::timestamptz + i * interval '1 minute', i % 4, 1
  FROM generate_series(0, 59) i;
INSERT INTO adv40 VALUES ('2024-05-04 01:00+00', 1, 1);
CALL wait_until($$(SELECT pending_deltas = 0 AND fold_deltas > 0 FROM hybridagg.aggregates WHERE name = 'adv40_hybrid')$$);

CREATE FUNCTION adv40(name text, freshness interval DEFAULT NULL, growth numeric DEFAULT 1)
RETURNS TABLE (mode text, current boolean, write_cost text, worker text, batch_run text,
               view_measures boolean, freshness_known boolean, storage boolean, fits boolean,
               provenance text)
LANGUAGE sql AS $$
    SELECT mode, current,
           CASE WHEN write_us_per_row = 0 THEN 'none' WHEN write_us_per_row > 0 THEN 'some' END
             || '/' || COALESCE(CASE WHEN write_us_per_statement = 0 THEN 'none' WHEN write_us_per_statement > 0 THEN 'some' END, 'unknown'),
           CASE WHEN worker_seconds_per_hour = 0 THEN 'none' WHEN worker_seconds_per_hour > 0 THEN 'some' END,
           CASE WHEN batch_seconds_per_run > 0 AND batch_seconds_per_day > 0 THEN 'some'
                WHEN batch_seconds_per_run IS NULL THEN 'none' END,
           view_ms_whole_range > 0 AND view_ms_last_hour > 0,
           stored_freshness > interval '0', storage_bytes > 0, fits,
           substring(figures from 'write: .*; storage: [a-z]+')
      FROM hybridagg.advise(name, freshness, growth)
$$;

-- the state advise() must leave as it found it
CREATE TEMP TABLE adv40_before AS
SELECT name, watermark, batch_runs, fold_runs, capture_statements, (stored_groups(view)).*
  FROM hybridagg.aggregates WHERE name LIKE 'adv40\_%';

-- (which mode is recommended without a freshness turns on timings; that
-- exactly one is, is checked below)
-- a hybrid aggregate that captured and folded: the streaming figures are
-- measured, batch's sampled (a rolled-back materialize()), and nothing
-- runs on batch's write path or worker
SELECT * FROM adv40('adv40_hybrid');
-- a batch aggregate: its own figures measured, the capture estimated
SELECT * FROM adv40('adv40_batch');

-- per row, the streaming modes add what PostgreSQL spends outside the
-- capture trigger: the copy of each row into the transition table, sampled
-- over the base table's rows (all 4,381), positive, a part of the per-row
-- cost, and bounded (a copy of three columns in memory, not 100 us)
CREATE FUNCTION adv40_transition(name text)
RETURNS TABLE (mode text, sampled_rows int, positive boolean, part_of_row boolean, bounded boolean)
LANGUAGE sql AS $$
    SELECT mode, substring(figures from 'sampled over ([0-9]+) base rows')::int, t > 0,
           t < write_us_per_row, t < 100
      FROM (SELECT mode, figures, write_us_per_row,
                   substring(figures from 'transition table: ([0-9.e+-]+) us a row')::float8 AS t
              FROM hybridagg.advise(name)) a
$$;
SELECT * FROM adv40_transition('adv40_hybrid');
SELECT * FROM adv40_transition('adv40_batch');

-- statements of one size: the fit cannot split the capture's time, so all
-- of it is per row, and per_statement + rows x per_row adds up to what a
-- statement cost (the transition table's part aside), not twice that
CREATE TABLE adv40_one (ts timestamptz NOT NULL, device int NOT NULL);
SELECT hybridagg.create('adv40_one_1h', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n FROM adv40_one GROUP BY 1, 2', mode => 'streaming') IS NOT NULL AS created;
INSERT INTO adv40_one SELECT '2024-05-01 00:00+00'::timestamptz + i * interval '1 minute', i % 4 FROM generate_series(1, 10) i;
INSERT INTO adv40_one SELECT '2024-05-02 00:00+00'::timestamptz + i * interval '1 minute', i % 4 FROM generate_series(1, 10) i;
INSERT INTO adv40_one SELECT '2024-05-03 00:00+00'::timestamptz + i * interval '1 minute', i % 4 FROM generate_series(1, 10) i;
SELECT v.write_us_per_statement AS per_statement,
       abs(v.write_us_per_row - substring(v.figures from 'transition table: ([0-9.e+-]+) us a row')::float8
           - s.capture_seconds * 1e6 / s.capture_rows) <= 0.001 * v.write_us_per_row AS per_row_is_the_average
  FROM hybridagg.advise('adv40_one_1h') v, hybridagg.aggregates s
 WHERE v.mode = 'streaming' AND s.name = 'adv40_one_1h' AND s.capture_statements = 3;
SELECT hybridagg.drop('adv40_one_1h');
DROP TABLE adv40_one;

-- the sample reads only what the owner may read: left with SELECT on the
-- aggregate's columns of the base table only, it is not taken, and figures
-- says why
RESET ROLE;
CREATE TABLE adv40_cols (ts timestamptz NOT NULL, device int NOT NULL, secret text);
INSERT INTO adv40_cols VALUES ('2024-05-01 00:00+00', 1, 'not the owner''s');
GRANT SELECT, TRIGGER ON adv40_cols TO regress_hybridagg_adv_o;
SET ROLE regress_hybridagg_adv_o;
SELECT hybridagg.create('adv40_cols_1h', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n FROM adv40_cols GROUP BY 1, 2', mode => 'streaming') IS NOT NULL AS created;
RESET ROLE;
REVOKE SELECT ON adv40_cols FROM regress_hybridagg_adv_o;
GRANT SELECT (ts, device) ON adv40_cols TO regress_hybridagg_adv_o;
SET ROLE regress_hybridagg_adv_o;
SELECT mode, substring(figures from 'write: [^;]*') AS write, substring(figures from 'transition table[^;]*$') AS transition
  FROM hybridagg.advise('adv40_cols_1h') WHERE mode IN ('batch', 'streaming') ORDER BY mode;
SELECT hybridagg.drop('adv40_cols_1h');
RESET ROLE;
DROP TABLE adv40_cols;
SET ROLE regress_hybridagg_adv_o;
SELECT mode, exactness FROM hybridagg.advise('adv40_batch') ORDER BY mode;

-- a freshness of a minute: not batch, whose stored part trails by an hour
-- and more; any: one mode, with a reason
SELECT mode <> 'batch' AS not_batch, reason IS NOT NULL AS has_reason
  FROM hybridagg.advise('adv40_hybrid', '1 minute') WHERE recommended;
SELECT count(*) FILTER (WHERE recommended) AS recommended, count(reason) AS reasons
  FROM hybridagg.advise('adv40_hybrid');
SELECT stored_freshness >= interval '1 hour' AS batch_trails_by_seal_after
  FROM hybridagg.advise('adv40_hybrid') WHERE mode = 'batch';

-- a thousand million times the data: a batch run outlasts its schedule and
-- the fold cannot keep up; nothing fits, and the reason says so
SELECT mode, fits, split_part(limit_reached, ' (', 1) AS limit_reached
  FROM hybridagg.advise('adv40_hybrid', NULL, 1e9);
SELECT mode, reason FROM hybridagg.advise('adv40_hybrid', NULL, 1e9) WHERE recommended;

-- advise() changed nothing
SELECT b.name, a.watermark = b.watermark AS same_watermark, a.batch_runs = b.batch_runs AS same_batch_runs,
       a.fold_runs = b.fold_runs AS same_fold_runs,
       (stored_groups(a.view)).history = b.history AS same_history,
       (stored_groups(a.view)).recent IS NOT DISTINCT FROM b.recent AS same_recent
  FROM hybridagg.aggregates a JOIN adv40_before b USING (name) ORDER BY name;
-- the hybrid view is exact; the batch view still lacks the late rows below
-- its watermark (5 groups): advise()'s sample materialize() of them was
-- rolled back
SELECT test_diff('adv40_hybrid', :'query', ARRAY['bucket', 'device']) AS hybrid_mismatches,
       test_diff('adv40_batch', :'query', ARRAY['bucket', 'device']) AS batch_late_groups;

-- once the batch aggregate has run a batch, its run time is measured
SET client_min_messages = warning;
CALL hybridagg.materialize('adv40_batch', '2024-05-04 00:00+00', '2024-05-04 02:00+00');
RESET client_min_messages;
SELECT mode, batch_run, provenance FROM adv40('adv40_batch') WHERE mode IN ('batch', 'lambda');

-- advise() runs under fixed settings: a search_path that shadows count()
-- and an odd DateStyle change nothing
RESET ROLE;
CREATE SCHEMA adv40_evil;
CREATE FUNCTION adv40_evil.count(anyelement) RETURNS bigint LANGUAGE sql AS 'SELECT 1 / 0';
GRANT USAGE ON SCHEMA adv40_evil TO PUBLIC;
SET ROLE regress_hybridagg_adv_o;
SET search_path = adv40_evil, pg_catalog, public;
SET DateStyle = 'SQL, DMY';
SELECT count(*) FILTER (WHERE fits) AS modes_that_fit FROM hybridagg.advise('adv40_hybrid');
RESET search_path;
RESET DateStyle;

-- outside READ COMMITTED the sample materialize() cannot run: said, and
-- batch's run time is unknown
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT mode, batch_seconds_per_run IS NULL AS batch_unknown, fits,
       substring(figures from 'batch sample failed: [^;]*') AS said
  FROM hybridagg.advise('adv40_hybrid') WHERE mode IN ('batch', 'lambda');
COMMIT;

-- only the owner (and its members) advise: a reader may not
SET ROLE regress_hybridagg_adv_reader;
SELECT * FROM hybridagg.advise('adv40_hybrid');
SET ROLE regress_hybridagg_adv_member;
SELECT count(*) AS modes FROM hybridagg.advise('adv40_hybrid');
SET ROLE regress_hybridagg_adv_o;

-- an empty base table: too little to measure or sample; said, not guessed
CREATE TABLE adv40_empty (ts timestamptz NOT NULL, device int NOT NULL);
SELECT hybridagg.create('adv40_empty_1h', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n FROM adv40_empty GROUP BY 1, 2', mode => 'hybrid') IS NOT NULL AS created;
SELECT mode, fits, limit_reached, recommended, reason FROM hybridagg.advise('adv40_empty_1h');
SELECT substring(figures from 'transition table[^;]*$') AS transition
  FROM hybridagg.advise('adv40_empty_1h') WHERE mode = 'streaming';
SELECT hybridagg.drop('adv40_empty_1h');
DROP TABLE adv40_empty;

-- bad arguments
SELECT * FROM hybridagg.advise(NULL);
SELECT * FROM hybridagg.advise('adv40_hybrid', NULL, 0);
SELECT * FROM hybridagg.advise('adv40_hybrid', '-1 minute');
SELECT * FROM hybridagg.advise('adv40_nothing');

SELECT hybridagg.drop('adv40_hybrid'), hybridagg.drop('adv40_batch');
DROP FUNCTION adv40(text, interval, numeric);
DROP FUNCTION adv40_transition(text);
DROP TABLE adv40, adv40_before;
RESET ROLE;
DROP SCHEMA adv40_evil CASCADE;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_adv_o;
DROP ROLE regress_hybridagg_adv_member;
DROP ROLE regress_hybridagg_adv_reader;
DROP ROLE regress_hybridagg_adv_o;
