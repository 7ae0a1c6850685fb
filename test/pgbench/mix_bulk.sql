-- bulk insert of 50-200 rows around the watermark (recent and just sealed buckets)
\set n random(50, 200)
SET TimeZone = 'Pacific/Chatham';
INSERT INTO events (ts, device_id, value)
SELECT now() - random() * interval '90 minutes', (random() * 19)::int,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 1 + round((random() * 99)::numeric, 2)::float8 END
  FROM generate_series(1, :n) i;
