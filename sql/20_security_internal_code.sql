-- Security: code an aggregate's owner writes runs as that owner only.  An
-- unprivileged role (regress_hybridagg_o, with SELECT and TRIGGER on a
-- table of another role) creates a hybrid and a lambda aggregate whose
-- WHERE calls an immutable function of its own, which logs current_user and
-- tries ALTER ROLE ... SUPERUSER; hybridagg evaluates it as O when rows
-- change.  What readers evaluate with their own rights may not call O's
-- code: the same WHERE in a batch aggregate (whose view aggregates the rows
-- above the watermark), or O's function in the select list.  A superuser's
-- aggregate may not call O's function either.  O then tries to attach code
-- to the internal tables, which hybridagg and the readers use: a CHECK
-- constraint, an expression index, BEFORE and AFTER triggers, a rule that
-- turns delta into a view, a row-level security policy, a partition of its
-- own, a new source view.  Each is refused, and nothing is left of it.  A
-- superuser then writes, materializes ranges that need new history
-- partitions and folds, and the worker folds and creates partitions too.
-- This file fails if: a logged call ran as a role other than
-- regress_hybridagg_o, the ALTER ROLE succeeded, nothing was logged at all
-- (the owner's code never ran: the test would prove nothing), a definition
-- that makes readers or a superuser run O's code is accepted, an
-- attachment to an internal table is accepted or leaves something behind,
-- or a view differs from its query.
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
-- "immutable", and calling the volatile attack all the same
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

\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi FROM sec20_events WHERE public.sec20_check(device) GROUP BY 1, 2'
\set batch_query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi FROM sec20_events GROUP BY 1, 2'
SELECT hybridagg.create('sec20_hybrid', :'query', mode => 'hybrid', seal_after => '1 hour');
SELECT hybridagg.create('sec20_lambda', :'query', mode => 'lambda', seal_after => '1 hour');
-- readers evaluate a batch aggregate's WHERE, and every select list
\set VERBOSITY sqlstate
SELECT hybridagg.create('sec20_refused', :'query', mode => 'batch', seal_after => '1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT hybridagg.create('sec20_refused', 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, public.sec20_check(count(*)::int) AS ok FROM sec20_events GROUP BY 1', mode => 'hybrid');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT hybridagg.create('sec20_refused', :'query', mode => 'batch', seal_after => '1 hour');
SELECT hybridagg.create('sec20_batch', :'batch_query', mode => 'batch', seal_after => '1 hour');
RESET ROLE;
-- nor does hybridagg run O's code as a superuser that owns an aggregate
SELECT hybridagg.create('sec20_refused', :'query', mode => 'hybrid');
SELECT view, mode FROM hybridagg_internal.aggregate WHERE view::text LIKE 'sec20\_%' ORDER BY id;
SELECT count(*) AS refused_left FROM pg_class WHERE relname = 'sec20_refused';
SELECT id AS batch_id FROM hybridagg_internal.aggregate WHERE view = 'sec20_batch'::regclass \gset
SELECT id AS hybrid_id FROM hybridagg_internal.aggregate WHERE view = 'sec20_hybrid'::regclass \gset
SELECT id AS lambda_id FROM hybridagg_internal.aggregate WHERE view = 'sec20_lambda'::regclass \gset
-- what ran so far (create's first recompute) ran as O
SELECT who, outcome, count(*) > 0 AS ran FROM sec20_log GROUP BY who, outcome ORDER BY who, outcome;
TRUNCATE sec20_log;

-- the attack: O owns the internal objects, and tries to attach code to
-- them; each attempt is refused (42501)
SET ROLE regress_hybridagg_o;
SELECT format('hybridagg_internal.history_%s', :batch_id) AS h_batch,
       format('hybridagg_internal.history_%s', :hybrid_id) AS h_hybrid,
       format('hybridagg_internal.history_%s', :lambda_id) AS h_lambda,
       format('hybridagg_internal.recent_%s', :hybrid_id) AS r_hybrid,
       format('hybridagg_internal.delta_%s', :hybrid_id) AS d_hybrid,
       format('hybridagg_internal.source_%s', :hybrid_id) AS s_hybrid,
       (SELECT min(inhrelid::regclass::text) FROM pg_inherits
         WHERE inhparent = format('hybridagg_internal.history_%s', :hybrid_id)::regclass) AS p_hybrid \gset
\set VERBOSITY sqlstate
CREATE INDEX sec20_i ON :h_batch (public.sec20_index(g2));
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE :p_hybrid ADD CONSTRAINT sec20_c CHECK (public.sec20_check(g2));
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE :h_batch ADD CONSTRAINT sec20_parent_c CHECK (public.sec20_check(g2));
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE :r_hybrid ALTER g2 SET DEFAULT 0;
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER sec20_t BEFORE INSERT OR UPDATE OR DELETE ON :h_hybrid FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER sec20_t BEFORE INSERT OR UPDATE OR DELETE ON :p_hybrid FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger();
\echo :LAST_ERROR_SQLSTATE
CREATE TRIGGER sec20_after AFTER INSERT OR UPDATE OR DELETE ON :r_hybrid FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger();
\echo :LAST_ERROR_SQLSTATE
CREATE POLICY sec20_p ON :r_hybrid USING (public.sec20_attack('policy'));
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE :r_hybrid ENABLE ROW LEVEL SECURITY;
\echo :LAST_ERROR_SQLSTATE
CREATE RULE "_RETURN" AS ON SELECT TO :d_hybrid DO INSTEAD
  SELECT r.*, true AS __dirty FROM :r_hybrid r WHERE public.sec20_attack('rule');
\echo :LAST_ERROR_SQLSTATE
CREATE RULE sec20_r AS ON INSERT TO :r_hybrid DO ALSO SELECT public.sec20_attack('rule');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE public.sec20_part PARTITION OF :h_hybrid FOR VALUES FROM ('1990-01-01 00:00+00') TO ('1990-01-08 00:00+00');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE public.sec20_child () INHERITS (:r_hybrid);
\echo :LAST_ERROR_SQLSTATE
\set ECHO none
SELECT format('CREATE OR REPLACE VIEW %s AS %s', :'s_hybrid', rtrim(pg_get_viewdef(:'s_hybrid'::regclass), ';')) \gexec
\set ECHO all
\echo :LAST_ERROR_SQLSTATE
ALTER VIEW :s_hybrid SET (security_invoker = true);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE :r_hybrid RENAME TO sec20_renamed;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
-- one refusal in full (the aggregate's id left out)
SELECT format($f$DO $$
DECLARE
    message text;
    detail text;
    hint text;
BEGIN
    CREATE TRIGGER sec20_after AFTER INSERT ON %s FOR EACH ROW EXECUTE FUNCTION public.sec20_trigger();
EXCEPTION WHEN insufficient_privilege THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RAISE NOTICE E'%%\nDETAIL: %%\nHINT: %%', regexp_replace(message, '_[0-9]+', '_N'), detail, hint;
END
$$$f$, :'r_hybrid') AS refusal \gset
:refusal;
-- tuning that runs no code is the owner's to do
ALTER TABLE :r_hybrid SET (fillfactor = 60);
ALTER TABLE :h_hybrid ALTER g2 SET STATISTICS 200;
RESET ROLE;
-- nothing of it is left
SELECT (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'hybridagg_internal'::regnamespace AND NOT t.tgisinternal) AS triggers,
       (SELECT count(*) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
         WHERE c.relnamespace = 'hybridagg_internal'::regnamespace AND c.relkind <> 'v') AS rules,
       (SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
         WHERE c.relnamespace = 'hybridagg_internal'::regnamespace) AS policies,
       (SELECT count(*) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
         WHERE c.relnamespace = 'hybridagg_internal'::regnamespace AND k.conname LIKE 'sec20%') AS constraints,
       (SELECT count(*) FROM pg_class c
         WHERE c.relnamespace = 'hybridagg_internal'::regnamespace AND c.relrowsecurity) AS with_rls,
       (SELECT count(*) FROM pg_class WHERE relname IN ('sec20_part', 'sec20_child', 'sec20_renamed')) AS tables;
SELECT relkind FROM pg_class WHERE oid = :'d_hybrid'::regclass;
SELECT reloptions FROM pg_class WHERE oid = :'r_hybrid'::regclass;
SELECT count(*) AS logged FROM sec20_log;

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
-- 2003 (hybrid, lambda), each owned by O
SELECT count(*) - :partitions_before AS new_partitions FROM pg_inherits
 WHERE inhparent IN (:'h_batch'::regclass, :'h_hybrid'::regclass, :'h_lambda'::regclass);
SELECT bool_and(c.relowner = 'regress_hybridagg_o'::regrole) AS owned_by_o
  FROM pg_inherits p JOIN pg_class c ON c.oid = p.inhrelid
 WHERE p.inhparent IN (:'h_batch'::regclass, :'h_hybrid'::regclass, :'h_lambda'::regclass);

-- O's function ran (in the capture, the folds and the recomputes), and only
-- as O; O gained nothing
SELECT who, what, outcome, count(*) > 0 AS ran FROM sec20_log GROUP BY who, what, outcome ORDER BY 1, 2, 3;
SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = 'regress_hybridagg_o';

-- and the views are exact, read by a superuser too (compared with the
-- query without O's function, which returns true: the raw query would run
-- it as the superuser)
SELECT test_diff('sec20_hybrid', :'batch_query', '{bucket,device}') AS hybrid_exact;
SELECT test_diff('sec20_lambda', :'batch_query', '{bucket,device}') AS lambda_exact;
SET client_min_messages = warning;
CALL hybridagg.materialize('sec20_batch', '2000-01-01 00:00+00', '2030-01-01 00:00+00');
RESET client_min_messages;
SELECT test_diff('sec20_batch', :'batch_query', '{bucket,device}') AS batch_exact;
SELECT count(*) AS logged_as_others FROM sec20_log WHERE who <> 'regress_hybridagg_o';

-- a superuser may change an internal table, and turn delta into a view:
-- the view then says so (no crash), and the aggregate can be dropped
SELECT format($f$CREATE RULE "_RETURN" AS ON SELECT TO %s DO INSTEAD SELECT r.*, true AS __dirty FROM %s r$f$,
              :'d_hybrid', :'r_hybrid') AS make_view \gset
BEGIN;
DELETE FROM :d_hybrid;
:make_view;
COMMIT;
\set VERBOSITY sqlstate
SELECT count(*) FROM sec20_hybrid;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO sec20_events VALUES ('2999-01-02 00:10+00', 1, 5);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default

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
