-- Batch mode: history below the watermark W, the raw rows at or above W
-- aggregated at query time.  The view equals the defining query after
-- create, after new rows (above W: at once), and after late rows, UPDATE and
-- DELETE below W once hybridagg.materialize() has recomputed their range;
-- before that, below W it is as fresh as the last batch (the documented
-- exception of batch mode).  materialize() without a range seals what is due,
-- in chunks; inside a transaction block it does all chunks in that
-- transaction.  Times are relative to now(), so nothing printed depends on
-- them: only comparisons and booleans.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
CREATE INDEX ON events (ts);
-- four days of rows, the newest a minute old
INSERT INTO events (ts, device_id, value)
SELECT now() - interval '1 minute' - i * interval '69 seconds', i % 5, (i % 113) / 3.0
  FROM generate_series(0, 5000) i;

\set query 'SELECT date_bin(''5 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi FROM events GROUP BY 1, 2'

-- the part of the view at or above the watermark, and of the query
CREATE FUNCTION diff_above_watermark(agg regclass, query text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    w timestamptz := (SELECT watermark FROM hybridagg.aggregates WHERE view = agg);
    mismatches bigint;
BEGIN
    EXECUTE format('CREATE TEMP VIEW above_watermark AS SELECT * FROM %s WHERE bucket >= %L', agg, w);
    mismatches := test_diff('above_watermark', format('SELECT * FROM (%s) q WHERE bucket >= %L', query, w), '{bucket,device_id}');
    DROP VIEW above_watermark;
    RETURN mismatches;
END
$$;

-- create: history is filled up to W, the newest complete bucket older than
-- now() - seal_after
SELECT hybridagg.create('events_5m', :'query', mode => 'batch', seal_after => '1 hour');
SELECT mode, seal_after,
       watermark <= now() - seal_after AS watermark_old_enough,
       watermark > now() - seal_after - interval '15 minutes' AS watermark_recent_enough,
       watermark = date_bin('5 minutes', watermark, '2000-01-01 00:00+00') AS watermark_on_a_bucket,
       (stored_groups(view)).history > 0 AS has_history, batches, last_batch_at IS NOT NULL AS has_batch_time,
       last_batch_seconds >= 0 AS has_batch_seconds,
       recent_rows IS NULL AND pending_deltas IS NULL AS no_stream
  FROM hybridagg.aggregates WHERE name = 'events_5m';
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') AS after_create;

-- new rows above the watermark show at once
INSERT INTO events (ts, device_id, value)
SELECT now() - i * interval '7 seconds', i % 6, i FROM generate_series(0, 200) i;
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') AS after_new_rows;

-- late rows, an UPDATE and a DELETE, all between 3 and 2 days ago, below W
INSERT INTO events (ts, device_id, value)
SELECT now() - interval '2 days' - i * interval '13 seconds', i % 4, -i FROM generate_series(1, 300) i;
UPDATE events SET value = value * 2, device_id = device_id + 10
 WHERE ts BETWEEN now() - interval '2 days 20 hours' AND now() - interval '2 days 10 hours' AND id % 3 = 0;
DELETE FROM events WHERE ts BETWEEN now() - interval '2 days 6 hours' AND now() - interval '2 days 5 hours';
-- batch mode serves the last batch below W: stale there until the next
-- materialize of that range, exact above W
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') > 0 AS stale_below_watermark;
SELECT diff_above_watermark('events_5m', :'query') AS above_watermark;

-- recompute that range: exact again; the watermark did not move
CREATE TEMP TABLE w AS SELECT watermark FROM hybridagg.aggregates WHERE name = 'events_5m';
-- (and leaves the session's work_mem as it was)
SET client_min_messages = warning;   -- materialize's NOTICEs hold times
SET work_mem = '1MB';
CALL hybridagg.materialize('events_5m', now() - interval '3 days', now() - interval '2 days');
SHOW work_mem;
RESET work_mem;
RESET client_min_messages;
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') AS after_materialize_range;
SELECT a.watermark = w.watermark AS watermark_unchanged, batches > 1 AS counted
  FROM hybridagg.aggregates a, w WHERE name = 'events_5m';

-- a range that runs into the future: the watermark never passes
-- now() - seal_after, so fresh rows are never hidden behind it
INSERT INTO events (ts, device_id, value) VALUES (now() - interval '30 seconds', 1, 1000);
SET client_min_messages = warning;
CALL hybridagg.materialize('events_5m', now() - interval '1 day', now() + interval '1 day');
RESET client_min_messages;
SELECT watermark <= now() - seal_after AS watermark_not_in_future FROM hybridagg.aggregates WHERE name = 'events_5m';
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') AS after_future_range;
INSERT INTO events (ts, device_id, value) VALUES (now(), 2, 2000);
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') AS fresh_row_after_future_range;

-- materialize() without a range: seals every complete bucket older than
-- seal_after, in chunks of hybridagg.materialize_chunk, committing between
-- them.  An aggregate created without data starts with no history at all.
SELECT hybridagg.create('events_5m_late', :'query', mode => 'batch', with_data => false);
SELECT watermark = '-infinity' AS no_watermark, (stored_groups(view)).history, batches
  FROM hybridagg.aggregates WHERE name = 'events_5m_late';
SELECT test_diff('events_5m_late', :'query', '{bucket,device_id}') AS all_raw;
SET hybridagg.materialize_chunk = '12h';
SET client_min_messages = warning;
CALL hybridagg.materialize('events_5m_late');
RESET client_min_messages;
RESET hybridagg.materialize_chunk;
SELECT watermark <= now() - seal_after AS watermark_old_enough,
       watermark > now() - seal_after - interval '15 minutes' AS watermark_recent_enough,
       (stored_groups(view)).history > 0 AS has_history,
       batches >= 4 AS several_chunks
  FROM hybridagg.aggregates WHERE name = 'events_5m_late';
SELECT test_diff('events_5m_late', :'query', '{bucket,device_id}') AS after_materialize_all;
-- nothing is due now: a second run changes nothing
CREATE TEMP TABLE w2 AS SELECT watermark, (stored_groups(view)).history AS history_rows FROM hybridagg.aggregates WHERE name = 'events_5m_late';
SET client_min_messages = warning;
CALL hybridagg.materialize('events_5m_late');
RESET client_min_messages;
SELECT a.watermark >= w2.watermark AS watermark_kept, (stored_groups(a.view)).history >= w2.history_rows AS history_kept
  FROM hybridagg.aggregates a, w2 WHERE name = 'events_5m_late';
SELECT test_diff('events_5m_late', :'query', '{bucket,device_id}') AS after_second_run;
SET client_min_messages = warning;
SELECT hybridagg.drop('events_5m_late');
RESET client_min_messages;

-- inside a transaction block materialize() cannot commit: it does all its
-- chunks in the caller's transaction, which sees the result at once ...
SELECT hybridagg.create('events_5m_tx', :'query', mode => 'batch', with_data => false);
SET hybridagg.materialize_chunk = '12h';
SET client_min_messages = warning;
BEGIN;
CALL hybridagg.materialize('events_5m_tx');
SELECT watermark > '-infinity' AS sealed_in_transaction, (stored_groups(view)).history > 0 AS has_history
  FROM hybridagg.aggregates WHERE name = 'events_5m_tx';
SELECT test_diff('events_5m_tx', :'query', '{bucket,device_id}') AS in_transaction;
COMMIT;
SELECT watermark > '-infinity' AS sealed_after_commit FROM hybridagg.aggregates WHERE name = 'events_5m_tx';
SELECT test_diff('events_5m_tx', :'query', '{bucket,device_id}') AS after_commit;
-- ... and whose rollback undoes all of them
SELECT hybridagg.create('events_5m_rb', :'query', mode => 'batch', with_data => false);
BEGIN;
CALL hybridagg.materialize('events_5m_rb');
ROLLBACK;
SELECT watermark = '-infinity' AS rolled_back, (stored_groups(view)).history FROM hybridagg.aggregates WHERE name = 'events_5m_rb';
SELECT test_diff('events_5m_rb', :'query', '{bucket,device_id}') AS after_rollback;
-- a range recompute in a transaction block, with late rows written in it
BEGIN;
INSERT INTO events (ts, device_id, value)
SELECT now() - interval '36 hours' - i * interval '1 minute', 3, i FROM generate_series(1, 50) i;
DELETE FROM events WHERE ts BETWEEN now() - interval '30 hours' AND now() - interval '29 hours';
CALL hybridagg.materialize('events_5m', now() - interval '37 hours', now() - interval '29 hours');
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') AS range_in_transaction;
COMMIT;
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') AS range_after_commit;
RESET client_min_messages;
RESET hybridagg.materialize_chunk;

-- TRUNCATE is not captured in batch mode: history keeps the last batch
-- until a materialize of the range
TRUNCATE events;
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') > 0 AS stale_after_truncate;
SELECT diff_above_watermark('events_5m', :'query') AS above_watermark_after_truncate;
SET client_min_messages = warning;
CALL hybridagg.materialize('events_5m', now() - interval '5 days', now());
RESET client_min_messages;
SELECT test_diff('events_5m', :'query', '{bucket,device_id}') AS after_truncate_and_materialize;
SELECT (stored_groups('events_5m')).history;

-- bad ranges
CALL hybridagg.materialize('events_5m', now(), NULL);
\echo :LAST_ERROR_SQLSTATE
CALL hybridagg.materialize('events_5m', now(), now() - interval '1 day');
\echo :LAST_ERROR_SQLSTATE
CALL hybridagg.materialize('events_5m', now(), now());
\echo :LAST_ERROR_SQLSTATE
-- reprocess replays through a stream, which batch mode does not have
SELECT hybridagg.reprocess('events_5m', now() - interval '1 day', now());
\echo :LAST_ERROR_SQLSTATE

SET client_min_messages = warning;
SELECT hybridagg.drop('events_5m');
SELECT hybridagg.drop('events_5m_tx');
SELECT hybridagg.drop('events_5m_rb');
RESET client_min_messages;
SELECT count(*) AS aggregates_left FROM hybridagg.aggregates;
DROP FUNCTION diff_above_watermark(regclass, text);
DROP TABLE events;

-- recomputing groups is maintenance work: its hash table gets
-- maintenance_work_mem however small work_mem is.  With temp_file_limit = 0
-- any spill to disk is an error: the same grouping in the session's work_mem
-- spills, the recomputes of create and materialize do not.
CREATE TABLE readings (ts timestamptz NOT NULL, sensor int NOT NULL, value float8);
INSERT INTO readings
SELECT date_trunc('hour', now() - interval '2 days') + (i % 60) * interval '1 minute', i % 20000, i
  FROM generate_series(1, 40000) i;
\set readings_query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, sensor, count(*) AS n, sum(value) AS total FROM readings GROUP BY 1, 2'
SET work_mem = '64kB';
SET maintenance_work_mem = '16MB';
SET temp_file_limit = 0;
SELECT count(*) FROM (:readings_query) q;
\echo :LAST_ERROR_SQLSTATE
SET client_min_messages = warning;
SELECT hybridagg.create('readings_1h', :'readings_query', mode => 'batch', seal_after => '1 hour');
CALL hybridagg.materialize('readings_1h', now() - interval '3 days', now());
RESET client_min_messages;
SHOW work_mem;
RESET temp_file_limit;
RESET maintenance_work_mem;
RESET work_mem;
SELECT test_diff('readings_1h', :'readings_query', '{bucket,sensor}') AS readings_exact,
       (stored_groups('readings_1h')).history AS groups;
SET client_min_messages = warning;
SELECT hybridagg.drop('readings_1h');
RESET client_min_messages;
DROP TABLE readings;
