-- The tables of the peer corpus (test/corpus/definitions.sql) and their data.
--
-- One small, generic table per domain the peers' examples use (weather
-- conditions, taxi rides, crypto ticks, blockchain transactions, HTTP logs,
-- GitHub events, PipelineDB streams, RisingWave sources...).  Column names
-- follow the originals where they can; where a definition's table is mapped
-- onto a shared one, definitions.sql says so in its @note.
--
-- Times: every time in the corpus is relative to now(), through ONE anchor,
-- corpus_clock.anchor, taken once when this file runs (the top of the current
-- hour).  Data spans the ten days before the anchor; writes.sql writes new
-- rows just after it and late rows days before it, from the same anchor.
-- Nothing else in the corpus names a date.
--
-- Values are drawn deterministically from the row number (no random()), so
-- that two runs write the same rows relative to the anchor.  Paired values
-- are never exactly proportional: a regression intercept of exactly 0 would
-- come out as float noise of either sign, whatever computes it.  Some values are
-- NULL, some times are shared by several rows (ties for first/last), and the
-- text keys repeat, so that DISTINCT and min/max have something to do.
--
-- Optional extensions: hll and tdigest (Debian's postgresql-15-hll and
-- postgresql-15-tdigest).  The test creates them when they are available;
-- definitions that need them say @requires and are skipped, with a note,
-- when they are not.

CREATE TABLE corpus_clock (anchor timestamptz NOT NULL);
INSERT INTO corpus_clock SELECT date_trunc('hour', now());

-- anchor - h hours, as timestamptz (the only way the corpus makes a time)
CREATE FUNCTION corpus_at(h float8) RETURNS timestamptz
LANGUAGE sql STABLE AS $$ SELECT anchor - h * interval '1 hour' FROM corpus_clock $$;
-- the same instant as a timestamp without time zone, in UTC
CREATE FUNCTION corpus_at_utc(h float8) RETURNS timestamp
LANGUAGE sql STABLE AS $$ SELECT (anchor - h * interval '1 hour') AT TIME ZONE 'UTC' FROM corpus_clock $$;

-- TimescaleDB: weather conditions (docs' conditions, cagg_query's conditions)
CREATE TABLE conditions (
    time        timestamptz NOT NULL,
    location    text NOT NULL,
    device      int,
    temperature double precision,
    humidity    double precision
);
INSERT INTO conditions
SELECT corpus_at(240.0 * i / 4000 + (i % 3) * 0.01),
       (ARRAY['office', 'basement', 'garage', 'SFO', 'NYC', 'por'])[1 + i % 6],
       i % 7,
       40 + (i * 37 % 500) / 10.0,
       CASE WHEN i % 23 = 0 THEN NULL ELSE 30 + (i * 11 % 400) / 10.0 END
  FROM generate_series(1, 4000) i;
CREATE INDEX ON conditions (time);

-- TimescaleDB: NYC taxi rides (a timestamp without time zone, as in the tutorial)
CREATE TABLE rides (
    pickup_datetime timestamp NOT NULL,
    vendor_id       int,
    rate_code       int,
    passenger_count int,
    fare_amount     numeric(8, 2),
    trip_distance   double precision
);
INSERT INTO rides
SELECT corpus_at_utc(240.0 * i / 3000), 1 + i % 3, 1 + i % 6, 1 + i % 4,
       2.5 + (i * 53 % 4000) / 100.0, (i * 17 % 300) / 10.0
  FROM generate_series(1, 3000) i;
CREATE INDEX ON rides (pickup_datetime);

-- TimescaleDB: crypto ticks (financial tick data tutorial)
CREATE TABLE crypto_ticks (
    time       timestamptz NOT NULL,
    symbol     text NOT NULL,
    price      double precision,
    day_volume numeric
);
INSERT INTO crypto_ticks
SELECT corpus_at(240.0 * (i / 2) / 2500),          -- pairs of ticks share a time
       (ARRAY['BTC/USD', 'ETH/USD', 'SOL/USD'])[1 + i % 3],
       CASE WHEN i % 97 = 0 THEN 0 ELSE 100 + (i * 29 % 1000) / 10.0 END,
       (i * 7 % 100000)
  FROM generate_series(1, 5000) i;
CREATE INDEX ON crypto_ticks (time);

-- TimescaleDB: Bitcoin transactions (blockchain tutorial)
CREATE TABLE transactions (
    time             timestamptz NOT NULL,
    block_id         int,
    hash             text,
    size             int,
    weight           int,
    is_coinbase      boolean,
    output_total     bigint,
    output_total_usd double precision,
    fee              bigint,
    fee_usd          double precision
);
INSERT INTO transactions
SELECT corpus_at(240.0 * i / 4000), i / 20, md5(i::text), 200 + i * 13 % 800, 800 + i * 31 % 3200,
       i % 20 = 0, 10000 + i * 101 % 90000, (10000 + i * 101 % 90000) * 0.0003 + i % 7,
       i * 7 % 5000, (i * 7 % 5000) * 0.0003
  FROM generate_series(1, 4000) i;
CREATE INDEX ON transactions (time);

-- TimescaleDB: device readings (cagg_usage, time.md)
CREATE TABLE device_readings (
    observation_time timestamptz NOT NULL,
    device_id        text NOT NULL,
    metric           double precision NOT NULL
);
INSERT INTO device_readings
SELECT corpus_at(240.0 * i / 3000), 'device_' || (1 + i % 4), (i * 41 % 1000) / 4.0
  FROM generate_series(1, 3000) i;
CREATE INDEX ON device_readings (observation_time);

-- TimescaleDB: integer time (time.md's devices, cagg_usage's
-- device_readings_int, cagg_errors' integer conditions)
CREATE TABLE devices (
    time        bigint NOT NULL,
    location    text,
    cpu_usage   int,
    disk_usage  int,
    value       double precision,
    temperature double precision,
    humidity    double precision
);
INSERT INTO devices
SELECT i, (ARRAY['SFO', 'NYC', 'por'])[1 + i % 3], 40 + i * 7 % 60, i * 3 % 1000, (i * 13 % 700) / 7.0,
       40 + (i * 37 % 500) / 10.0, 30 + (i * 11 % 400) / 10.0
  FROM generate_series(1, 5000) i;
CREATE INDEX ON devices (time);

-- TimescaleDB: a date time column (plan_hashagg's time_date)
CREATE TABLE daily (
    day       date NOT NULL,
    device_id int,
    value     double precision
);
INSERT INTO daily
SELECT (corpus_at(24.0 * (i / 20)) AT TIME ZONE 'UTC')::date, i % 5, (i * 19 % 300) / 3.0
  FROM generate_series(1, 1000) i;
CREATE INDEX ON daily (day);

-- TimescaleDB: generic metrics (measurements, response times, users' own
-- hypertables: see each definition's @note for the column mapping)
CREATE TABLE metrics (
    time        timestamptz NOT NULL,
    device_id   int,
    api_id      int,
    sensor_id   int,
    type_id     int,
    location_id int,
    source      text,
    reading     int,
    reading2    int,
    value       double precision,
    value2      double precision,
    price       numeric(12, 4)
);
INSERT INTO metrics
SELECT corpus_at(240.0 * (i / 3) / 2000),              -- triples share a time
       i % 5, i % 4, i % 3, i % 7, i % 6,
       (ARRAY['binance', 'coinbase', 'kraken', 'okx'])[1 + i % 4],
       i * 11 % 250, i * 17 % 90,
       CASE WHEN i % 31 = 0 THEN NULL ELSE (i * 23 % 1000) / 8.0 END,
       (i * 43 % 500) / 5.0,
       1000 + (i * 37 % 20000) / 16.0
  FROM generate_series(1, 6000) i;
CREATE INDEX ON metrics (time);

-- Citus: HTTP requests (real-time dashboards use case)
CREATE TABLE http_request (
    site_id            int,
    ingest_time        timestamptz NOT NULL,
    url                text,
    request_country    text,
    ip_address         text,
    status_code        int,
    response_time_msec int
);
INSERT INTO http_request
SELECT i % 8, corpus_at(240.0 * i / 5000), 'http://example.com/' || md5((i % 50)::text),
       (ARRAY['China', 'India', 'USA', 'Indonesia'])[1 + i % 4],
       '10.' || (i % 7) || '.' || (i % 13) || '.' || (i % 29),
       (ARRAY[200, 404, 200, 500, 201])[1 + i % 5], 5 + i * 7 % 150
  FROM generate_series(1, 5000) i;
CREATE INDEX ON http_request (ingest_time);

-- Citus: GitHub events (tutorial, efficient rollups; created_at is a timestamp)
CREATE TABLE github_events (
    event_id   bigint,
    event_type text,
    repo_id    bigint,
    payload    jsonb,
    user_id    bigint,
    created_at timestamp NOT NULL
);
INSERT INTO github_events
SELECT i, (ARRAY['PushEvent', 'CreateEvent', 'WatchEvent', 'IssuesEvent'])[1 + i % 4], i % 40,
       jsonb_build_object('distinct_size', i % 5, 'ref_type', CASE WHEN i % 3 = 0 THEN 'repository' ELSE 'branch' END),
       i % 300, corpus_at_utc(240.0 * i / 4000)
  FROM generate_series(1, 4000) i;
CREATE INDEX ON github_events (created_at);

-- Citus: page views (event aggregation article; view_time is a timestamp)
CREATE TABLE page_views (
    tenant_id int,
    page_id   int,
    host_ip   inet,
    view_time timestamp NOT NULL
);
INSERT INTO page_views
SELECT i % 11, i * 7 % 50, ('203.0.113.' || (i % 251))::inet, corpus_at_utc(240.0 * i / 4000)
  FROM generate_series(1, 4000) i;
CREATE INDEX ON page_views (view_time);

-- pg_incremental: events (README and tests)
CREATE TABLE inc_events (
    event_id      bigint NOT NULL,
    event_time    timestamptz NOT NULL,
    client_id     bigint,
    path          text,
    response_time double precision
);
INSERT INTO inc_events
SELECT i, corpus_at(240.0 * i / 4000), i % 100, '/page-' || (i % 3), (i * 61 % 1000) / 1000.0
  FROM generate_series(1, 4000) i;
CREATE INDEX ON inc_events (event_time);

-- PipelineDB: one table for its streams (arrival_timestamp is what PipelineDB
-- stamps every event with)
CREATE TABLE pdb_stream (
    arrival_timestamp timestamptz NOT NULL,
    user_id   int,
    referrer  text,
    x         int,
    y         int,
    g         int,
    key       text,
    h         text,
    plant_id  int,
    latency   int,
    value     real,
    payload   jsonb
);
INSERT INTO pdb_stream
SELECT corpus_at(240.0 * i / 5000), i * 7 % 400,
       (ARRAY['google.com', 'news.ycombinator.com', 'twitter.com', NULL])[1 + i % 4],
       i % 50, (i * 3 % 50) + i % 7, i % 10, 'k' || (i % 6), '#tag' || (i % 9), i % 4, 5 + i * 13 % 500,
       (i * 17 % 300) / 3.0,
       jsonb_build_object('sensor', 's' || (i % 5), 'temp', (i * 29 % 400) / 10.0)
  FROM generate_series(1, 5000) i;
CREATE INDEX ON pdb_stream (arrival_timestamp);

-- PipelineDB: the quickstart's Wikipedia page counts (hour is a timestamp)
CREATE TABLE wiki_stream (
    hour       timestamp NOT NULL,
    project    text,
    title      text,
    view_count bigint,
    size       bigint
);
INSERT INTO wiki_stream
SELECT date_trunc('hour', corpus_at_utc(240.0 * i / 3000)), (ARRAY['en', 'de', 'fr', 'ja'])[1 + i % 4],
       'Page_' || (i % 97), 1 + i * 7 % 900, 1000 + i * 91 % 90000
  FROM generate_series(1, 3000) i;
CREATE INDEX ON wiki_stream (hour);

-- RisingWave: taxi trips (time windows page; completed_at is a timestamp)
CREATE TABLE taxi_trips (
    trip_id      int,
    taxi_id      int,
    completed_at timestamp NOT NULL,
    distance     int,
    duration     int
);
INSERT INTO taxi_trips
SELECT i, 1000 + i % 12, corpus_at_utc(240.0 * i / 3000), 1 + i % 9, 3 + i % 17
  FROM generate_series(1, 3000) i;
CREATE INDEX ON taxi_trips (completed_at);

-- RisingWave: live stream metrics (live stream metrics demo)
CREATE TABLE live_stream_metrics (
    client_ip                   text,
    user_id                     text,
    room_id                     text,
    video_bps                   bigint,
    video_lost_pps              bigint,
    video_rtt                   bigint,
    video_total_freeze_duration bigint,
    report_timestamp            timestamptz NOT NULL,
    country                     text
);
INSERT INTO live_stream_metrics
SELECT '10.0.0.' || (i % 30), 'u' || (i * 7 % 60), 'room' || (i % 5), 1000 + i % 5000, i % 9, 100 + i * 3 % 200,
       i * 11 % 4000, corpus_at(240.0 * i / 4000), (ARRAY['US', 'DE', 'BR'])[1 + i % 3]
  FROM generate_series(1, 4000) i;
CREATE INDEX ON live_stream_metrics (report_timestamp);

-- RisingWave: user behaviors (clickstream demo)
CREATE TABLE user_behaviors (
    user_id         text,
    target_id       text,
    target_type     text,
    event_timestamp timestamptz NOT NULL,
    behavior_type   text
);
INSERT INTO user_behaviors
SELECT 'u' || (i % 80), 'thread' || (i * 7 % 60), (ARRAY['thread', 'comment', 'user'])[1 + i % 3],
       corpus_at(240.0 * i / 4000), (ARRAY['show', 'upvote', 'comment', 'show'])[1 + i % 4]
  FROM generate_series(1, 4000) i;
CREATE INDEX ON user_behaviors (event_timestamp);

-- RisingWave: marketing events (marketing analysis demo)
CREATE TABLE marketing_events (
    event_id     text,
    user_id      int,
    campaign_id  text,
    channel_type text,
    event_type   text,
    amount       numeric(10, 2),
    utm_source   text,
    utm_medium   text,
    "timestamp"  timestamptz NOT NULL
);
INSERT INTO marketing_events
SELECT 'e' || i, i * 13 % 200, 'camp_' || (i % 6), (ARRAY['email', 'social', 'search', 'display'])[1 + i % 4],
       (ARRAY['impression', 'click', 'conversion', 'impression', 'click'])[1 + i % 5],
       CASE WHEN i % 5 = 2 THEN 20 + (i * 37 % 50000) / 100.0 END,
       (ARRAY['google', 'linkedin', 'email'])[1 + i % 3], (ARRAY['organic', 'email', 'social'])[1 + i * 7 % 3],
       corpus_at(240.0 * i / 4000)
  FROM generate_series(1, 4000) i;
CREATE INDEX ON marketing_events ("timestamp");

-- RisingWave: market data (market surveillance demo; a timestamp column)
CREATE TABLE market_data (
    asset_id       int,
    "timestamp"    timestamp NOT NULL,
    bid_price      numeric(10, 2),
    ask_price      numeric(10, 2),
    price          numeric(10, 2),
    rolling_volume int
);
INSERT INTO market_data
SELECT 1 + i % 5, corpus_at_utc(240.0 * i / 4000), 100 + (i * 29 % 1000) / 10.0, 100.1 + (i * 29 % 1000) / 10.0,
       100 + (i * 31 % 1000) / 10.0, 100 + i * 17 % 5000
  FROM generate_series(1, 4000) i;
CREATE INDEX ON market_data ("timestamp");

-- RisingWave: TCP metrics (server performance anomaly detection demo)
CREATE TABLE tcp_metrics (
    device_id    text,
    metric_name  text,
    report_time  timestamptz NOT NULL,
    metric_value double precision
);
INSERT INTO tcp_metrics
SELECT md5((i % 6)::text), (ARRAY['download_speed', 'retrans_rate', 'srtt'])[1 + i % 3],
       corpus_at(240.0 * i / 3000), (i * 47 % 2000) / 2.0
  FROM generate_series(1, 3000) i;
CREATE INDEX ON tcp_metrics (report_time);

-- RisingWave: Nexmark bids (emit-on-window-close examples' t/events)
CREATE TABLE bid (
    auction   bigint,
    bidder    bigint,
    price     bigint,
    channel   text,
    date_time timestamp NOT NULL
);
INSERT INTO bid
SELECT i % 30, i * 7 % 100, 100 + i * 91 % 10000, (ARRAY['apple', 'google', 'baidu'])[1 + i % 3],
       corpus_at_utc(240.0 * i / 4000)
  FROM generate_series(1, 4000) i;
CREATE INDEX ON bid (date_time);

-- RisingWave: website logs (awesome-stream-processing website_logs_monitoring)
CREATE TABLE website_logs (
    request_timestamp timestamptz NOT NULL,
    username          text,
    ip_address        text,
    status_code       int,
    response_time     int,
    user_action       text,
    referrer          text
);
INSERT INTO website_logs
SELECT corpus_at(240.0 * i / 4000), 'user' || (i % 25), '192.168.' || (i % 3) || '.' || (i % 17),
       (ARRAY[200, 200, 404, 500, 302])[1 + i % 5], 10 + i * 37 % 900,
       (ARRAY['view_page', 'navigate_page', 'submit_form', 'login', 'logout', 'scroll_page',
              'download_file', 'upload_file', 'close_window', 'open_new_tab'])[1 + i % 10],
       (ARRAY['google.com', 'bing.com', 'direct', 'twitter.com'])[1 + i * 3 % 4]
  FROM generate_series(1, 4000) i;
CREATE INDEX ON website_logs (request_timestamp);

-- RisingWave: shop floor machine data (awesome-stream-processing iot_demo)
CREATE TABLE machine_data (
    ts                  timestamptz NOT NULL,
    machine_id          int,
    winding_temperature double precision,
    ambient_temperature double precision,
    vibration_level     double precision,
    current_draw        double precision,
    voltage_level       double precision,
    nominal_speed       double precision,
    power_consumption   double precision,
    efficiency          double precision
);
INSERT INTO machine_data
SELECT corpus_at(240.0 * i / 4000), i % 6, 60 + (i * 7 % 200) / 10.0, 20 + (i * 3 % 100) / 10.0, (i * 11 % 50) / 100.0,
       10 + (i * 13 % 100) / 10.0, 220 + (i * 17 % 100) / 10.0, 1500 + i * 19 % 100, 5 + (i * 23 % 300) / 10.0,
       80 + (i * 29 % 200) / 10.0
  FROM generate_series(1, 4000) i;
CREATE INDEX ON machine_data (ts);

-- RisingWave: Wikipedia edits (awesome-stream-processing wikipedia_monitoring's wiki_mv)
CREATE TABLE wiki_edits (
    edit_timestamp timestamp NOT NULL,
    contributor    text,
    title          text,
    gender         text,
    edit_count     int
);
INSERT INTO wiki_edits
SELECT corpus_at_utc(240.0 * i / 3000), 'c' || (i % 40), 'T' || (i % 90),
       (ARRAY['unknown', 'male', 'female', 'unknown'])[1 + i % 4], i * 37 % 3000
  FROM generate_series(1, 3000) i;
CREATE INDEX ON wiki_edits (edit_timestamp);

ANALYZE;
