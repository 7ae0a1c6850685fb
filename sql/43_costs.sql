-- Costs: hybridagg.aggregates shows what each aggregate cost where it was
-- paid, counted in shared memory: capture statements, rows, delta rows
-- (groups) and seconds; folds, deltas folded and seconds; batch runs,
-- groups written and seconds; the freshness lag of the stored part; and
-- since when it counts.  hybridagg.reset_costs() starts them again.
-- This file fails if: a capture, fold or batch counter does not move by
-- exactly what the statements did (or a time stays at 0); a capture in a
-- rolled-back transaction is not counted at capture, or its delta row is
-- counted as folded; a reset leaves a counter; a role that does not own
-- the aggregate resets it, or anyone but a superuser resets them all; a
-- role that may not read the view sees its counters (through the status
-- view or hybridagg_internal.aggregate_costs()).
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_costs_o;
CREATE ROLE regress_hybridagg_costs_x;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_costs_o;

SET ROLE regress_hybridagg_costs_o;
CREATE TABLE costs39 (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
INSERT INTO costs39
SELECT '2024-03-01 00:00+00'::timestamptz + i * interval '10 minutes', i % 2, i
  FROM generate_series(0, 143) i;
\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, sum(value) AS total FROM costs39 GROUP BY 1, 2'
SELECT hybridagg.create('costs39_stream', :'query', mode => 'streaming') IS NOT NULL AS created;
SELECT hybridagg.create('costs39_batch', :'query', mode => 'batch') IS NOT NULL AS created;
SELECT hybridagg.reset_costs('costs39_stream'), hybridagg.reset_costs('costs39_batch');

CREATE FUNCTION costs39() RETURNS TABLE (
    name text, capture_statements bigint, capture_rows bigint, capture_groups bigint,
    captured_for_some_time boolean, fold_deltas bigint, batch_runs bigint, batch_run_groups bigint,
    batched_for_some_time boolean)
LANGUAGE sql AS $$
    SELECT name, capture_statements, capture_rows, capture_groups, capture_seconds > 0,
           fold_deltas, batch_runs, batch_run_groups, batch_seconds > 0
      FROM hybridagg.aggregates WHERE name LIKE 'costs39\_%' ORDER BY name
$$;
SELECT * FROM costs39();

-- one statement of 10 rows in 2 groups (device 0 and 1 of one hour), one of
-- 5 rows in 1 group, an UPDATE of 3 rows of one group (its old and new
-- rows make one delta row), a DELETE of 2 rows of 2 groups
INSERT INTO costs39
SELECT '2024-03-02 10:00+00'::timestamptz + i * interval '1 minute', i % 2, 1
  FROM generate_series(0, 9) i;
INSERT INTO costs39
SELECT '2024-03-02 11:00+00'::timestamptz + i * interval '1 minute', 0, 1
  FROM generate_series(0, 4) i;
UPDATE costs39 SET value = value + 1
 WHERE ts IN ('2024-03-02 11:00+00', '2024-03-02 11:01+00', '2024-03-02 11:02+00');
DELETE FROM costs39 WHERE ts IN ('2024-03-02 10:00+00', '2024-03-02 10:01+00');
SELECT * FROM costs39() WHERE name = 'costs39_stream';

-- a capture in a transaction that rolls back was paid: it is counted at
-- capture (1 statement, 4 rows, 1 delta row); its delta row is never
-- folded, so the fold counters do not count it
BEGIN;
INSERT INTO costs39
SELECT '2024-03-02 12:00+00'::timestamptz + i * interval '1 minute', 0, 1
  FROM generate_series(0, 3) i;
ROLLBACK;
SELECT name, capture_statements, capture_rows, capture_groups FROM costs39() WHERE name = 'costs39_stream';

-- the worker folds the 6 committed delta rows, in one fold or several
CALL wait_until($$(SELECT fold_deltas = 6 AND pending_deltas = 0 FROM hybridagg.aggregates WHERE name = 'costs39_stream')$$);
SELECT fold_runs >= 1 AS folded, fold_deltas, fold_seconds > 0 AS folded_for_some_time,
       freshness_lag AS lag_when_nothing_is_pending
  FROM hybridagg.aggregates WHERE name = 'costs39_stream';
SELECT test_diff('costs39_stream', :'query', ARRAY['bucket', 'device']) AS stream_mismatches;

-- batch runs: each materialize() of a range is one run and writes the
-- groups of the range (10:00 of devices 0 and 1, 11:00 of device 0: 3
-- groups); the writes above cost a batch aggregate nothing
SET client_min_messages = warning;
CALL hybridagg.materialize('costs39_batch', '2024-03-02 10:00+00', '2024-03-02 12:00+00');
SELECT name, batch_runs, batch_run_groups, batch_seconds > 0 AS batched_for_some_time,
       capture_statements
  FROM hybridagg.aggregates WHERE name = 'costs39_batch';
CALL hybridagg.materialize('costs39_batch', '2024-03-02 10:00+00', '2024-03-02 12:00+00');
RESET client_min_messages;
SELECT name, batch_runs, batch_run_groups FROM hybridagg.aggregates WHERE name = 'costs39_batch';
SELECT test_diff('costs39_batch', :'query', ARRAY['bucket', 'device']) AS batch_mismatches;
-- in batch mode the stored part trails now() by the watermark's lag: about
-- seal_after (1 hour) and at most one bucket more
SELECT freshness_lag BETWEEN interval '1 hour' AND interval '2 hours' AS batch_lag_about_seal_after
  FROM hybridagg.aggregates WHERE name = 'costs39_batch';

-- while a delta is pending, the lag is the time since a fold last found
-- nothing older pending: known, and not negative
BEGIN;
INSERT INTO costs39 VALUES ('2024-03-02 13:00+00', 0, 1);
SELECT pending_deltas, freshness_lag >= interval '0' AS lag_known
  FROM hybridagg.aggregates WHERE name = 'costs39_stream';
COMMIT;

-- only those who may read the view see the counters
SET ROLE regress_hybridagg_costs_x;
SELECT * FROM costs39();
SELECT costs_since IS NULL AS since_hidden, freshness_lag IS NULL AS lag_hidden
  FROM hybridagg.aggregates WHERE name = 'costs39_stream';
-- the function the status view calls (PUBLIC may execute it) checks too
SELECT k.capture_statements IS NULL AS statements_hidden, k.since IS NULL AS since_hidden
  FROM hybridagg_internal.aggregate a, hybridagg_internal.aggregate_costs(a.id) k
 WHERE a.view = 'costs39_stream'::regclass;
-- ... and only the owner resets an aggregate's, only a superuser everyone's
SELECT hybridagg.reset_costs('costs39_stream');
SELECT hybridagg.reset_costs();
SET ROLE regress_hybridagg_costs_o;
SELECT hybridagg.reset_costs();
SELECT capture_statements FROM hybridagg.aggregates WHERE name = 'costs39_stream';

-- a reset by the owner starts one aggregate's counters again, from now
SELECT now() AS before_reset \gset
SELECT hybridagg.reset_costs('costs39_stream');
SELECT name, capture_statements, capture_rows, capture_groups, capture_seconds,
       fold_runs, fold_deltas, fold_seconds, costs_since >= :'before_reset' AS since_reset
  FROM hybridagg.aggregates WHERE name = 'costs39_stream';
SELECT batch_runs FROM hybridagg.aggregates WHERE name = 'costs39_batch';
RESET ROLE;
-- a superuser resets every aggregate of the database
SELECT hybridagg.reset_costs();
SELECT name, batch_runs, batch_run_groups, batch_seconds, costs_since >= :'before_reset' AS since_reset
  FROM hybridagg.aggregates WHERE name LIKE 'costs39\_%' ORDER BY name;

-- the base rows a batch view aggregates at every query (above its
-- watermark): the planner's estimate, about the 100 rows written there;
-- none in the streaming modes, and hidden from who may not read the view
SET ROLE regress_hybridagg_costs_o;
INSERT INTO costs39
SELECT '2999-01-01 00:00+00'::timestamptz + i * interval '1 minute', 0, 1
  FROM generate_series(1, 100) i;
ANALYZE costs39;
SELECT name, batch_tail_rows BETWEEN 50 AND 200 AS tail_about_100, batch_tail_rows IS NULL AS no_tail
  FROM hybridagg.aggregates WHERE name LIKE 'costs39\_%' ORDER BY name;
SET ROLE regress_hybridagg_costs_x;
SELECT batch_tail_rows IS NULL AS tail_hidden FROM hybridagg.aggregates WHERE name = 'costs39_batch';
SET ROLE regress_hybridagg_costs_o;
SELECT hybridagg.drop('costs39_stream'), hybridagg.drop('costs39_batch');
DROP TABLE costs39;
DROP FUNCTION costs39();
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_costs_o;
DROP ROLE regress_hybridagg_costs_o;
DROP ROLE regress_hybridagg_costs_x;
