-- One round of writes on every table of test/corpus/schema.sql, as a live
-- feed sees them: new rows just after the anchor, late rows days back (into
-- buckets that already hold rows, and into buckets that held none), UPDATEs of
-- values (also to NULL), UPDATEs that move rows to another bucket, and DELETEs
-- (among them rows that held a group's min or max, and every row of some
-- groups).  Times come from the anchor only (corpus_at, corpus_at_utc).
-- Each statement is its own transaction; the test runs the file with psql.

-- conditions
INSERT INTO conditions
SELECT corpus_at(-i / 60.0), (ARRAY['office', 'basement', 'garage', 'SFO', 'NYC', 'por', 'attic'])[1 + i % 7],
       i % 9, 35 + i % 70, CASE WHEN i % 5 = 0 THEN NULL ELSE 20 + i % 60 END
  FROM generate_series(1, 40) i;
INSERT INTO conditions
SELECT corpus_at(24 * (1 + i % 9) + 0.5), 'late_' || (i % 3), i % 7, -10 + i, 99.5
  FROM generate_series(1, 30) i;
INSERT INTO conditions VALUES (corpus_at(24 * 20), 'NYC', 1, 71, 41);    -- a bucket that held no row
UPDATE conditions SET temperature = temperature + 100 WHERE time > corpus_at(60) AND time <= corpus_at(59);
UPDATE conditions SET humidity = NULL WHERE time > corpus_at(120) AND time <= corpus_at(119.5);
UPDATE conditions SET time = time - interval '3 days' WHERE time > corpus_at(30) AND time <= corpus_at(29.5);
DELETE FROM conditions WHERE temperature = (SELECT max(temperature) FROM conditions WHERE time > corpus_at(48));
DELETE FROM conditions WHERE time > corpus_at(100) AND time <= corpus_at(99);

-- rides
INSERT INTO rides
SELECT corpus_at_utc(-i / 30.0), 1 + i % 4, 1 + i % 6, 1 + i % 4, 3.25 + i, i / 3.0
  FROM generate_series(1, 30) i;
INSERT INTO rides SELECT corpus_at_utc(24 * (2 + i % 7) + 0.25), 2, 1, 1, 99.99, 55.5 FROM generate_series(1, 20) i;
UPDATE rides SET fare_amount = fare_amount * 2, trip_distance = NULL
 WHERE pickup_datetime > corpus_at_utc(80) AND pickup_datetime <= corpus_at_utc(79);
UPDATE rides SET pickup_datetime = pickup_datetime - interval '5 days'
 WHERE pickup_datetime > corpus_at_utc(10) AND pickup_datetime <= corpus_at_utc(9);
DELETE FROM rides WHERE trip_distance = (SELECT min(trip_distance) FROM rides);
DELETE FROM rides WHERE pickup_datetime > corpus_at_utc(150) AND pickup_datetime <= corpus_at_utc(148);

-- crypto_ticks
INSERT INTO crypto_ticks
SELECT corpus_at(-(i / 2) / 60.0), (ARRAY['BTC/USD', 'ETH/USD', 'SOL/USD', 'ADA/USD'])[1 + i % 4],
       CASE WHEN i % 11 = 0 THEN 0 ELSE 150 + i END, 100000 + i
  FROM generate_series(1, 40) i;
INSERT INTO crypto_ticks SELECT corpus_at(24 * (1 + i % 8) + 0.1), 'BTC/USD', 10 + i, i FROM generate_series(1, 20) i;
UPDATE crypto_ticks SET price = price / 2 WHERE time > corpus_at(50) AND time <= corpus_at(49);
UPDATE crypto_ticks SET time = time - interval '2 days' WHERE time > corpus_at(20) AND time <= corpus_at(19.5);
DELETE FROM crypto_ticks WHERE price = (SELECT max(price) FROM crypto_ticks);
DELETE FROM crypto_ticks WHERE time > corpus_at(130) AND time <= corpus_at(129);

-- transactions
INSERT INTO transactions
SELECT corpus_at(-i / 60.0), 9000 + i / 10, md5('new' || i), 300 + i, 1000 + i, i % 10 = 0, 50000 + i, (50000 + i) * 0.0003 + i % 5,
       CASE WHEN i % 3 = 0 THEN 60000 + i ELSE 100 + i END, (100 + i) * 0.0003
  FROM generate_series(1, 40) i;
INSERT INTO transactions
SELECT corpus_at(24 * (1 + i % 6) + 0.2), 8000, md5('late' || i), 250, 900, i % 4 = 0, 20000, 6.0, 700 + i, 0.21
  FROM generate_series(1, 20) i;
UPDATE transactions SET fee = fee * 3, fee_usd = fee_usd * 3 WHERE time > corpus_at(70) AND time <= corpus_at(69);
UPDATE transactions SET is_coinbase = NOT is_coinbase WHERE time > corpus_at(90) AND time <= corpus_at(89.5);
UPDATE transactions SET time = time - interval '4 days' WHERE time > corpus_at(15) AND time <= corpus_at(14);
DELETE FROM transactions WHERE size = (SELECT max(size) FROM transactions);
DELETE FROM transactions WHERE block_id = (SELECT min(block_id) + 3 FROM transactions);

-- device_readings
INSERT INTO device_readings
SELECT corpus_at(-i / 60.0), 'device_' || (1 + i % 5), i * 3.5 FROM generate_series(1, 30) i;
INSERT INTO device_readings SELECT corpus_at(24 * (1 + i % 5) + 0.3), 'device_2', -i FROM generate_series(1, 15) i;
UPDATE device_readings SET metric = metric + 0.125 WHERE observation_time > corpus_at(40) AND observation_time <= corpus_at(39);
UPDATE device_readings SET observation_time = observation_time - interval '1 day'
 WHERE observation_time > corpus_at(12) AND observation_time <= corpus_at(11);
DELETE FROM device_readings WHERE metric = (SELECT max(metric) FROM device_readings);
DELETE FROM device_readings WHERE observation_time > corpus_at(200) AND observation_time <= corpus_at(199);

-- devices (integer time: "new" is past the largest time, "late" is small)
INSERT INTO devices
SELECT 5000 + i, (ARRAY['SFO', 'NYC', 'por', 'LAX'])[1 + i % 4], 50 + i, i * 5, i / 3.0, 60 + i, 40 FROM generate_series(1, 40) i;
INSERT INTO devices SELECT 1 + i * 37, 'late', 99, 99, 9.5, -5, NULL FROM generate_series(1, 20) i;
UPDATE devices SET cpu_usage = cpu_usage + 10, value = NULL WHERE time BETWEEN 2000 AND 2040;
UPDATE devices SET time = time - 1500 WHERE time BETWEEN 3000 AND 3020;
DELETE FROM devices WHERE temperature = (SELECT max(temperature) FROM devices);
DELETE FROM devices WHERE time BETWEEN 4000 AND 4100;

-- daily
INSERT INTO daily SELECT (corpus_at(-24) AT TIME ZONE 'UTC')::date, i % 6, i FROM generate_series(1, 10) i;
INSERT INTO daily SELECT (corpus_at(24 * 30) AT TIME ZONE 'UTC')::date, 2, 7.5 FROM generate_series(1, 3) i;
UPDATE daily SET value = value * 2 WHERE day = (corpus_at(24 * 4) AT TIME ZONE 'UTC')::date;
UPDATE daily SET day = day - 2 WHERE day = (corpus_at(24 * 7) AT TIME ZONE 'UTC')::date AND device_id = 1;
DELETE FROM daily WHERE day = (corpus_at(24 * 9) AT TIME ZONE 'UTC')::date;

-- metrics
INSERT INTO metrics
SELECT corpus_at(-(i / 3) / 60.0), i % 6, i % 5, i % 3, i % 2, i % 7, (ARRAY['binance', 'coinbase', 'kraken', 'bitstamp'])[1 + i % 4],
       i * 3, i, CASE WHEN i % 4 = 0 THEN NULL ELSE i * 1.5 END, i / 2.0, 2000 + i / 8.0
  FROM generate_series(1, 45) i;
INSERT INTO metrics
SELECT corpus_at(24 * (1 + i % 9) + 0.05), 1, 1, 1, 1, 1, 'kraken', 5, 5, 1e6 + i, -1, 0.0001
  FROM generate_series(1, 27) i;
UPDATE metrics SET value = value * 10, price = price + 0.0005 WHERE time > corpus_at(55) AND time <= corpus_at(54);
UPDATE metrics SET time = time - interval '2 days 3 hours' WHERE time > corpus_at(25) AND time <= corpus_at(24.5);
DELETE FROM metrics WHERE value = (SELECT max(value) FROM metrics WHERE time > corpus_at(240));
DELETE FROM metrics WHERE time > corpus_at(170) AND time <= corpus_at(168);

-- http_request
INSERT INTO http_request
SELECT i % 10, corpus_at(-i / 60.0), 'http://example.com/new' || i, 'USA', '10.9.9.' || (i % 4),
       (ARRAY[200, 404, 503])[1 + i % 3], 1 + i * 11 % 300
  FROM generate_series(1, 40) i;
INSERT INTO http_request
SELECT 3, corpus_at(24 * (1 + i % 6) + 0.4), 'http://example.com/late', 'India', '10.8.8.8', 200, 1000 + i
  FROM generate_series(1, 20) i;
UPDATE http_request SET status_code = 500 WHERE ingest_time > corpus_at(60) AND ingest_time <= corpus_at(59);
UPDATE http_request SET ingest_time = ingest_time - interval '3 days' WHERE ingest_time > corpus_at(20) AND ingest_time <= corpus_at(19);
DELETE FROM http_request WHERE response_time_msec = (SELECT max(response_time_msec) FROM http_request);
DELETE FROM http_request WHERE site_id = 5 AND ingest_time > corpus_at(100);

-- github_events
INSERT INTO github_events
SELECT 100000 + i, (ARRAY['PushEvent', 'ForkEvent'])[1 + i % 2], i % 40, jsonb_build_object('distinct_size', i % 7), i % 50,
       corpus_at_utc(-i / 60.0)
  FROM generate_series(1, 30) i;
INSERT INTO github_events
SELECT 200000 + i, 'PushEvent', 1, '{"distinct_size": 3}', 7, corpus_at_utc(24 * (1 + i % 5) + 0.7) FROM generate_series(1, 15) i;
UPDATE github_events SET payload = jsonb_build_object('distinct_size', 10) WHERE created_at > corpus_at_utc(33) AND created_at <= corpus_at_utc(32);
UPDATE github_events SET created_at = created_at - interval '1 day 7 minutes' WHERE created_at > corpus_at_utc(18) AND created_at <= corpus_at_utc(17);
DELETE FROM github_events WHERE created_at > corpus_at_utc(111) AND created_at <= corpus_at_utc(110);

-- page_views
INSERT INTO page_views SELECT i % 12, i % 9, '203.0.113.7', corpus_at_utc(-i / 60.0) FROM generate_series(1, 30) i;
INSERT INTO page_views SELECT 4, 4, '203.0.113.8', corpus_at_utc(24 * (2 + i % 5)) FROM generate_series(1, 10) i;
UPDATE page_views SET view_time = view_time - interval '2 days' WHERE view_time > corpus_at_utc(40) AND view_time <= corpus_at_utc(39);
DELETE FROM page_views WHERE tenant_id = 3 AND view_time > corpus_at_utc(120);

-- inc_events
INSERT INTO inc_events SELECT 10000 + i, corpus_at(-i / 60.0), i % 100, '/page-' || (i % 4), i / 10.0 FROM generate_series(1, 30) i;
INSERT INTO inc_events SELECT 20000 + i, corpus_at(24 * (1 + i % 8) + 0.6), 5, '/page-1', 0.5 FROM generate_series(1, 16) i;
INSERT INTO inc_events SELECT 3, corpus_at(10), 3, '/page-0', 0.25;                  -- a duplicate event_id
UPDATE inc_events SET event_time = event_time - interval '1 day' WHERE event_time > corpus_at(44) AND event_time <= corpus_at(43);
DELETE FROM inc_events WHERE event_time > corpus_at(77) AND event_time <= corpus_at(76);

-- pdb_stream
INSERT INTO pdb_stream
SELECT corpus_at(-i / 60.0), i * 3 % 500, (ARRAY['google.com', 'bing.com', NULL])[1 + i % 3], i % 60, i % 40, i % 12,
       'k' || (i % 8), '#tag' || (i % 4), i % 5, 20 + i, i * 1.5, jsonb_build_object('sensor', 's' || (i % 6), 'temp', i / 4.0)
  FROM generate_series(1, 40) i;
INSERT INTO pdb_stream
SELECT corpus_at(24 * (1 + i % 7) + 0.15), 7, 'google.com', 1, 2, 3, 'k1', '#late', 2, 999, 123.5, '{"sensor": "s1", "temp": 88.5}'
  FROM generate_series(1, 21) i;
UPDATE pdb_stream SET y = y + 25, value = value * 3 WHERE arrival_timestamp > corpus_at(66) AND arrival_timestamp <= corpus_at(65);
UPDATE pdb_stream SET arrival_timestamp = arrival_timestamp - interval '2 days'
 WHERE arrival_timestamp > corpus_at(22) AND arrival_timestamp <= corpus_at(21.5);
DELETE FROM pdb_stream WHERE latency = (SELECT max(latency) FROM pdb_stream);
DELETE FROM pdb_stream WHERE user_id = 21;

-- wiki_stream
INSERT INTO wiki_stream SELECT date_trunc('hour', corpus_at_utc(0)), (ARRAY['en', 'es'])[1 + i % 2], 'New_' || i, i * 10, i * 1000 FROM generate_series(1, 20) i;
INSERT INTO wiki_stream SELECT date_trunc('hour', corpus_at_utc(24 * (1 + i % 6))), 'de', 'Late', 5000, 77 FROM generate_series(1, 12) i;
UPDATE wiki_stream SET view_count = view_count + 1000 WHERE hour = date_trunc('hour', corpus_at_utc(50));
DELETE FROM wiki_stream WHERE hour = date_trunc('hour', corpus_at_utc(75));

-- taxi_trips
INSERT INTO taxi_trips SELECT 90000 + i, 1000 + i % 14, corpus_at_utc(-i / 60.0), i % 11, i FROM generate_series(1, 30) i;
INSERT INTO taxi_trips SELECT 80000 + i, 1001, corpus_at_utc(24 * (1 + i % 4) + 0.01), 50, 50 FROM generate_series(1, 12) i;
UPDATE taxi_trips SET distance = distance * 10 WHERE completed_at > corpus_at_utc(30) AND completed_at <= corpus_at_utc(29);
UPDATE taxi_trips SET completed_at = completed_at - interval '90 seconds' WHERE completed_at > corpus_at_utc(45) AND completed_at <= corpus_at_utc(44);
DELETE FROM taxi_trips WHERE completed_at > corpus_at_utc(99) AND completed_at <= corpus_at_utc(98);

-- live_stream_metrics
INSERT INTO live_stream_metrics
SELECT '10.1.1.' || i, 'u' || (i % 70), 'room' || (i % 6), 2000, i % 4, 150 + i, i * 9, corpus_at(-i / 60.0), 'US'
  FROM generate_series(1, 40) i;
INSERT INTO live_stream_metrics
SELECT '10.2.2.2', 'u1', 'room1', 1000, 40, 900, 12345, corpus_at(24 * (1 + i % 5) + 0.33), 'DE' FROM generate_series(1, 15) i;
UPDATE live_stream_metrics SET video_rtt = video_rtt * 2, user_id = 'u0'
 WHERE report_timestamp > corpus_at(35) AND report_timestamp <= corpus_at(34);
UPDATE live_stream_metrics SET report_timestamp = report_timestamp - interval '2 days'
 WHERE report_timestamp > corpus_at(14) AND report_timestamp <= corpus_at(13);
DELETE FROM live_stream_metrics WHERE room_id = 'room3' AND report_timestamp > corpus_at(60);

-- user_behaviors
INSERT INTO user_behaviors
SELECT 'u' || (i % 9), 'thread' || (i % 5), 'thread', corpus_at(-i / 60.0), 'show' FROM generate_series(1, 30) i;
INSERT INTO user_behaviors
SELECT 'u1', 'thread1', 'thread', corpus_at(24 * (1 + i % 6) + 0.5), 'show' FROM generate_series(1, 12) i;
UPDATE user_behaviors SET behavior_type = 'show' WHERE event_timestamp > corpus_at(80) AND event_timestamp <= corpus_at(79);
UPDATE user_behaviors SET event_timestamp = event_timestamp - interval '1 day'
 WHERE event_timestamp > corpus_at(16) AND event_timestamp <= corpus_at(15);
DELETE FROM user_behaviors WHERE target_id = 'thread7';

-- marketing_events
INSERT INTO marketing_events
SELECT 'n' || i, i % 30, 'camp_' || (i % 7), 'email', (ARRAY['click', 'conversion'])[1 + i % 2],
       CASE WHEN i % 2 = 1 THEN 10.25 * i END, 'google', 'email', corpus_at(-i / 60.0)
  FROM generate_series(1, 30) i;
INSERT INTO marketing_events
SELECT 'l' || i, 3, 'camp_1', 'social', 'conversion', 99.99, 'linkedin', 'social', corpus_at(24 * (1 + i % 5) + 0.2)
  FROM generate_series(1, 10) i;
INSERT INTO marketing_events SELECT 'e17', 17, 'camp_5', 'email', 'click', NULL, 'google', 'organic', corpus_at(3);  -- a repeated event_id
UPDATE marketing_events SET amount = amount + 0.01 WHERE "timestamp" > corpus_at(70) AND "timestamp" <= corpus_at(68);
UPDATE marketing_events SET "timestamp" = "timestamp" - interval '3 days' WHERE "timestamp" > corpus_at(25) AND "timestamp" <= corpus_at(24);
DELETE FROM marketing_events WHERE user_id = 42;

-- market_data
INSERT INTO market_data SELECT 1 + i % 6, corpus_at_utc(-i / 60.0), 150, 150.1, 150 + i, 10 * i FROM generate_series(1, 30) i;
INSERT INTO market_data SELECT 2, corpus_at_utc(24 * (1 + i % 4) + 0.05), 90, 90.5, 1 + i, 5 FROM generate_series(1, 8) i;
UPDATE market_data SET price = price * 1.5 WHERE "timestamp" > corpus_at_utc(36) AND "timestamp" <= corpus_at_utc(35);
UPDATE market_data SET "timestamp" = "timestamp" - interval '1 day' WHERE "timestamp" > corpus_at_utc(12) AND "timestamp" <= corpus_at_utc(11);
DELETE FROM market_data WHERE price = (SELECT min(price) FROM market_data);

-- tcp_metrics
INSERT INTO tcp_metrics
SELECT md5((i % 7)::text), (ARRAY['download_speed', 'retrans_rate', 'srtt'])[1 + i % 3], corpus_at(-i / 60.0), i * 2.5
  FROM generate_series(1, 30) i;
INSERT INTO tcp_metrics SELECT md5('1'), 'srtt', corpus_at(24 * (1 + i % 5) + 0.5), 9999 FROM generate_series(1, 10) i;
UPDATE tcp_metrics SET metric_value = NULL WHERE report_time > corpus_at(50) AND report_time <= corpus_at(49);
UPDATE tcp_metrics SET report_time = report_time - interval '1 day' WHERE report_time > corpus_at(8) AND report_time <= corpus_at(7);
DELETE FROM tcp_metrics WHERE metric_value = (SELECT max(metric_value) FROM tcp_metrics);

-- bid
INSERT INTO bid SELECT i % 35, i, 50000 + i, 'apple', corpus_at_utc(-i / 60.0) FROM generate_series(1, 30) i;
INSERT INTO bid SELECT 5, 5, 99999, 'baidu', corpus_at_utc(24 * (1 + i % 6) + 0.25) FROM generate_series(1, 12) i;
UPDATE bid SET price = price - 50 WHERE date_time > corpus_at_utc(28) AND date_time <= corpus_at_utc(27);
UPDATE bid SET date_time = date_time - interval '2 days' WHERE date_time > corpus_at_utc(9) AND date_time <= corpus_at_utc(8);
DELETE FROM bid WHERE price = (SELECT max(price) FROM bid WHERE date_time < corpus_at_utc(0));

-- website_logs
INSERT INTO website_logs
SELECT corpus_at(-i / 60.0), 'user' || (i % 30), '192.168.9.' || (i % 5), (ARRAY[200, 503])[1 + i % 2], i * 13,
       (ARRAY['login', 'view_page', 'logout'])[1 + i % 3], 'direct'
  FROM generate_series(1, 30) i;
INSERT INTO website_logs
SELECT corpus_at(24 * (1 + i % 6) + 0.9), 'user1', '192.168.0.1', 200, 5000 + i, 'upload_file', 'google.com' FROM generate_series(1, 12) i;
UPDATE website_logs SET status_code = 404, response_time = response_time + 1
 WHERE request_timestamp > corpus_at(58) AND request_timestamp <= corpus_at(57);
UPDATE website_logs SET request_timestamp = request_timestamp - interval '1 day 30 seconds'
 WHERE request_timestamp > corpus_at(19) AND request_timestamp <= corpus_at(18);
DELETE FROM website_logs WHERE response_time = (SELECT min(response_time) FROM website_logs);
DELETE FROM website_logs WHERE username = 'user7' AND request_timestamp > corpus_at(100);

-- machine_data
INSERT INTO machine_data
SELECT corpus_at(-i / 60.0), i % 7, 70 + i, 25, i / 100.0, 12, 230, 1550, 9 + i / 10.0, 85 FROM generate_series(1, 30) i;
INSERT INTO machine_data
SELECT corpus_at(24 * (1 + i % 5) + 0.45), 2, 120, 30, 0.9, 20, 240, 1600, 40, 50 FROM generate_series(1, 10) i;
UPDATE machine_data SET vibration_level = vibration_level * 4 WHERE ts > corpus_at(41) AND ts <= corpus_at(40);
UPDATE machine_data SET ts = ts - interval '2 days' WHERE ts > corpus_at(13) AND ts <= corpus_at(12);
DELETE FROM machine_data WHERE winding_temperature = (SELECT max(winding_temperature) FROM machine_data WHERE ts < corpus_at(0));

-- wiki_edits
INSERT INTO wiki_edits SELECT corpus_at_utc(-i / 60.0), 'c' || i, 'New', (ARRAY['unknown', 'female'])[1 + i % 2], i * 100 FROM generate_series(1, 30) i;
INSERT INTO wiki_edits SELECT corpus_at_utc(24 * (1 + i % 4) + 0.6), 'c1', 'Late', 'male', 5 FROM generate_series(1, 8) i;
UPDATE wiki_edits SET gender = 'unknown', edit_count = 999 WHERE edit_timestamp > corpus_at_utc(33) AND edit_timestamp <= corpus_at_utc(32);
UPDATE wiki_edits SET edit_timestamp = edit_timestamp - interval '1 day' WHERE edit_timestamp > corpus_at_utc(6) AND edit_timestamp <= corpus_at_utc(5);
DELETE FROM wiki_edits WHERE contributor = 'c13';
