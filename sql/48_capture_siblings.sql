-- Several aggregates of one table share one pass over each statement's rows
-- (capture_siblings.c): the first capture trigger to fire captures for the
-- capture triggers that fire after it.  Every aggregate stays exact whatever
-- fires in between: a trigger of the user's that writes to the same table
-- (a statement nested in between, with transition tables of its own), one
-- that catches errors in subtransactions, one that fails the statement in a
-- savepoint, after which the first capture trigger is disabled (the next
-- statement's transition tables may reuse the failed one's memory).  A
-- disabled sibling is not captured for, each definition runs as its own
-- owner, nothing one owner's definition sets reaches another owner's, and
-- each aggregate counts every statement once.
-- This file fails if a sibling's rows are captured twice or not at all, or
-- a definition runs as another aggregate's owner or under its settings.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

CREATE ROLE regress_hybridagg_sib_a;
CREATE ROLE regress_hybridagg_sib_b;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_sib_a, regress_hybridagg_sib_b;
CREATE TABLE sib_events (ts timestamptz NOT NULL, device int NOT NULL, value float8, note text);
CREATE INDEX ON sib_events (ts);
GRANT SELECT, TRIGGER ON sib_events TO regress_hybridagg_sib_a, regress_hybridagg_sib_b;
INSERT INTO sib_events SELECT '2025-04-01 00:00+00'::timestamptz + i * interval '1 minute', i % 5, i % 17, NULL
  FROM generate_series(1, 600) i;
-- who evaluates a definition (declared IMMUTABLE, which hybridagg cannot check)
CREATE FUNCTION sib_runner(x int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN current_user;
END
$$;

\set q_who 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, sib_runner(device) AS who, count(*) AS n, sum(value) AS total FROM sib_events GROUP BY 1, 2'
\set q_day 'SELECT date_bin(''1 day'', ts, ''2000-01-01 00:00+00'') AS day, count(*) AS n, max(value) AS hi, min(value) AS lo FROM sib_events GROUP BY 1'
\set q_dev 'SELECT date_bin(''10 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, avg(value) AS mean FROM sib_events GROUP BY 1, 2'
-- created in this order, so that (ids of one width sort by number) the
-- other owner's capture trigger fires between two of the first owner's
SET ROLE regress_hybridagg_sib_a;
SELECT hybridagg.create('sib_a_who', :'q_who', mode => 'hybrid', seal_after => '1 day') IS NOT NULL AS created;
SET ROLE regress_hybridagg_sib_b;
SELECT hybridagg.create('sib_b_who', :'q_who', mode => 'kappa', seal_after => '1 day') IS NOT NULL AS created;
SET ROLE regress_hybridagg_sib_a;
SELECT hybridagg.create('sib_a_day', :'q_day', mode => 'streaming') IS NOT NULL AS created;
RESET ROLE;
SELECT hybridagg.create('sib_dev', :'q_dev', mode => 'lambda', seal_after => '1 day') IS NOT NULL AS created;
SELECT count(*) AS insert_capture_triggers FROM pg_trigger
 WHERE tgrelid = 'sib_events'::regclass AND tgfoid = 'hybridagg_internal.capture()'::regprocedure
   AND tgname LIKE '%\_insert';

-- each view against its defining query; who is the aggregate's owner
CREATE FUNCTION sib_differing() RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (VALUES
        ('sib_a_who', test_diff('sib_a_who', replace($q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, 'OWNER'::text AS who, count(*) AS n, sum(value) AS total FROM sib_events GROUP BY 1, 2$q$, 'OWNER', 'regress_hybridagg_sib_a'), '{bucket,who}')),
        ('sib_b_who', test_diff('sib_b_who', replace($q$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, 'OWNER'::text AS who, count(*) AS n, sum(value) AS total FROM sib_events GROUP BY 1, 2$q$, 'OWNER', 'regress_hybridagg_sib_b'), '{bucket,who}')),
        ('sib_a_day', test_diff('sib_a_day', $q$SELECT date_bin('1 day', ts, '2000-01-01 00:00+00') AS day, count(*) AS n, max(value) AS hi, min(value) AS lo FROM sib_events GROUP BY 1$q$, '{day}')),
        ('sib_dev', test_diff('sib_dev', $q$SELECT date_bin('10 minutes', ts, '2000-01-01 00:00+00') AS bucket, device, count(*) AS n, avg(value) AS mean FROM sib_events GROUP BY 1, 2$q$, '{bucket,device}'))
    ) d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
SELECT * FROM sib_differing();

-- one statement of each kind, each captured once for all four, each
-- definition as its owner
SELECT hybridagg.reset_costs();
INSERT INTO sib_events SELECT '2025-04-01 12:00+00'::timestamptz + i * interval '7 seconds', i % 7, i, NULL
  FROM generate_series(1, 500) i;
UPDATE sib_events SET value = value + 1, device = device + 1 WHERE ts BETWEEN '2025-04-01 02:00+00' AND '2025-04-01 03:00+00';
DELETE FROM sib_events WHERE ts BETWEEN '2025-04-01 05:00+00' AND '2025-04-01 05:30+00';
SELECT * FROM sib_differing();
SELECT name, capture_statements, capture_rows FROM hybridagg.aggregates WHERE name LIKE 'sib\_%' ORDER BY name;
SELECT DISTINCT who FROM sib_a_who UNION ALL SELECT DISTINCT who FROM sib_b_who ORDER BY 1;

-- a trigger of the user's fires between the first capture trigger and the
-- others (named to sort right after it)
SELECT tgname || '~' AS between_name FROM pg_trigger
 WHERE tgrelid = 'sib_events'::regclass AND tgfoid = 'hybridagg_internal.capture()'::regprocedure
   AND tgname LIKE '%\_insert' ORDER BY tgname COLLATE "C" LIMIT 1 \gset
SELECT tgname AS first_insert_trigger FROM pg_trigger
 WHERE tgrelid = 'sib_events'::regclass AND tgfoid = 'hybridagg_internal.capture()'::regprocedure
   AND tgname LIKE '%\_insert' ORDER BY tgname COLLATE "C" LIMIT 1 \gset
CREATE FUNCTION sib_between() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- a statement nested in between, on the same table
    IF EXISTS (SELECT FROM new_rows WHERE note = 'nest') AND pg_trigger_depth() = 1 THEN
        INSERT INTO sib_events VALUES ('2025-04-01 20:00+00', 3, 1000, 'nested'), ('2025-04-02 01:00+00', 4, 2000, 'nested');
    END IF;
    -- subtransactions that abort and commit in between
    IF EXISTS (SELECT FROM new_rows WHERE note = 'catch') THEN
        BEGIN
            PERFORM 1 / 0;
        EXCEPTION WHEN division_by_zero THEN
            NULL;
        END;
        BEGIN
            PERFORM 1;
        EXCEPTION WHEN others THEN
            NULL;
        END;
    END IF;
    IF EXISTS (SELECT FROM new_rows WHERE note = 'fail') THEN
        RAISE EXCEPTION 'failing between the captures';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER :"between_name" AFTER INSERT ON sib_events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sib_between();
SELECT tgname = :'between_name' AS user_trigger_second FROM pg_trigger
 WHERE tgrelid = 'sib_events'::regclass AND tgname LIKE '%insert%' ORDER BY tgname COLLATE "C" OFFSET 1 LIMIT 1;

INSERT INTO sib_events VALUES ('2025-04-01 13:00+00', 1, 5, 'nest'), ('2025-04-01 13:01+00', 2, 6, 'nest');
SELECT count(*) AS nested_rows FROM sib_events WHERE note = 'nested';
SELECT * FROM sib_differing();
INSERT INTO sib_events VALUES ('2025-04-01 14:00+00', 1, 7, 'catch'), ('2025-04-01 14:01+00', 2, 8, 'catch');
SELECT * FROM sib_differing();

-- the statement fails in a savepoint after the first capture; then the first
-- capture trigger is off for the next statement (a WARNING says so), whose
-- siblings must capture for themselves
SELECT count(hybridagg.fold(n)) AS folded FROM unnest(ARRAY['sib_a_who', 'sib_a_day', 'sib_b_who', 'sib_dev']) n;
BEGIN;
SAVEPOINT before_failure;
INSERT INTO sib_events VALUES ('2025-04-01 15:00+00', 1, 9, 'fail');
ROLLBACK TO SAVEPOINT before_failure;
SET client_min_messages = error;
ALTER TABLE sib_events DISABLE TRIGGER :"first_insert_trigger";
RESET client_min_messages;
INSERT INTO sib_events VALUES ('2025-04-01 15:00+00', 1, 9, NULL), ('2025-04-01 15:02+00', 3, 10, NULL);
ALTER TABLE sib_events ENABLE ALWAYS TRIGGER :"first_insert_trigger";
COMMIT;
-- the one whose trigger was off missed the write, as it says; the others not
SELECT count(*) AS aggregates_marked_interrupted FROM hybridagg.aggregates
 WHERE name LIKE 'sib\_%' AND capture_interrupted_at IS NOT NULL;
SELECT count(*) AS aggregates_that_missed_it FROM sib_differing();
-- and a full recompute puts it right
SELECT name AS missed FROM hybridagg.aggregates WHERE name LIKE 'sib\_%' AND capture_interrupted_at IS NOT NULL \gset
SET client_min_messages = warning;
CALL hybridagg.materialize(:'missed', '-infinity', 'infinity');
RESET client_min_messages;
SELECT * FROM sib_differing();

-- a disabled sibling is not captured for: the others are (folded first, so
-- that no dirty group, recomputed from the table, hides the miss)
SELECT count(hybridagg.fold(n)) AS folded FROM unnest(ARRAY['sib_a_who', 'sib_a_day', 'sib_b_who', 'sib_dev']) n;
SELECT tgname AS second_insert_trigger FROM pg_trigger
 WHERE tgrelid = 'sib_events'::regclass AND tgfoid = 'hybridagg_internal.capture()'::regprocedure
   AND tgname LIKE '%\_insert' ORDER BY tgname COLLATE "C" OFFSET 1 LIMIT 1 \gset
DROP TRIGGER :"between_name" ON sib_events;
SET client_min_messages = error;
ALTER TABLE sib_events DISABLE TRIGGER :"second_insert_trigger";
RESET client_min_messages;
INSERT INTO sib_events VALUES ('2025-04-01 16:00+00', 2, 11, NULL);
SELECT count(*) AS aggregates_that_missed_it FROM sib_differing();
SELECT name AS missed FROM hybridagg.aggregates WHERE name LIKE 'sib\_%' AND capture_interrupted_at IS NOT NULL \gset
ALTER TABLE sib_events ENABLE ALWAYS TRIGGER :"second_insert_trigger";
SET client_min_messages = warning;
CALL hybridagg.materialize(:'missed', '-infinity', 'infinity');
RESET client_min_messages;
SELECT * FROM sib_differing();

-- what one owner's definition sets for the rest of the capture (DateStyle,
-- with set_config(..., true)) reaches no other owner's definition: in a
-- pass of both owners, the other's text of a time would change form
CREATE FUNCTION sib_set_datestyle(x int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM set_config('DateStyle', 'SQL, DMY', true);
    RETURN x;
END
$$;
CREATE FUNCTION sib_text(t timestamptz) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN t::text;
END
$$;
SET ROLE regress_hybridagg_sib_a;
SELECT hybridagg.create('sib_a_style', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, sib_set_datestyle(device) AS d, count(*) AS n FROM sib_events GROUP BY 1, 2', mode => 'streaming') IS NOT NULL AS created;
SET ROLE regress_hybridagg_sib_b;
SELECT hybridagg.create('sib_b_text', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, sib_text(ts) AS t, count(*) AS n FROM sib_events GROUP BY 1, 2', mode => 'streaming') IS NOT NULL AS created;
RESET ROLE;
INSERT INTO sib_events SELECT '2025-04-02 00:00+00'::timestamptz + i * interval '1 minute', i % 3, i, NULL
  FROM generate_series(1, 50) i;
SELECT count(*) AS times, count(*) FILTER (WHERE t !~ '^2025-04-02 ') AS times_in_another_form
  FROM sib_b_text WHERE bucket >= '2025-04-02 00:00+00';
SHOW DateStyle;
SELECT hybridagg.drop(n) FROM unnest(ARRAY['sib_a_style', 'sib_b_text']) n;

-- folded and sealed, still exact
SELECT count(hybridagg.fold(n)) AS folded FROM unnest(ARRAY['sib_a_who', 'sib_a_day', 'sib_b_who', 'sib_dev']) n;
SELECT * FROM sib_differing();

SELECT hybridagg.drop(n) FROM unnest(ARRAY['sib_a_who', 'sib_a_day', 'sib_b_who', 'sib_dev']) n;
DROP TABLE sib_events;
DROP FUNCTION sib_runner(int), sib_between(), sib_differing(), sib_set_datestyle(int), sib_text(timestamptz);
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_sib_a, regress_hybridagg_sib_b;
DROP ROLE regress_hybridagg_sib_a;
DROP ROLE regress_hybridagg_sib_b;
