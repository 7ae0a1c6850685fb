-- Who may do what.  An ordinary role that owns a table creates aggregates of
-- it.  Writers need rights on the table only: the capture writes the
-- aggregate's internal tables as the aggregate's owner, and the worker folds
-- as the owner too.  Readers need SELECT on the view only.  Only the owner
-- (or a member of its role, or a superuser) may materialize, reprocess or
-- drop.  Creating needs SELECT on the table, and for the streaming modes the
-- TRIGGER privilege.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_owner;
CREATE ROLE regress_hybridagg_writer;
CREATE ROLE regress_hybridagg_reader;
CREATE ROLE regress_hybridagg_other;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_owner, regress_hybridagg_other;

SET ROLE regress_hybridagg_owner;
CREATE TABLE owned_events (id serial PRIMARY KEY, ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
CREATE INDEX ON owned_events (ts);
INSERT INTO owned_events (ts, device_id, value)
SELECT now() - i * interval '5 minutes', i % 3, i % 71 FROM generate_series(1, 1500) i;
\set query 'SELECT date_bin(''15 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, min(value) AS lo FROM owned_events GROUP BY 1, 2'
SELECT hybridagg.create('owned_hybrid', :'query', mode => 'hybrid');
SELECT hybridagg.create('owned_batch', :'query', mode => 'batch');
SELECT hybridagg.create('owned_kappa', :'query', mode => 'kappa');
GRANT SELECT, INSERT, UPDATE, DELETE ON owned_events TO regress_hybridagg_writer;
GRANT USAGE ON SEQUENCE owned_events_id_seq TO regress_hybridagg_writer;
GRANT SELECT ON owned_hybrid, owned_batch, owned_kappa TO regress_hybridagg_reader;
GRANT SELECT ON owned_events TO regress_hybridagg_other;
RESET ROLE;
SELECT name, owner FROM hybridagg.aggregates WHERE name LIKE 'owned\_%' ORDER BY name;
-- the internal tables belong to the aggregate's owner
SELECT DISTINCT pg_get_userbyid(c.relowner) AS internal_owner
  FROM hybridagg_internal.aggregate a
  JOIN pg_class c ON c.relnamespace = 'hybridagg_internal'::regnamespace
                 AND c.relname ~ ('^[a-z]+_' || a.id || '($|_)') AND c.relkind IN ('r', 'p', 'v')
 WHERE a.view IN ('owned_hybrid'::regclass, 'owned_batch'::regclass, 'owned_kappa'::regclass);

-- a writer with rights on the table alone
SET ROLE regress_hybridagg_writer;
INSERT INTO owned_events (ts, device_id, value) VALUES (now(), 1, -5), (now() - interval '2 days', 2, -6);
UPDATE owned_events SET value = value + 1, device_id = 2 WHERE id % 10 = 0;
DELETE FROM owned_events WHERE id % 11 = 0;
-- COPY of a late row, six days back: COPY's data cannot say now(), so the
-- row goes through a file (\copy ... FROM sends it as COPY ... FROM STDIN)
\copy (SELECT now() - interval '6 days', 1, 7) TO 'results/15_privileges.copy'
\copy owned_events (ts, device_id, value) FROM 'results/15_privileges.copy'
-- but no rights on the internal tables
RESET ROLE;
SELECT format('hybridagg_internal.delta_%s', id) AS delta FROM hybridagg_internal.aggregate WHERE view = 'owned_hybrid'::regclass \gset
SELECT has_table_privilege('regress_hybridagg_writer', :'delta', 'SELECT, INSERT, UPDATE, DELETE') AS writer_has_rights_on_delta;
SELECT test_diff('owned_hybrid', :'query', '{bucket,device_id}') AS hybrid_exact;
SELECT test_diff('owned_kappa', :'query', '{bucket,device_id}') AS kappa_exact;
-- the worker folds as the owner, without error
CREATE PROCEDURE wait_drained(timeout interval DEFAULT '60 seconds') LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
BEGIN
    WHILE EXISTS (SELECT FROM hybridagg.aggregates WHERE name LIKE 'owned\_%' AND (pending_deltas > 0 OR dirty_groups > 0)) LOOP
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'pending deltas were not folded within %', timeout;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
CALL wait_drained();
SELECT name, last_error IS NULL AS no_error FROM hybridagg.aggregates WHERE name LIKE 'owned\_%' AND mode <> 'batch' ORDER BY name;
SELECT test_diff('owned_hybrid', :'query', '{bucket,device_id}') AS hybrid_exact_after_fold;

-- a reader with SELECT on the views alone
SET ROLE regress_hybridagg_reader;
SELECT count(*) > 0 AS reads_hybrid FROM owned_hybrid;
SELECT count(*) > 0 AS reads_batch FROM owned_batch;
SELECT count(*) > 0 AS reads_kappa FROM owned_kappa WHERE bucket >= now() - interval '1 day';
SELECT count(*) FROM owned_events;
-- who may not change the aggregates
CALL hybridagg.materialize('owned_batch');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.reprocess('owned_kappa', now() - interval '1 day', now());
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.drop('owned_hybrid');
\echo :LAST_ERROR_SQLSTATE
DROP VIEW owned_hybrid;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SET ROLE regress_hybridagg_writer;
SELECT hybridagg.drop('owned_batch');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- creating needs SELECT on the table ...
SET ROLE regress_hybridagg_reader;
SELECT hybridagg.create('not_mine', :'query', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_reader;
SET ROLE regress_hybridagg_reader;
SELECT hybridagg.create('not_mine', :'query', mode => 'batch');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_reader;
-- ... and the streaming modes the TRIGGER privilege; batch mode does not
SET ROLE regress_hybridagg_other;
SELECT hybridagg.create('not_mine', :'query', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('others_batch', :'query', mode => 'batch');
SELECT test_diff('others_batch', :'query', '{bucket,device_id}') AS others_batch_exact;
SET client_min_messages = warning;
SELECT hybridagg.drop('others_batch');
RESET client_min_messages;
RESET ROLE;

-- the owner, and a superuser, may
SET ROLE regress_hybridagg_owner;
SET client_min_messages = warning;
CALL hybridagg.materialize('owned_batch', now() - interval '7 days', now());
RESET client_min_messages;
SELECT hybridagg.reprocess('owned_kappa', now() - interval '1 day', now()) > 0 AS reprocessed;
SELECT test_diff('owned_batch', :'query', '{bucket,device_id}') AS batch_exact;
SET client_min_messages = warning;
SELECT hybridagg.drop('owned_batch');
RESET client_min_messages;
RESET ROLE;
SET client_min_messages = warning;
SELECT hybridagg.drop('owned_hybrid');
SELECT hybridagg.drop('owned_kappa');
RESET client_min_messages;
SELECT count(*) AS aggregates_left FROM hybridagg.aggregates WHERE name LIKE 'owned\_%' OR name LIKE 'others\_%';

DROP PROCEDURE wait_drained(interval);
DROP TABLE owned_events;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_owner, regress_hybridagg_other;
DROP ROLE regress_hybridagg_owner, regress_hybridagg_writer, regress_hybridagg_reader, regress_hybridagg_other;
