-- 045_partition_ddl_race: writes to the partitions that stay
\set r random(1, 100000000)
INSERT INTO race (ts, device, value)
SELECT '2026-01-01 00:00+00'::timestamptz + ((:r + i) % 20160) * interval '1 minute', (:r + i) % 5, 1 + (:r + i) % 50
  FROM generate_series(1, 10) i;
UPDATE race SET value = value + 1 WHERE id % 997 = :r % 997 AND ts < '2026-01-15 00:00+00';
DELETE FROM race WHERE id % 1999 = :r % 1999 AND ts < '2026-01-15 00:00+00';
