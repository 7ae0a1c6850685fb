-- late rows: hours to days back, far below the watermark
\set n random(1, 20)
\set back random(120, 2860)
SET TimeZone = 'UTC';
INSERT INTO events (ts, device_id, value)
SELECT now() - :back * interval '1 minute' - random() * interval '10 minutes',
       (random() * 9)::int, 1 + random() * 99
  FROM generate_series(1, :n);
