-- TRUNCATE of the base table of the four streaming modes (streaming,
-- hybrid, lambda, kappa), two aggregates each (test/sql/streaming_modes.sql):
-- every aggregate is empty inside the truncating transaction, whole again
-- after its ROLLBACK, empty (nothing stored) after a committed TRUNCATE, and
-- goes on from there: new rows and a COPY are captured and folded.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

\i test/sql/streaming_modes.sql

-- TRUNCATE empties every aggregate, in the truncating transaction
BEGIN;
TRUNCATE events;
SELECT * FROM differing();
SELECT count(*) AS rows_in_views FROM streaming_x, hybrid_s, lambda_x, kappa_s;
ROLLBACK;
SELECT * FROM differing();
TRUNCATE events;
SELECT * FROM differing();
SELECT name, (stored_groups(view)).* FROM hybridagg.aggregates WHERE name IN (SELECT aggregate FROM checks) ORDER BY name;
-- and the aggregates go on from there
SELECT add_events(500, now(), '40 seconds');
COPY events (device_id, site, value, qty) FROM stdin;
4	site0	1	1
\.
SELECT * FROM differing();
CALL wait_drained();
SELECT * FROM differing();

SET client_min_messages = warning;
SELECT hybridagg.drop(aggregate) FROM checks ORDER BY aggregate;
RESET client_min_messages;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'events'::regclass;
DROP PROCEDURE wait_drained(interval);
DROP FUNCTION differing();
DROP TABLE checks;
DROP FUNCTION add_events(int, timestamptz, interval);
DROP TABLE events;
