-- No session setting moves a bucket.  The aggregates are created under one
-- TimeZone (America/St_Johns, -03:30), then written to, materialized and
-- queried under others (UTC, Asia/Kathmandu, America/St_Johns,
-- Pacific/Chatham +13:45), with odd DateStyle, IntervalStyle and search_path
-- too, while the worker folds in the server's default TimeZone, whatever
-- it is (Asia/Kathmandu in the cluster of scripts/test.sh).  After every
-- step each view is compared with its defining query written so that its
-- meaning does not depend on the session: origins with an explicit offset,
-- date_trunc with a named zone.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

SET TimeZone = 'America/St_Johns';

CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, lts timestamp NOT NULL,
                     device_id int NOT NULL, value float8);
CREATE INDEX ON events (ts);
CREATE FUNCTION add_events(n int, newest timestamptz, step interval) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO public.events (ts, lts, device_id, value)
    SELECT t, t AT TIME ZONE 'Asia/Tokyo', i % 4, i % 97
      FROM generate_series(1, n) i, LATERAL (SELECT newest - i * step AS t) x
$$;
SELECT add_events(3000, now(), '83 seconds');
-- around the end of summer time in Paris (a 25-hour day) and in St John's.
-- Every time in this test is relative to now(), these days too: the latest
-- day of 25 hours of each zone that ended at least a week ago (found by
-- looking back from today, so that the test does not age)
CREATE FUNCTION last_day_of_25_hours(zone text) RETURNS timestamptz
LANGUAGE sql AS $$
    SELECT max(d::timestamp AT TIME ZONE zone)
      FROM generate_series(1, 400) g, LATERAL (SELECT (now() AT TIME ZONE zone)::date - 7 - g AS d) x
     WHERE ((d + 1)::timestamp AT TIME ZONE zone) - (d::timestamp AT TIME ZONE zone) = interval '25 hours'
$$;
CREATE TABLE dst_days AS
SELECT last_day_of_25_hours('Europe/Paris') AS paris_day, last_day_of_25_hours('America/St_Johns') AS st_johns_day;
SELECT ((paris_day AT TIME ZONE 'Europe/Paris' + interval '1 day') AT TIME ZONE 'Europe/Paris') = paris_day + interval '25 hours' AS paris_25_hours,
       ((st_johns_day AT TIME ZONE 'America/St_Johns' + interval '1 day') AT TIME ZONE 'America/St_Johns') = st_johns_day + interval '25 hours' AS st_johns_25_hours,
       paris_day < now() - interval '7 days' AND st_johns_day < now() - interval '7 days' AS a_week_ago
  FROM dst_days;
-- (in UTC the Paris day begins at 22:00 and the St John's one at 02:30; the
-- rows run into the day after each)
SELECT add_events(200, paris_day + interval '30 hours', '7 minutes') FROM dst_days;
SELECT add_events(200, st_johns_day + interval '27 hours 30 minutes', '7 minutes') FROM dst_days;

-- the raw queries, whose meaning does not depend on the session
\set q_hour 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, max(value) AS hi FROM events GROUP BY 1, 2'
\set q_paris 'SELECT date_trunc(''day'', ts, ''Europe/Paris'') AS day, device_id, count(*) AS n, avg(value) AS mean, min(value) AS lo FROM events GROUP BY 1, 2'
\set q_origin 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00-03:30'') AS day, count(*) AS n, sum(value) AS total FROM events GROUP BY 1'
\set q_wall 'SELECT date_bin(''30 minutes'', lts, ''2000-01-01'') AS bucket, device_id, count(*) AS n, sum(value) AS total FROM events GROUP BY 1, 2'
\set q_wall_day 'SELECT date_trunc(''day'', lts) AS day, count(*) AS n, max(value) AS hi FROM events GROUP BY 1'

-- created under St John's time
SELECT hybridagg.create('tz_hour_batch', :'q_hour', mode => 'batch');
SELECT hybridagg.create('tz_hour_hybrid', :'q_hour', mode => 'hybrid');
SELECT hybridagg.create('tz_paris_batch', :'q_paris', mode => 'batch');
SELECT hybridagg.create('tz_paris_hybrid', :'q_paris', mode => 'hybrid');
-- an origin without an offset is read once, at create, in the creating
-- session's TimeZone: 2000-01-01 00:00 in St John's, for good
SELECT hybridagg.create('tz_origin', $$SELECT date_bin('1 day', ts, '2000-01-01') AS day, count(*) AS n, sum(value) AS total FROM events GROUP BY 1$$, mode => 'lambda');
SELECT bucket_origin = '2000-01-01 00:00-03:30' AS origin_read_in_st_johns
  FROM hybridagg_internal.aggregate WHERE view = 'tz_origin'::regclass;
-- timestamp (without time zone) buckets are wall-clock buckets everywhere
SELECT hybridagg.create('tz_wall', :'q_wall', mode => 'kappa');
SELECT hybridagg.create('tz_wall_day', :'q_wall_day', mode => 'batch');

-- each aggregate and its raw query
CREATE TABLE checks (aggregate text, query text, keys text[]);
INSERT INTO checks VALUES
    ('tz_hour_batch', :'q_hour', '{bucket,device_id}'),
    ('tz_hour_hybrid', :'q_hour', '{bucket,device_id}'),
    ('tz_paris_batch', :'q_paris', '{day,device_id}'),
    ('tz_paris_hybrid', :'q_paris', '{day,device_id}'),
    ('tz_origin', :'q_origin', '{day}'),
    ('tz_wall', :'q_wall', '{bucket,device_id}'),
    ('tz_wall_day', :'q_wall_day', '{day}');
-- (an aggregate that is missing shows as NULL, and the others are checked)
CREATE FUNCTION check_all() RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT c.aggregate,
           CASE WHEN to_regclass('public.' || c.aggregate) IS NOT NULL
                THEN public.test_diff(('public.' || c.aggregate)::regclass, c.query, c.keys) END
      FROM public.checks c ORDER BY 1
$$;

-- one round of writes: new rows, late rows a day back and on the day after
-- the Paris day of 25 hours, rows moved between buckets and devices, rows
-- deleted; then the batch aggregates recompute the ranges the writes touched
CREATE FUNCTION write_round(k int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    quiet text := current_setting('client_min_messages');
    agg text;
    paris timestamptz := (SELECT paris_day FROM public.dst_days);
    st_johns timestamptz := (SELECT st_johns_day FROM public.dst_days);
BEGIN
    PERFORM public.add_events(30, now(), '10 seconds');
    PERFORM public.add_events(30, now() - interval '1 day', '3 minutes');
    PERFORM public.add_events(30, paris + interval '28 hours 30 minutes', '1 minute');
    UPDATE public.events SET ts = ts - interval '90 minutes', lts = lts - interval '90 minutes',
                             device_id = (device_id + 1) % 4, value = value + 1
     WHERE id % 23 = k;
    DELETE FROM public.events WHERE id % 29 = k;
    PERFORM set_config('client_min_messages', 'warning', false);
    FOR agg IN SELECT 'public.' || c.aggregate FROM public.checks c
                 JOIN hybridagg.aggregates a ON a.view = to_regclass('public.' || c.aggregate)
                WHERE a.mode = 'batch' ORDER BY 1 LOOP
        CALL hybridagg.materialize(agg, now() - interval '4 days', now());
        CALL hybridagg.materialize(agg, paris - interval '1 day', paris + interval '3 days');
        CALL hybridagg.materialize(agg, st_johns - interval '1 day', st_johns + interval '3 days');
    END LOOP;
    PERFORM set_config('client_min_messages', quiet, false);
END
$$;

CREATE PROCEDURE wait_drained(timeout interval DEFAULT '60 seconds') LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
BEGIN
    WHILE EXISTS (SELECT FROM hybridagg.aggregates WHERE pending_deltas > 0) LOOP
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'pending deltas were not folded within %', timeout;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;

-- in St John's, where they were made
SELECT * FROM check_all();

SET TimeZone = 'UTC';
SELECT write_round(1);
SELECT * FROM check_all();

SET TimeZone = 'Asia/Kathmandu';
SET DateStyle = 'German';
SET IntervalStyle = 'iso_8601';
SELECT write_round(2);
SELECT * FROM check_all();
RESET DateStyle;
RESET IntervalStyle;

-- a writer whose search_path holds neither public nor hybridagg
SET TimeZone = 'Pacific/Chatham';
SET search_path = pg_catalog, pg_temp;
SELECT public.write_round(3);
RESET search_path;
SELECT * FROM check_all();

SET TimeZone = 'America/St_Johns';
SELECT write_round(4);
SELECT * FROM check_all();

-- the worker (in the server's default TimeZone) folds the deltas: the
-- streaming aggregates stay exact
CALL wait_drained();
SET TimeZone = 'Pacific/Chatham';
SELECT * FROM check_all();

-- and materialize() without a range, under yet another TimeZone
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CALL hybridagg.materialize('tz_hour_batch');
CALL hybridagg.materialize('tz_hour_hybrid');
CALL hybridagg.materialize('tz_paris_hybrid');
CALL hybridagg.materialize('tz_origin');
CALL hybridagg.materialize('tz_wall');
CALL hybridagg.materialize('tz_wall_day');
RESET client_min_messages;
SET TimeZone = 'Asia/Kathmandu';
SELECT * FROM check_all();

-- a bucket is the same instant whoever asks: the Paris day at the end of
-- summer time lasted 25 hours
SET TimeZone = 'Pacific/Chatham';
SELECT count(*) FROM tz_paris_hybrid WHERE day = (SELECT paris_day FROM dst_days);
SELECT sum(n) = (SELECT count(*) FROM events, dst_days WHERE ts >= paris_day AND ts < paris_day + interval '25 hours')
       AS day_of_25_hours
  FROM tz_paris_hybrid WHERE day = (SELECT paris_day FROM dst_days);

RESET TimeZone;
SET client_min_messages = warning;
SELECT hybridagg.drop(aggregate) FROM checks WHERE to_regclass(aggregate) IS NOT NULL ORDER BY aggregate;
RESET client_min_messages;
DROP PROCEDURE wait_drained(interval);
DROP FUNCTION write_round(int);
DROP FUNCTION check_all();
DROP TABLE checks;
DROP TABLE dst_days;
DROP FUNCTION last_day_of_25_hours(text);
DROP FUNCTION add_events(int, timestamptz, interval);
DROP TABLE events;
