-- Security: code an aggregate's owner attaches to its internal tables runs
-- as that owner only.  An unprivileged role (regress_hybridagg_o, with
-- SELECT and TRIGGER on a table of another role) creates a batch, a hybrid
-- and a lambda aggregate, then adds to their internal tables a CHECK
-- constraint, an expression index and triggers calling functions of its
-- own, which log current_user and try ALTER ROLE ... SUPERUSER.  A superuser
-- then writes, materializes ranges that need new history partitions and
-- folds, and the worker folds and creates partitions too.
-- This file fails if: any logged call ran as a role other than
-- regress_hybridagg_o (hybridagg ran DML, ATTACH or an index build as the
-- superuser, the extension owner or the writer), the ALTER ROLE succeeded,
-- nothing was logged at all (the attack code never ran: the test would
-- prove nothing), a view differs from its query, or what the owner adds
-- to its own tables (an AFTER trigger, a CHECK on history, a policy) breaks
-- the aggregate or runs as someone else.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

CREATE ROLE regress_hybridagg_tab;
CREATE ROLE regress_hybridagg_o;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_tab, regress_hybridagg_o;

SET ROLE regress_hybridagg_tab;
CREATE TABLE sec20_events (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
CREATE INDEX ON sec20_events (ts);
INSERT INTO sec20_events
SELECT '2024-03-01 00:00+00'::timestamptz + i * interval '7 minutes', i % 4, i % 97
  FROM generate_series(1, 2000) i;
GRANT SELECT, TRIGGER ON sec20_events TO regress_hybridagg_o;
RESET ROLE;

-- the attacker's log, its functions and its aggregates
SET ROLE regress_hybridagg_o;
CREATE TABLE sec20_log (who text NOT NULL, what text NOT NULL, outcome text);
GRANT INSERT, SELECT ON sec20_log TO PUBLIC;
-- logs who runs it, then tries to become superuser
CREATE FUNCTION sec20_attack(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE 'ALTER ROLE regress_hybridagg_o SUPERUSER';
        INSERT INTO public.sec20_log VALUES (current_user, what, 'escalated');
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO public.sec20_log VALUES (current_user, what, SQLSTATE);
    END;
    RETURN true;
END
$$;
-- for the CHECK constraint and the expression index: "immutable", and
-- calling the volatile attack all the same
CREATE FUNCTION sec20_check(k int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM public.sec20_attack('check');
    RETURN true;
END
$$;
CREATE FUNCTION sec20_index(k int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM public.sec20_attack('index');
    RETURN k;
END
$$;
CREATE FUNCTION sec20_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.sec20_attack(TG_TABLE_NAME || ' ' || TG_OP);
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi FROM sec20_events GROUP BY 1, 2'
SELECT hybridagg.create('sec20_batch', :'query', mode => 'batch', seal_after => '1 hour');
SELECT hybridagg.create('sec20_hybrid', :'query', mode => 'hybrid', seal_after => '1 hour');
SELECT hybridagg.create('sec20_lambda', :'query', mode => 'lambda', seal_after => '1 hour');
RESET ROLE;
SELECT view, mode FROM hybridagg_internal.aggregate WHERE view::text LIKE 'sec20\_%' ORDER BY id;
SELECT id AS batch_id FROM hybridagg_internal.aggregate WHERE view = 'sec20_batch'::regclass \gset
SELECT id AS hybrid_id FROM hybridagg_internal.aggregate WHERE view = 'sec20_hybrid'::regclass \gset
SELECT id AS lambda_id FROM hybridagg_internal.aggregate WHERE view = 'sec20_lambda'::regclass \gset

-- the attack: on each aggregate's history (partitioned) a row trigger,
-- which PostgreSQL clones onto every partition, also those hybridagg makes
-- later; on each existing partition a CHECK constraint; on recent a row
-- trigger.  An expression index is refused already: indexes go in the
-- table's schema, where O may not create anything.
SET ROLE regress_hybridagg_o;
SELECT format('hybridagg_internal.history_%s', :batch_id) AS h_batch,
       format('hybridagg_internal.history_%s', :hybrid_id) AS h_hybrid,
       format('hybridagg_internal.history_%s', :lambda_id) AS h_lambda,
       format('hybridagg_internal.recent_%s', :hybrid_id) AS r_hybrid,
       format('hybridagg_internal.recent_%s', :lambda_id) AS r_lambda \gset
CREATE INDEX sec20_i ON :h_batch (public.sec20_index(g2));
\echo :LAST_ERROR_SQLSTATE
CREATE INDEX sec20_i ON :r_hybrid (public.sec20_index(g2));
\echo :LAST_ERROR_SQLSTATE
\set ECHO none
SELECT format('ALTER TABLE %s ADD CONSTRAINT sec20_c CHECK (public.sec20_check(g2))', inhrelid::regclass)
  FROM pg_inherits WHERE inhparent IN (:'h_batch'::regclass, :'h_hybrid'::regclass, :'h_lambda'::regclass)
 ORDER BY inhrelid \gexec
\set ECHO all
CREATE TRIGGER sec20_t BEFORE INSERT OR UPDATE OR DELETE ON :h_batch FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger();
CREATE TRIGGER sec20_t BEFORE INSERT OR UPDATE OR DELETE ON :h_hybrid FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger();
CREATE TRIGGER sec20_t BEFORE INSERT OR UPDATE OR DELETE ON :h_lambda FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger();
CREATE TRIGGER sec20_t BEFORE INSERT OR UPDATE OR DELETE ON :r_hybrid FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger();
CREATE TRIGGER sec20_t BEFORE INSERT OR UPDATE OR DELETE ON :r_lambda FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger();
-- what ran while O set it up (the CHECK validation) ran as O
SELECT who, count(*) > 0 AS ran FROM sec20_log GROUP BY who ORDER BY who;
TRUNCATE sec20_log;
RESET ROLE;

SELECT count(*) AS partitions_before FROM pg_inherits
 WHERE inhparent IN (:'h_batch'::regclass, :'h_hybrid'::regclass, :'h_lambda'::regclass) \gset

-- a superuser writes rows of 2001 and 2002 (no history partition holds
-- them yet), materializes and folds
INSERT INTO sec20_events
SELECT '2001-06-01 00:00+00'::timestamptz + i * interval '13 minutes', i % 5, i % 89
  FROM generate_series(1, 300) i;
SET client_min_messages = warning;
CALL hybridagg.materialize('sec20_batch', '2001-01-01 00:00+00', '2001-12-31 00:00+00');
CALL hybridagg.materialize('sec20_lambda', '2001-01-01 00:00+00', '2001-12-31 00:00+00');
-- and ranges held by the existing partitions, where the CHECK constraints are
CALL hybridagg.materialize('sec20_batch', '2024-03-01 00:00+00', '2024-03-05 00:00+00');
CALL hybridagg.materialize('sec20_lambda', '2024-03-01 00:00+00', '2024-03-05 00:00+00');
RESET client_min_messages;
-- a fold in the superuser's own transaction, before the worker can see it
BEGIN;
INSERT INTO sec20_events
SELECT '2002-06-01 00:00+00'::timestamptz + i * interval '17 minutes', i % 5, i % 83
  FROM generate_series(1, 300) i;
UPDATE sec20_events SET value = value + 1 WHERE ts >= '2024-03-02 00:00+00' AND ts < '2024-03-02 06:00+00';
SELECT hybridagg.fold('sec20_hybrid') > 0 AS folded_hybrid, hybridagg.fold('sec20_lambda') > 0 AS folded_lambda;
COMMIT;
-- rows above the watermarks go to recent; the worker folds them (and a
-- DELETE of a min, recomputed from the base table)
INSERT INTO sec20_events VALUES ('2999-01-01 00:10+00', 1, 5), ('2999-01-01 00:20+00', 1, 7);
DELETE FROM sec20_events WHERE ts = '2999-01-01 00:10+00';
-- and the worker makes new partitions, of 2003
INSERT INTO sec20_events
SELECT '2003-06-01 00:00+00'::timestamptz + i * interval '19 minutes', i % 3, i % 79
  FROM generate_series(1, 200) i;
CALL wait_until($$(SELECT bool_and(pending_deltas = 0 AND dirty_groups = 0) FROM hybridagg.aggregates WHERE name IN ('sec20_hybrid', 'sec20_lambda'))$$);
SELECT name, last_error FROM hybridagg.aggregates WHERE name LIKE 'sec20\_%' ORDER BY name;

-- new partitions were made: 2001 (batch, lambda), 2002 (hybrid, lambda),
-- 2003 (hybrid, lambda), each owned by O and carrying the trigger
SELECT count(*) - :partitions_before AS new_partitions FROM pg_inherits
 WHERE inhparent IN (:'h_batch'::regclass, :'h_hybrid'::regclass, :'h_lambda'::regclass);
SELECT bool_and(c.relowner = 'regress_hybridagg_o'::regrole) AS owned_by_o,
       bool_and(EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'sec20_t')) AS have_trigger
  FROM pg_inherits p JOIN pg_class c ON c.oid = p.inhrelid
 WHERE p.inhparent IN (:'h_batch'::regclass, :'h_hybrid'::regclass, :'h_lambda'::regclass);

-- the attack code ran, in every place, and only as O; O gained nothing
SELECT who, outcome, count(*) > 0 AS ran FROM sec20_log GROUP BY who, outcome ORDER BY who, outcome;
SELECT DISTINCT CASE WHEN what = 'check' THEN what ELSE regexp_replace(what, '_[0-9]+.* ', ' ') END AS place
  FROM sec20_log ORDER BY 1;
SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = 'regress_hybridagg_o';

-- and the views are exact
SELECT test_diff('sec20_hybrid', :'query', '{bucket,device}') AS hybrid_exact;
SELECT test_diff('sec20_lambda', :'query', '{bucket,device}') AS lambda_exact;
SET client_min_messages = warning;
CALL hybridagg.materialize('sec20_batch', '2000-01-01 00:00+00', '2030-01-01 00:00+00');
RESET client_min_messages;
SELECT test_diff('sec20_batch', :'query', '{bucket,device}') AS batch_exact;
SELECT count(*) AS logged_as_others FROM sec20_log WHERE who <> 'regress_hybridagg_o';

-- What the owner may add must not break the aggregate (nor run as anyone
-- else).  Each attempt is made in a block that ignores a refusal, so that
-- this holds whether hybridagg refuses the change or copes with it.
-- (a) an AFTER row trigger on recent: the worker must still fold (fails
-- if the fold errors, e.g. with an internal error, and the deltas stay)
TRUNCATE sec20_log;
SET ROLE regress_hybridagg_o;
\set ECHO none
SELECT format($f$DO $$BEGIN EXECUTE %L; EXCEPTION WHEN OTHERS THEN NULL; END$$$f$,
              format('CREATE TRIGGER sec20_after AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger()', :'r_hybrid')) \gexec
\set ECHO all
RESET ROLE;
INSERT INTO sec20_events VALUES ('2999-01-01 00:30+00', 2, 9);
CALL wait_until($$(SELECT pending_deltas = 0 FROM hybridagg.aggregates WHERE name = 'sec20_hybrid')$$, '20 seconds');
SELECT last_error_sqlstate FROM hybridagg.aggregates WHERE name = 'sec20_hybrid';
SELECT count(*) AS logged_as_others FROM sec20_log WHERE who <> 'regress_hybridagg_o';
\set ECHO none
SELECT format('DROP TRIGGER IF EXISTS sec20_after ON %s', :'r_hybrid') \gexec
\set ECHO all
CALL wait_until($$(SELECT pending_deltas = 0 FROM hybridagg.aggregates WHERE name = 'sec20_hybrid')$$);
SELECT test_diff('sec20_hybrid', :'query', '{bucket,device}') AS hybrid_exact_after_trigger;

-- (b) a CHECK constraint on history itself: new partitions must still
-- attach (fails if materialize errors with "child table is missing
-- constraint")
SET ROLE regress_hybridagg_o;
\set ECHO none
SELECT format($f$DO $$BEGIN EXECUTE %L; EXCEPTION WHEN OTHERS THEN NULL; END$$$f$,
              format('ALTER TABLE %s ADD CONSTRAINT sec20_parent_c CHECK (public.sec20_check(g2))', :'h_batch')) \gexec
\set ECHO all
RESET ROLE;
INSERT INTO sec20_events VALUES ('2005-06-01 00:10+00', 2, 9);
SET client_min_messages = warning;
CALL hybridagg.materialize('sec20_batch', '2005-01-01 00:00+00', '2006-01-01 00:00+00');
RESET client_min_messages;
SELECT test_diff('sec20_batch', :'query', '{bucket,device}') AS batch_exact_after_check;
SELECT count(*) AS logged_as_others FROM sec20_log WHERE who <> 'regress_hybridagg_o';

-- (c) row-level security with a policy calling O's code, on recent: the
-- view reads recent with O's rights, but PostgreSQL evaluates the policy
-- as whoever reads the view (here a superuser); fails if the policy's
-- code runs as the reader
SET ROLE regress_hybridagg_o;
\set ECHO none
SELECT format($f$DO $$BEGIN EXECUTE %L; EXECUTE %L; EXECUTE %L; EXCEPTION WHEN OTHERS THEN NULL; END$$$f$,
              format('CREATE POLICY sec20_p ON %s USING (public.sec20_attack(''policy''))', :'r_hybrid'),
              format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', :'r_hybrid'),
              format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', :'r_hybrid')) \gexec
\set ECHO all
RESET ROLE;
SELECT count(*) > 0 AS reads FROM sec20_hybrid;
SELECT count(*) AS logged_as_others FROM sec20_log WHERE who <> 'regress_hybridagg_o';
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_hybridagg_o';
\set ECHO none
SELECT format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', :'r_hybrid') \gexec
\set ECHO all
\set ECHO none
SELECT format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', :'r_hybrid') \gexec
\set ECHO all
\set ECHO none
SELECT format('DROP POLICY IF EXISTS sec20_p ON %s', :'r_hybrid') \gexec
\set ECHO all
SELECT test_diff('sec20_hybrid', :'query', '{bucket,device}') AS hybrid_exact_after_policy;

-- clean up
SET client_min_messages = warning;
SELECT hybridagg.drop('sec20_batch');
SELECT hybridagg.drop('sec20_hybrid');
SELECT hybridagg.drop('sec20_lambda');
RESET client_min_messages;
SELECT count(*) AS internal_left FROM pg_class
 WHERE relnamespace = 'hybridagg_internal'::regnamespace
   AND relname ~ ('^[a-z]+_(' || :batch_id || '|' || :hybrid_id || '|' || :lambda_id || ')($|_)');
DROP TABLE sec20_events, sec20_log;
DROP FUNCTION sec20_attack(text), sec20_check(int), sec20_index(int), sec20_trigger();
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_tab, regress_hybridagg_o;
DROP ROLE regress_hybridagg_tab, regress_hybridagg_o;
