-- The status view hybridagg.aggregates: one row per aggregate with its
-- mode, watermark, seal_after, table sizes (history_rows, recent_rows:
-- estimates from the statistics, compared with the stored groups once the
-- statistics are flushed), pending work (pending_deltas, dirty_groups,
-- exact), the state of the capture, batch and fold counters and times, and
-- the last error of the worker.  Values that depend on the clock are shown
-- as comparisons; row counts are compared with the raw query.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, device_id int NOT NULL, value float8, note text);
CREATE INDEX ON events (ts);
INSERT INTO events (ts, device_id, value)
SELECT now() - i * interval '97 seconds', i % 4, i % 53 FROM generate_series(1, 3000) i;

\set query 'SELECT date_bin(''10 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, min(value) AS lo FROM events GROUP BY 1, 2'

SELECT hybridagg.create('status_batch', :'query', mode => 'batch', seal_after => '2 hours');
SELECT hybridagg.create('status_hybrid', :'query', mode => 'hybrid', seal_after => '30 minutes');
SELECT hybridagg.create('status_streaming', :'query', mode => 'streaming');

-- what each aggregate is
SELECT name, view, base_table, mode, seal_after, owner = current_user::regrole AS owned_by_me,
       created_at <= now() AS created, definition = :'query' AS definition_kept
  FROM hybridagg.aggregates WHERE name LIKE 'status\_%' ORDER BY name;

-- the estimates of the stored groups are the counts once the statistics
-- of this session (which created the groups) and the worker are flushed
CREATE FUNCTION sizes_settled() RETURNS boolean LANGUAGE sql AS $$
    SELECT bool_and(history_rows = (stored_groups(view)).history
                    AND recent_rows IS NOT DISTINCT FROM (stored_groups(view)).recent)
      FROM hybridagg.aggregates WHERE name LIKE 'status\_%'
$$;
SELECT pg_stat_force_next_flush();
CALL wait_until('sizes_settled()');

-- after create: the watermark is the newest complete bucket older than
-- now() - seal_after (none in streaming mode); history and recent hold one
-- row per group below and at or above it; the capture is on
SELECT name,
       CASE WHEN mode = 'streaming' THEN watermark = '-infinity'
            ELSE watermark <= now() - seal_after
             AND watermark > now() - seal_after - interval '20 minutes'
             AND watermark = date_bin('10 minutes', watermark, '2000-01-01 00:00+00') END AS watermark_right,
       history_rows = (SELECT count(*) FROM (SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS b, device_id
                                               FROM events GROUP BY 1, 2) g WHERE g.b < a.watermark) AS history_rows_right,
       CASE WHEN mode = 'batch' THEN recent_rows IS NULL
            ELSE recent_rows = (SELECT count(*) FROM (SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS b, device_id
                                                        FROM events GROUP BY 1, 2) g WHERE g.b >= a.watermark) END AS recent_rows_right,
       CASE WHEN mode = 'batch' THEN pending_deltas IS NULL AND dirty_groups IS NULL
            ELSE pending_deltas = 0 AND dirty_groups = 0 END AS nothing_pending,
       capture,
       batches >= 1 AS batch_counted, last_batch_at IS NOT NULL AS has_batch_at, last_batch_seconds >= 0 AS has_batch_seconds,
       folds, folded_deltas, last_fold_at IS NULL AS not_folded_yet, last_error IS NULL AS no_error
  FROM hybridagg.aggregates a WHERE name LIKE 'status\_%' ORDER BY name;

-- an UPDATE of a column the aggregates do not use writes no delta
BEGIN;
UPDATE events SET note = 'seen' WHERE id % 3 = 0;
SELECT name, pending_deltas, dirty_groups FROM hybridagg.aggregates WHERE name LIKE 'status\_%' AND mode <> 'batch' ORDER BY name;
ROLLBACK;

-- writes show as pending deltas until the worker folds them; a DELETE that
-- takes away a minimum makes its group dirty (in one transaction, so that
-- the worker cannot fold them before we look)
SELECT clock_timestamp() AS before_fold \gset
BEGIN;
INSERT INTO events (ts, device_id, value) SELECT now() - i * interval '1 second', i % 4, i FROM generate_series(1, 100) i;
DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < now() - interval '1 day' ORDER BY id LIMIT 5);
SELECT name, pending_deltas > 0 AS deltas_pending, dirty_groups > 0 AS groups_dirty
  FROM hybridagg.aggregates WHERE name LIKE 'status\_%' AND mode <> 'batch' ORDER BY name;
COMMIT;

-- the worker folds them, and counts what it did
CALL wait_until($$NOT EXISTS (SELECT FROM hybridagg.aggregates WHERE name LIKE 'status\_%' AND (pending_deltas > 0 OR dirty_groups > 0))$$);
SELECT name, folds > 0 AS folded, folded_deltas >= folds AS counted,
       last_fold_at >= :'before_fold' AS fold_time_recorded, last_fold_seconds >= 0 AS has_fold_seconds,
       last_error IS NULL AS no_error
  FROM hybridagg.aggregates WHERE name LIKE 'status\_%' AND mode <> 'batch' ORDER BY name;
-- and the table sizes stay right
SELECT pg_stat_force_next_flush();
CALL wait_until('sizes_settled()');
SELECT name,
       history_rows + coalesce(recent_rows, 0) = (SELECT count(*) FROM (SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS b, device_id
                                                                          FROM events GROUP BY 1, 2) g) AS one_row_per_group
  FROM hybridagg.aggregates WHERE name LIKE 'status\_%' AND mode <> 'batch' ORDER BY name;

-- two DELETEs that each take a row of the same group dirty it twice: one
-- dirty group (two dirty deltas), as the view recomputes it once
BEGIN;
SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS b, device_id AS d
  FROM events WHERE ts BETWEEN now() - interval '1 day' AND now() - interval '2 hours'
 GROUP BY 1, 2 HAVING count(*) >= 2 ORDER BY 1, 2 LIMIT 1 \gset
DELETE FROM events WHERE id = (SELECT min(id) FROM events WHERE date_bin('10 minutes', ts, '2000-01-01 00:00+00') = :'b' AND device_id = :d);
DELETE FROM events WHERE id = (SELECT min(id) FROM events WHERE date_bin('10 minutes', ts, '2000-01-01 00:00+00') = :'b' AND device_id = :d);
SELECT name, pending_deltas, dirty_groups FROM hybridagg.aggregates WHERE name LIKE 'status\_%' AND mode <> 'batch' ORDER BY name;
COMMIT;
CALL wait_until($$NOT EXISTS (SELECT FROM hybridagg.aggregates WHERE name LIKE 'status\_%' AND (pending_deltas > 0 OR dirty_groups > 0))$$);

-- a batch run is counted, with its time
SELECT batches AS batches_before FROM hybridagg.aggregates WHERE name = 'status_batch' \gset
SELECT clock_timestamp() AS before_batch \gset
SET client_min_messages = warning;
CALL hybridagg.materialize('status_batch', now() - interval '3 days', now());
RESET client_min_messages;
SELECT pg_stat_force_next_flush();
CALL wait_until('sizes_settled()');
SELECT batches > :batches_before AS batch_counted, batch_groups > 0 AS groups_counted,
       last_batch_at >= :'before_batch' AS batch_time_recorded, last_batch_seconds >= 0 AS has_batch_seconds,
       history_rows = (SELECT count(*) FROM (SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS b, device_id
                                               FROM events GROUP BY 1, 2) g WHERE g.b < a.watermark) AS history_rows_right
  FROM hybridagg.aggregates a WHERE name = 'status_batch';

-- an aggregate whose fold fails: the error is stored and shown, the worker
-- retries, the other aggregates go on, and the view stays exact meanwhile.
-- (The failure is made by hand: a constraint on the internal table recent.)
SELECT format('hybridagg_internal.recent_%s', id) AS broken_recent
  FROM hybridagg_internal.aggregate WHERE view = 'status_streaming'::regclass \gset
ALTER TABLE :broken_recent ADD CONSTRAINT broken CHECK (__rows < 0) NOT VALID;
SELECT clock_timestamp() AS before_error \gset
INSERT INTO events (ts, device_id, value) VALUES (now(), 1, 1000), (now(), 2, 2000);
CALL wait_until($$(SELECT last_error IS NOT NULL FROM hybridagg.aggregates WHERE name = 'status_streaming')$$);
SELECT name, last_error LIKE '%violates check constraint "broken"%' AS error_shown,
       last_error_at >= :'before_error' AS error_time_recorded, pending_deltas > 0 AS still_pending
  FROM hybridagg.aggregates WHERE name = 'status_streaming';
CALL wait_until($$(SELECT pending_deltas = 0 FROM hybridagg.aggregates WHERE name = 'status_hybrid')$$);
SELECT name, pending_deltas, last_error IS NULL AS no_error FROM hybridagg.aggregates WHERE name = 'status_hybrid';
SELECT test_diff('status_streaming', :'query', '{bucket,device_id}') AS exact_while_failing;
-- repaired: the next retry folds, and the error is cleared
ALTER TABLE :broken_recent DROP CONSTRAINT broken;
CALL wait_until($$(SELECT pending_deltas = 0 AND last_error IS NULL FROM hybridagg.aggregates WHERE name = 'status_streaming')$$);
SELECT test_diff('status_streaming', :'query', '{bucket,device_id}') AS exact_after_repair;

-- the worker of this database is visible as such
SELECT count(*) AS workers FROM pg_stat_activity
 WHERE backend_type = 'hybridagg worker' AND datname = current_database();

-- anyone may read the status view; what an aggregate's tables hold shows
-- only to those who may read its view
CREATE ROLE regress_hybridagg_reader;
GRANT SELECT ON status_hybrid TO regress_hybridagg_reader;
SET ROLE regress_hybridagg_reader;
SELECT name, mode, history_rows >= 0 AS has_history_rows, pending_deltas >= 0 OR mode = 'batch' AS has_pending,
       capture
  FROM hybridagg.aggregates WHERE name LIKE 'status\_%' ORDER BY name;
RESET ROLE;
REVOKE SELECT ON status_hybrid FROM regress_hybridagg_reader;
DROP ROLE regress_hybridagg_reader;

-- a dropped aggregate leaves the status view
SET client_min_messages = warning;
SELECT hybridagg.drop('status_batch');
SELECT hybridagg.drop('status_hybrid');
SELECT hybridagg.drop('status_streaming');
RESET client_min_messages;
SELECT count(*) AS aggregates FROM hybridagg.aggregates WHERE name LIKE 'status\_%';
SELECT count(*) AS orphan_stats_rows FROM hybridagg_internal.aggregate_stats WHERE id NOT IN (SELECT id FROM hybridagg_internal.aggregate);

DROP TABLE events;
