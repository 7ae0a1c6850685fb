-- Aggregates kept as their own transition states, combined with their own
-- combine function (combined_states.c): stddev, variance, corr, regr_*,
-- bit_and and bit_or of built-in types (with states of ordinary types, or
-- internal states that PostgreSQL's own functions serialize), and
-- aggregates of the user's whose support functions are immutable C.  A
-- statement's new rows are fed to the transition function by the capture,
-- so an INSERT leaves its groups clean (nothing recomputed); a deleted or
-- updated row makes its group dirty.  Each view is compared with its
-- defining query in every mode after create, new, late, updated and deleted
-- rows, in the writer's own transaction, after a fold and a materialize.
-- Then what an unprivileged role can do with the functions the views call,
-- and with a state planted by hand.  Every date is literal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
\i test/sql/helpers.sql
SET TimeZone = 'UTC';

-- aggregates of the user's: the first value as state (strict, no initial
-- state), an initial state and a final function, a combine function in SQL
CREATE AGGREGATE cs_biggest(int4) (SFUNC = int4larger, STYPE = int4, COMBINEFUNC = int4larger);
CREATE AGGREGATE cs_var(float8) (SFUNC = float8_accum, STYPE = float8[], INITCOND = '{0,0,0}',
                                 FINALFUNC = float8_var_pop, COMBINEFUNC = float8_combine);
-- and a transition function that is not strict: it counts NULLs too
CREATE FUNCTION cs_count_rows(int8, int4) RETURNS int8 LANGUAGE internal IMMUTABLE AS 'int8inc_any';
CREATE AGGREGATE cs_rows(int4) (SFUNC = cs_count_rows, STYPE = int8, INITCOND = '0', COMBINEFUNC = int8pl);
-- and support functions declared polymorphic (array_append, array_cat,
-- cardinality), which learn their types from the call, as under nodeAgg
CREATE AGGREGATE cs_length(int4) (SFUNC = array_append, STYPE = int4[],
                                  COMBINEFUNC = array_cat, FINALFUNC = cardinality);
CREATE FUNCTION cs_plus(int8, int8) RETURNS int8 LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 + $2';
CREATE AGGREGATE cs_sum_sql(int8) (SFUNC = cs_plus, STYPE = int8, COMBINEFUNC = cs_plus);

CREATE TABLE cs (id int PRIMARY KEY, ts timestamptz, dev int NOT NULL, v float8, w float8, ok boolean, bits int);
CREATE INDEX ON cs (ts);
INSERT INTO cs SELECT i, '2026-03-01 00:00+00'::timestamptz + i * interval '41 seconds', i % 3,
                      CASE WHEN i % 19 = 0 THEN NULL ELSE (i * 7919) % 1000 / 8.0 END,
                      (i * 31) % 97 / 4.0, i % 5 <> 0, i % 256
  FROM generate_series(1, 5000) i;
INSERT INTO cs VALUES (9001, NULL, 1, 1, 2, true, 1), (9002, 'infinity', 2, 2, 3, false, 2),
                      (9003, '-infinity', 0, 3, 4, true, 3);
ANALYZE cs;

\set q 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, dev, count(*) AS n, stddev(v) AS sd, var_samp(v) FILTER (WHERE ok) AS vs, var_pop(v) FILTER (WHERE bits > 1000) AS none_kept, corr(v, w) AS r, regr_slope(w, v) AS slope, covar_pop(v, w) FILTER (WHERE NOT ok) AS cv, bit_and(bits) AS ba, bit_or(bits) FILTER (WHERE ok) AS bo, cs_biggest(bits) AS big, cs_var(w) AS uv, cs_rows(CASE WHEN v IS NOT NULL THEN bits END) AS rn, cs_rows(bits) FILTER (WHERE ok) AS rk, cs_length(CASE WHEN ok THEN bits END) AS len FROM cs GROUP BY 1, 2'
SELECT hybridagg.create('cs_' || m, :'q', mode => m, seal_after => '1 day')
  FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;

-- thirteen aggregates combined; an aggregate whose combine function is SQL is
-- recomputed instead
SELECT hybridagg.create('cs_sql_hybrid', 'SELECT date_trunc(''day'', ts, ''UTC'') AS d, cs_sum_sql(bits::int8) AS ss FROM cs GROUP BY 1');
SELECT name, recomputed_aggregates, combined_aggregates FROM hybridagg.aggregates
 WHERE name LIKE 'cs\_%' ORDER BY 1;
SELECT hybridagg.drop('cs_sql_hybrid');

CREATE FUNCTION cs_differing(with_batch boolean) RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (SELECT 'cs_' || m, test_diff(('cs_' || m)::regclass, current_setting('cs.q'), '{b,dev}')
                     FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m
                    WHERE with_batch OR m <> 'batch') d(aggregate, differences)
     WHERE differences <> 0 ORDER BY 1
$$;
SELECT set_config('cs.q', :'q', false) IS NOT NULL AS set;
CREATE PROCEDURE cs_settle() LANGUAGE plpgsql AS $$
BEGIN
    CALL hybridagg.materialize('cs_batch', '-infinity', 'infinity');
    PERFORM hybridagg.fold('cs_' || m) FROM unnest(ARRAY['streaming', 'hybrid', 'lambda', 'kappa']) m;
END
$$;
SELECT * FROM cs_differing(true);
SELECT id AS cs_id FROM hybridagg_internal.aggregate WHERE view = 'cs_hybrid'::regclass \gset

-- new and late rows, with NULL arguments: clean groups, their states combined
BEGIN;
INSERT INTO cs SELECT 20000 + i, '2026-03-03 00:00+00'::timestamptz + i * interval '53 seconds', i % 4,
                      CASE WHEN i % 7 = 0 THEN NULL ELSE i % 100 END, i % 9, i % 2 = 0, i % 16
  FROM generate_series(1, 700) i;
INSERT INTO cs SELECT 30000 + i, '2026-02-20 00:00+00'::timestamptz + i * interval '7 minutes', i % 3, i, NULL, true, i
  FROM generate_series(1, 60) i;
SELECT count(*) > 0 AS captured, count(*) FILTER (WHERE __dirty) AS dirty,
       count(*) FILTER (WHERE state_1 IS NULL) AS without_state
  FROM hybridagg_internal.delta_:cs_id;
SELECT * FROM cs_differing(false);
COMMIT;
SELECT * FROM cs_differing(false);

-- updated and deleted rows make their groups dirty: exact at once
BEGIN;
UPDATE cs SET ts = ts + interval '2 hours', dev = (dev + 1) % 3 WHERE id % 11 = 0;
UPDATE cs SET v = v * 2, ok = NOT ok, bits = bits + 1 WHERE id % 13 = 0;
DELETE FROM cs WHERE id % 17 = 0 OR id = 9002;
SELECT count(*) FILTER (WHERE __dirty) > 0 AS some_dirty FROM hybridagg_internal.delta_:cs_id;
SELECT * FROM cs_differing(false);
COMMIT;
SELECT * FROM cs_differing(false);
CALL cs_settle();
SELECT * FROM cs_differing(true);

-- a group of one row, a group emptied, a Kappa replay
INSERT INTO cs VALUES (40000, '2027-06-01 12:00+00', 1, 5, 5, true, 5);
DELETE FROM cs WHERE ts >= '2026-03-01 05:00+00' AND ts < '2026-03-01 06:00+00';
SELECT * FROM cs_differing(false);
SELECT hybridagg.reprocess('cs_kappa', '2026-03-01 00:00+00', '2026-03-02 00:00+00') > 0 AS replayed;
CALL cs_settle();
SELECT * FROM cs_differing(true);
SELECT b, dev, n, round(sd::numeric, 6) AS sd, vs, none_kept, ba, bo, big, uv, rn, rk, len FROM cs_hybrid
 WHERE b IN ('2027-06-01 12:00+00', '-infinity') OR b IS NULL ORDER BY b, dev;

-- what anyone can call, with any arguments: checked, never trusted
CREATE ROLE regress_cs_reader;
GRANT SELECT ON cs_hybrid TO regress_cs_reader;
SET ROLE regress_cs_reader;
SELECT count(*) AS groups FROM cs_hybrid;
\set VERBOSITY default
SELECT hybridagg_internal.final_value('stddev(float8)'::regprocedure, NULL, '\x01ffff'::bytea, NULL::float8);
SELECT hybridagg_internal.final_value('stddev(float8)'::regprocedure, NULL, '\x03'::bytea, NULL::float8);
SELECT hybridagg_internal.final_value('stddev(float8)'::regprocedure, NULL, substring(s from 1 for 30), NULL::float8)
  FROM (SELECT hybridagg_internal.partial_state('stddev(float8)'::regprocedure, x::float8) FROM generate_series(1, 3) x) p(s);
SELECT hybridagg_internal.final_value('stddev(float8)'::regprocedure, NULL, s || '\x00'::bytea, NULL::float8)
  FROM (SELECT hybridagg_internal.partial_state('stddev(float8)'::regprocedure, x::float8) FROM generate_series(1, 3) x) p(s);
SELECT hybridagg_internal.final_value('stddev(float8)'::regprocedure, NULL, NULL, NULL::int);
SELECT hybridagg_internal.final_value('string_agg(text,text)'::regprocedure, NULL, NULL, NULL::text);
SELECT hybridagg_internal.final_value('percentile_cont(float8,float8)'::regprocedure, NULL, NULL, NULL::float8);
SELECT hybridagg_internal.final_value('cs_sum_sql(int8)'::regprocedure, NULL, NULL, NULL::int8);
SELECT hybridagg_internal.partial_state('stddev(float8)'::regprocedure, 1::int);
SELECT hybridagg_internal.partial_state('corr(float8,float8)'::regprocedure, 1::float8);
SELECT hybridagg_internal.partial_state(p, 1::float8)
  FROM (VALUES ('stddev(float8)'::regprocedure), ('variance(float8)'::regprocedure)) v(p);
SELECT hybridagg_internal.partial_state(NULL, 1::float8);
SELECT hybridagg_internal.combine_two('stddev(float8)'::regprocedure, NULL,
         hybridagg_internal.partial_state('stddev(float8)'::regprocedure, 1::float8), '\x01'::bytea);
SELECT hybridagg_internal.partial_state_step(NULL::internal, 'stddev(float8)'::regprocedure, 1::float8);
-- a state is what the aggregate computes over the same rows
SELECT hybridagg_internal.final_value('stddev(float8)'::regprocedure, NULL,
         hybridagg_internal.combine_two('stddev(float8)'::regprocedure, NULL,
           (SELECT hybridagg_internal.partial_state('stddev(float8)'::regprocedure, x::float8) FROM generate_series(1, 5) x),
           (SELECT hybridagg_internal.combine_states('stddev(float8)'::regprocedure, NULL, s)
              FROM (SELECT hybridagg_internal.partial_state('stddev(float8)'::regprocedure, x::float8) FROM generate_series(6, 10) x
                    UNION ALL SELECT NULL) p(s))), NULL::float8)
       = (SELECT stddev(x::float8) FROM generate_series(1, 10) x) AS same_as_stddev;
RESET ROLE;
-- the aggregate's own EXECUTE privilege is the reader's to have
REVOKE EXECUTE ON FUNCTION cs_biggest(int4) FROM PUBLIC;
SET ROLE regress_cs_reader;
SELECT max(big) FROM cs_hybrid;
SELECT max(ba) FROM cs_hybrid;
SELECT hybridagg_internal.final_value('cs_biggest(int4)'::regprocedure, NULL, NULL, NULL::int4);
RESET ROLE;
GRANT EXECUTE ON FUNCTION cs_biggest(int4) TO PUBLIC;

-- internal states (the statistics of integers and numerics, hll, tdigest)
-- are recomputed: their deserialize functions trust their input, and the
-- bytes of a state are the owner's to write, or anyone's to pass to
-- final_value() (these crafted bytes crash numeric_deserialize)
\set qi 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, dev, count(*) AS n, stddev(v::numeric) AS sn, var_pop(bits) AS vi, stddev_samp(bits::int2) AS s2 FROM cs GROUP BY 1, 2'
SELECT hybridagg.create('csi_hybrid', :'qi', mode => 'hybrid', seal_after => '1 day');
SELECT name, recomputed_aggregates, combined_aggregates FROM hybridagg.aggregates WHERE name = 'csi_hybrid';
SELECT test_diff('csi_hybrid', :'qi', '{b,dev}') AS differences;
SELECT hybridagg.drop('csi_hybrid');
SET ROLE regress_cs_reader;
SELECT hybridagg_internal.final_value('stddev(numeric)'::regprocedure, NULL,
 '\x02000f'::bytea || '\x0000000000000002' || '\x00000001800000000000000000000000' || '\x0001' ||
 '\x0000000100000000000000000000000000050000000000000000000000000000000000000000000000000000000000000000000000000000'::bytea,
 NULL::numeric);
RESET ROLE;

-- arguments of another type than the aggregate takes are cast as the query
-- casts them (real and integer to double precision, integer to numeric);
-- a strict transition function that returns NULL keeps the NULL, as nodeAgg
-- does, where a naive reading takes the next row's argument as the state; a
-- combine function that compares text gets the aggregate's collation
CREATE AGGREGATE cs_nmax(numeric) (SFUNC = numeric_larger, STYPE = numeric, COMBINEFUNC = numeric_larger);
CREATE AGGREGATE cs_element(int4) (SFUNC = jsonb_array_element, STYPE = jsonb, INITCOND = '[[1]]', COMBINEFUNC = jsonb_concat);
CREATE AGGREGATE cs_tmax(text) (SFUNC = text_larger, STYPE = text, COMBINEFUNC = text_larger);
-- an aggregate of no argument is recomputed
CREATE AGGREGATE cs_rows0(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0', COMBINEFUNC = int8pl);
\set qc 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, dev, count(*) AS n, covar_pop(v::real, w::real) AS cp, regr_avgx(bits, dev) AS ax, corr(bits, bits) AS cb, cs_nmax(bits) AS nm, cs_element(dev + 5) AS el, cs_tmax(''k'' || bits::text) AS tm, cs_tmax((''k'' || bits::text) COLLATE "C") AS tc, cs_rows0(*) AS r0 FROM cs GROUP BY 1, 2'
SELECT hybridagg.create('csc_' || m, :'qc', mode => m, seal_after => '1 day')
  FROM unnest(ARRAY['batch', 'hybrid']) m;
SELECT name, recomputed_aggregates, combined_aggregates FROM hybridagg.aggregates WHERE name LIKE 'csc\_%' ORDER BY 1;
SELECT m, test_diff(('csc_' || m)::regclass, :'qc', '{b,dev}') AS differences FROM unnest(ARRAY['batch', 'hybrid']) m;
INSERT INTO cs SELECT 60000 + i, '2026-03-01 03:00+00'::timestamptz + i * interval '3 seconds', i % 3, i, i / 3.0, i % 2 = 0, i % 300
  FROM generate_series(1, 900) i;
SELECT test_diff('csc_hybrid', :'qc', '{b,dev}') AS differences;
SELECT hybridagg.fold('csc_hybrid') >= 0 AS folded;
CALL hybridagg.materialize('csc_batch', '-infinity', 'infinity');
SELECT m, test_diff(('csc_' || m)::regclass, :'qc', '{b,dev}') AS differences FROM unnest(ARRAY['batch', 'hybrid']) m;
SELECT hybridagg_internal.final_value('cs_element(int4)'::regprocedure, NULL,
         hybridagg_internal.partial_state('cs_element(int4)'::regprocedure, x), NULL::jsonb) AS from_states,
       cs_element(x) AS aggregate
  FROM (VALUES (0), (5), (0)) v(x);
SELECT hybridagg.drop('csc_' || m) FROM unnest(ARRAY['batch', 'hybrid']) m;

-- a text state written by a session in LATIN1 is stored, and read by one in
-- UTF8, in the database's encoding (a state's binary form of text follows
-- the client's encoding); a cast under an explicit COLLATE, and into a
-- domain, are kept.  The same in a database that is UTF8 whatever this
-- one is, where a state written in LATIN1 is read back in UTF8.
SELECT current_database() AS cs_database \gset
CREATE DATABASE regress_cs_utf8 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c regress_cs_utf8
SET client_min_messages = warning;
CREATE EXTENSION hybridagg;
CREATE AGGREGATE cs_tmax(text) (SFUNC = text_larger, STYPE = text, COMBINEFUNC = text_larger);
SET client_encoding = 'LATIN1';
CREATE TABLE cs_state AS SELECT hybridagg_internal.partial_state('cs_tmax(text)'::regprocedure, convert_from('\xc3a9'::bytea, 'UTF8')) AS s;
RESET client_encoding;
SELECT encode(convert_to(hybridagg_internal.final_value('cs_tmax(text)'::regprocedure, NULL, s, NULL::text), 'UTF8'), 'hex') AS read_in_utf8,
       encode(s, 'hex') AS stored FROM cs_state;
\c :cs_database
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SELECT set_config('cs.q', :'q', false) IS NOT NULL AS set;
DROP DATABASE regress_cs_utf8 WITH (FORCE);
CREATE DOMAIN cs_positive AS float8 CHECK (VALUE >= 0);
CREATE AGGREGATE cs_pmax(cs_positive) (SFUNC = float8larger, STYPE = float8, COMBINEFUNC = float8larger);
CREATE TABLE cse (ts timestamptz NOT NULL, t text, c char(4), v float8);
INSERT INTO cse VALUES ('2026-03-01 00:10+00', 'a', 'ab', 1);
\set qe 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS b, cs_tmax(t) AS m, cs_tmax(c COLLATE "C") AS mc, cs_pmax(v) AS pm, count(*) AS n FROM cse GROUP BY 1'
SELECT hybridagg.create('cse_hybrid', :'qe', mode => 'hybrid');
SET client_encoding = 'LATIN1';
INSERT INTO cse VALUES ('2026-03-01 00:20+00', convert_from('\xc3a9'::bytea, 'UTF8'), 'zz', 2);
RESET client_encoding;
SELECT encode(convert_to(m, 'UTF8'), 'hex') AS m, mc, pm, n FROM cse_hybrid;
SELECT test_diff('cse_hybrid', :'qe', '{b}') AS differences;
SELECT hybridagg.fold('cse_hybrid') >= 0 AS folded;
SET client_encoding = 'LATIN1';
SELECT test_diff('cse_hybrid', :'qe', '{b}') AS differences;
RESET client_encoding;
SELECT hybridagg.drop('cse_hybrid');
DROP TABLE cse;
DROP AGGREGATE cs_pmax(cs_positive);
DROP DOMAIN cs_positive;

-- as nodeAgg checks, the aggregate's owner must be allowed to run its
-- support functions: a role that lost EXECUTE on them cannot have anyone
-- run them through these functions
CREATE FUNCTION cs_secret_larger(int4, int4) RETURNS int4 LANGUAGE internal IMMUTABLE STRICT AS 'int4larger';
REVOKE EXECUTE ON FUNCTION cs_secret_larger(int4, int4) FROM PUBLIC;
CREATE ROLE regress_cs_aggowner;
GRANT CREATE ON SCHEMA public TO regress_cs_aggowner;
GRANT EXECUTE ON FUNCTION cs_secret_larger(int4, int4) TO regress_cs_aggowner;
SET ROLE regress_cs_aggowner;
CREATE AGGREGATE cs_secret(int4) (SFUNC = cs_secret_larger, STYPE = int4, COMBINEFUNC = cs_secret_larger);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION cs_secret_larger(int4, int4) FROM regress_cs_aggowner;
SET ROLE regress_cs_reader;
SELECT cs_secret(x) FROM generate_series(1, 3) x;
SELECT hybridagg_internal.final_value('cs_secret(int4)'::regprocedure, NULL,
         hybridagg_internal.partial_state('cs_secret(int4)'::regprocedure, x), NULL::int4) FROM generate_series(1, 3) x;
SELECT hybridagg_internal.combine_two('cs_secret(int4)'::regprocedure, NULL, NULL, NULL);
RESET ROLE;
DROP AGGREGATE cs_secret(int4);
REVOKE CREATE ON SCHEMA public FROM regress_cs_aggowner;
DROP ROLE regress_cs_aggowner;
DROP FUNCTION cs_secret_larger(int4, int4);
DROP AGGREGATE cs_nmax(numeric);
DROP AGGREGATE cs_element(int4);
DROP AGGREGATE cs_tmax(text);
DROP AGGREGATE cs_rows0(*);

-- in a parallel plan, the workers' states are serialized and combined
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET enable_hashagg = off;
\set qp 'SELECT dev, hybridagg_internal.final_value(''bit_or(int4)''::regprocedure, NULL, hybridagg_internal.partial_state(''bit_or(int4)''::regprocedure, bits), NULL::int4) AS a, bit_or(bits) AS b, hybridagg_internal.final_value(''regr_count(float8,float8)''::regprocedure, NULL, hybridagg_internal.partial_state(''regr_count(float8,float8)''::regprocedure, v, w), NULL::int8) AS c, regr_count(v, w) AS d FROM cs GROUP BY dev'
SELECT plan_has(:'qp', '%Partial%Aggregate%') AS partial_aggregation;
SELECT count(*) AS groups, count(*) FILTER (WHERE a IS DISTINCT FROM b OR c IS DISTINCT FROM d) AS differing FROM (:qp) p;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET enable_hashagg;

-- any bytes at all: the state type's receive function checks what it
-- reads, so a reader's bytes give errors, never a crash
SET ROLE regress_cs_reader;
DO $$
DECLARE
    aggs regprocedure[] := ARRAY['stddev(float8)', 'cs_length(int4)', 'corr(float8,float8)', 'cs_var(float8)'];
    results regtype[] := ARRAY['float8', 'int4', 'float8', 'float8'];
    errors int := 0;
    bytes bytea;
BEGIN
    PERFORM setseed(0.51);
    FOR i IN 1 .. 4000 LOOP
        bytes := '\x01'::bytea;
        FOR j IN 1 .. (random() * 60)::int LOOP
            bytes := bytes || decode(lpad(to_hex((random() * 255)::int), 2, '0'), 'hex');
        END LOOP;
        BEGIN
            EXECUTE format('SELECT hybridagg_internal.final_value(%L::regprocedure, NULL, $1, NULL::%s)',
                           aggs[1 + i % 4], results[1 + i % 4]) USING bytes;
        EXCEPTION WHEN OTHERS THEN
            errors := errors + 1;
        END;
    END LOOP;
    RAISE WARNING 'random states: % of 4000 refused, none crashed', CASE WHEN errors > 3900 THEN 'nearly all' ELSE 'fewer' END;
END
$$;
RESET ROLE;

-- a state written by hand into the owner's own history is read as any
-- binary input is: a clear error, never a crash or a misread value
SELECT hybridagg.fold('cs_hybrid') >= 0 AS folded;
CALL hybridagg.materialize('cs_hybrid');
SELECT format('hybridagg_internal.history_%s', :cs_id) AS history \gset
SELECT count(*) > 0 AS has_history FROM :history;
BEGIN;
UPDATE :history SET state_1 = '\x01deadbeef' WHERE g1 = '2026-03-01 01:00+00' AND g2 = 1;
SELECT max(sd) FROM cs_hybrid;
ROLLBACK;
-- (the late rows csc_ inserted above are stale in cs_batch until its run)
CALL cs_settle();
SELECT * FROM cs_differing(true);

SELECT hybridagg.drop('cs_' || m) FROM unnest(ARRAY['batch', 'streaming', 'hybrid', 'lambda', 'kappa']) m;
DROP ROLE regress_cs_reader;
DROP FUNCTION cs_differing(boolean);
DROP PROCEDURE cs_settle();
DROP TABLE cs;
DROP AGGREGATE cs_biggest(int4);
DROP AGGREGATE cs_var(float8);
DROP AGGREGATE cs_sum_sql(int8);
DROP AGGREGATE cs_rows(int4);
DROP AGGREGATE cs_length(int4);
DROP FUNCTION cs_count_rows(int8, int4);
DROP FUNCTION cs_plus(int8, int8);
RESET TimeZone;
RESET client_min_messages;
