-- The peer corpus: aggregate definitions that users of TimescaleDB, pg_ivm,
-- PipelineDB, Citus, pg_incremental and RisingWave wrote in those projects'
-- docs, tutorials and tests (and a few from public repositories of their
-- users), translated into hybridagg's form over the tables of schema.sql.
-- test/t/110_peer_corpus.pl reads this file; issue 10 states the bar.
--
-- Format: one entry per definition, a block of header lines
--   -- @name     the aggregate's name (and its view's)
--   -- @project  TimescaleDB | pg_ivm | PipelineDB | Citus | pg_incremental | RisingWave
--   -- @source   where the original is: URL and/or repository + path
--   -- @scope    in | out: <reason>   (out: joins, hierarchical aggregates,
--                aggregates without a time bucket, window functions and
--                subqueries: what one table and one GROUP BY cannot express)
--   -- @keys     the output columns that identify a group (the comparison
--                joins on them); absent when the output has none that is
--                unique, and then the rows are compared as multisets
--   -- @requires an extension the definition needs (hll, tdigest)
--   -- @note     how the original was translated
-- followed by the query, up to the next @name.  Out-of-scope entries keep
-- the original's shape (they are counted, not run).
--
-- Translation rules, the same everywhere:
-- * time_bucket(w, ts) on a timestamptz becomes date_bin(w, ts, '2000-01-01
--   00:00+00') (on a timestamp, origin '2000-01-01 00:00'); weekly buckets
--   keep TimescaleDB's Monday origin, 2000-01-03.  time_bucket(w, ts, 'Zone')
--   with a month or day width becomes date_trunc(unit, ts, 'Zone'); a monthly
--   time_bucket without a zone buckets in UTC, so date_trunc(unit, ts, 'UTC').
-- * RisingWave's TUMBLE(t, ts, w) becomes date_bin(w, ts, '1970-01-01 00:00')
--   AS window_start (and window_start + w AS window_end), its epoch origin.
-- * PipelineDB's minute(ts), hour(ts), day(ts) are date_trunc(unit, ts);
--   date_trunc(unit, ts) on a timestamptz (PipelineDB's arrival_timestamp,
--   Citus' and pg_incremental's timestamptz columns) is written with the zone
--   their servers ran in, date_trunc(unit, ts, 'UTC'), as hybridagg's hint
--   says; two entries (t41, n03) keep the original form to measure that
--   refusal too.
-- * Integer time: time_bucket(w, t) on an integer column becomes t / w * w
--   (PostgreSQL has no integer time_bucket; t / w * w truncates toward zero
--   where TimescaleDB floors, and the two agree here: the times are not
--   negative; hybridagg keeps either form exactly).
--   A date column: time_bucket(w, d) becomes date_bin(w, d::timestamp, ...).
-- * TimescaleDB Toolkit aggregates, which PostgreSQL lacks, become what their
--   accessors compute: stats_agg(x) -> avg(x), stddev_samp(x) (average,
--   stddev); stats_agg(y, x) -> regr_slope, regr_intercept, corr;
--   approx_percentile(p, percentile_agg(x)) -> tdigest_percentile(x, 100, p)
--   (the t-digest extension; approximate, as the original).  first/last are
--   hybridagg.first and hybridagg.last.
-- * Pipeline bookkeeping in Citus' and pg_incremental's INSERT ... SELECT
--   (WHERE event_id BETWEEN $1 AND $2, ON CONFLICT ...) is what hybridagg
--   replaces and is left out; the SELECT is the definition.
-- * Columns are renamed to the shared tables as each @note says; values,
--   aggregates, FILTERs, DISTINCTs, percentiles, HAVING, WHERE and keys are
--   as in the original, also where hybridagg refuses them today.

------------------------------------------------------------------------------
-- TimescaleDB
------------------------------------------------------------------------------

-- @name t01_conditions_summary_daily
-- @project TimescaleDB
-- @source https://docs.timescale.com/use-timescale/latest/continuous-aggregates/create-a-continuous-aggregate/ (timescale/docs use-timescale/continuous-aggregates/create-a-continuous-aggregate.md)
-- @scope in
-- @keys device, bucket
SELECT device,
       date_bin(INTERVAL '1 day', time, '2000-01-01 00:00+00') AS bucket,
       AVG(temperature),
       MAX(temperature),
       MIN(temperature)
  FROM conditions
 GROUP BY device, bucket

-- @name t02_cagg_rides_view
-- @project TimescaleDB
-- @source https://docs.timescale.com/use-timescale/latest/continuous-aggregates/create-a-continuous-aggregate/ (WITH NO DATA example; timescale/docs use-timescale/continuous-aggregates/create-a-continuous-aggregate.md)
-- @scope in
-- @keys vendor_id, hour
SELECT vendor_id,
       date_bin('1h', pickup_datetime, '2000-01-01 00:00') AS hour,
       count(*) total_rides,
       avg(fare_amount) avg_fare,
       max(trip_distance) as max_trip_distance,
       min(trip_distance) as min_trip_distance
  FROM rides
 GROUP BY vendor_id, date_bin('1h', pickup_datetime, '2000-01-01 00:00')

-- @name t03_conditions_summary_daily_3
-- @project TimescaleDB
-- @source https://docs.timescale.com/use-timescale/latest/continuous-aggregates/create-a-continuous-aggregate/ (JOIN example)
-- @scope out: join
SELECT time_bucket(INTERVAL '1 day', day) AS bucket,
       AVG(temperature), MAX(temperature), MIN(temperature), name
  FROM devices JOIN conditions USING (device_id)
 GROUP BY name, bucket

-- @name t04_example_aggregate
-- @project TimescaleDB
-- @source https://docs.timescale.com/use-timescale/latest/continuous-aggregates/create-a-continuous-aggregate/ (window functions workaround; timescale/docs create-a-continuous-aggregate.md)
-- @scope in
-- @keys bucket
-- @note table example(time, value) -> metrics(time, value)
SELECT date_bin('10 minutes', time, '2000-01-01 00:00+00') AS bucket,
       hybridagg.first(value, time) AS value
  FROM metrics
 GROUP BY bucket

-- @name t05_device_summary_est
-- @project TimescaleDB
-- @source https://docs.timescale.com/use-timescale/latest/continuous-aggregates/time/ (explicit timezone; timescale/docs use-timescale/continuous-aggregates/time.md)
-- @scope in
-- @keys bucket, device_id
SELECT date_bin('1 hour', observation_time, '2000-01-01 00:00+00') AS bucket,
       min(observation_time AT TIME ZONE 'EST') AS min_time,
       device_id,
       avg(metric) AS metric_avg,
       max(metric) - min(metric) AS metric_spread
  FROM device_readings
 GROUP BY bucket, device_id

-- @name t06_devices_summary_int
-- @project TimescaleDB
-- @source https://docs.timescale.com/use-timescale/latest/continuous-aggregates/time/ (integer-based time; timescale/docs use-timescale/continuous-aggregates/time.md)
-- @scope in
-- @keys bucket
-- @note time_bucket('500', time) on a BIGINT time column
SELECT time / 500 * 500 AS bucket,
       avg(cpu_usage) AS avg_cpu,
       avg(disk_usage) AS avg_disk
  FROM devices
 GROUP BY bucket

-- @name t07_device_summary
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_usage.sql (usage test, first view)
-- @scope in
-- @keys bucket, device_id
SELECT date_bin('1 hour', observation_time, '2000-01-01 00:00+00') as bucket,
       device_id,
       avg(metric) as metric_avg,
       max(metric)-min(metric) as metric_spread
  FROM device_readings
 GROUP BY bucket, device_id

-- @name t08_device_summary_tstz
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_usage.sql (timezones, option 2: keep timestamptz)
-- @scope in
-- @keys bucket, device_id
SELECT date_bin('1 hour', observation_time, '2000-01-01 00:00+00') as bucket,
       min(observation_time) as min_time,
       device_id,
       avg(metric) as metric_avg,
       max(metric)-min(metric) as metric_spread
  FROM device_readings
 GROUP BY bucket, device_id

-- @name t09_device_summary_localtime
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_usage.sql (timezones, option 3: a stable cast to local time)
-- @scope in
-- @keys bucket, device_id
SELECT date_bin('1 hour', observation_time, '2000-01-01 00:00+00') as bucket,
       min(observation_time::timestamp) as min_time,
       device_id,
       avg(metric) as metric_avg,
       max(metric)-min(metric) as metric_spread
  FROM device_readings
 GROUP BY bucket, device_id

-- @name t10_device_readings_jit
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_usage.sql (device_readings_jit, integer time)
-- @scope in
-- @keys time_bucket
-- @note device_readings_int(time int, value float) -> devices(time, value); time_bucket(10, time)
SELECT time / 10 * 10 AS time_bucket, avg(value)
  FROM devices
 GROUP BY 1

-- @name t11_whatever_summary
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_usage.sql (basic usage: whatever_summary)
-- @scope in
-- @keys bucket
-- @note whatever(time timestamptz, metric integer) -> metrics(time, reading)
SELECT date_bin('1 hour', time, '2000-01-01 00:00+00') AS bucket, avg(reading)
  FROM metrics
 GROUP BY bucket

-- @name t12_cagg1_day_pst
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_usage.sql (cagg1: time_bucket('1 day', time, 'PST8PDT'))
-- @scope in
-- @keys date_trunc
SELECT date_trunc('day', time, 'PST8PDT') FROM metrics GROUP BY 1

-- @name t13_cagg2_month_pst
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_usage.sql (cagg2: time_bucket('1 month', time, 'PST8PDT'))
-- @scope in
-- @keys date_trunc
SELECT date_trunc('month', time, 'PST8PDT') FROM metrics GROUP BY 1

-- @name t14_mat_m1
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_query.sql (mat_m1)
-- @scope in
-- @keys location, timec
SELECT location, date_bin('1day', time, '2000-01-01 00:00+00') AS timec,
       min(location) AS minl, sum(temperature) AS sumt, sum(humidity) AS sumh
  FROM conditions
 GROUP BY date_bin('1day', time, '2000-01-01 00:00+00'), location

-- @name t15_mat_m2_first_last
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_query.sql (mat_m2: test first/last)
-- @scope in
-- @keys location, timec
SELECT location, date_bin('1day', time, '2000-01-01 00:00+00') AS timec,
       hybridagg.first(humidity, time) AS firsth, hybridagg.last(humidity, time) AS lasth,
       max(temperature) AS maxtemp, min(temperature) AS mintemp
  FROM conditions
 GROUP BY date_bin('1day', time, '2000-01-01 00:00+00'), location

-- @name t16_one_min_candle
-- @project TimescaleDB
-- @source https://docs.timescale.com/tutorials/latest/financial-candlestick-tick-data/create-candlestick-aggregates/ (timescale/docs tutorials/OLD-financial-candlestick-tick-data/create-candlestick-aggregates.md)
-- @scope in
-- @keys bucket, symbol
SELECT date_bin('1 min', time, '2000-01-01 00:00+00') AS bucket,
       symbol,
       hybridagg.first(price, time) AS "open",
       MAX(price) AS high,
       MIN(price) AS low,
       hybridagg.last(price, time) AS "close",
       hybridagg.last(day_volume, time) AS day_volume
  FROM crypto_ticks
 GROUP BY bucket, symbol

-- @name t17_one_hour_candle
-- @project TimescaleDB
-- @source timescale/docs tutorials/OLD-financial-candlestick-tick-data/create-candlestick-aggregates.md (1-hour candlestick)
-- @scope in
-- @keys bucket, symbol
SELECT date_bin('1 hour', time, '2000-01-01 00:00+00') AS bucket,
       symbol,
       hybridagg.first(price, time) AS "open",
       MAX(price) AS high,
       MIN(price) AS low,
       hybridagg.last(price, time) AS "close",
       hybridagg.last(day_volume, time) AS day_volume
  FROM crypto_ticks
 GROUP BY bucket, symbol

-- @name t18_one_day_candle
-- @project TimescaleDB
-- @source https://docs.timescale.com/tutorials/latest/financial-tick-data/financial-tick-query/ (timescale/docs tutorials/financial-tick-data/financial-tick-query.md)
-- @scope in
-- @keys bucket, symbol
SELECT date_bin('1 day', time, '2000-01-01 00:00+00') AS bucket,
       symbol,
       hybridagg.first(price, time) AS "open",
       MAX(price) AS high,
       MIN(price) AS low,
       hybridagg.last(price, time) AS "close",
       hybridagg.last(day_volume, time) AS day_volume
  FROM crypto_ticks
 GROUP BY bucket, symbol

-- @name t19_one_day_candle_delta
-- @project TimescaleDB
-- @source timescale/docs tutorials/OLD-financial-candlestick-tick-data/create-candlestick-aggregates.md (1-day candlestick with price change column)
-- @scope in
-- @keys bucket, symbol
SELECT date_bin('1 day', time, '2000-01-01 00:00+00') AS bucket,
       symbol,
       hybridagg.first(price, time) AS "open",
       MAX(price) AS high,
       MIN(price) AS low,
       hybridagg.last(price, time) AS "close",
       hybridagg.last(day_volume, time) AS day_volume,
       (hybridagg.last(price, time)-hybridagg.first(price, time))/hybridagg.first(price, time) AS change_pct
  FROM crypto_ticks
 WHERE price != 0
 GROUP BY bucket, symbol

-- @name t20_one_hour_transactions
-- @project TimescaleDB
-- @source https://docs.timescale.com/tutorials/latest/blockchain-analyze/analyze-blockchain-query/ (timescale/docs tutorials/blockchain-analyze/analyze-blockchain-query.md)
-- @scope in
-- @keys bucket
-- @note stats_agg(fee) AS stats_fee_sat -> avg, stddev_samp (its accessors average, stddev)
SELECT date_bin('1 hour', time, '2000-01-01 00:00+00') AS bucket,
       count(*) AS tx_count,
       sum(fee) AS total_fee_sat,
       sum(fee_usd) AS total_fee_usd,
       avg(fee) AS stats_fee_sat_average,
       stddev_samp(fee) AS stats_fee_sat_stddev,
       avg(size) AS avg_tx_size,
       avg(weight) AS avg_tx_weight,
       count(
             CASE
                WHEN (fee > output_total) THEN hash
                ELSE NULL
             END) AS high_fee_count
  FROM transactions
 WHERE (is_coinbase IS NOT TRUE)
 GROUP BY bucket

-- @name t21_one_hour_blocks
-- @project TimescaleDB
-- @source timescale/docs tutorials/blockchain-analyze/analyze-blockchain-query.md (one_hour_blocks)
-- @scope in
-- @keys bucket, block_id
-- @note stats_agg(fee) AS stats_tx_fee_sat -> avg, stddev_samp
SELECT date_bin('1 hour', time, '2000-01-01 00:00+00') AS bucket,
       block_id,
       count(*) AS tx_count,
       sum(fee) AS block_fee_sat,
       sum(fee_usd) AS block_fee_usd,
       avg(fee) AS stats_tx_fee_sat_average,
       stddev_samp(fee) AS stats_tx_fee_sat_stddev,
       avg(size) AS avg_tx_size,
       avg(weight) AS avg_tx_weight,
       sum(size) AS block_size,
       sum(weight) AS block_weight,
       max(size) AS max_tx_size,
       max(weight) AS max_tx_weight,
       min(size) AS min_tx_size,
       min(weight) AS min_tx_weight
  FROM transactions
 WHERE is_coinbase IS NOT TRUE
 GROUP BY bucket, block_id

-- @name t22_one_hour_coinbase
-- @project TimescaleDB
-- @source timescale/docs tutorials/blockchain-analyze/analyze-blockchain-query.md (one_hour_coinbase)
-- @scope in
-- @keys bucket
-- @note stats_agg(output_total, output_total_usd) -> regr_slope, regr_intercept, corr (its 2D accessors)
SELECT date_bin('1 hour', time, '2000-01-01 00:00+00') AS bucket,
       count(*) AS tx_count,
       regr_slope(output_total, output_total_usd) AS stats_miner_revenue_slope,
       regr_intercept(output_total, output_total_usd) AS stats_miner_revenue_intercept,
       corr(output_total, output_total_usd) AS stats_miner_revenue_corr,
       min(output_total) AS min_miner_revenue,
       max(output_total) AS max_miner_revenue
  FROM transactions
 WHERE is_coinbase IS TRUE
 GROUP BY bucket

-- @name t23_response_times_hourly
-- @project TimescaleDB
-- @source https://docs.timescale.com/use-timescale/latest/continuous-aggregates/hierarchical-continuous-aggregates/ (timescale/docs use-timescale/continuous-aggregates/hierarchical-continuous-aggregates.md)
-- @scope in
-- @keys bucket, api_id
-- @requires tdigest
-- @note response_times(ts, api_id, response_time_ms) -> metrics(time, api_id, value); percentile_agg(x), read with approx_percentile(0.5, ...) -> tdigest_percentile(x, 100, 0.5)
SELECT date_bin('1 h'::interval, time, '2000-01-01 00:00+00') as bucket,
       api_id,
       avg(value),
       tdigest_percentile(value, 100, 0.5) as percentile_hourly
  FROM metrics
 GROUP BY 1, 2

-- @name t24_response_times_daily
-- @project TimescaleDB
-- @source timescale/docs use-timescale/continuous-aggregates/hierarchical-continuous-aggregates.md (a continuous aggregate on response_times_hourly)
-- @scope out: hierarchical
SELECT time_bucket('1 d'::interval, bucket) as bucket_daily,
       api_id,
       rollup(percentile_hourly) as percentile_daily
  FROM response_times_hourly
 GROUP BY 1, 2

-- @name t25_measurements_stats
-- @project TimescaleDB
-- @source https://docs.timescale.com/use-timescale/latest/hyperfunctions/stats-aggs/ (timescale/docs use-timescale/hyperfunctions/stats-aggs.md)
-- @scope in
-- @keys date_bin
-- @note measurements(ts, val) -> metrics(time, value); average(stats_agg(val)) -> avg, stddev(stats_agg(val), 'pop') -> stddev_pop; kurtosis has no PostgreSQL aggregate and is left out
SELECT date_bin('10 min'::interval, time, '2000-01-01 00:00+00'),
       avg(value),
       stddev_pop(value)
  FROM metrics
 GROUP BY 1

-- @name t26_measurements_rolling
-- @project TimescaleDB
-- @source timescale/docs use-timescale/hyperfunctions/stats-aggs.md (rolling(stats_agg) over a 15-minute window)
-- @scope out: window function over a subquery
SELECT bucket, average(rolling(stats_agg) OVER fifteen_min)
  FROM (SELECT time_bucket('1 min'::interval, ts) AS bucket, stats_agg(val)
          FROM measurements GROUP BY 1) AS stats
WINDOW fifteen_min as (ORDER BY bucket ASC RANGE '15 minutes' PRECEDING)

-- @name t27_price_1_min_agg
-- @project TimescaleDB
-- @source astraly-labs/pragma-node pragma-entities/migrations/2024-01-11-123510_add_continuous_aggregates/up.sql
-- @scope in
-- @keys bucket, pair_id
-- @requires tdigest
-- @note entries(pair_id, timestamp, price, source) -> metrics(device_id, time, price, source); approx_percentile(0.5, percentile_agg(price)) -> tdigest_percentile
SELECT device_id AS pair_id,
       date_bin('1 min'::interval, time, '2000-01-01 00:00+00') as bucket,
       tdigest_percentile(price::float8, 100, 0.5)::numeric AS median_price,
       COUNT(DISTINCT source) as num_sources
  FROM metrics
 GROUP BY bucket, device_id

-- @name t28_price_15_min_agg
-- @project TimescaleDB
-- @source astraly-labs/pragma-node pragma-entities/migrations/2024-01-11-123510_add_continuous_aggregates/up.sql
-- @scope in
-- @keys bucket, pair_id
-- @requires tdigest
SELECT device_id AS pair_id,
       date_bin('15 min'::interval, time, '2000-01-01 00:00+00') as bucket,
       tdigest_percentile(price::float8, 100, 0.5)::numeric AS median_price,
       COUNT(DISTINCT source) as num_sources
  FROM metrics
 GROUP BY bucket, device_id

-- @name t29_tvs_by_month
-- @project TimescaleDB
-- @source celenium-io/celestia-indexer database/views/27_tvs_by_month.sql
-- @scope in
-- @keys time
-- @note tvl(time, value) -> metrics(time, price); time_bucket('1 month') without a zone buckets in UTC
SELECT date_trunc('month', logs.time, 'UTC') AS time,
       min(logs.price) AS min_value,
       max(logs.price) AS max_value,
       hybridagg.last(logs.price, time) AS value
  FROM metrics as logs
 GROUP BY 1

-- @name t30_measurement_1h_view
-- @project TimescaleDB
-- @source HSFL-X-SOOP/backend src/main/resources/db/views/R__100_measurement_1h_view.sql
-- @scope in
-- @keys sensor_id, type_id, location_id, bucket
-- @note marlin.measurement -> metrics; stats_agg(value) AS stats -> stddev_samp
SELECT sensor_id,
       type_id,
       location_id,
       date_bin('1 hour', time, '2000-01-01 00:00+00') AS bucket,
       avg(value) AS avg,
       min(value) AS min,
       max(value) AS max,
       count(value) AS count,
       stddev_samp(value) AS stats
  FROM metrics
 GROUP BY 1,2,3,4

-- @name t31_rollup_stats_by_hour
-- @project TimescaleDB
-- @source celenium-io/celestia-indexer database/views/11_rollup_stats_by_hour.sql
-- @scope in
-- @keys time, namespace_id, signer_id
-- @note blob_log(time, namespace_id, signer_id, size, fee) -> metrics(time, device_id, sensor_id, reading, price)
SELECT date_bin('1 hour'::interval, logs.time, '2000-01-01 00:00+00') AS time,
       logs.device_id AS namespace_id,
       logs.sensor_id AS signer_id,
       sum(logs.reading) as size,
       count(*) as blobs_count,
       max(logs.time) as last_time,
       min(logs.time) as first_time,
       sum(logs.price) as fee
  FROM metrics as logs
 GROUP BY 1, 2, 3

-- @name t32_app_stats_by_day
-- @project TimescaleDB
-- @source celenium-io/astria-indexer database/views/13_app_stats_by_day.sql (on app_stats_by_hour)
-- @scope out: hierarchical
SELECT time_bucket('1 day'::interval, actions.time) AS time, actions.rollup_id, actions.sender_id,
       sum(actions.size) as size, sum(actions.actions_count) as actions_count,
       max(actions.last_time) as last_time, min(actions.first_time) as first_time
  FROM app_stats_by_hour as actions
 GROUP BY 1, 2, 3

-- @name t33_well_metrics_aggregate_24h
-- @project TimescaleDB
-- @source curiousvlxd/well-insight-engine-backend infra/sql/aggregations/well_metrics_aggregate_24h.sql (on well_metrics_aggregate_12h)
-- @scope out: hierarchical
SELECT time_bucket(INTERVAL '24 hours', time, 'Europe/Kyiv') AS time, well_id, parameter_id,
       AVG(COALESCE(avg_value, 0)) AS avg_value, MIN(COALESCE(min_value, 0)) AS min_value,
       MAX(COALESCE(max_value, 0)) AS max_value, MODE() WITHIN GROUP (ORDER BY mode_value) AS mode_value
  FROM well_metrics_aggregate_12h
 GROUP BY 1, 2, 3

-- @name t34_counts_hourly
-- @project TimescaleDB
-- @source JonFreer/WMCycleData api/create-view.sh
-- @scope in
-- @keys timestamp, mode, counter
-- @note counts(timestamp, mode, counter, count_in, count_out) -> metrics(time, source, device_id, reading, reading2)
SELECT date_bin('1 hour', time, '2000-01-01 00:00+00') as timestamp,
       source AS mode, device_id AS counter,
       sum(reading) as count_in,
       sum(reading2) as count_out
  FROM metrics
 GROUP BY 1,2,3

-- @name t35_connections_1min
-- @project TimescaleDB
-- @source kristof-mattei/endless-ssh-rs-with-web crates/endless-ssh-rs-with-web/migrations/0003_connections_1_min.sql
-- @scope in
-- @keys bucket, country_code
-- @note connections(connected_at, country_code, time_spent, bytes_sent) -> http_request(ingest_time, request_country, response_time_msec, status_code)
SELECT date_bin('1 minute', ingest_time, '2000-01-01 00:00+00') AS bucket,
       request_country AS country_code,
       count(*) AS connects,
       sum(response_time_msec) AS time_spent,
       sum(status_code) AS bytes_sent
  FROM http_request
 GROUP BY bucket, country_code

-- @name t36_some_data_view
-- @project TimescaleDB
-- @source schemahero/schemahero integration/tests/timescaledb/create-materialized-view/expect.sql
-- @scope in
-- @keys minute_bucket, id
-- @note some_data(created_at, id, something) -> pdb_stream(arrival_timestamp, g, x)
SELECT date_bin('1 minute'::interval, arrival_timestamp, '2000-01-01 00:00+00') as minute_bucket,
       g AS id, sum(x) as total
  FROM pdb_stream
 GROUP BY minute_bucket, id

-- @name t37_status_metrics_filter
-- @project TimescaleDB
-- @source hatchet-dev/hatchet (v2_cagg_status_metrics, its OLAP schema)
-- @scope in
-- @keys bucket, tenant_id, workflow_id
-- @note v2_statuses_olap(inserted_at, tenant_id, workflow_id, readable_status) -> http_request(ingest_time, site_id, request_country, status_code); the four FILTERs the source shows, on status codes
SELECT date_bin('5 minutes', ingest_time, '2000-01-01 00:00+00') AS bucket,
       site_id AS tenant_id,
       request_country AS workflow_id,
       COUNT(*) FILTER (WHERE status_code = 200) AS queued_count,
       COUNT(*) FILTER (WHERE status_code = 201) AS running_count,
       COUNT(*) FILTER (WHERE status_code = 404) AS completed_count,
       COUNT(*) FILTER (WHERE status_code = 500) AS cancelled_count
  FROM http_request
 GROUP BY bucket, tenant_id, workflow_id

-- @name t38_stat_statements_cagg
-- @project TimescaleDB
-- @source azazellochg/em_health em_health/sql/pganalyze/stat_statements_cagg.sql
-- @scope out: Toolkit counter_agg, no PostgreSQL aggregate computes it
SELECT time_bucket('5 minute', collected_at) AS bucket, queryid, query,
       counter_agg(collected_at, calls) AS calls, counter_agg(collected_at, total_time) AS total_time
  FROM pganalyze.stat_statements
 GROUP BY bucket, queryid, query

-- @name t39_json_agg_weekly
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_errors.sql (aggregate without combine function but stable function)
-- @scope in
Select json_agg(location)
  from conditions
 group by date_bin('7 days', time, '2000-01-03 00:00+00'), location

-- @name t40_bucket_offset
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_errors.sql (time_bucket using additional args: an offset of -2.5 minutes)
-- @scope in
Select max(temperature)
  from conditions
 group by date_bin(INTERVAL '5 minutes', time, '2000-01-01 00:00+00'::timestamptz - INTERVAL '2.5 minutes'), location

-- @name t41_date_trunc_tstz
-- @project TimescaleDB
-- @source timescale/timescaledb test/sql/include/plan_hashagg_query.sql (date_trunc('minute', time) on a timestamptz, as written)
-- @scope in
-- @keys metricminutets
-- @note hyper(time, value) -> metrics(time, value); its WHERE on two literal dates is left out (relative data)
SELECT date_trunc('minute', time) AS MetricMinuteTs, AVG(value) as avg
  FROM metrics
 GROUP BY MetricMinuteTs

-- @name t42_date_bucket
-- @project TimescaleDB
-- @source timescale/timescaledb test/sql/include/plan_hashagg_query.sql (time_bucket('1 day', time_date) on a date column)
-- @scope in
-- @keys metricminutets
-- @note hyper(time_date, value) -> daily(day, value); its WHERE on two literal dates is left out
SELECT date_bin('1 day', day::timestamp, '2000-01-01 00:00') AS MetricMinuteTs, AVG(value) as avg
  FROM daily
 GROUP BY MetricMinuteTs

-- @name t43_integer_bucket_60
-- @project TimescaleDB
-- @source timescale/timescaledb test/sql/include/plan_hashagg_query.sql (time_bucket(60, time_int))
-- @scope in
-- @keys metricminutets
-- @note hyper(time_int, value) -> devices(time, value)
SELECT time / 60 * 60 AS MetricMinuteTs, AVG(value) as avg
  FROM devices
 GROUP BY MetricMinuteTs

-- @name t44_mat_with_test_int
-- @project TimescaleDB
-- @source timescale/timescaledb tsl/test/sql/cagg_errors.sql (a hypertable with an integer time dimension: time_bucket(100, timec))
-- @scope in
-- @keys time_bucket
SELECT time / 100 * 100 AS time_bucket, min(location), sum(temperature), sum(humidity)
  FROM devices
 GROUP BY 1

-- @name t45_cpu_usage_metrics_avg_5min
-- @project TimescaleDB
-- @source https://zenn.dev/voluntas/scraps/c33a8767859275 (notes on the TimescaleDB docs' continuous aggregates on continuous aggregates)
-- @scope in
-- @keys time, machine_id
-- @note cpu_usage_metrics(time, machine_id, cpu_usage) -> machine_data(ts, machine_id, power_consumption)
SELECT date_bin('5 minutes', ts, '2000-01-01 00:00+00') AS "time",
       "machine_id",
       avg(power_consumption) AS "avg_cpu_usage",
       sum(power_consumption) AS "sum_cpu_usage",
       count(power_consumption) AS "count_cpu_usage"
  FROM machine_data
 GROUP BY 1, 2
 ORDER BY 1

-- @name t46_cpu_usage_metrics_avg_15min
-- @project TimescaleDB
-- @source https://zenn.dev/voluntas/scraps/c33a8767859275 (on cpu_usage_metrics_avg_5min)
-- @scope out: hierarchical
SELECT time_bucket('15 minutes', "time") AS "time", "machine_id",
       sum(sum_cpu_usage) / sum(count_cpu_usage) AS "avg_cpu_usage"
  FROM cpu_usage_metrics_avg_5min
 GROUP BY 1, 2 ORDER BY 1

-- @name t47_truck_percentiles
-- @project TimescaleDB
-- @source tblxio/api-truck-rest ScratchQueries.sql (median x, y, z per time_bucket(:interval, timestamp))
-- @scope in
-- @keys interval
-- @note an integer timestamp; the dashboard's :interval is 100 here; its WHERE timestamp BETWEEN :begin AND :end parameters and the outer SELECT that renames the columns are left out; (name, x, y, z) -> devices(location, temperature, humidity, value)
select time / 100 * 100 as "interval",
       max(location) as name,
       percentile_cont(0.5) within group(order by temperature) as x,
       percentile_cont(0.5) within group(order by humidity) as y,
       percentile_cont(0.5) within group(order by value) as z
  from devices
 group by "interval" order by "interval" desc

-- @name t48_truck_modes
-- @project TimescaleDB
-- @source tblxio/api-truck-rest ScratchQueries.sql (mode x, y, z per time_bucket(:interval, timestamp))
-- @scope in
-- @keys interval
-- @note as t47
select time / 100 * 100 as "interval",
       max(location) as name,
       mode() within group(order by cpu_usage) as x,
       mode() within group(order by disk_usage) as y,
       mode() within group(order by location) as z
  from devices
 group by "interval" order by "interval" desc

-- @name t49_hourly_page_views
-- @project TimescaleDB
-- @source vigillabs/timescaledb-ts (examples: the HourlyPageViews continuous aggregate of @timescaledb/typeorm and @timescaledb/core)
-- @scope in
-- @keys bucket
-- @note page_loads(time, user_agent) -> http_request(ingest_time, ip_address); the SQL the package generates for count and count_distinct
SELECT date_bin('1 hour', ingest_time, '2000-01-01 00:00+00') AS bucket,
       COUNT(*) AS total_views,
       COUNT(DISTINCT ip_address) AS unique_users
  FROM http_request
 GROUP BY bucket

-- @name t50_kwh_day_by_day
-- @project TimescaleDB
-- @source https://docs.timescale.com/tutorials/latest/energy-data/dataset-energy/ (timescale/docs _partials/_use-case-iot-create-cagg.md)
-- @scope in
-- @keys time
-- @note metrics(created, type_id, value) -> metrics(time, type_id, value)
SELECT date_trunc('day', time, 'Europe/Berlin') AS "time",
       round((hybridagg.last(value, time) - hybridagg.first(value, time)) * 100.) / 100. AS value
  FROM metrics
 WHERE type_id = 5
 GROUP BY 1

-- @name t51_kwh_hour_by_hour
-- @project TimescaleDB
-- @source timescale/docs _partials/_use-case-iot-create-cagg.md (kwh_hour_by_hour: time_bucket('01:00:00', created, 'Europe/Berlin'))
-- @scope in
-- @keys time
SELECT date_trunc('hour', metrics.time, 'Europe/Berlin') AS "time",
       round((hybridagg.last(value, time) - hybridagg.first(value, time)) * 100.) / 100. AS value
  FROM metrics
 WHERE type_id = 5
 GROUP BY 1

-- @name t52_kwh_day_by_day_per_type
-- @project TimescaleDB
-- @source daehyoung/docker-postgres continuous_aggregate.md
-- @scope in
-- @keys time, type_id
SELECT date_trunc('day', time, 'Asia/Seoul') AS "time",
       type_id,
       round((hybridagg.last(value, time) - hybridagg.first(value, time)) * 100.) / 100. AS value
  FROM metrics
 GROUP BY 1,2

------------------------------------------------------------------------------
-- pg_ivm: its docs and tests define views without a time bucket; they are
-- kept, out of scope, as the issue says
------------------------------------------------------------------------------

-- @name i01_mv_ivm_agg
-- @project pg_ivm
-- @source sraoss/pg_ivm sql/pg_ivm.sql (support SUM(), COUNT() and AVG() aggregate functions)
-- @scope out: no time bucket
SELECT i, SUM(j), COUNT(i), AVG(j) FROM mv_base_a GROUP BY i

-- @name i02_mv_ivm_group
-- @project pg_ivm
-- @source sraoss/pg_ivm sql/pg_ivm.sql (aggregate functions without GROUP clause)
-- @scope out: no time bucket
SELECT SUM(j), COUNT(j), AVG(j) FROM mv_base_a

-- @name i03_mv_ivm_filter
-- @project pg_ivm
-- @source sraoss/pg_ivm sql/pg_ivm.sql (aggregate function with some options: FILTER)
-- @scope out: no time bucket
SELECT COUNT(*) FILTER(WHERE i < 3) FROM mv_base_a

-- @name i04_mv_ivm_count_distinct
-- @project pg_ivm
-- @source sraoss/pg_ivm sql/pg_ivm.sql (aggregate function with some options: DISTINCT)
-- @scope out: no time bucket
SELECT COUNT(DISTINCT i) FROM mv_base_a

-- @name i05_mv_ivm_array_agg_order
-- @project pg_ivm
-- @source sraoss/pg_ivm sql/pg_ivm.sql (aggregate function with some options: ORDER BY)
-- @scope out: no time bucket
SELECT array_agg(j ORDER BY i DESC) FROM mv_base_a

-- @name i06_mv_ivm_having_join
-- @project pg_ivm
-- @source sraoss/pg_ivm sql/pg_ivm.sql (contain HAVING)
-- @scope out: join
SELECT i, j, k FROM mv_base_a a INNER JOIN mv_base_b b USING(i) GROUP BY i, j, k HAVING SUM(i) > 5

-- @name i07_immv_pgbench_join
-- @project pg_ivm
-- @source https://github.com/sraoss/pg_ivm#example (sraoss/pg_ivm README.md)
-- @scope out: join
SELECT a.aid, b.bid, a.abalance, b.bbalance FROM pgbench_accounts a JOIN pgbench_branches b USING(bid)

-- @name p01_uniques_daily
-- @project PipelineDB
-- @source http://docs.pipelinedb.com/continuous-views.html (examples; pipelinedb docs continuous-views.rst, as in cjhnbls/pipelinedb-doc-cn)
-- @scope in
-- @keys day, referrer
-- @note users_stream -> pdb_stream
SELECT date_trunc('day', arrival_timestamp, 'UTC') AS day,
       referrer, COUNT(DISTINCT user_id)
  FROM pdb_stream
 GROUP BY day, referrer

-- @name p02_lreg
-- @project PipelineDB
-- @source http://docs.pipelinedb.com/continuous-views.html (linear regression bucketed by minute)
-- @scope in
-- @keys minute
-- @note datapoints_stream -> pdb_stream
SELECT date_trunc('minute', arrival_timestamp, 'UTC') AS minute,
       regr_slope(y, x) AS mx,
       regr_intercept(y, x) AS b
  FROM pdb_stream
 GROUP BY minute

-- @name p03_wiki_stats
-- @project PipelineDB
-- @source http://docs.pipelinedb.com/quickstart.html (Wikipedia traffic; cjhnbls/pipelinedb-doc-cn quickstart.rst)
-- @scope in
-- @keys hour, project
-- @note hour is already an hourly timestamp in the data: the original groups by the column itself
SELECT hour, project,
       count(*) AS total_pages,
       sum(view_count) AS total_views,
       min(view_count) AS min_views,
       max(view_count) AS max_views,
       avg(view_count) AS avg_views,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY view_count) AS p99_views,
       sum(size) AS total_bytes_served
  FROM wiki_stream
 GROUP BY hour, project

-- @name p04_v_ttl
-- @project PipelineDB
-- @source https://www.pipelinedb.com/blog/pipelinedb-0-9-6 (TTL; and docs continuous-views.rst)
-- @scope in
-- @keys minute
SELECT date_trunc('minute', arrival_timestamp, 'UTC') AS minute, COUNT(*)
  FROM pdb_stream
 GROUP BY minute

-- @name p05_uniques_1m
-- @project PipelineDB
-- @source http://docs.pipelinedb.com/streams.html (output streams and combine: uniques_1m; cjhnbls/pipelinedb-doc-cn streams.rst)
-- @scope in
-- @keys ts
SELECT date_trunc('minute', arrival_timestamp, 'UTC') AS ts, COUNT(DISTINCT user_id) AS uniques
  FROM pdb_stream
 GROUP BY ts

-- @name p06_uniques_hourly
-- @project PipelineDB
-- @source http://docs.pipelinedb.com/streams.html (uniques_hourly over output_of('uniques_1m'))
-- @scope out: hierarchical
SELECT hour((new).ts) AS ts, combine((delta).uniques) AS uniques
  FROM output_of('uniques_1m') GROUP BY ts

-- @name p07_timing_hashtags
-- @project PipelineDB
-- @source bliss143441/Pipeline-DB-project streaming-postgresql/slidingHashtagsWindows.sql
-- @scope in
-- @keys h, minuteofarrival
-- @note hashtag_stream -> pdb_stream; WITH (sw = '2 minutes') is PipelineDB's shorthand for the WHERE written here
SELECT h, date_trunc('minute', arrival_timestamp, 'UTC') as minuteOfArrival, COUNT(*) as quantity
  FROM pdb_stream
 WHERE (arrival_timestamp > clock_timestamp() - interval '2 minutes')
 GROUP BY h, minuteOfArrival

-- @name p08_brewery_sensor_temps_by_minute
-- @project PipelineDB
-- @source defrox/examples SQL/avg_temp_by_minute.sql
-- @scope in
-- @keys ts, sensor
-- @note defaultsink_stream(payload jsonb) -> pdb_stream(payload)
SELECT date_trunc('minute'::text, arrival_timestamp, 'UTC') AS ts,
       payload ->> 'sensor'::text AS sensor,
       avg((payload ->> 'temp'::text)::numeric) AS avg
  FROM ONLY pdb_stream
 WHERE arrival_timestamp > (clock_timestamp() - '01:00:00'::interval)
 GROUP BY 1,2

-- @name p09_temperature_hourly
-- @project PipelineDB
-- @source ljodal/plant-monitor db/migrations/0004_change_to_float.rb (and its first migration)
-- @scope in
-- @keys plant_id, hour
-- @note temperature_readings(plant_id, value real) -> pdb_stream(plant_id, value)
SELECT plant_id,
       date_trunc('hour', arrival_timestamp, 'UTC') AS hour,
       AVG(value) AS value, COUNT(value) AS count
  FROM pdb_stream
 GROUP BY plant_id, hour

-- @name p10_inferred
-- @project PipelineDB
-- @source http://docs.pipelinedb.com/continuous-views.html (inferred schemas)
-- @scope out: no time bucket
SELECT user_id::integer, COUNT(*), SUM(value::float8), AVG(value) FROM stream GROUP BY user_id

-- @name p11_imps
-- @project PipelineDB
-- @source http://docs.pipelinedb.com/continuous-views.html (ad impressions in the last five minutes)
-- @scope out: no time bucket (sliding window)
SELECT COUNT(*) FROM imps_stream WHERE (arrival_timestamp > clock_timestamp() - interval '5 minutes')

-- @name p12_latency_percentiles
-- @project PipelineDB
-- @source http://docs.pipelinedb.com/continuous-views.html (90th, 95th, 99th percentiles of request latency)
-- @scope out: no time bucket
SELECT percentile_cont(array[90, 95, 99]) WITHIN GROUP (ORDER BY latency::integer) FROM latency_stream

-- @name p13_sf_proximity_count
-- @project PipelineDB
-- @source http://docs.pipelinedb.com/continuous-views.html (sensors within 1000 meters of San Francisco, PostGIS)
-- @scope out: no time bucket
SELECT COUNT(DISTINCT sensor_id::integer) FROM geo_stream
 WHERE ST_DWithin(ST_GeographyFromText('SRID=4326;POINT(37 -122)')::geometry, sensor_coords::geometry, 1000)

-- @name p14_test_pc1
-- @project PipelineDB
-- @source pipelinedb/pipelinedb src/test/regress/sql/cont_os_agg.sql (test_pc1)
-- @scope out: no time bucket
SELECT g::integer, percentile_cont(ARRAY[0, 0.2, 0.4, 0.6, 0.8, 1.0]) WITHIN GROUP (ORDER BY x::integer - y::integer)
  FROM test_os_stream GROUP BY g

-- @name c01_http_dashboard_5min
-- @project Citus
-- @source https://docs.citusdata.com/en/stable/use_cases/realtime_analytics.html (dashboard query; citusdata/citus_docs use_cases/realtime_analytics.rst)
-- @scope in
-- @keys site_id, minute
SELECT site_id,
       date_trunc('minute', ingest_time, 'UTC') as minute,
       COUNT(1) AS request_count,
       SUM(CASE WHEN (status_code between 200 and 299) THEN 1 ELSE 0 END) as success_count,
       SUM(CASE WHEN (status_code between 200 and 299) THEN 0 ELSE 1 END) as error_count,
       SUM(response_time_msec) / COUNT(1) AS average_response_time_msec
  FROM http_request
 WHERE date_trunc('minute', ingest_time, 'UTC') > now() - '5 minutes'::interval
 GROUP BY site_id, minute
 ORDER BY minute ASC

-- @name c02_http_request_1min
-- @project Citus
-- @source citusdata/citus_docs use_cases/realtime_analytics.rst (rollup_http_request(): the SELECT of its INSERT)
-- @scope in
-- @keys site_id, ingest_time
SELECT site_id,
       date_trunc('minute', ingest_time, 'UTC') AS ingest_time,
       COUNT(1) as request_count,
       SUM(CASE WHEN (status_code between 200 and 299) THEN 1 ELSE 0 END) as success_count,
       SUM(CASE WHEN (status_code between 200 and 299) THEN 0 ELSE 1 END) as error_count,
       SUM(response_time_msec) / COUNT(1) AS average_response_time_msec
  FROM http_request
 GROUP BY 1, 2

-- @name c03_http_request_1min_hll
-- @project Citus
-- @source citusdata/citus_docs use_cases/realtime_analytics.rst (approximate distinct counts: the rollup with hll)
-- @scope in
-- @keys site_id, minute
-- @requires hll
SELECT site_id,
       date_trunc('minute', ingest_time, 'UTC') AS minute,
       COUNT(1) as request_count,
       SUM(CASE WHEN (status_code between 200 and 299) THEN 1 ELSE 0 END) as success_count,
       SUM(CASE WHEN (status_code between 200 and 299) THEN 0 ELSE 1 END) as error_count,
       SUM(response_time_msec) / COUNT(1) AS average_response_time_msec,
       hll_add_agg(hll_hash_text(ip_address)) AS distinct_ip_addresses
  FROM http_request
 GROUP BY 1, 2

-- @name c04_http_request_1min_jsonb
-- @project Citus
-- @source citusdata/citus_docs use_cases/realtime_analytics.rst (unstructured data with JSONB: country_counters)
-- @scope out: window function in a subquery
SELECT site_id, date_trunc('minute', ingest_time) AS minute, COUNT(1) as request_count,
       jsonb_object_agg(request_country, country_count) AS country_counters
  FROM (SELECT *, count(1) OVER (PARTITION BY site_id, date_trunc('minute', ingest_time), request_country) AS country_count
          FROM http_request) h
 GROUP BY 1, 2

-- @name c05_github_events_rollup_minute
-- @project Citus
-- @source https://docs.citusdata.com/en/stable/articles/efficient_rollup.html (citusdata/citus_docs articles/efficient_rollup.rst)
-- @scope in
-- @keys created_at
SELECT date_trunc('minute', created_at) AS created_at,
       COUNT(*) AS event_count
  FROM github_events
 GROUP BY 1

-- @name c06_github_events_rollup_hll
-- @project Citus
-- @source citusdata/citus_docs articles/efficient_rollup.rst (HLL and rollup tables in action)
-- @scope in
-- @keys created_at, event_type
-- @requires hll
-- @note the article's sum(hll_hash_bigint(user_id)) is not an aggregate of postgresql-hll; hll_add_agg is
SELECT date_trunc('minute', created_at) AS created_at,
       event_type,
       hll_add_agg(hll_hash_bigint(user_id)) AS distinct_user_id_count
  FROM github_events
 GROUP BY 1, 2

-- @name c07_github_commits_per_minute
-- @project Citus
-- @source https://docs.citusdata.com/en/stable/get_started/tutorial_realtime_analytics.html (citusdata/citus_docs get_started/tutorial_realtime_analytics.rst)
-- @scope in
-- @keys minute
SELECT date_trunc('minute', created_at) AS minute,
       sum((payload->>'distinct_size')::int) AS num_commits
  FROM github_events
 WHERE event_type = 'PushEvent'
 GROUP BY minute
 ORDER BY minute

-- @name c08_github_top_creators
-- @project Citus
-- @source citusdata/citus_docs get_started/tutorial_realtime_analytics.rst (users joined with events)
-- @scope out: join
SELECT login, count(*) FROM github_events ge JOIN github_users gu ON ge.user_id = gu.user_id
 WHERE event_type = 'CreateEvent' AND payload @> '{"ref_type": "repository"}'
 GROUP BY login ORDER BY count(*) DESC LIMIT 10

-- @name c09_daily_page_views
-- @project Citus
-- @source https://docs.citusdata.com/en/stable/articles/aggregation.html (citusdata/citus_docs articles/aggregation.rst)
-- @scope in
-- @keys tenant_id, day, page_id
SELECT tenant_id, view_time::date AS day, page_id, count(*) AS view_count
  FROM page_views
 GROUP BY tenant_id, view_time::date, page_id

-- @name c10_events_per_hour
-- @project Citus
-- @source https://docs.citusdata.com/en/stable/articles/metrics_dashboard.html (citusdata/citus_docs articles/metrics_dashboard.rst)
-- @scope in
-- @keys name, hour
-- @note events(name, created_at timestamptz) -> inc_events(path, event_time)
SELECT count(*), path AS name, date_trunc('hour', event_time, 'UTC') as hour
  FROM inc_events
 WHERE event_time > now()-'1 week'::interval
 GROUP BY name, hour

-- @name c11_columnar_distinct_repos
-- @project Citus
-- @source citusdata/citus_docs use_cases/timeseries.rst (columnar storage)
-- @scope out: no time bucket
SELECT COUNT(DISTINCT repo_id) FROM github.columnar_events

------------------------------------------------------------------------------
-- pg_incremental
------------------------------------------------------------------------------

-- @name n01_event_aggregation
-- @project pg_incremental
-- @source https://github.com/CrunchyData/pg_incremental#creating-a-sequence-pipeline (CrunchyData/pg_incremental README.md)
-- @scope in
-- @keys date_trunc
-- @note the pipeline's WHERE event_id BETWEEN $1 AND $2 and ON CONFLICT are pg_incremental's bookkeeping
select date_trunc('day', event_time, 'UTC'), count(*)
  from inc_events
 group by 1

-- @name n02_event_aggregation_distinct
-- @project pg_incremental
-- @source CrunchyData/pg_incremental README.md (creating a time interval pipeline: exact distinct counts)
-- @scope in
-- @keys event_time
-- @note the pipeline's WHERE event_time >= $1 AND event_time < $2 is pg_incremental's bookkeeping
select event_time::date, count(distinct event_id)
  from inc_events
 group by 1

-- @name n03_event_aggregation_test
-- @project pg_incremental
-- @source kronor-io/pg_incremental sql/time_interval.sql and sql/sequence.sql (as written: date_trunc on a timestamptz)
-- @scope in
-- @keys date_trunc
select date_trunc('day', event_time), count(*)
  from inc_events
 group by 1

------------------------------------------------------------------------------
-- RisingWave
------------------------------------------------------------------------------

-- @name r01_tumble_taxi_trips
-- @project RisingWave
-- @source https://docs.risingwave.com/processing/sql/time-windows (tumble window aggregations; risingwavelabs/risingwave-docs processing/sql/time-windows.mdx)
-- @scope in
-- @keys window_start, window_end
SELECT date_bin(INTERVAL '2 MINUTES', completed_at, '1970-01-01 00:00') AS window_start,
       date_bin(INTERVAL '2 MINUTES', completed_at, '1970-01-01 00:00') + INTERVAL '2 MINUTES' AS window_end,
       count(trip_id) AS no_of_trips, sum(distance) AS total_distance
  FROM taxi_trips
 GROUP BY window_start, window_end
 ORDER BY window_start

-- @name r02_hop_taxi_trips
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs processing/sql/time-windows.mdx (hop window aggregations)
-- @scope out: hop windows (a row in several windows)
SELECT window_start, window_end, count(trip_id) AS no_of_trips, sum(distance) AS total_distance
  FROM HOP (taxi_trips, completed_at, INTERVAL '1 MINUTES', INTERVAL '2 MINUTES')
 GROUP BY window_start, window_end

-- @name r03_session_windows
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs processing/sql/time-windows.mdx (session window aggregations)
-- @scope out: window function in a subquery
SELECT user_id, window_start, count(DISTINCT product_id) AS n_viewed_product
  FROM (SELECT *, first_value(viewed_at) OVER (PARTITION BY user_id ORDER BY viewed_at
                  SESSION WITH GAP INTERVAL '5 MINUTES') AS window_start FROM user_views)
 GROUP BY user_id, window_start

-- @name r04_window_count
-- @project RisingWave
-- @source https://docs.risingwave.com/processing/emit-on-window-close (risingwavelabs/risingwave-docs processing/emit-on-window-close.mdx)
-- @scope in
-- @keys window_start, window_end
-- @note events(event_time timestamp) -> bid(date_time)
SELECT date_bin(INTERVAL '1' MINUTE, date_time, '1970-01-01 00:00') AS window_start,
       date_bin(INTERVAL '1' MINUTE, date_time, '1970-01-01 00:00') + INTERVAL '1' MINUTE AS window_end,
       COUNT(*)
  FROM bid
 GROUP BY window_start, window_end

-- @name r05_windowed_max
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs processing/emit-on-window-close.mdx (windowed aggregation)
-- @scope in
-- @keys window_start
-- @note t(tm, foo) -> bid(date_time, price); EMIT ON WINDOW CLOSE is a delivery policy, left out
SELECT date_bin(INTERVAL '1 hour', date_time, '1970-01-01 00:00') AS window_start, MAX(price)
  FROM bid
 GROUP BY window_start

-- @name r06_live_video_qos_10min
-- @project RisingWave
-- @source https://docs.risingwave.com/demos/live-stream-metrics-analysis (risingwavelabs/risingwave-docs demos/live-stream-metrics-analysis.mdx)
-- @scope in
-- @keys report_ts, room_id
SELECT date_bin(INTERVAL '10' MINUTE, report_timestamp, '1970-01-01 00:00+00') AS report_ts,
       room_id,
       SUM(video_total_freeze_duration) AS video_total_freeze_duration,
       AVG(video_lost_pps) AS video_lost_pps,
       AVG(video_rtt) AS video_rtt
  FROM live_stream_metrics
 GROUP BY report_ts, room_id

-- @name r07_total_user_visit_1min
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs demos/live-stream-metrics-analysis.mdx (total UV)
-- @scope in
-- @keys report_ts
SELECT date_bin(INTERVAL '1' MINUTE, report_timestamp, '1970-01-01 00:00+00') AS report_ts,
       COUNT(DISTINCT user_id) AS uv
  FROM live_stream_metrics
 GROUP BY report_ts

-- @name r08_room_user_visit_1min
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs demos/live-stream-metrics-analysis.mdx (UV per room)
-- @scope in
-- @keys report_ts, room_id
SELECT date_bin(INTERVAL '1' MINUTE, report_timestamp, '1970-01-01 00:00+00') AS report_ts,
       COUNT(DISTINCT user_id) AS uv,
       room_id
  FROM live_stream_metrics
 GROUP BY report_ts, room_id

-- @name r09_thread_view_count
-- @project RisingWave
-- @source https://docs.risingwave.com/demos/clickstream-analysis (risingwavelabs/risingwave-docs demos/clickstream-analysis.mdx)
-- @scope out: hop window over a tumble window (hierarchical)
WITH t AS (SELECT target_id, COUNT() AS view_count, window_start AS window_time
             FROM TUMBLE(user_behaviors, event_timestamp, INTERVAL '10 minutes')
            WHERE target_type = 'thread' AND behavior_type = 'show' GROUP BY target_id, window_start)
SELECT target_id, SUM(t.view_count) AS view_count, window_start, window_end
  FROM HOP(t, t.window_time, INTERVAL '10 minutes', INTERVAL '1440 minutes')
 GROUP BY target_id, window_start, window_end

-- @name r10_thread_views_10min
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs demos/clickstream-analysis.mdx (thread_view_count's tumbling CTE t)
-- @scope in
-- @keys target_id, window_time
-- @note COUNT() is RisingWave's count(*)
SELECT target_id,
       COUNT(*) AS view_count,
       date_bin(INTERVAL '10 minutes', event_timestamp, '1970-01-01 00:00+00') AS window_time
  FROM user_behaviors
 WHERE target_type = 'thread' AND behavior_type = 'show'
 GROUP BY target_id, window_time

-- @name r11_high_util_tcp_metrics
-- @project RisingWave
-- @source https://docs.risingwave.com/demos/server-performance-anomaly-detection (risingwavelabs/risingwave-docs demos/server-performance-anomaly-detection.mdx)
-- @scope out: join of two windowed aggregates
SELECT tcp.device_id, tcp.window_end, tcp.metric_name, tcp.metric_value, nic.avg_util AS tcp_avg_bandwidth_util
  FROM (SELECT device_id, window_end, metric_name, AVG(metric_value) AS metric_value
          FROM TUMBLE(tcp_metrics, report_time, INTERVAL '1' MINUTE) GROUP BY device_id, window_end, metric_name) AS tcp
  JOIN (SELECT device_id, window_end, AVG((metric_value) / bandwidth) * 100 AS avg_util
          FROM TUMBLE(nics_metrics, report_time, INTERVAL '1' MINUTE)
         WHERE metric_name = 'tx_bytes' AND aggregation = 'avg' GROUP BY device_id, window_end) AS nic
    ON tcp.device_id = nic.device_id AND tcp.window_end = nic.window_end
 WHERE avg_util >= 50

-- @name r12_tcp_metrics_1min
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs demos/server-performance-anomaly-detection.mdx (high_util_tcp_metrics' tcp subquery)
-- @scope in
-- @keys device_id, window_end, metric_name
SELECT device_id,
       date_bin(INTERVAL '1' MINUTE, report_time, '1970-01-01 00:00+00') + INTERVAL '1' MINUTE AS window_end,
       metric_name,
       AVG(metric_value) AS metric_value
  FROM tcp_metrics
 GROUP BY device_id, window_end, metric_name

-- @name r13_unusual_volume
-- @project RisingWave
-- @source https://docs.risingwave.com/demos/market-trade-surveillance (risingwavelabs/risingwave-docs demos/market-trade-surveillance.mdx)
-- @scope out: window function in a subquery
SELECT trade_id, asset_id, volume, CASE WHEN volume > avg_volume * 1.5 THEN TRUE ELSE FALSE END AS unusual_volume,
       window_start AS timestamp
  FROM (SELECT trade_id, asset_id, volume, AVG(volume) OVER (PARTITION BY asset_id) as avg_volume, window_start
          FROM TUMBLE(trade_data, timestamp, INTERVAL '10 MINUTES')
         GROUP BY trade_id, asset_id, volume, window_start)

-- @name r14_price_spike
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs demos/market-trade-surveillance.mdx (price_spike)
-- @scope in
-- @keys asset_id, timestamp
SELECT asset_id,
       ROUND((MAX(price) - MIN(price)) / MIN(price) * 100, 2) AS price_change_pct,
       CASE
           WHEN ROUND((MAX(price) - MIN(price)) / MIN(price) * 100, 2) > 5 THEN TRUE
           ELSE FALSE
       END AS price_spike,
       date_bin(INTERVAL '5 MINUTES', "timestamp", '1970-01-01 00:00') AS timestamp
  FROM market_data
 GROUP BY asset_id, 4

-- @name r15_spoofing_detection
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs demos/market-trade-surveillance.mdx (spoofing_detection)
-- @scope out: window function over the aggregates
SELECT asset_id, window_start AS timestamp,
       CASE WHEN ABS(AVG(bid_price) - AVG(ask_price)) < 0.2 AND
                 SUM(rolling_volume) < AVG(SUM(rolling_volume)) OVER (PARTITION BY asset_id) * 0.8
            THEN TRUE ELSE FALSE END AS potential_spoofing
  FROM TUMBLE(market_data, timestamp, INTERVAL '10 MINUTES')
 GROUP BY asset_id, window_start

-- @name r16_campaign_performance
-- @project RisingWave
-- @source https://docs.risingwave.com/demos/marketing-analysis (risingwavelabs/risingwave-docs demos/marketing-analysis.mdx)
-- @scope out: join
SELECT window_start, window_end, c.campaign_id, c.campaign_name, c.campaign_type,
       COUNT(DISTINCT CASE WHEN event_type = 'impression' THEN me.event_id END) as impressions
  FROM TUMBLE(marketing_events, timestamp, INTERVAL '1 HOUR') as me
  JOIN campaigns c ON me.campaign_id = c.campaign_id
 GROUP BY window_start, window_end, c.campaign_id, c.campaign_name, c.campaign_type

-- @name r17_channel_attribution
-- @project RisingWave
-- @source risingwavelabs/risingwave-docs demos/marketing-analysis.mdx (channel_attribution)
-- @scope in
-- @keys window_start, window_end, channel_type, utm_source, utm_medium
SELECT date_bin(INTERVAL '1 HOUR', "timestamp", '1970-01-01 00:00+00') AS window_start,
       date_bin(INTERVAL '1 HOUR', "timestamp", '1970-01-01 00:00+00') + INTERVAL '1 HOUR' AS window_end,
       channel_type,
       utm_source,
       utm_medium,
       COUNT(DISTINCT user_id) as unique_users,
       COUNT(DISTINCT CASE WHEN event_type = 'conversion' THEN event_id END) as conversions,
       SUM(CASE WHEN event_type = 'conversion' THEN amount ELSE 0 END) as revenue,
       SUM(CASE WHEN event_type = 'conversion' THEN amount ELSE 0 END) /
           NULLIF(COUNT(DISTINCT CASE WHEN event_type = 'conversion' THEN event_id END), 0) as avg_order_value
  FROM marketing_events
 GROUP BY window_start, window_end, channel_type, utm_source, utm_medium

-- @name r18_website_user_metrics
-- @project RisingWave
-- @source risingwavelabs/awesome-stream-processing 03-solution-demos/website_logs_monitoring/create_mv.sql (website_user_metrics)
-- @scope in
-- @keys username, window_start, window_end
-- @note website_logs_source -> website_logs; the CTE UserActivityStats written in place, with the outer SELECT's column order
SELECT username,
       COUNT(username) AS total_requests,
       MIN(response_time) AS min_response_time,
       MAX(response_time) AS max_response_time,
       AVG(response_time) AS avg_response_time,
       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY response_time) AS median_response_time,
       SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END) AS total_errors,
       SUM(CASE WHEN user_action = 'login' THEN 1 ELSE 0 END) AS login_count,
       SUM(CASE WHEN user_action = 'logout' THEN 1 ELSE 0 END) AS logout_count,
       COUNT(DISTINCT ip_address) AS unique_ips,
       date_bin(INTERVAL '1 MINUTES', request_timestamp, '1970-01-01 00:00+00') AS window_start,
       date_bin(INTERVAL '1 MINUTES', request_timestamp, '1970-01-01 00:00+00') + INTERVAL '1 MINUTES' AS window_end
  FROM website_logs
 GROUP BY username, window_start, window_end

-- @name r19_referrer_activity_summary
-- @project RisingWave
-- @source risingwavelabs/awesome-stream-processing 03-solution-demos/website_logs_monitoring/create_mv.sql (referrer_activity_summary)
-- @scope in
-- @keys referrer, window_start, window_end
SELECT referrer,
       COUNT(referrer) AS referrer_visit_count,
       SUM(CASE WHEN user_action IN ('view_page', 'navigate_page') THEN 1 ELSE 0 END) AS page_visits,
       SUM(CASE WHEN user_action IN ('submit_form', 'login', 'logout') THEN 1 ELSE 0 END) AS interactions,
       SUM(CASE WHEN user_action IN ('scroll_page', 'download_file', 'upload_file') THEN 1 ELSE 0 END) AS content_interactions,
       SUM(CASE WHEN user_action IN ('close_window', 'open_new_tab') THEN 1 ELSE 0 END) AS window_interactions,
       date_bin(INTERVAL '1 MINUTES', request_timestamp, '1970-01-01 00:00+00') AS window_start,
       date_bin(INTERVAL '1 MINUTES', request_timestamp, '1970-01-01 00:00+00') + INTERVAL '1 MINUTES' AS window_end
  FROM website_logs
 GROUP BY referrer, window_start, window_end

-- @name r20_top_user_actions
-- @project RisingWave
-- @source risingwavelabs/awesome-stream-processing 03-solution-demos/website_logs_monitoring/create_mv.sql (top_user_actions)
-- @scope out: window function over the aggregates
WITH ranked_user_actions AS (
    SELECT user_action, COUNT(user_action) AS count_user_activity, window_start, window_end,
           ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY COUNT(user_action) DESC) AS action_rank
      FROM TUMBLE (website_logs_source, request_timestamp, INTERVAL '1 MINUTES')
     GROUP BY user_action, window_start, window_end)
SELECT user_action, count_user_activity, window_start, window_end FROM ranked_user_actions WHERE action_rank <= 5

-- @name r21_monitoring_mv
-- @project RisingWave
-- @source risingwavelabs/awesome-stream-processing 04-solution-demos/iot_demo/create_mv.sql (monitoring_mv)
-- @scope in
-- @keys machine_id, window_start, window_end
-- @note shop_floor_machine_data -> machine_data
SELECT machine_id,
       AVG(winding_temperature) AS avg_winding_temperature,
       AVG(ambient_temperature) AS avg_ambient_temperature,
       AVG(vibration_level) AS avg_vibration_level,
       AVG(current_draw) AS avg_current_draw,
       AVG(voltage_level) AS avg_voltage_level,
       AVG(nominal_speed) AS avg_nominal_speed,
       AVG(power_consumption) AS avg_power_consumption,
       AVG(efficiency) AS avg_efficiency,
       date_bin(INTERVAL '1 MINUTE', ts, '1970-01-01 00:00+00') AS window_start,
       date_bin(INTERVAL '1 MINUTE', ts, '1970-01-01 00:00+00') + INTERVAL '1 MINUTE' AS window_end
  FROM machine_data
 GROUP BY machine_id, window_start, window_end

-- @name r22_anomaly_metrics
-- @project RisingWave
-- @source risingwavelabs/awesome-stream-processing 04-solution-demos/iot_demo/create_mv.sql (anomalies_mv's CTE Anomaly_Metrics; the rest of anomalies_mv applies LAG over it)
-- @scope in
-- @keys machine_id, window_start, window_end
SELECT machine_id,
       date_bin(INTERVAL '1 MINUTES', ts, '1970-01-01 00:00+00') AS window_start,
       date_bin(INTERVAL '1 MINUTES', ts, '1970-01-01 00:00+00') + INTERVAL '1 MINUTES' AS window_end,
       AVG(winding_temperature) AS avg_winding_temp,
       AVG(vibration_level) AS avg_vibration,
       AVG(current_draw) AS avg_current_draw,
       AVG(voltage_level) AS avg_voltage_level,
       AVG(power_consumption) AS avg_power_consumption,
       STDDEV_POP(winding_temperature) AS stddev_winding_temp,
       STDDEV_POP(vibration_level) AS stddev_vibration,
       STDDEV_POP(current_draw) AS stddev_current_draw,
       STDDEV_POP(voltage_level) AS stddev_voltage_level,
       STDDEV_POP(power_consumption) AS stddev_power_consumption,
       MAX(winding_temperature) AS max_winding_temp,
       MAX(vibration_level) AS max_vibration,
       MAX(current_draw) AS max_current_draw,
       MAX(voltage_level) AS max_voltage_level,
       MAX(power_consumption) AS max_power_consumption
  FROM machine_data
 GROUP BY machine_id, window_start, window_end

-- @name r23_gender_mv
-- @project RisingWave
-- @source risingwavelabs/awesome-stream-processing wikipedia_monitoring/create_mv.sql (gender_mv)
-- @scope in
-- @keys window_start, window_end
-- @note wiki_mv -> wiki_edits
SELECT COUNT(*) AS total_contributions,
       COUNT(CASE WHEN gender = 'unknown' THEN 1 END) AS contributions_by_unknown,
       COUNT(CASE WHEN gender != 'unknown' THEN 1 END) AS contributions_by_male_or_female,
       date_bin(INTERVAL '1 MINUTES', edit_timestamp, '1970-01-01 00:00') AS window_start,
       date_bin(INTERVAL '1 MINUTES', edit_timestamp, '1970-01-01 00:00') + INTERVAL '1 MINUTES' AS window_end
  FROM wiki_edits
 GROUP BY window_start, window_end

-- @name r24_count_mv
-- @project RisingWave
-- @source risingwavelabs/awesome-stream-processing wikipedia_monitoring/create_mv.sql (count_mv)
-- @scope in
-- @keys window_start, window_end
SELECT COUNT(*) AS total_contributions,
       COUNT(CASE WHEN edit_count < 1000 THEN 1 END) AS contributions_less_than_1000,
       COUNT(CASE WHEN edit_count >= 1000 THEN 1 END) AS contributions_1000_or_more,
       date_bin(INTERVAL '1 MINUTES', edit_timestamp, '1970-01-01 00:00') AS window_start,
       date_bin(INTERVAL '1 MINUTES', edit_timestamp, '1970-01-01 00:00') + INTERVAL '1 MINUTES' AS window_end
  FROM wiki_edits
 GROUP BY window_start, window_end

-- @name r25_avg_temperature_mv
-- @project RisingWave
-- @source risingwavelabs/awesome-stream-processing iot_devices_monitoring/create_mv.sql (avg_temperature_mv)
-- @scope in
-- @keys deviceid, window_start, window_end
-- @note iot_mv(deviceId, temperature, ts) -> conditions(location, temperature, time), 'sensor1' -> 'SFO'; the original misses the comma after avg_temperature
SELECT location AS deviceId, AVG(temperature) AS avg_temperature,
       date_bin(INTERVAL '1 MINUTES', time, '1970-01-01 00:00+00') AS window_start,
       date_bin(INTERVAL '1 MINUTES', time, '1970-01-01 00:00+00') + INTERVAL '1 MINUTES' AS window_end
  FROM conditions
 WHERE location = 'SFO'
 GROUP BY deviceId, window_start, window_end
