-- The view's columns have exactly the names, types (with typmod) and
-- collations that the defining query returns: compared, in one statement,
-- with a temporary view made from the query itself, in batch and in a
-- streaming mode.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE TABLE events (
    ts       timestamptz NOT NULL,
    lts      timestamp,
    device_id int,
    code     varchar(20),
    label    char(8) COLLATE "C",
    value    float8,
    r        real,
    i2       smallint,
    i8       bigint,
    amount   numeric(12,2),
    dur      interval
);
INSERT INTO events
SELECT now() - i * interval '1 minute', (now() - i * interval '1 minute') AT TIME ZONE 'UTC', i % 4,
       'c' || i % 3, 'l' || i % 2, i / 3.0, i / 4.0, i % 100, i, i / 100.0, make_interval(mins => i % 60)
  FROM generate_series(1, 500) i;

-- columns of the aggregate's view that differ from the query's (by
-- position: name, type with typmod, collation); 0 when they are the same
CREATE FUNCTION column_diff(agg regclass, query text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    mismatches bigint;
BEGIN
    EXECUTE format('CREATE TEMP VIEW raw_query AS %s', query);
    SELECT count(*) INTO mismatches
      FROM (SELECT attnum, attname, format_type(atttypid, atttypmod) AS type, attcollation
              FROM pg_attribute WHERE attrelid = agg AND attnum > 0 AND NOT attisdropped) v
      FULL JOIN (SELECT attnum, attname, format_type(atttypid, atttypmod) AS type, attcollation
                   FROM pg_attribute WHERE attrelid = 'raw_query'::regclass AND attnum > 0 AND NOT attisdropped) q
        USING (attnum)
     WHERE v.attname IS DISTINCT FROM q.attname OR v.type IS DISTINCT FROM q.type
        OR v.attcollation IS DISTINCT FROM q.attcollation;
    DROP VIEW raw_query;
    RETURN mismatches;
END
$$;

\set query 'SELECT date_bin(''1 minute'', ts, ''2000-01-01 00:00+00'') AS bucket, code, label, device_id::smallint AS dev, count(*) AS n, count(value) AS nv, sum(value) AS total, avg(value) AS mean, min(value)::numeric(10,2) AS lo2, max(amount) AS hi_amount, sum(amount) AS sum_amount, avg(amount) AS avg_amount, avg(i2) AS avg_i2, sum(i2) AS sum_i2, sum(i8) AS sum_i8, avg(i8) AS avg_i8, sum(r) AS sum_r, avg(r) AS avg_r, min(r) AS min_r, sum(dur) AS sum_dur, avg(dur), max(code) AS max_code, min(label) AS min_label, max(ts) AS last_ts, round(avg(value)::numeric, 2) AS mean2, count(*) > 10 AS busy, (sum(value) / 2)::int AS half, sum(value) AS "select", count(*) AS "Count Of Rows", code::varchar(5) AS short_code FROM events GROUP BY 1, 2, 3, 4'

SELECT hybridagg.create('events_columns', :'query', mode => 'batch');
SELECT column_diff('events_columns', :'query') AS batch_column_differences;
-- what the view looks like
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type, attcollation::regcollation AS collation
  FROM pg_attribute WHERE attrelid = 'events_columns'::regclass AND attnum > 0 ORDER BY attnum;
SELECT test_diff('events_columns', :'query', '{bucket,code,label,dev}') AS batch_rows;

SELECT hybridagg.create('events_columns_hybrid', :'query', mode => 'hybrid');
SELECT column_diff('events_columns_hybrid', :'query') AS hybrid_column_differences;
SELECT test_diff('events_columns_hybrid', :'query', '{bucket,code,label,dev}') AS hybrid_rows;

-- a timestamp bucket and a bucket that is not the first column
\set query2 'SELECT count(*) AS n, date_trunc(''hour'', lts) AS hour, code, sum(i2)::numeric(12,1) AS s FROM events GROUP BY hour, code'
SELECT hybridagg.create('events_columns_ts', :'query2', mode => 'streaming');
SELECT column_diff('events_columns_ts', :'query2') AS timestamp_column_differences;
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type
  FROM pg_attribute WHERE attrelid = 'events_columns_ts'::regclass AND attnum > 0 ORDER BY attnum;
SELECT test_diff('events_columns_ts', :'query2', '{hour,code}') AS timestamp_rows;

-- the views are plain views that a client lists like any other
SELECT table_name, table_type FROM information_schema.tables
 WHERE table_name LIKE 'events_columns%' ORDER BY 1;

-- the helper can fail: a view whose columns differ from the query's
CREATE VIEW not_the_same AS SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, code::text AS code FROM events;
SELECT column_diff('not_the_same', $$SELECT date_bin('1 minute', ts, '2000-01-01 00:00+00') AS bucket, code FROM events$$) AS one_type_differs;
DROP VIEW not_the_same;

SET client_min_messages = warning;
SELECT hybridagg.drop('events_columns');
SELECT hybridagg.drop('events_columns_hybrid');
SELECT hybridagg.drop('events_columns_ts');
RESET client_min_messages;
DROP FUNCTION column_diff(regclass, text);
DROP TABLE events;
