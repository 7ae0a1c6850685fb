-- Security: every statement hybridagg runs resolves names under
-- search_path = pg_catalog, pg_temp, and the capture compiles the
-- definition under fixed settings: a reader or a writer whose search_path
-- puts a schema of its own first, with functions, aggregates and operators
-- named like the built-in ones (each RAISEs a NOTICE naming itself and
-- current_user), runs none of them through hybridagg.
-- This file fails if: a NOTICE "hijacked ..." shows outside the reader's own
-- query that names the look-alike on purpose (a look-alike
-- function, aggregate or operator ran), a read or a write errors, or a
-- view differs from its query.
-- Dates: literal dates only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default
SELECT current_user AS superuser \gset

CREATE ROLE regress_hybridagg_o;
CREATE ROLE regress_hybridagg_r LOGIN;
CREATE ROLE regress_hybridagg_w LOGIN;
CREATE ROLE regress_hybridagg_definer;
GRANT CREATE ON SCHEMA public TO regress_hybridagg_o, regress_hybridagg_definer;
CREATE SCHEMA mine AUTHORIZATION regress_hybridagg_r;
CREATE SCHEMA wmine AUTHORIZATION regress_hybridagg_w;
GRANT USAGE ON SCHEMA wmine TO regress_hybridagg_definer;

SET ROLE regress_hybridagg_o;
CREATE TABLE sec23_events (ts timestamptz NOT NULL, device int NOT NULL, value int NOT NULL);
CREATE INDEX ON sec23_events (ts);
INSERT INTO sec23_events
SELECT '2024-07-01 00:00+00'::timestamptz + i * interval '5 minutes', i % 3, i % 53
  FROM generate_series(1, 1000) i;
\set query 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device, count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi FROM sec23_events WHERE value >= 0 GROUP BY 1, 2 HAVING count(*) > 0'
SELECT hybridagg.create('sec23_hybrid', :'query', mode => 'hybrid');
SELECT hybridagg.create('sec23_streaming', :'query', mode => 'streaming');
GRANT SELECT ON sec23_hybrid, sec23_streaming TO regress_hybridagg_r;
GRANT SELECT, INSERT, UPDATE, DELETE ON sec23_events TO regress_hybridagg_w, regress_hybridagg_definer;
RESET ROLE;

-- (a) the reader's look-alikes: the aggregates count(*), sum, min, max and
-- bool_or, the functions date_bin and unnest, and = < <= >= on integers
-- and timestamps
SET ROLE regress_hybridagg_r;
CREATE FUNCTION mine.count_step(bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked count(*) as %', current_user; RETURN $1 + 1; END $$;
CREATE AGGREGATE mine.count(*) (SFUNC = mine.count_step, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION mine.int_step(bigint, int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked aggregate of int as %', current_user; RETURN coalesce($1, 0) + $2; END $$;
CREATE AGGREGATE mine.sum(int) (SFUNC = mine.int_step, STYPE = bigint);
CREATE AGGREGATE mine.min(int) (SFUNC = mine.int_step, STYPE = bigint);
CREATE AGGREGATE mine.max(int) (SFUNC = mine.int_step, STYPE = bigint);
CREATE FUNCTION mine.bool_step(boolean, boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked bool_or as %', current_user; RETURN $1 OR $2; END $$;
CREATE AGGREGATE mine.bool_or(boolean) (SFUNC = mine.bool_step, STYPE = boolean);
CREATE FUNCTION mine.date_bin(interval, timestamptz, timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked date_bin as %', current_user; RETURN $3; END $$;
CREATE FUNCTION mine.unnest(timestamptz[], timestamptz[]) RETURNS TABLE (first timestamptz, last timestamptz) LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked unnest as %', current_user; END $$;
CREATE FUNCTION mine.int_eq(int, int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked int = as %', current_user; RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR mine.= (LEFTARG = int, RIGHTARG = int, FUNCTION = mine.int_eq);
CREATE FUNCTION mine.ts_cmp(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked timestamptz comparison as %', current_user; RETURN true; END $$;
CREATE OPERATOR mine.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = mine.ts_cmp);
CREATE OPERATOR mine.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = mine.ts_cmp);
CREATE OPERATOR mine.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = mine.ts_cmp);
CREATE OPERATOR mine.= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = mine.ts_cmp);
-- the look-alikes work where the reader's own queries name them
BEGIN;
SET LOCAL search_path = mine, pg_catalog;
SELECT count(*) FROM (VALUES (1)) v;
ROLLBACK;
RESET ROLE;

-- a group is dirty (its min deleted in this transaction, which the worker
-- cannot see): the reader's query runs dirty_groups(), under the reader's
-- search_path; no NOTICE, right counts
BEGIN;
DELETE FROM sec23_events WHERE device = 1 AND ts >= '2024-07-01 02:00+00' AND ts < '2024-07-01 03:00+00'
   AND value = (SELECT min(value) FROM sec23_events WHERE device = 1 AND ts >= '2024-07-01 02:00+00' AND ts < '2024-07-01 03:00+00');
INSERT INTO sec23_events VALUES ('2024-07-02 00:00+00', 0, 7);
SET LOCAL ROLE regress_hybridagg_r;
SET LOCAL search_path = mine, pg_catalog;
CREATE TEMP TABLE sec23_seen_hybrid AS SELECT * FROM public.sec23_hybrid;
CREATE TEMP TABLE sec23_seen_streaming AS SELECT * FROM public.sec23_streaming;
SELECT pg_catalog.count(*) AS rows_read FROM public.sec23_hybrid WHERE bucket OPERATOR(pg_catalog.>=) '2024-07-01 00:00+00';
RESET ROLE;
RESET search_path;
SELECT dirty_groups > 0 AS some_dirty FROM hybridagg.aggregates WHERE name = 'sec23_hybrid';
SELECT test_diff('sec23_seen_hybrid', :'query', '{bucket,device}') AS hybrid_exact_while_dirty;
SELECT test_diff('sec23_seen_streaming', :'query', '{bucket,device}') AS streaming_exact_while_dirty;
COMMIT;
DROP TABLE sec23_seen_hybrid, sec23_seen_streaming;
-- the status view too, under the reader's search_path
SET ROLE regress_hybridagg_r;
BEGIN;
SET LOCAL search_path = mine, pg_catalog;
SELECT view, pending_deltas IS NOT NULL AS shown FROM hybridagg.aggregates
 WHERE view OPERATOR(pg_catalog.=) ANY (ARRAY['public.sec23_hybrid', 'public.sec23_streaming']::pg_catalog.regclass[]) ORDER BY 1;
COMMIT;
RESET ROLE;

-- (b) the writer's look-alikes, in a schema first on its search_path from
-- the start of its session: operators on integers and timestamps, and
-- date_bin itself
SET ROLE regress_hybridagg_w;
CREATE FUNCTION wmine.int_op(int, int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked int operator as %', current_user; RETURN true; END $$;
CREATE OPERATOR wmine.= (LEFTARG = int, RIGHTARG = int, FUNCTION = wmine.int_op);
CREATE OPERATOR wmine.>= (LEFTARG = int, RIGHTARG = int, FUNCTION = wmine.int_op);
CREATE OPERATOR wmine.< (LEFTARG = int, RIGHTARG = int, FUNCTION = wmine.int_op);
CREATE FUNCTION wmine.int_plus(int, int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked int + as %', current_user; RETURN 0; END $$;
CREATE OPERATOR wmine.+ (LEFTARG = int, RIGHTARG = int, FUNCTION = wmine.int_plus);
CREATE FUNCTION wmine.ts_op(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked timestamptz operator as %', current_user; RETURN true; END $$;
CREATE OPERATOR wmine.= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = wmine.ts_op);
CREATE OPERATOR wmine.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = wmine.ts_op);
CREATE FUNCTION wmine.date_bin(interval, timestamptz, timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked date_bin as %', current_user; RETURN $3; END $$;
CREATE FUNCTION wmine.least(int, int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'hijacked least as %', current_user; RETURN 0; END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA wmine TO PUBLIC;
RESET ROLE;
ALTER ROLE regress_hybridagg_w SET search_path = wmine, pg_catalog, public;
-- a SECURITY DEFINER function of another role that writes, with no
-- search_path of its own: it runs under its caller's
SET ROLE regress_hybridagg_definer;
CREATE FUNCTION public.sec23_definer_write(d int) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO public.sec23_events VALUES ('2024-07-03 00:10+00', d, 11), ('2024-07-03 00:20+00', d, 12);
    DELETE FROM public.sec23_events WHERE ts OPERATOR(pg_catalog.=) '2024-07-03 00:10+00' AND device OPERATOR(pg_catalog.=) d;
END
$$;
GRANT EXECUTE ON FUNCTION public.sec23_definer_write(int) TO regress_hybridagg_w;
RESET ROLE;

-- the first statement of a new session of the writer is a write: the
-- capture compiles the definition in this backend for the first time
\c - regress_hybridagg_w
INSERT INTO public.sec23_events VALUES ('2024-07-02 01:00+00', 2, 5), ('2024-07-02 01:10+00', 2, 3);
UPDATE public.sec23_events SET value = value OPERATOR(pg_catalog.+) 1 WHERE ts OPERATOR(pg_catalog.=) '2024-07-02 01:00+00';
DELETE FROM public.sec23_events WHERE ts OPERATOR(pg_catalog.=) '2024-07-02 01:10+00';
SHOW search_path;
-- the SECURITY DEFINER function as the first statement of another session
\c - regress_hybridagg_w
SELECT public.sec23_definer_write(1);
\c - :superuser
SELECT test_diff('sec23_hybrid', :'query', '{bucket,device}') AS hybrid_exact;
SELECT test_diff('sec23_streaming', :'query', '{bucket,device}') AS streaming_exact;
CALL wait_until($$(SELECT bool_and(pending_deltas = 0 AND dirty_groups = 0 AND last_error IS NULL) FROM hybridagg.aggregates WHERE name IN ('sec23_hybrid', 'sec23_streaming'))$$);
SELECT test_diff('sec23_hybrid', :'query', '{bucket,device}') AS hybrid_exact_after_fold;
SELECT test_diff('sec23_streaming', :'query', '{bucket,device}') AS streaming_exact_after_fold;

-- clean up
SET client_min_messages = warning;
SELECT hybridagg.drop('sec23_hybrid');
SELECT hybridagg.drop('sec23_streaming');
RESET client_min_messages;
DROP TABLE sec23_events;
DROP FUNCTION sec23_definer_write(int);
SET client_min_messages = warning;
DROP SCHEMA mine, wmine CASCADE;
RESET client_min_messages;
REVOKE CREATE ON SCHEMA public FROM regress_hybridagg_o, regress_hybridagg_definer;
DROP ROLE regress_hybridagg_o, regress_hybridagg_r, regress_hybridagg_w, regress_hybridagg_definer;
