-- Definitions that hybridagg accepts: every bucket function, extra keys
-- (a nullable one with NULLs, an expression, a varchar), expressions in the
-- select list, HAVING, an immutable WHERE, ORDER BY (ignored with a NOTICE),
-- and count/sum/avg/min/max over every supported type.
--
-- Each definition is created in all five modes.  In each mode its view is
-- compared with the defining query itself (test_diff, one statement, FULL
-- JOIN): right after create, after a round of writes (new rows, late rows,
-- an UPDATE that moves rows between buckets, keys and the WHERE clause, and a
-- DELETE), and after hybridagg.materialize() of the whole range.  The streaming
-- modes must be exact at every step.  Batch mode is exact after create and
-- after materialize; after the writes, only its buckets at or above the
-- watermark are compared: late changes below it wait for the next batch, the
-- documented exception of batch mode (04_batch shows that staleness).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

-- about 3.4 days of rows, ending now; every column a definition below uses
CREATE TABLE events (
    id        serial PRIMARY KEY,
    ts        timestamptz NOT NULL,
    lts       timestamp,            -- wall-clock time; NULL in some rows
    device_id int NOT NULL,
    site      text,                 -- NULL in some rows
    tag       varchar(20),
    value     float8,               -- NULL in some rows
    r         real,
    i2        smallint,
    i4        int,
    i8        bigint,
    amount    numeric(12,2),
    dur       interval
);
CREATE INDEX ON events (ts);

CREATE FUNCTION add_events(n int, newest timestamptz, step interval) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO events (ts, lts, device_id, site, tag, value, r, i2, i4, i8, amount, dur)
    SELECT t, CASE WHEN i % 53 <> 0 THEN t AT TIME ZONE 'Asia/Tokyo' END,
           i % 7,
           CASE WHEN i % 5 <> 0 THEN 'site' || (i % 4) END,
           'tag-' || (i % 3),
           CASE WHEN i % 11 <> 0 THEN (i % 101) / 7.0 END,
           -- multiples of 0.25 whose sums stay far below 2^22: float4 sums
           -- are then exact in any order, so they compare exactly
           (i % 50) / 4.0,
           (i % 300 - 100)::int2,
           i * 1000 + 7,
           -- large enough that sums overflow bigint: sum(int8) is numeric
           CASE WHEN i % 2 = 0 THEN 9000000000000000000 - i ELSE -i END,
           (i % 997) / 100.0,
           make_interval(secs => i % 600 + 0.5)
      FROM generate_series(1, n) i, LATERAL (SELECT newest - i * step AS t) x
$$;
SELECT add_events(3000, now(), '97 seconds');

-- one round of writes; "round" varies which rows are hit
CREATE SEQUENCE write_round;
CREATE FUNCTION write_round() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    k int := nextval('write_round') % 37;
BEGIN
    PERFORM add_events(40, now(), '5 seconds');                        -- new rows
    PERFORM add_events(40, now() - interval '2 days', '1 minute');     -- late rows
    -- move rows between buckets, devices, sites, and in and out of WHEREs
    UPDATE events
       SET ts = ts - interval '3 hours', lts = lts - interval '3 hours',
           device_id = (device_id + 1) % 7,
           site = CASE WHEN site IS NULL THEN 'site' || k % 4 END,
           tag = CASE WHEN tag = 'tag-0' THEN 'tag-9' ELSE 'tag-0' END,
           value = CASE WHEN value IS NULL THEN k ELSE value + 3 END,
           r = r + 0.5, i2 = i2 + 1, i4 = -i4, i8 = i8 / 2,
           amount = amount * 2, dur = dur + interval '1 minute'
     WHERE id % 37 = k;
    DELETE FROM events WHERE id % 41 = k;
END
$$;

CREATE FUNCTION verdict(diff bigint) RETURNS text
LANGUAGE sql AS $$
    SELECT CASE WHEN diff = 0 THEN 'exact' ELSE 'DIFFERS' END
$$;

-- Batch mode after writes: the buckets at or above the watermark (and a NULL
-- bucket) are read from the table at query time and must be exact; below it
-- the view is as fresh as the last batch (04_batch shows that staleness).
CREATE FUNCTION diff_above_watermark(view_name regclass, query text, keys text[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    a hybridagg_internal.aggregate;
    cond text;
    mismatches bigint;
BEGIN
    SELECT * INTO a FROM hybridagg_internal.aggregate WHERE view = view_name;
    -- the watermark of a timestamp aggregate is read as UTC
    cond := format('%I >= %L::%s OR %I IS NULL', keys[1],
                   CASE WHEN a.time_type = 'timestamptz'::regtype THEN a.watermark::text
                        ELSE (a.watermark AT TIME ZONE 'UTC')::text END,
                   a.time_type, keys[1]);
    EXECUTE format('CREATE TEMP VIEW above_watermark AS SELECT * FROM %s WHERE %s', view_name, cond);
    mismatches := test_diff('above_watermark', format('SELECT * FROM (%s) q WHERE %s', query, cond), keys);
    DROP VIEW above_watermark;
    RETURN mismatches;
END
$$;

-- Create the definition in each mode and compare its view with the query
-- after each step.  One row per definition: how the bucket was understood
-- (from the catalog), and per mode "after create / after writes / after
-- materialize".  keys[1] is the bucket column.
CREATE FUNCTION check_definition(query text, keys text[],
    OUT bucket text, OUT batch text, OUT streaming text, OUT lambda text,
    OUT kappa text, OUT hybrid text)
LANGUAGE plpgsql AS $$
DECLARE
    m text;
    result text;
    quiet text;
BEGIN
    FOREACH m IN ARRAY ARRAY['batch', 'streaming', 'lambda', 'kappa', 'hybrid'] LOOP
        PERFORM hybridagg.create('def_check', query, mode => m);
        SELECT concat_ws(' ', a.time_type, a.bucket_function, a.bucket_width, a.bucket_unit,
                         'origin ' || (a.bucket_origin AT TIME ZONE 'UTC'), 'zone ' || a.bucket_zone)
          INTO bucket
          FROM hybridagg_internal.aggregate a WHERE a.view = 'def_check'::regclass;
        result := verdict(test_diff('def_check', query, keys));
        PERFORM write_round();
        IF m = 'batch' THEN
            result := result || ' / ' || verdict(diff_above_watermark('def_check', query, keys)) || ' above W';
        ELSE
            result := result || ' / ' || verdict(test_diff('def_check', query, keys));
        END IF;
        -- materialize and drop report progress in NOTICEs with times in them
        quiet := current_setting('client_min_messages');
        PERFORM set_config('client_min_messages', 'warning', false);
        CALL hybridagg.materialize('def_check', now() - interval '30 days', now() + interval '1 day');
        PERFORM set_config('client_min_messages', quiet, false);
        result := result || ' / ' || verdict(test_diff('def_check', query, keys));
        PERFORM set_config('client_min_messages', 'warning', false);
        PERFORM hybridagg.drop('def_check');
        PERFORM set_config('client_min_messages', quiet, false);
        CASE m
            WHEN 'batch' THEN batch := result;
            WHEN 'streaming' THEN streaming := result;
            WHEN 'lambda' THEN lambda := result;
            WHEN 'kappa' THEN kappa := result;
            ELSE hybrid := result;
        END CASE;
    END LOOP;
END
$$;

\x on

-- date_bin on timestamptz, one extra key, count(*), count(x), sum, avg,
-- min, max over float8 (with NULLs)
SELECT * FROM check_definition(
  $$SELECT date_bin('15 minutes', ts, '2000-01-01 00:00+00') AS bucket, device_id,
           count(*) AS n, count(value) AS n_value, sum(value) AS total, avg(value) AS mean,
           min(value) AS lo, max(value) AS hi
      FROM events GROUP BY 1, 2$$, '{bucket,device_id}');

-- date_bin on timestamp (NULL times make a NULL bucket), min of timestamp
SELECT * FROM check_definition(
  $$SELECT date_bin('1 hour', lts, '2000-01-01') AS bucket, count(*) AS n, sum(i4) AS s4,
           min(lts) AS first_seen
      FROM events GROUP BY 1$$, '{bucket}');

-- date_trunc(unit, timestamp), a nullable text key with NULLs
-- an immutable expression over the bucket in the select list
SELECT * FROM check_definition(
  $$SELECT date_trunc('hour', lts) AS hour, site, count(*) AS n, max(value) AS hi
      FROM events GROUP BY 1, 2$$, '{hour,site}');

-- date_trunc(unit, timestamptz, zone), sum of numeric
SELECT * FROM check_definition(
  $$SELECT date_trunc('day', ts, 'Europe/Paris') AS day, device_id, count(*) AS n,
           sum(amount) AS amount
      FROM events GROUP BY 1, 2$$, '{day,device_id}');

-- date_trunc by week and by month
SELECT * FROM check_definition(
  $$SELECT date_trunc('week', lts) AS week, count(*) AS n, sum(i2) AS s2
      FROM events GROUP BY 1$$, '{week}');
SELECT * FROM check_definition(
  $$SELECT date_trunc('month', ts, 'America/New_York') AS month, site, count(*) AS n
      FROM events GROUP BY 1, 2$$, '{month,site}');

-- sum and avg over int2, int4, int8 (beyond the bigint range) and numeric
SELECT * FROM check_definition(
  $$SELECT date_bin('30 minutes', ts, '2000-01-01 00:00+00') AS bucket,
           sum(i2) AS s2, avg(i2) AS a2, sum(i4) AS s4, avg(i4) AS a4,
           sum(i8) AS s8, avg(i8) AS a8, sum(amount) AS sn, avg(amount) AS an
      FROM events GROUP BY 1$$, '{bucket}');

-- interval: sum, avg, min, max (columns named min and max by default)
SELECT * FROM check_definition(
  $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket,
           sum(dur) AS total_dur, avg(dur) AS mean_dur, min(dur), max(dur)
      FROM events GROUP BY 1$$, '{bucket}');

-- real: avg(real) is double precision and compares within 1e-9; sum(real)
-- is real, exact here because every value is a multiple of 0.25 (see
-- add_events), so any order of additions gives the same sum
SELECT * FROM check_definition(
  $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket,
           sum(r) AS sr, avg(r) AS ar, min(r) AS lo, max(r) AS hi
      FROM events GROUP BY 1$$, '{bucket}');

-- min and max over text, varchar and timestamptz
SELECT * FROM check_definition(
  $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device_id,
           min(site) AS first_site, max(site) AS last_site, min(tag) AS min_tag,
           max(tag) AS max_tag, min(ts) AS first_ts, max(ts) AS last_ts
      FROM events GROUP BY 1, 2$$, '{bucket,device_id}');

-- expressions in the select list over aggregates and keys, and HAVING
SELECT * FROM check_definition(
  $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device_id,
           round(avg(value)::numeric, 2) AS mean2, max(value) - min(value) AS spread,
           count(*) * 2 AS twice, sum(i4)::float8 / count(*) AS ratio,
           device_id * 10 AS device_x10, abs(min(i4)) AS smallest
      FROM events GROUP BY 1, 2
    HAVING count(*) > 3 AND sum(value) > 10$$, '{bucket,device_id}');
-- an immutable expression over the bucket in the select list
SELECT * FROM check_definition(
  $$SELECT date_trunc('hour', lts) AS hour,
           date_trunc('hour', lts) + interval '1 hour' AS hour_end,
           count(*) AS n
      FROM events GROUP BY 1$$, '{hour}');

-- an immutable WHERE clause
SELECT * FROM check_definition(
  $$SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS bucket, site,
           count(*) AS n, sum(value) AS total
      FROM events
     WHERE value > 2 AND site IS NOT NULL AND lower(site) <> 'site1'
     GROUP BY 1, 2$$, '{bucket,site}');

-- ORDER BY is ignored, with a NOTICE (one per mode)
SELECT * FROM check_definition(
  $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device_id, count(*) AS n
      FROM events GROUP BY 1, 2 ORDER BY 1, 2 DESC$$, '{bucket,device_id}');

-- count(*) alone, daily buckets, default column name
SELECT * FROM check_definition(
  $$SELECT date_bin('1 day', ts, '2000-01-01 00:00+00') AS day, count(*)
      FROM events GROUP BY 1$$, '{day}');

-- an expression key and a varchar key; GROUP BY by name; the bucket not
-- first in the select list
SELECT * FROM check_definition(
  $$SELECT device_id % 3 AS grp, tag, count(*) AS n,
           date_bin('20 minutes', ts, '2000-01-01 00:00+00') AS bucket
      FROM events GROUP BY bucket, grp, tag$$, '{bucket,grp,tag}');

-- aggregates over expressions, the same aggregate twice, count of a
-- nullable column
SELECT * FROM check_definition(
  $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket,
           sum(value * 2) AS double_total, sum(value) AS a, sum(value) AS b,
           avg(i4 + i2) AS mixed, max(coalesce(site, 'none')) AS top_site,
           count(site) AS with_site, count(lts) AS with_lts
      FROM events GROUP BY 1$$, '{bucket}');

\x off

-- the view carries a comment that says what it is
SELECT hybridagg.create('events_hourly',
  $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, count(*) AS n FROM events GROUP BY 1$$,
  mode => 'batch');
SELECT obj_description('events_hourly'::regclass, 'pg_class');
SET client_min_messages = warning;
SELECT hybridagg.drop('events_hourly');
RESET client_min_messages;

-- nothing left behind
SELECT count(*) AS aggregates FROM hybridagg.aggregates;
-- (an aggregate's internal relations are named after its id: history_<id>...)
SELECT count(*) AS internal_relations FROM pg_class
 WHERE relnamespace = 'hybridagg_internal'::regnamespace AND relname ~ '_[0-9]+';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'events'::regclass;

DROP FUNCTION check_definition(text, text[]);
DROP FUNCTION diff_above_watermark(regclass, text, text[]);
DROP FUNCTION verdict(bigint);
DROP FUNCTION write_round();
DROP SEQUENCE write_round;
DROP FUNCTION add_events(int, timestamptz, interval);
DROP TABLE events;
