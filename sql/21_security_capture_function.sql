-- Security: hybridagg_internal.capture() is not executable by PUBLIC, and
-- a capture trigger someone else made on a table that is not the
-- aggregate's base table changes nothing.  Every function of
-- hybridagg_internal that PUBLIC may execute is listed.
-- This file fails if: an unprivileged role can create a trigger calling
-- capture() (EXECUTE granted to PUBLIC), a hand-made capture trigger on an
-- unrelated table (or on another aggregate's base table) writes deltas or
-- lets its statement succeed, the list of PUBLIC functions grows, or a
-- view differs from its query.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_u;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_u;

CREATE TABLE sec21_events (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
INSERT INTO sec21_events
SELECT '2024-05-01 00:00+00'::timestamptz + i * interval '11 minutes', i % 3, i % 41
  FROM generate_series(1, 500) i;
CREATE TABLE sec21_other (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
INSERT INTO sec21_other VALUES ('2024-05-01 00:00+00', 1, 1);
\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, min(value) AS lo FROM sec21_events GROUP BY 1, 2'
\set query2 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, count(*) AS n FROM sec21_other GROUP BY 1'
SELECT hybridagg.create('sec21_agg', :'query', mode => 'hybrid');
SELECT hybridagg.create('sec21_agg2', :'query2', mode => 'streaming');
SELECT id AS agg_id FROM hybridagg_internal.aggregate WHERE view = 'sec21_agg'::regclass \gset
SELECT format('hybridagg_internal.delta_%s', :agg_id) AS delta \gset

-- PUBLIC may not execute capture(): an unprivileged role cannot make a
-- capture trigger on its own table, temporary or not
SELECT has_function_privilege('regress_hybridagg_u', 'hybridagg_internal.capture()', 'EXECUTE') AS u_may_execute;
SET ROLE regress_hybridagg_u;
CREATE TABLE sec21_mine (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
CREATE TEMP TABLE sec21_mine_temp (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
\set VERBOSITY sqlstate
CREATE TRIGGER sec21_t AFTER INSERT ON sec21_mine REFERENCING NEW TABLE AS n
  FOR EACH STATEMENT EXECUTE FUNCTION hybridagg_internal.capture(:'agg_id');
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER sec21_t AFTER INSERT ON sec21_mine_temp REFERENCING NEW TABLE AS n
  FOR EACH STATEMENT EXECUTE FUNCTION hybridagg_internal.capture(:'agg_id');
\echo :LAST_ERROR_SQLSTATE
-- nor call it directly
SELECT hybridagg_internal.capture();
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT count(*) AS triggers_made FROM pg_trigger WHERE tgfoid = 'hybridagg_internal.capture()'::regprocedure
   AND tgrelid IN ('sec21_mine'::regclass, 'sec21_mine_temp'::regclass);
DROP TABLE sec21_mine, sec21_mine_temp;
RESET ROLE;

-- a superuser's hand-made capture trigger for sec21_agg on an unrelated
-- table, and on the base table of another aggregate: the statement fails
-- (39P01) and nothing changes
SELECT count(*) AS deltas_before FROM :delta \gset
CREATE TABLE sec21_unrelated (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
CREATE TRIGGER sec21_t AFTER INSERT ON sec21_unrelated REFERENCING NEW TABLE AS n
  FOR EACH STATEMENT EXECUTE FUNCTION hybridagg_internal.capture(:'agg_id');
CREATE TRIGGER sec21_t AFTER INSERT ON sec21_other REFERENCING NEW TABLE AS n
  FOR EACH STATEMENT EXECUTE FUNCTION hybridagg_internal.capture(:'agg_id');
\set VERBOSITY sqlstate
INSERT INTO sec21_unrelated VALUES ('2024-05-01 00:30+00', 1, -100);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO sec21_other VALUES ('2024-05-01 00:30+00', 1, -100);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT (SELECT count(*) FROM sec21_unrelated) AS unrelated_rows,
       (SELECT count(*) FROM sec21_other) AS other_rows,
       (SELECT count(*) FROM :delta) - :deltas_before AS new_deltas;
DROP TRIGGER sec21_t ON sec21_other;
DROP TABLE sec21_unrelated;
-- the same trigger made FOR EACH ROW, BEFORE, without an argument, or with
-- a bad one, on the base table itself: refused too
CREATE TRIGGER sec21_row AFTER INSERT ON sec21_events FOR EACH ROW EXECUTE FUNCTION hybridagg_internal.capture(:'agg_id');
\set VERBOSITY sqlstate
INSERT INTO sec21_events VALUES ('2024-05-01 00:30+00', 1, -100);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
DROP TRIGGER sec21_row ON sec21_events;
CREATE TRIGGER sec21_before BEFORE INSERT ON sec21_events FOR EACH STATEMENT EXECUTE FUNCTION hybridagg_internal.capture(:'agg_id');
\set VERBOSITY sqlstate
INSERT INTO sec21_events VALUES ('2024-05-01 00:30+00', 1, -100);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
DROP TRIGGER sec21_before ON sec21_events;
CREATE TRIGGER sec21_noarg AFTER INSERT ON sec21_events REFERENCING NEW TABLE AS n
  FOR EACH STATEMENT EXECUTE FUNCTION hybridagg_internal.capture();
\set VERBOSITY sqlstate
INSERT INTO sec21_events VALUES ('2024-05-01 00:30+00', 1, -100);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
DROP TRIGGER sec21_noarg ON sec21_events;
CREATE TRIGGER sec21_badarg AFTER INSERT ON sec21_events REFERENCING NEW TABLE AS n
  FOR EACH STATEMENT EXECUTE FUNCTION hybridagg_internal.capture('0');
\set VERBOSITY sqlstate
INSERT INTO sec21_events VALUES ('2024-05-01 00:30+00', 1, -100);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
DROP TRIGGER sec21_badarg ON sec21_events;
SELECT count(*) AS negative_rows FROM sec21_events WHERE value < 0;
SELECT (SELECT count(*) FROM :delta) - :deltas_before AS new_deltas;

-- the aggregates are exact, and their own triggers still capture
INSERT INTO sec21_events VALUES ('2024-05-01 00:30+00', 1, 500);
INSERT INTO sec21_other VALUES ('2024-05-01 00:30+00', 2, 7);
SELECT test_diff('sec21_agg', :'query', '{bucket,device}') AS agg_exact;
SELECT test_diff('sec21_agg2', :'query2', '{bucket}') AS agg2_exact;

-- every function of hybridagg_internal that PUBLIC may execute
SELECT p.oid::regprocedure AS public_function, p.prokind
  FROM pg_proc p
 WHERE p.pronamespace = 'hybridagg_internal'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY p.oid::regprocedure::text;
-- and none that PUBLIC may not is executable by an unprivileged role
SELECT count(*) AS u_executes_more
  FROM pg_proc p
 WHERE p.pronamespace = 'hybridagg_internal'::regnamespace
   AND has_function_privilege('regress_hybridagg_u', p.oid, 'EXECUTE')
   AND NOT has_function_privilege('public', p.oid, 'EXECUTE');

-- the functions PUBLIC may call refuse what they are not made for, plainly:
-- nonfinite_or() of a type with no NaN
SET ROLE regress_hybridagg_u;
SELECT hybridagg_internal.nonfinite_or('x'::text, 1, 0, 0);
RESET ROLE;

-- clean up
SET client_min_messages = warning;
SELECT hybridagg.drop('sec21_agg');
SELECT hybridagg.drop('sec21_agg2');
RESET client_min_messages;
DROP TABLE sec21_events, sec21_other;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_u;
DROP ROLE regress_hybridagg_u;
