-- Any name is just a name.  A name in SQL identifier syntax is resolved as
-- regclass would resolve it (unquoted parts are downcased, quoted parts kept,
-- an optional schema); any other text is taken literally as the whole name.
-- Each aggregate below is created, queried, materialized, written to and
-- dropped by the same text, and nothing else happens: the table events is
-- still there, with all its rows.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
INSERT INTO events (ts, device_id, value)
SELECT now() - i * interval '2 minutes', i % 3, i FROM generate_series(1, 1000) i;
CREATE SCHEMA "Analytics Schema";

\set query 'SELECT date_bin(''10 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, max(value) AS hi FROM events GROUP BY 1, 2'

-- not identifier syntax: the whole text is the name
SELECT hybridagg.create('x"; DROP TABLE events; --', :'query', mode => 'batch');
SELECT relname, relnamespace::regnamespace AS schema FROM pg_class WHERE oid = '"x""; DROP TABLE events; --"'::regclass;
SELECT test_diff('"x""; DROP TABLE events; --"', :'query', '{bucket,device_id}') AS exact;
SELECT count(*) > 0 AS queryable FROM "x""; DROP TABLE events; --";
SELECT name, mode FROM hybridagg.aggregates WHERE view = '"x""; DROP TABLE events; --"'::regclass;
SELECT obj_description('"x""; DROP TABLE events; --"'::regclass, 'pg_class') LIKE 'hybridagg aggregate, kept in batch mode; defined as: SELECT %' AS commented;
SELECT hybridagg.create('x"; DROP TABLE events; --', :'query', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SET client_min_messages = warning;
CALL hybridagg.materialize('x"; DROP TABLE events; --', now() - interval '1 day', now());
SELECT hybridagg.drop('x"; DROP TABLE events; --');
RESET client_min_messages;
SELECT to_regclass('"x""; DROP TABLE events; --"') AS view_gone, count(*) AS events_rows FROM events;
-- the same name for a streaming aggregate, whose triggers and worker use it too
SELECT hybridagg.create('x"; DROP TABLE events; --', :'query', mode => 'hybrid');
INSERT INTO events (ts, device_id, value) VALUES (now(), 1, 1);
DELETE FROM events WHERE id = currval('events_id_seq');
SELECT test_diff('"x""; DROP TABLE events; --"', :'query', '{bucket,device_id}') AS exact;
SET client_min_messages = warning;
CALL hybridagg.materialize('x"; DROP TABLE events; --');
SELECT hybridagg.drop('x"; DROP TABLE events; --');
RESET client_min_messages;
SELECT to_regclass('"x""; DROP TABLE events; --"') AS view_gone, count(*) AS events_rows FROM events;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'events'::regclass;

-- a quoted identifier keeps its case and its space
SELECT hybridagg.create('"My Agg"', :'query', mode => 'streaming');
SELECT relname, relnamespace::regnamespace AS schema FROM pg_class WHERE oid = '"My Agg"'::regclass;
SELECT test_diff('"My Agg"', :'query', '{bucket,device_id}') AS exact;
INSERT INTO events (ts, device_id, value) VALUES (now(), 1, 1), (now() - interval '1 day', 2, 2);
SELECT test_diff('"My Agg"', :'query', '{bucket,device_id}') AS exact_after_insert;
SELECT hybridagg.create('"My Agg"', :'query', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
-- My Agg without quotes is not identifier syntax: taken literally, it is
-- the same name; my agg is another one
SET client_min_messages = warning;
CALL hybridagg.materialize('My Agg');
CALL hybridagg.materialize('"My Agg"');
RESET client_min_messages;
CALL hybridagg.materialize('my agg');
\echo :LAST_ERROR_SQLSTATE
SET client_min_messages = warning;
SELECT hybridagg.drop('"My Agg"');
RESET client_min_messages;
SELECT to_regclass('"My Agg"') AS view_gone, count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'events'::regclass;

-- schema-qualified, with a quoted part
SELECT hybridagg.create('public."lambda agg"', :'query', mode => 'lambda');
SELECT relname, relnamespace::regnamespace AS schema FROM pg_class WHERE oid = 'public."lambda agg"'::regclass;
SELECT test_diff('"lambda agg"', :'query', '{bucket,device_id}') AS exact;
UPDATE events SET value = value + 1, device_id = 9 WHERE id % 50 = 0;
SELECT test_diff('"lambda agg"', :'query', '{bucket,device_id}') AS exact_after_update;
SET client_min_messages = warning;
CALL hybridagg.materialize('public."lambda agg"');
RESET client_min_messages;
SELECT test_diff('"lambda agg"', :'query', '{bucket,device_id}') AS exact_after_materialize;

-- a name with spaces, which is not identifier syntax either
SELECT hybridagg.create('events per ten minutes', :'query', mode => 'hybrid');
SELECT relname FROM pg_class WHERE oid = '"events per ten minutes"'::regclass;
SELECT test_diff('"events per ten minutes"', :'query', '{bucket,device_id}') AS exact;

-- an unquoted name is downcased, as in SQL; other spellings find it
SELECT hybridagg.create('Events_Daily', :'query', mode => 'kappa');
SELECT relname FROM pg_class WHERE oid = 'events_daily'::regclass;
SELECT hybridagg.create('EVENTS_DAILY', :'query', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('"events_daily"', :'query', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
SET client_min_messages = warning;
CALL hybridagg.materialize('EVENTS_DAILY');
RESET client_min_messages;
SELECT hybridagg.drop('"Events_Daily"');
\echo :LAST_ERROR_SQLSTATE

-- a name in another schema (with a space in its name), and the same name
-- in two schemas
SELECT hybridagg.create('"Analytics Schema".Events_Daily', :'query', mode => 'hybrid');
SELECT relname, relnamespace::regnamespace AS schema FROM pg_class WHERE oid = '"Analytics Schema".events_daily'::regclass;
SELECT test_diff('"Analytics Schema".events_daily', :'query', '{bucket,device_id}') AS exact;
SELECT name FROM hybridagg.aggregates ORDER BY name;

-- the search_path decides where an unqualified name is created and found
SET search_path = "Analytics Schema", public;
SELECT hybridagg.create('in_path', :'query', mode => 'batch');
SELECT relnamespace::regnamespace AS schema FROM pg_class WHERE oid = 'in_path'::regclass;
SET client_min_messages = warning;
CALL hybridagg.materialize('in_path');
RESET client_min_messages;
RESET search_path;
CALL hybridagg.materialize('in_path');
\echo :LAST_ERROR_SQLSTATE

-- odd characters that are identifier syntax: a quote and a backslash
SELECT hybridagg.create('O''Brien\agg', :'query', mode => 'streaming');
SELECT relname FROM pg_class WHERE oid = '"o''brien\agg"'::regclass;
SELECT test_diff('"o''brien\agg"', :'query', '{bucket,device_id}') AS exact;
SELECT obj_description('"o''brien\agg"'::regclass, 'pg_class') LIKE 'hybridagg aggregate, kept in streaming mode; %' AS commented;

-- a dot inside quotes is part of the name; three parts are too many
SELECT hybridagg.create('"a.b"', :'query', mode => 'batch');
SELECT relname FROM pg_class WHERE oid = '"a.b"'::regclass;
SELECT hybridagg.create('contrib_regression.public.too_many', :'query', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE

-- longer than 63 bytes: cut to the length of an identifier, the same way
-- whenever the name is given
SELECT hybridagg.create('an_aggregate_name_that_is_far_longer_than_an_identifier_may_be_at_all', :'query', mode => 'batch');
SELECT length(relname) FROM pg_class WHERE relname LIKE 'an_aggregate_name_that_is_far_longer%';
SET client_min_messages = warning;
CALL hybridagg.materialize('an_aggregate_name_that_is_far_longer_than_an_identifier_may_be_at_all');
SELECT hybridagg.drop('an_aggregate_name_that_is_far_longer_than_an_identifier_may_be_at_all');
RESET client_min_messages;

-- every name drops cleanly by the text it was created with
SET client_min_messages = warning;
SELECT hybridagg.drop('public."lambda agg"');
SELECT hybridagg.drop('events per ten minutes');
SELECT hybridagg.drop('events_daily');
SELECT hybridagg.drop('"Analytics Schema".Events_Daily');
SELECT hybridagg.drop('"Analytics Schema".in_path');
SELECT hybridagg.drop('O''Brien\agg');
SELECT hybridagg.drop('"a.b"');
RESET client_min_messages;
SELECT count(*) AS aggregates_left FROM hybridagg.aggregates;
SELECT count(*) AS internal_relations_left FROM pg_class
 WHERE relnamespace = 'hybridagg_internal'::regnamespace AND relname ~ '_[0-9]+';
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'events'::regclass;
SELECT count(*) AS views_left FROM pg_class
 WHERE relkind = 'v' AND relnamespace IN ('public'::regnamespace, '"Analytics Schema"'::regnamespace);
SELECT count(*) AS events_rows FROM events;

DROP SCHEMA "Analytics Schema";
DROP TABLE events;
