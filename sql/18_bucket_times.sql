-- The times hybridagg reads for a bucket agree with PostgreSQL's own bucket
-- functions at every instant tried: for every bucket function hybridagg
-- accepts, at instants around every change of offset of six zones with odd
-- rules over several years (daylight saving changes of 30 minutes at
-- Australia/Lord_Howe, at 02:45 at Pacific/Chatham, at midnight at
-- America/Sao_Paulo, Asia/Kathmandu's +05:30 to +05:45 on 1986-01-01,
-- local mean time with seconds at America/St_Johns before 1935), at local
-- unit boundaries of centuries and millennia, and at a few ancient (BC) and
-- far-future instants.  For each instant t and its bucket b, the range
-- [first, last] of hybridagg_internal.bucket_times(aggregate, b) must hold
-- t, and be exact: first and last are in b, the instants just outside are
-- not.  Every instant is literal (no now()).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
SET TimeZone = 'UTC';
CREATE TABLE sweep_tz (ts timestamptz NOT NULL);
CREATE TABLE sweep_ts (ts timestamp NOT NULL);

-- the bucket expressions, one batch aggregate each (no rows: creating them
-- is cheap); expr is the expression over a column named ts
CREATE TABLE sweep_spec (id serial PRIMARY KEY, expr text NOT NULL, tz boolean NOT NULL, zone text, agg int);
INSERT INTO sweep_spec (expr, tz, zone)
SELECT format('date_trunc(%L, ts, %L)', u, z), true, z
  FROM unnest(ARRAY['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year',
                    'decade', 'century', 'millennium']) u,
       unnest(ARRAY['Europe/London', 'America/St_Johns', 'Australia/Lord_Howe',
                    'Pacific/Chatham', 'Asia/Kathmandu', 'America/Sao_Paulo']) z;
INSERT INTO sweep_spec (expr, tz)
SELECT format('date_trunc(%L, ts)', u), false
  FROM unnest(ARRAY['milliseconds', 'second', 'minute', 'hour', 'day', 'week', 'month', 'quarter',
                    'year', 'decade', 'century', 'millennium']) u;
INSERT INTO sweep_spec (expr, tz) VALUES
  ($$date_bin('7 minutes', ts, '2000-01-01 00:03:17+00')$$, true),
  ($$date_bin('90 minutes', ts, '1970-01-01 00:00+00')$$, true),
  ($$date_bin('1 day 3 hours', ts, '2100-06-30 12:00+00')$$, true),
  ($$date_bin('13 seconds', ts, '0044-03-15 12:00+00 BC')$$, true),
  ($$date_bin('1 week', ts, '2001-01-01 00:00+05:45')$$, true),
  ($$date_bin('7 minutes', ts, '2000-01-01 00:03:17')$$, false),
  ($$date_bin('2 days', ts, '1999-12-31 23:59:59')$$, false);
DO $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT * FROM sweep_spec ORDER BY id LOOP
        PERFORM hybridagg.create(format('sweep_%s', s.id),
            format('SELECT %s AS b, count(*) AS n FROM %s GROUP BY 1', s.expr,
                   CASE WHEN s.tz THEN 'sweep_tz' ELSE 'sweep_ts' END),
            mode => 'batch', with_data => false);
        UPDATE sweep_spec SET agg = (SELECT id FROM hybridagg_internal.aggregate
                                      WHERE view = format('sweep_%s', s.id)::regclass)
         WHERE id = s.id;
    END LOOP;
END
$$;

-- the instants: around each change of offset of the six zones, found hour
-- by hour in a few years of each rule, every 37 minutes and 11 seconds for
-- a day on each side, and at local unit boundaries
CREATE TABLE sweep_instant (t timestamptz PRIMARY KEY);
CREATE FUNCTION utc_offset(t timestamptz, zone text) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$ SELECT (t AT TIME ZONE zone) - (t AT TIME ZONE 'UTC') $$;
INSERT INTO sweep_instant
SELECT DISTINCT c.t + k * interval '37 minutes 11 seconds'
  FROM (SELECT z, h AS t
          FROM unnest(ARRAY['Europe/London', 'America/St_Johns', 'Australia/Lord_Howe',
                            'Pacific/Chatham', 'Asia/Kathmandu', 'America/Sao_Paulo']) z,
               unnest(ARRAY['1917-06-01', '1934-06-01', '1985-06-01', '2025-01-01']::timestamptz[]) y,
               generate_series(y, y + interval '1 year', interval '1 hour') h
         WHERE utc_offset(h, z) <> utc_offset(h - interval '1 hour', z)) c,
       generate_series(-40, 40) k
ON CONFLICT DO NOTHING;
INSERT INTO sweep_instant
SELECT DISTINCT (l::timestamp + d) AT TIME ZONE z
  FROM unnest(ARRAY['Europe/London', 'America/St_Johns', 'Australia/Lord_Howe',
                    'Pacific/Chatham', 'Asia/Kathmandu', 'America/Sao_Paulo', 'UTC']) z,
       unnest(ARRAY['1000-01-01', '1001-01-01', '1900-01-01', '1901-01-01', '2000-01-01',
                    '2001-01-01', '1986-01-01', '1935-03-30']::timestamp[]) l,
       unnest(ARRAY['-1 hour', '-1 minute', '0', '1 minute 1 second', '1 hour']::interval[]) d
ON CONFLICT DO NOTHING;
INSERT INTO sweep_instant VALUES
  ('4000-06-01 12:00+00 BC'), ('0044-03-15 12:00+00 BC'), ('0001-12-31 23:59:59+00 BC'),
  ('0001-01-01 00:00+00'), ('1500-07-01 00:00+00'), ('1850-02-28 12:34:56.789+00'),
  ('2500-03-28 01:30+00'), ('9999-12-31 23:59:59+00'), ('100000-01-01 00:00+00')
ON CONFLICT DO NOTHING;
SELECT count(*) > 2500 AS enough_instants FROM sweep_instant;

-- each instant's bucket by the aggregate's own bucket expression (as a
-- function of its time), and the times hybridagg reads for that bucket
CREATE FUNCTION sweep_check(s sweep_spec) RETURNS TABLE (t timestamptz, b text, first text, last text, problem text)
LANGUAGE plpgsql AS $$
DECLARE
    typ text := CASE WHEN s.tz THEN 'timestamptz' ELSE 'timestamp' END;
BEGIN
    EXECUTE format('CREATE OR REPLACE FUNCTION pg_temp.sweep_bucket(ts %1$s) RETURNS %1$s '
                   'LANGUAGE sql IMMUTABLE AS %2$L', typ, 'SELECT ' || s.expr);
    RETURN QUERY EXECUTE format($q$
        WITH v AS (SELECT i.t, CASE WHEN %1$L THEN i.t::text
                                    ELSE (i.t AT TIME ZONE 'UTC')::text END::%2$s AS v
                     FROM sweep_instant i),
        r AS (SELECT v.t, v.v, b.b, bt.first, bt.last
                FROM v, LATERAL (SELECT pg_temp.sweep_bucket(v.v) AS b) b,
                     LATERAL hybridagg_internal.bucket_times(%3$s, b.b) bt)
        SELECT r.t, r.b::text, r.first::text, r.last::text,
               CASE WHEN r.first IS NULL THEN 'no range'
                    WHEN r.v < r.first OR r.v > r.last THEN 'outside'
                    WHEN pg_temp.sweep_bucket(r.first) <> r.b THEN 'first not in bucket'
                    WHEN pg_temp.sweep_bucket(r.last) <> r.b THEN 'last not in bucket'
                    -- (PostgreSQL has no bucket for some times near the ends of time)
                    WHEN r.first > '3000-01-01 00:00+00 BC'
                     AND pg_temp.sweep_bucket(r.first - interval '1 microsecond') = r.b THEN 'starts late'
                    WHEN r.last < '290000-01-01 00:00+00'
                     AND pg_temp.sweep_bucket(r.last + interval '1 microsecond') = r.b THEN 'ends early'
               END
          FROM r$q$, s.tz, typ, s.agg);
END
$$;

-- no instant whose bucket's range disagrees with PostgreSQL's
SELECT s.expr, c.t, c.b, c.first, c.last, c.problem
  FROM sweep_spec s, sweep_check(s) c
 WHERE c.problem IS NOT NULL
 ORDER BY s.id, c.t
 LIMIT 20;
SELECT count(DISTINCT s.id) AS specs_checked FROM sweep_spec s;

-- the old mistake, for the record: a zoned hour's end computed in local
-- time spans two UTC hours at the fall-back
SELECT b, first, last FROM (
    SELECT date_trunc('hour', t, 'Europe/London') AS b, bt.*
      FROM unnest(ARRAY['2026-10-25 00:30+00', '2026-10-25 01:30+00']::timestamptz[]) t,
           hybridagg_internal.bucket_times((SELECT agg FROM sweep_spec WHERE expr = $$date_trunc('hour', ts, 'Europe/London')$$),
                                           date_trunc('hour', t, 'Europe/London')) bt) x
 ORDER BY b;

DO $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT * FROM sweep_spec ORDER BY id LOOP
        PERFORM hybridagg.drop(format('sweep_%s', s.id));
    END LOOP;
END
$$;
DROP FUNCTION sweep_check(sweep_spec);
DROP FUNCTION utc_offset(timestamptz, text);
DROP TABLE sweep_tz, sweep_ts, sweep_spec, sweep_instant;
RESET client_min_messages;
RESET TimeZone;
