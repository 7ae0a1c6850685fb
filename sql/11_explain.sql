-- Predicates on the bucket column reach the history partitions.  With a
-- constant, the planner leaves out the partitions that hold only older
-- buckets; with a parameter (a generic plan of a prepared statement, as
-- JDBC uses after five executions) the executor removes them ("Subplans
-- Removed").  Plans and partition names (which hold the aggregate's id) are
-- not printed: only how many partitions a plan reads, against how many hold
-- buckets the query asks for.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS hybridagg;
RESET client_min_messages;
\i test/sql/helpers.sql
\set VERBOSITY default

-- five weeks and a half of rows: history spans several partitions
CREATE TABLE events (id serial PRIMARY KEY, ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
CREATE INDEX ON events (ts);
INSERT INTO events (ts, device_id, value)
SELECT now() - i * interval '7 minutes', i % 3, i % 101 FROM generate_series(1, 8000) i;
ANALYZE events;

\set query 'SELECT date_bin(''5 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, max(value) AS hi FROM events GROUP BY 1, 2'
SELECT hybridagg.create('events_batch', :'query', mode => 'batch');
SELECT hybridagg.create('events_hybrid', :'query', mode => 'hybrid');
-- pending changes, so that every branch of the hybrid view has rows (above
-- the watermark: batch mode would serve older changes only after a batch)
UPDATE events SET value = value + 1 WHERE ts > now() - interval '40 minutes' AND id % 2 = 0;
DELETE FROM events WHERE ts > now() - interval '40 minutes' AND id % 3 = 0;

-- the history partitions of an aggregate: how many, and how many hold
-- buckets in [since, until)
CREATE FUNCTION partitions(agg regclass, since timestamptz, until timestamptz DEFAULT 'infinity',
                           OUT total int, OUT needed int)
LANGUAGE sql AS $$
    SELECT count(*)::int, count(*) FILTER (WHERE upper_bound > since AND lower_bound < until)::int
      FROM (SELECT coalesce(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \(''([^'']+)''\)'), '-infinity')::timestamptz AS lower_bound,
                   substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']+)''\)')::timestamptz AS upper_bound
              FROM hybridagg_internal.aggregate a
              JOIN pg_inherits i ON i.inhparent = format('hybridagg_internal.history_%s', a.id)::regclass
              JOIN pg_class c ON c.oid = i.inhrelid
             WHERE a.view = agg) p
$$;

-- the plan of a statement, and the history partitions it reads
CREATE FUNCTION plan_of(statement text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE statement;
END
$$;
CREATE FUNCTION partitions_read(statement text) RETURNS int
LANGUAGE sql AS $$
    SELECT count(DISTINCT m[1])::int
      FROM plan_of(statement) line,
           regexp_matches(line, ' on (?:hybridagg_internal\.)?(history_[0-9]+_[a-z0-9_]+)', 'g') m
     WHERE line NOT LIKE '%Bitmap Index Scan on %'   -- that names an index
$$;

SELECT now() - interval '2 days' AS since \gset

-- a constant: the plan reads only the partitions that hold recent buckets
SELECT p.total > p.needed AS older_partitions_exist, p.needed > 0 AS some_partition_needed,
       partitions_read(format('EXPLAIN (COSTS OFF) SELECT * FROM events_batch WHERE bucket >= %L', :'since')) = p.needed
       AS batch_reads_only_needed_partitions
  FROM partitions('events_batch', :'since') p;
SELECT p.total > p.needed AS older_partitions_exist, p.needed > 0 AS some_partition_needed,
       partitions_read(format('EXPLAIN (COSTS OFF) SELECT * FROM events_hybrid WHERE bucket >= %L', :'since')) = p.needed
       AS hybrid_reads_only_needed_partitions
  FROM partitions('events_hybrid', :'since') p;
-- a range between two constants
SELECT now() - interval '20 days' AS r_start, now() - interval '19 days' AS r_end \gset
SELECT p.total > p.needed AS other_partitions_exist,
       partitions_read(format('EXPLAIN (COSTS OFF) SELECT * FROM events_hybrid WHERE bucket >= %L AND bucket < %L',
                              :'r_start', :'r_end')) = p.needed AS range_reads_only_needed_partitions
  FROM partitions('events_hybrid', :'r_start', :'r_end') p;
-- and without a predicate, every partition
SELECT partitions_read('EXPLAIN (COSTS OFF) SELECT * FROM events_batch') = p.total AS batch_reads_all
  FROM partitions('events_batch', :'since') p;

-- a parameter in a generic plan: pruned when the plan runs
SET plan_cache_mode = force_generic_plan;
PREPARE batch_since(timestamptz) AS SELECT * FROM events_batch WHERE bucket >= $1;
PREPARE hybrid_since(timestamptz) AS SELECT * FROM events_hybrid WHERE bucket >= $1;
SELECT strpos(string_agg(line, E'\n'), 'Subplans Removed') > 0 AS batch_subplans_removed
  FROM plan_of(format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE batch_since(%L)', :'since')) line;
SELECT partitions_read(format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE batch_since(%L)', :'since')) = p.needed
       AS batch_runs_only_needed_partitions
  FROM partitions('events_batch', :'since') p;
SELECT strpos(string_agg(line, E'\n'), 'Subplans Removed') > 0 AS hybrid_subplans_removed
  FROM plan_of(format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE hybrid_since(%L)', :'since')) line;
SELECT partitions_read(format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE hybrid_since(%L)', :'since')) = p.needed
       AS hybrid_runs_only_needed_partitions
  FROM partitions('events_hybrid', :'since') p;
-- and the generic plans return the right rows
CREATE TEMP TABLE from_batch AS EXECUTE batch_since(:'since');
CREATE TEMP TABLE from_hybrid AS EXECUTE hybrid_since(:'since');
SELECT test_diff('from_batch', format('SELECT * FROM (%s) q WHERE bucket >= %L', :'query', :'since'), '{bucket,device_id}') AS batch_generic_plan_rows;
SELECT test_diff('from_hybrid', format('SELECT * FROM (%s) q WHERE bucket >= %L', :'query', :'since'), '{bucket,device_id}') AS hybrid_generic_plan_rows;
DROP TABLE from_batch, from_hybrid;
DEALLOCATE batch_since;
DEALLOCATE hybrid_since;
RESET plan_cache_mode;

SET client_min_messages = warning;
SELECT hybridagg.drop('events_batch');
SELECT hybridagg.drop('events_hybrid');
RESET client_min_messages;
DROP FUNCTION partitions_read(text);
DROP FUNCTION plan_of(text);
DROP FUNCTION partitions(regclass, timestamptz);
DROP TABLE events;
