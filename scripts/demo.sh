#!/usr/bin/env bash
# The main job: install, build, start a private cluster, load 1,000,000
# synthetic events over 30 days, create an aggregate, compare a query on
# its view with the same query on the raw table, and print what advise()
# says each mode would cost.
#
#   bash scripts/demo.sh          (as root on a fresh Debian 12 machine)
#
# The cluster keeps running in .cluster/demo; the last lines say how to
# connect and how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/setup.sh
source scripts/cluster.sh

ROWS=${DEMO_ROWS:-1000000}
DIR=$ROOT/.cluster/demo
PORT=${DEMO_PORT:-5488}

install_dependencies
build_and_install
echo "== starting a private cluster in $DIR (port $PORT)"
cluster_start "$DIR" "$PORT" "shared_buffers = '256MB'" "timezone = 'UTC'"
export PGHOST=$DIR PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
PSQL="psql -X -q -v ON_ERROR_STOP=1"

echo "== loading $ROWS events over 30 days (100 devices)"
$PSQL <<SQL
CREATE EXTENSION hybridagg;
CREATE TABLE events (ts timestamptz NOT NULL, device_id int NOT NULL, value float8);
INSERT INTO events
SELECT now() - interval '30 days' + (i * (interval '30 days' / $ROWS)),
       (i::bigint * 7919 % 100)::int, round((random() * 100)::numeric, 2)
  FROM generate_series(1, $ROWS) AS i;
CREATE INDEX ON events (ts);
VACUUM ANALYZE events;
SQL

echo "== creating the aggregate events_1h: per hour and device (hybrid: history sealed, recent streamed)"
$PSQL <<'SQL'
\timing on
SELECT hybridagg.create('events_1h',
  $$SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device_id,
           count(*) AS n, sum(value) AS total, avg(value) AS mean,
           min(value) AS lo, max(value) AS hi
      FROM events
     GROUP BY 1, 2$$,
  mode => 'hybrid', seal_after => '1 hour');
\timing off
ANALYZE;
SQL

QUERY_VIEW="SELECT date_trunc('day', bucket) AS day, sum(n) AS events, round(avg(mean)::numeric, 3) AS mean FROM events_1h GROUP BY 1 ORDER BY 1 DESC LIMIT 5"

timed() {
	# median of three runs of the query, in milliseconds
	local q=$1
	for i in 1 2 3; do
		$PSQL -t -A -c "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) $q" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])'
	done | sort -n | sed -n 2p
}

echo "== late rows, an UPDATE and a DELETE: the view is exact at once"
$PSQL <<'SQL'
INSERT INTO events SELECT now() - interval '20 days', d, 1000 FROM generate_series(0, 99) d;
UPDATE events SET value = value + 1 WHERE ts > now() - interval '10 minutes';
DELETE FROM events WHERE ts BETWEEN now() - interval '3 days' AND now() - interval '3 days' + interval '10 minutes';
SQL

Q1="SELECT sum(n) AS events, count(*) AS groups FROM events_1h"
echo "== per-day rollup, all devices"
echo "-- on the view:"
$PSQL -c "$QUERY_VIEW"
echo "-- total on the view and on the raw table:"
$PSQL -c "$Q1"
$PSQL -c "SELECT count(*) AS events, count(DISTINCT (date_bin('1 hour', ts, '2000-01-01 00:00+00'), device_id)) AS groups FROM events"
VIEW_MS=$(timed "SELECT date_trunc('day', bucket), sum(n), avg(mean) FROM events_1h GROUP BY 1")
RAW_MS=$(timed "SELECT date_trunc('day', b), sum(n), avg(mean) FROM (SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS b, device_id, count(*) AS n, avg(value) AS mean FROM events GROUP BY 1, 2) g GROUP BY 1")
echo "== timing (median of 3), per-day rollup of 30 days:"
echo "   view:      $VIEW_MS ms"
echo "   raw table: $RAW_MS ms"
python3 -c "print('   the view is %.1fx faster' % ($RAW_MS / $VIEW_MS))"

echo "== status"
$PSQL -c "SELECT name, mode, watermark, history_rows, recent_rows, pending_deltas, dirty_groups, folds, last_error FROM hybridagg.aggregates"
echo "== mismatches between the view and the raw query (must be 0):"
$PSQL -t -A <<'SQL'
SELECT count(*) FROM events_1h v
FULL JOIN (SELECT date_bin('1 hour', ts, '2000-01-01 00:00+00') AS bucket, device_id,
                  count(*) AS n, sum(value) AS total, min(value) AS lo, max(value) AS hi
             FROM events GROUP BY 1, 2) r USING (bucket, device_id)
WHERE v.n IS DISTINCT FROM r.n OR v.lo IS DISTINCT FROM r.lo OR v.hi IS DISTINCT FROM r.hi
   OR abs(v.total - r.total) > 1e-9 * abs(r.total);
SQL
echo "== what each mode would cost events_1h here: SELECT * FROM hybridagg.advise('events_1h')"
echo "   (figures measured, sampled or estimated as the figures column says; see README, Batch or streaming?)"
$PSQL <<'SQL'
SELECT mode, current,
       round(write_us_per_row::numeric, 2) AS write_us_row,
       round(write_us_per_statement::numeric, 1) AS write_us_stmt,
       round(worker_seconds_per_hour::numeric, 3) AS worker_s_h,
       round(batch_seconds_per_run::numeric, 3) AS batch_s_run,
       round(batch_seconds_per_day::numeric, 1) AS batch_s_day,
       round(view_ms_whole_range::numeric, 1) AS view_ms_all,
       round(view_ms_last_hour::numeric, 1) AS view_ms_1h,
       date_trunc('second', stored_freshness) AS stored_freshness,
       pg_size_pretty(storage_bytes) AS storage, fits, recommended
  FROM hybridagg.advise('events_1h');
SELECT reason AS "recommended for no asked freshness" FROM hybridagg.advise('events_1h') WHERE recommended;
SELECT reason AS "for a freshness of 1 minute" FROM hybridagg.advise('events_1h', '1 minute') WHERE recommended;
SELECT mode, fits, limit_reached AS "at 100x the data" FROM hybridagg.advise('events_1h', NULL, 100);
SQL
echo
echo "The cluster keeps running.  Connect:  psql -h $DIR -p $PORT -U postgres"
echo "Stop it:  runuser -u postgres -- $PG_BIN/pg_ctl -D $DIR/data stop"
