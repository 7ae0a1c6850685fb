\set ECHO none
-- The helpers of the regression tests, read quietly (\i test/sql/helpers.sql):
-- what a test prints does not change when a helper does.
-- test_diff(view, query, keys): how many groups differ between a view and a
-- query, compared in one statement with a FULL JOIN on the key columns
-- (NULL keys match NULL keys); floats match within 1e-9 relative; numerics
-- match as text, since the scale they show (4 or 4.00) is part of the value.
CREATE OR REPLACE FUNCTION test_diff(view_name regclass, query text, keys text[])
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    join_on text;
    differs text;
    mismatches bigint;
BEGIN
    SELECT string_agg(format('coalesce(v.%1$I::text, %2$L) = coalesce(r.%1$I::text, %2$L)', k, E'\\N'), ' AND ')
      INTO join_on FROM unnest(keys) k;
    SELECT string_agg(CASE WHEN a.atttypid IN ('float4'::regtype, 'float8'::regtype)
                           THEN format('NOT (v.%1$I IS NOT DISTINCT FROM r.%1$I OR (abs(v.%1$I) < ''Infinity'' AND abs(r.%1$I) < ''Infinity'' AND abs(v.%1$I - r.%1$I) <= 1e-9 * greatest(abs(v.%1$I), abs(r.%1$I))))', a.attname)
                           WHEN a.atttypid = 'numeric'::regtype
                           THEN format('v.%1$I::text IS DISTINCT FROM r.%1$I::text', a.attname)
                           ELSE format('v.%1$I IS DISTINCT FROM r.%1$I', a.attname) END, ' OR ' ORDER BY a.attnum)
      INTO differs
      FROM pg_attribute a
     WHERE a.attrelid = view_name AND a.attnum > 0 AND NOT a.attisdropped;
    EXECUTE format('SELECT count(*) FROM (SELECT *, true AS in_view__ FROM %s) v '
                   'FULL JOIN (SELECT *, true AS in_query__ FROM (%s) q) r ON %s '
                   'WHERE v.in_view__ IS NULL OR r.in_query__ IS NULL OR %s',
                   view_name, query, join_on, differs)
      INTO mismatches;
    RETURN mismatches;
END
$fn$;

-- plan_has(query, pattern): whether a line of the query's plan (EXPLAIN,
-- COSTS OFF) is LIKE the pattern ('%Gather%': a parallel plan).
CREATE OR REPLACE FUNCTION plan_has(query text, pattern text) RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line LIKE pattern THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$fn$;

-- wait_until(condition, timeout): waits (polling every 0.1 s) until the SQL
-- condition is true, for what the worker does in its own time; fails after
-- the timeout, naming the condition.
CREATE OR REPLACE PROCEDURE wait_until(condition text, timeout interval DEFAULT '60 seconds') LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
    ok boolean;
BEGIN
    LOOP
        EXECUTE 'SELECT ' || condition INTO ok;
        EXIT WHEN ok;
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'still not true after %: %', timeout, condition;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;

-- stored_groups(view): how many groups an aggregate stores in history and in
-- recent, counted in its internal tables (the status view shows estimates).
CREATE OR REPLACE FUNCTION stored_groups(view_name regclass, OUT history bigint, OUT recent bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    agg_id int := (SELECT id FROM hybridagg_internal.aggregate WHERE view = view_name);
BEGIN
    EXECUTE format('SELECT count(*) FROM hybridagg_internal.history_%s', agg_id) INTO history;
    IF to_regclass(format('hybridagg_internal.recent_%s', agg_id)) IS NOT NULL THEN
        EXECUTE format('SELECT count(*) FROM hybridagg_internal.recent_%s', agg_id) INTO recent;
    END IF;
END
$fn$;
\set ECHO all
