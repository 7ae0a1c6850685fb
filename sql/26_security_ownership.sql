-- Security: the aggregate's owner is its view's owner.  ALTER VIEW ...
-- OWNER TO moves every internal object to the new owner; REASSIGN OWNED
-- moves everything, and the aggregate keeps working as the new owner
-- (writes captured, the worker folds, dirty groups recomputed, also in a
-- session that cached the aggregate before the change); DROP ROLE of an
-- owner fails while it owns an aggregate.
-- This file fails if: an internal object keeps its old owner, a write, a
-- fold or a read fails or acts as a role that no longer owns (or no longer
-- exists), DROP ROLE succeeds while the role owns an aggregate, or a view
-- differs from its query.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_o1;
CREATE ROLE regress_hybridagg_o2;
CREATE ROLE regress_hybridagg_o3;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_o1;

CREATE TABLE sec26_events (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
CREATE INDEX ON sec26_events (ts);
INSERT INTO sec26_events
SELECT '2024-10-01 00:00+00'::timestamptz + i * interval '4 minutes', i % 3, i % 59
  FROM generate_series(1, 1500) i;
GRANT SELECT, TRIGGER ON sec26_events TO regress_hybridagg_o1, regress_hybridagg_o2, regress_hybridagg_o3;
\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, min(value) AS lo, max(value) AS hi FROM sec26_events GROUP BY 1, 2'
SET ROLE regress_hybridagg_o1;
SELECT hybridagg.create('sec26_hybrid', :'query', mode => 'hybrid');
SELECT hybridagg.create('sec26_batch', :'query', mode => 'batch');
RESET ROLE;

-- the owners of the internal objects of both aggregates, by kind
CREATE FUNCTION sec26_owners() RETURNS TABLE (aggregate regclass, kind text, owners text)
LANGUAGE sql AS $$
    SELECT a.view, regexp_replace(c.relname, '_[0-9]+(_.*)?$', '') || CASE WHEN c.relname ~ ('^history_' || a.id || '_') THEN ' partition' ELSE '' END,
           string_agg(DISTINCT pg_get_userbyid(c.relowner), ', ')
      FROM hybridagg_internal.aggregate a
      JOIN pg_class c ON c.relnamespace = 'hybridagg_internal'::regnamespace
                     AND c.relname ~ ('^[a-z]+_' || a.id || '($|_)') AND c.relkind IN ('r', 'p', 'v')
     WHERE a.view IN ('sec26_hybrid'::regclass, 'sec26_batch'::regclass)
     GROUP BY 1, 2
    UNION ALL
    SELECT a.view, 'view', pg_get_userbyid(v.relowner)
      FROM hybridagg_internal.aggregate a JOIN pg_class v ON v.oid = a.view
     WHERE a.view IN ('sec26_hybrid'::regclass, 'sec26_batch'::regclass)
     ORDER BY 1, 2
$$;
SELECT * FROM sec26_owners();

-- this session caches the aggregate (capture and dirty groups) as o1's
BEGIN;
DELETE FROM sec26_events WHERE ts = '2024-10-01 00:04+00';
SELECT test_diff('sec26_hybrid', :'query', '{bucket,device}') AS exact_cached;
COMMIT;

-- ALTER VIEW ... OWNER TO moves everything
ALTER VIEW sec26_hybrid OWNER TO regress_hybridagg_o2;
ALTER VIEW sec26_batch OWNER TO regress_hybridagg_o2;
SELECT * FROM sec26_owners();
SELECT name, owner FROM hybridagg.aggregates WHERE name LIKE 'sec26\_%' ORDER BY name;
-- o1 may no longer change them; o2 may
SET ROLE regress_hybridagg_o1;
\set VERBOSITY sqlstate
SELECT hybridagg.drop('sec26_batch');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET ROLE;
SET ROLE regress_hybridagg_o2;
SET client_min_messages = warning;
CALL hybridagg.materialize('sec26_batch', '2024-10-01 00:00+00', '2024-10-06 00:00+00');
RESET client_min_messages;
RESET ROLE;

-- REASSIGN OWNED moves everything of o2 to o3, and o1 is dropped: the
-- session that cached o1 writes and reads on
REASSIGN OWNED BY regress_hybridagg_o2 TO regress_hybridagg_o3;
SELECT * FROM sec26_owners();
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_o1;
DROP OWNED BY regress_hybridagg_o1;
DROP ROLE regress_hybridagg_o1;
INSERT INTO sec26_events VALUES ('2024-10-01 00:05+00', 1, 1000), ('2024-11-01 00:00+00', 2, -1);
UPDATE sec26_events SET value = value + 1 WHERE ts >= '2024-10-02 00:00+00' AND ts < '2024-10-02 02:00+00';
BEGIN;
DELETE FROM sec26_events WHERE ts = '2024-10-01 00:08+00';
SELECT test_diff('sec26_hybrid', :'query', '{bucket,device}') AS exact_while_dirty_after_reassign;
COMMIT;
-- the worker folds as o3, without error
CALL wait_until($$(SELECT pending_deltas = 0 AND dirty_groups = 0 FROM hybridagg.aggregates WHERE name = 'sec26_hybrid')$$);
SELECT name, owner, last_error FROM hybridagg.aggregates WHERE name LIKE 'sec26\_%' ORDER BY name;
SELECT test_diff('sec26_hybrid', :'query', '{bucket,device}') AS hybrid_exact;
SET ROLE regress_hybridagg_o3;
SET client_min_messages = warning;
CALL hybridagg.materialize('sec26_batch', '2024-10-01 00:00+00', '2024-12-01 00:00+00');
RESET client_min_messages;
RESET ROLE;
SELECT test_diff('sec26_batch', :'query', '{bucket,device}') AS batch_exact;
-- a new session, which caches the new owner
\c
INSERT INTO sec26_events VALUES ('2024-10-01 00:06+00', 1, 2000);
SELECT test_diff('sec26_hybrid', :'query', '{bucket,device}') AS hybrid_exact_new_session;

-- DROP ROLE of the owner fails while it owns the aggregates (its
-- privileges on the table revoked first, so that only ownership is left)
REVOKE ALL ON sec26_events FROM regress_hybridagg_o3;
\set VERBOSITY sqlstate
DROP ROLE regress_hybridagg_o3;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
GRANT SELECT, TRIGGER ON sec26_events TO regress_hybridagg_o3;
SELECT count(*) AS aggregates_left FROM hybridagg.aggregates WHERE name LIKE 'sec26\_%';

-- clean up
SET client_min_messages = warning;
SELECT hybridagg.drop('sec26_hybrid');
SELECT hybridagg.drop('sec26_batch');
RESET client_min_messages;
DROP FUNCTION sec26_owners();
DROP TABLE sec26_events;
DROP ROLE regress_hybridagg_o2, regress_hybridagg_o3;
