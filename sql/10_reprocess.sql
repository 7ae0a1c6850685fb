-- hybridagg.reprocess(name, range_start, range_end): Kappa's batch is a
-- replay of the base rows of a range through the streaming fold path.  It
-- returns the number of base rows replayed (those of the buckets the range
-- touches that pass the definition's WHERE), and the view stays exact.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, lts timestamp NOT NULL,
                     device_id int NOT NULL, value float8, qty int);
CREATE INDEX ON events (ts);
CREATE FUNCTION add_events(n int, newest timestamptz, step interval) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO events (ts, lts, device_id, value, qty)
    SELECT newest - i * step, (newest - i * step) AT TIME ZONE 'UTC', i % 4, (i % 61) / 2.0, i % 10 - 1
      FROM generate_series(1, n) i
$$;
SELECT add_events(4000, now(), '61 seconds');

\set query 'SELECT date_bin(''5 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi FROM events WHERE qty >= 0 GROUP BY 1, 2'

SELECT hybridagg.create('events_kappa', :'query', mode => 'kappa');
SELECT hybridagg.create('events_hybrid', :'query', mode => 'hybrid');
SELECT test_diff('events_kappa', :'query', '{bucket,device_id}') AS kappa_after_create;

-- a range on bucket boundaries: as many rows as the table holds there
SELECT date_bin('5 minutes', now() - interval '2 days', '2000-01-01 00:00+00') AS r_start,
       date_bin('5 minutes', now() - interval '1 day', '2000-01-01 00:00+00') AS r_end \gset
SELECT hybridagg.reprocess('events_kappa', :'r_start', :'r_end')
       = (SELECT count(*) FROM events WHERE ts >= :'r_start' AND ts < :'r_end' AND qty >= 0) AS replayed_all_rows;
SELECT test_diff('events_kappa', :'query', '{bucket,device_id}') AS after_reprocess;

-- a range that cuts buckets replays the whole buckets it touches
SELECT now() - interval '30 hours 2 minutes 7 seconds' AS r_start,
       now() - interval '20 hours 1 minute' AS r_end \gset
SELECT hybridagg.reprocess('events_kappa', :'r_start', :'r_end')
       = (SELECT count(*) FROM events
           WHERE date_bin('5 minutes', ts, '2000-01-01 00:00+00') >= date_bin('5 minutes', :'r_start', '2000-01-01 00:00+00')
             AND date_bin('5 minutes', ts, '2000-01-01 00:00+00') < date_bin('5 minutes', :'r_end', '2000-01-01 00:00+00') + interval '5 minutes'
             AND qty >= 0) AS replayed_whole_buckets;
SELECT test_diff('events_kappa', :'query', '{bucket,device_id}') AS after_unaligned_reprocess;

-- with changes of the range still pending (not folded yet)
UPDATE events SET value = value + 100, device_id = 7 WHERE ts > now() - interval '1 day' AND id % 9 = 0;
DELETE FROM events WHERE ts > now() - interval '1 day' AND id % 10 = 0;
SELECT add_events(100, now() - interval '12 hours', '1 minute');
SELECT hybridagg.reprocess('events_kappa', now() - interval '1 day', now())
       = (SELECT count(*) FROM events
           WHERE date_bin('5 minutes', ts, '2000-01-01 00:00+00') >= date_bin('5 minutes', now() - interval '1 day', '2000-01-01 00:00+00')
             AND qty >= 0) AS replayed_with_pending;
SELECT test_diff('events_kappa', :'query', '{bucket,device_id}') AS after_reprocess_with_pending;

-- the whole table, in a transaction with writes of its own
BEGIN;
SELECT add_events(50, now() - interval '3 days', '1 minute');
SELECT hybridagg.reprocess('events_kappa', now() - interval '30 days', now() + interval '1 day')
       = (SELECT count(*) FROM events WHERE qty >= 0) AS replayed_everything;
SELECT test_diff('events_kappa', :'query', '{bucket,device_id}') AS in_transaction;
COMMIT;
SELECT test_diff('events_kappa', :'query', '{bucket,device_id}') AS after_commit;

-- an empty range replays nothing
SELECT hybridagg.reprocess('events_kappa', now() - interval '300 days', now() - interval '200 days') AS replayed_from_empty_range;
SELECT test_diff('events_kappa', :'query', '{bucket,device_id}') AS after_empty_range;

-- reprocess in hybrid mode, over a range across the watermark
SELECT hybridagg.reprocess('events_hybrid', now() - interval '2 days', now())
       = (SELECT count(*) FROM events
           WHERE date_bin('5 minutes', ts, '2000-01-01 00:00+00') >= date_bin('5 minutes', now() - interval '2 days', '2000-01-01 00:00+00')
             AND qty >= 0) AS hybrid_replayed;
SELECT test_diff('events_hybrid', :'query', '{bucket,device_id}') AS hybrid_after_reprocess;

-- a timestamp (without time zone) aggregate reads the range as wall-clock
-- times in the session's TimeZone, whatever that is
SET TimeZone = 'Pacific/Chatham';
\set query_wall 'SELECT date_bin(''1 hour'', lts, ''2000-01-01'') AS bucket, count(*) AS n, sum(qty) AS q FROM events GROUP BY 1'
SELECT hybridagg.create('wall_kappa', :'query_wall', mode => 'kappa');
SELECT date_trunc('day', localtimestamp - interval '2 days') AS w_day \gset
SELECT hybridagg.reprocess('wall_kappa', :'w_day'::timestamp::timestamptz, (:'w_day'::timestamp + interval '1 day')::timestamptz)
       = (SELECT count(*) FROM events WHERE lts >= :'w_day' AND lts < :'w_day'::timestamp + interval '1 day')
       AS replayed_wall_clock_day;
SELECT test_diff('wall_kappa', :'query_wall', '{bucket}') AS wall_after_reprocess;
RESET TimeZone;

-- folding what is pending changes nothing
SET client_min_messages = warning;
CALL hybridagg.materialize('events_kappa');
RESET client_min_messages;
SELECT test_diff('events_kappa', :'query', '{bucket,device_id}') AS after_fold;

-- refusals
SELECT hybridagg.create('events_batch', :'query', mode => 'batch');
SELECT hybridagg.reprocess('events_batch', now() - interval '1 day', now());
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.reprocess('events_kappa', now(), now() - interval '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.reprocess('events_kappa', now() - interval '1 day', NULL);
\echo :LAST_ERROR_SQLSTATE
-- a mover reads the table in a snapshot taken after it locks the
-- aggregate: not in a transaction whose snapshot is older
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT hybridagg.reprocess('events_kappa', now() - interval '1 day', now());
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
BEGIN ISOLATION LEVEL REPEATABLE READ;
CALL hybridagg.materialize('events_kappa');
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT hybridagg.create('events_streaming', :'query', mode => 'streaming');
ROLLBACK;
\echo :LAST_ERROR_SQLSTATE

SET client_min_messages = warning;
SELECT hybridagg.drop('events_kappa');
SELECT hybridagg.drop('events_hybrid');
SELECT hybridagg.drop('events_batch');
SELECT hybridagg.drop('wall_kappa');
RESET client_min_messages;
DROP FUNCTION add_events(int, timestamptz, interval);
DROP TABLE events;
