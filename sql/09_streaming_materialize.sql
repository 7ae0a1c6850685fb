-- materialize() in the four streaming modes (streaming, hybrid, lambda,
-- kappa), two aggregates each (test/sql/streaming_modes.sql), without a
-- range (seal what is due) and with one, after late rows and an UPDATE:
-- every view equals its defining query after each, and no watermark of a
-- hybrid or lambda aggregate passes now() - seal_after.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

\i test/sql/streaming_modes.sql

-- materialize() in every mode, with and without a range
SET client_min_messages = warning;
SELECT add_events(100, now() - interval '1 day', '30 seconds');
CALL hybridagg.materialize('streaming_x');
CALL hybridagg.materialize('streaming_s');
CALL hybridagg.materialize('hybrid_x');
CALL hybridagg.materialize('hybrid_s');
CALL hybridagg.materialize('lambda_x');
CALL hybridagg.materialize('lambda_s');
CALL hybridagg.materialize('kappa_x');
CALL hybridagg.materialize('kappa_s');
RESET client_min_messages;
SELECT * FROM differing();
SELECT name, watermark <= now() - seal_after AS watermark_not_in_future
  FROM hybridagg.aggregates WHERE name IN (SELECT aggregate FROM checks) AND mode IN ('hybrid', 'lambda') ORDER BY name;
UPDATE events SET value = value - 1, device_id = 4 WHERE ts > now() - interval '2 days' AND id % 5 = 0;
SET client_min_messages = warning;
CALL hybridagg.materialize('streaming_x', now() - interval '3 days', now());
CALL hybridagg.materialize('streaming_s', now() - interval '3 days', now());
CALL hybridagg.materialize('hybrid_x', now() - interval '3 days', now());
CALL hybridagg.materialize('hybrid_s', now() - interval '3 days', now());
CALL hybridagg.materialize('lambda_x', now() - interval '3 days', now() + interval '1 day');
CALL hybridagg.materialize('lambda_s', now() - interval '3 days', now() + interval '1 day');
CALL hybridagg.materialize('kappa_x', now() - interval '3 days', now());
CALL hybridagg.materialize('kappa_s', now() - interval '3 days', now());
RESET client_min_messages;
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
