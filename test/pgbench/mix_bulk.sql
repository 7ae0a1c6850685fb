-- bulk insert of 50-200 rows over the last 6 hours, on both sides of the watermark
\set n random(50, 200)
SET TimeZone = 'Pacific/Chatham';
INSERT INTO events (ts, device_id, value)
SELECT now() - random() * interval '6 hours', (random() * 9)::int,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 1 + round((random() * 99)::numeric, 2)::float8 END
  FROM generate_series(1, :n) i;
