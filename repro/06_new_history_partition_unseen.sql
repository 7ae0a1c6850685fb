-- 06: late rows of hybrid/lambda aggregates vanish from the view for a
-- moment while the worker folds them into a NEW partition of history_<id>.
--
-- A fold whose late rows need a partition that does not exist yet creates it
-- (partitions.c ensure_partitions_for -> create_partition: CREATE TABLE, then
-- ATTACH PARTITION under ShareUpdateExclusiveLock, so readers are not
-- blocked), then inserts the folded groups into it and deletes their deltas,
-- and commits (fold.c fold_aggregate).  A top-level SELECT on the view is
-- planned with one snapshot (and the partition list of that moment) and run
-- with a newer one (exec_simple_query: PortalStart takes a new snapshot in
-- READ COMMITTED).  If the fold commits in between, the run sees the deltas
-- deleted but its plan has no scan of the new partition: the late groups are
-- missing from the view for that one query.  (A plpgsql loop does not show
-- it: SPI takes its snapshot before planning.)
--
-- This is a race: the script below runs 1,000 top-level comparisons while a
-- second session (dblink) writes a late row into a new 28-day span of history
-- every 50 ms (300 rows), and counts the comparisons where the view missed
-- groups.  Typically some of them miss (0 on correct code).
-- Modes: hybrid and lambda (late rows below the watermark), and any path
-- that creates a history partition in the transaction that fills it
-- (seal_by_move, recompute_range).
--
-- Run with: psql -X -f repro/06_new_history_partition_unseen.sql (a cluster
-- that preloads hybridagg, worker running, hybridagg.fold_interval as low as
-- 200ms makes it show more often).
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS hybridagg;
CREATE EXTENSION IF NOT EXISTS dblink;
SET TimeZone = 'UTC';
DROP TABLE IF EXISTS r06 CASCADE;
DROP TABLE IF EXISTS r06_missed;
CREATE TABLE r06 (ts timestamptz NOT NULL, v int);
CREATE INDEX ON r06 (ts);
CREATE TABLE r06_missed (at timestamptz, view_groups bigint, raw_groups bigint);
INSERT INTO r06 SELECT '2024-01-01 00:00+00'::timestamptz + i * interval '1 hour', i FROM generate_series(1, 48) i;
SELECT hybridagg.create('r06_v',
  $$SELECT date_trunc('hour', ts, 'UTC') AS b, count(*) AS n, sum(v) AS s FROM r06 GROUP BY 1$$,
  mode => 'hybrid', seal_after => '1 hour');

-- the late writer: one row every 20 ms, each 29 days before the previous one
SELECT dblink_connect('r06_writer', 'dbname=' || current_database() || ' port=' || current_setting('port')
                      || ' host=' || split_part(current_setting('unix_socket_directories'), ',', 1));
SELECT dblink_send_query('r06_writer', $$
  DO $do$ BEGIN
    FOR i IN 1..300 LOOP
      INSERT INTO r06 VALUES ('2020-01-01 00:30+00'::timestamptz - i * interval '29 days', i);
      COMMIT;
      PERFORM pg_sleep(0.05);
    END LOOP;
  END $do$ $$);

-- 1,000 top-level comparisons, each one statement
SELECT $$INSERT INTO r06_missed SELECT now(), vg, rg FROM
           (SELECT (SELECT count(*) FROM r06_v) AS vg,
                   (SELECT count(*) FROM (SELECT date_trunc('hour', ts, 'UTC') FROM r06 GROUP BY 1) q) AS rg) c
          WHERE vg <> rg$$ FROM generate_series(1, 1000) \gexec

SELECT * FROM dblink_get_result('r06_writer') AS t(r text);
SELECT dblink_disconnect('r06_writer');
\echo '== comparisons (of 1000) in which the view missed groups the raw query has (0 on correct code):'
SELECT count(*) AS missed, min(raw_groups - view_groups) AS fewest, max(raw_groups - view_groups) AS most FROM r06_missed;
DROP TABLE r06 CASCADE;
DROP TABLE r06_missed;
