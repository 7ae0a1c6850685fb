-- Comparisons of test/t/110_peer_corpus.pl that test_diff() (test/sql/helpers.sql)
-- does not make.
--
-- corpus_multiset_diff(view, query): for a definition whose output has no
-- column set that identifies a group (TimescaleDB's cagg_errors selects only
-- the aggregate), the rows of the view and of the query compared as
-- multisets of their text form, in one statement: how many rows are in one
-- and not in the other (counting duplicates).
CREATE FUNCTION corpus_multiset_diff(view_name regclass, query text) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('WITH v AS MATERIALIZED (SELECT x::text AS r FROM %s x), '
                   'q AS MATERIALIZED (SELECT x::text AS r FROM (%s) x) '
                   'SELECT (SELECT count(*) FROM (SELECT r FROM v EXCEPT ALL SELECT r FROM q) a) '
                   '     + (SELECT count(*) FROM (SELECT r FROM q EXCEPT ALL SELECT r FROM v) b)',
                   view_name, query)
      INTO n;
    RETURN n;
END
$fn$;

-- corpus_row_counts(view, query): the number of rows of each, in one
-- statement, as 'view/query'.  test_diff() joins on the keys, so a group the
-- view returned twice would pass it; the counts catch that.
CREATE FUNCTION corpus_row_counts(view_name regclass, query text) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
    r text;
BEGIN
    EXECUTE format('SELECT (SELECT count(*) FROM %s) || ''/'' || (SELECT count(*) FROM (%s) x)', view_name, query)
      INTO r;
    RETURN r;
END
$fn$;

-- corpus_diff_rows(view, query, max_rows): for the diagnostics of a failure,
-- some rows that are in the view and not in the query ('view: ...') and the
-- other way round ('query: ...'), as text (floats compared exactly here, so
-- a float that test_diff() accepted within 1e-9 may show too).
CREATE FUNCTION corpus_diff_rows(view_name regclass, query text, max_rows int) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
BEGIN
    RETURN QUERY EXECUTE format(
        'WITH v AS MATERIALIZED (SELECT x::text AS r FROM %1$s x), '
        'q AS MATERIALIZED (SELECT x::text AS r FROM (%2$s) x) '
        '(SELECT ''view:  '' || r FROM (SELECT r FROM v EXCEPT ALL SELECT r FROM q) a ORDER BY 1 LIMIT %3$s) '
        'UNION ALL '
        '(SELECT ''query: '' || r FROM (SELECT r FROM q EXCEPT ALL SELECT r FROM v) b ORDER BY 1 LIMIT %3$s)',
        view_name, query, max_rows);
END
$fn$;
