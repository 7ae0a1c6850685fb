-- Security: hybridagg.aggregates shows the table sizes and pending work of
-- an aggregate only to roles that may SELECT its view; others see its row
-- with NULLs there.  The sizes are right once the statistics are flushed.
-- This file fails if: a role without SELECT on the view sees a size, a
-- count of pending deltas or dirty groups, or the capture state; a role
-- with SELECT (directly or through a role it belongs to), or the owner,
-- sees NULLs; or the sizes do not become the stored counts.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_o;
CREATE ROLE regress_hybridagg_r;
CREATE ROLE regress_hybridagg_group;
CREATE ROLE regress_hybridagg_member IN ROLE regress_hybridagg_group;
CREATE ROLE regress_hybridagg_nobody;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_o;

SET ROLE regress_hybridagg_o;
CREATE TABLE sec25_events (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
INSERT INTO sec25_events
SELECT '2024-09-01 00:00+00'::timestamptz + i * interval '10 minutes', i % 3, i % 31
  FROM generate_series(1, 600) i;
INSERT INTO sec25_events VALUES ('2999-01-01 00:00+00', 1, 1), ('2999-01-01 00:10+00', 2, 2);
\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, min(value) AS lo FROM sec25_events GROUP BY 1, 2'
SELECT hybridagg.create('sec25_hybrid', :'query', mode => 'hybrid');
SELECT hybridagg.create('sec25_batch', :'query', mode => 'batch');
GRANT SELECT ON sec25_hybrid, sec25_batch TO regress_hybridagg_r;
GRANT SELECT ON sec25_hybrid TO regress_hybridagg_group;
RESET ROLE;

-- the statistics of this session and of the worker, flushed: the sizes
-- are the stored counts (as the owner sees them)
SELECT pg_stat_force_next_flush();
CALL wait_until($$(SELECT bool_and(history_rows = (stored_groups(view)).history AND recent_rows IS NOT DISTINCT FROM (stored_groups(view)).recent) FROM hybridagg.aggregates WHERE name LIKE 'sec25\_%')$$);

CREATE FUNCTION sec25_status() RETURNS TABLE (name text, history_rows_shown boolean, recent_rows_shown boolean,
                                                pending_shown boolean, dirty_shown boolean, capture text)
LANGUAGE sql AS $$
    SELECT name, history_rows IS NOT NULL, recent_rows IS NOT NULL, pending_deltas IS NOT NULL,
           dirty_groups IS NOT NULL, capture
      FROM hybridagg.aggregates WHERE name LIKE 'sec25\_%' ORDER BY name
$$;

-- the owner, a reader with SELECT, a member of a role with SELECT on one
-- view, and a role with none
SET ROLE regress_hybridagg_o;
SELECT * FROM sec25_status();
SELECT name, history_rows = (stored_groups(view)).history AS history_rows_right,
       recent_rows IS NOT DISTINCT FROM (stored_groups(view)).recent AS recent_rows_right
  FROM hybridagg.aggregates WHERE name LIKE 'sec25\_%' ORDER BY name;
SET ROLE regress_hybridagg_r;
SELECT * FROM sec25_status();
SET ROLE regress_hybridagg_member;
SELECT * FROM sec25_status();
SET ROLE regress_hybridagg_nobody;
SELECT * FROM sec25_status();
-- what everyone sees: the definition and the mode, which are not secret
SELECT name, mode, owner, definition IS NOT NULL AS has_definition FROM hybridagg.aggregates WHERE name LIKE 'sec25\_%' ORDER BY name;
RESET ROLE;

-- while a change is pending, only the readers see it
BEGIN;
INSERT INTO sec25_events VALUES ('2999-01-01 00:20+00', 1, 3);
DELETE FROM sec25_events WHERE ts = '2999-01-01 00:00+00';
SET LOCAL ROLE regress_hybridagg_r;
SELECT name, pending_deltas, dirty_groups FROM hybridagg.aggregates WHERE name = 'sec25_hybrid';
SET LOCAL ROLE regress_hybridagg_nobody;
SELECT name, pending_deltas, dirty_groups FROM hybridagg.aggregates WHERE name = 'sec25_hybrid';
COMMIT;
-- a revoked SELECT hides them again
REVOKE SELECT ON sec25_hybrid FROM regress_hybridagg_r;
SET ROLE regress_hybridagg_r;
SELECT * FROM sec25_status();
RESET ROLE;

-- and the sizes follow the stored groups after writes
CALL wait_until($$(SELECT pending_deltas = 0 FROM hybridagg.aggregates WHERE name = 'sec25_hybrid')$$);
INSERT INTO sec25_events SELECT '2999-01-02 00:00+00'::timestamptz + i * interval '1 hour', i, 1 FROM generate_series(1, 20) i;
CALL wait_until($$(SELECT pending_deltas = 0 FROM hybridagg.aggregates WHERE name = 'sec25_hybrid')$$);
SELECT pg_stat_force_next_flush();
CALL wait_until($$(SELECT bool_and(history_rows = (stored_groups(view)).history AND recent_rows IS NOT DISTINCT FROM (stored_groups(view)).recent) FROM hybridagg.aggregates WHERE name LIKE 'sec25\_%')$$);
SELECT name, recent_rows FROM hybridagg.aggregates WHERE name = 'sec25_hybrid';
SELECT test_diff('sec25_hybrid', :'query', '{bucket,device}') AS hybrid_exact;

-- clean up
SET client_min_messages = warning;
SELECT hybridagg.drop('sec25_hybrid');
SELECT hybridagg.drop('sec25_batch');
RESET client_min_messages;
DROP FUNCTION sec25_status();
DROP TABLE sec25_events;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_o;
DROP ROLE regress_hybridagg_o, regress_hybridagg_r, regress_hybridagg_member, regress_hybridagg_group, regress_hybridagg_nobody;
