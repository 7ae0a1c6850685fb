-- A batch aggregate of a 200,000-row table, named like an injection
-- (x"; DROP TABLE events; --), in a session whose TimeZone (UTC) need not
-- be the server's default (Asia/Kathmandu in the cluster of scripts/test.sh):
-- it equals the raw query after create, after new rows, after late rows +
-- UPDATE + DELETE once materialize() has recomputed their range, and after
-- sealing what is due; then it drops cleanly and leaves events as it was.
-- (Refused definitions are in 03_refusals; other zones and names at this
-- size in test/t/050_batch_session_timezones.pl.)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default
SET TimeZone = 'UTC';
SELECT current_setting('TimeZone') AS client_zone;

CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
CREATE INDEX ON events (ts);
INSERT INTO events (ts, device_id, value)
SELECT now() - i * interval '6 seconds', i % 10, (i % 1009) / 8.0 FROM generate_series(1, 200000) i;
ANALYZE events;

\set query 'SELECT date_bin(''5 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi FROM events GROUP BY 1, 2'

SELECT hybridagg.create('x"; DROP TABLE events; --', :'query', mode => 'batch');
SELECT test_diff('"x""; DROP TABLE events; --"', :'query', '{bucket,device_id}') AS after_create;

-- new rows: above the watermark, in the view at once
INSERT INTO events (ts, device_id, value)
SELECT now() - i * interval '1 second', i % 12, i FROM generate_series(0, 999) i;
SELECT test_diff('"x""; DROP TABLE events; --"', :'query', '{bucket,device_id}') AS after_new_rows;

-- late rows, UPDATE and DELETE, between 5 and 3 days ago
INSERT INTO events (ts, device_id, value)
SELECT now() - interval '4 days' - i * interval '2 seconds', i % 10, -i FROM generate_series(1, 5000) i;
UPDATE events SET value = value + 1, device_id = (device_id + 3) % 10
 WHERE ts BETWEEN now() - interval '5 days' AND now() - interval '3 days' AND id % 7 = 0;
DELETE FROM events WHERE ts BETWEEN now() - interval '3 days 12 hours' AND now() - interval '3 days 11 hours';
SELECT test_diff('"x""; DROP TABLE events; --"', :'query', '{bucket,device_id}') > 0 AS stale_until_materialized;
SET client_min_messages = warning;
CALL hybridagg.materialize('x"; DROP TABLE events; --', now() - interval '5 days 1 hour', now() - interval '3 days');
RESET client_min_messages;
SELECT test_diff('"x""; DROP TABLE events; --"', :'query', '{bucket,device_id}') AS after_materialize;

-- and once more after sealing what is due
SET client_min_messages = warning;
CALL hybridagg.materialize('x"; DROP TABLE events; --');
RESET client_min_messages;
SELECT test_diff('"x""; DROP TABLE events; --"', :'query', '{bucket,device_id}') AS after_seal;

SET client_min_messages = warning;
SELECT hybridagg.drop('x"; DROP TABLE events; --');
RESET client_min_messages;
SELECT to_regclass('"x""; DROP TABLE events; --"') AS view_gone, count(*) > 200000 AS events_kept FROM events;
RESET TimeZone;
DROP TABLE events;
