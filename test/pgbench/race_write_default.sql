-- 045_partition_ddl_race: writes straight into the default partition,
-- attached or not (rows of 2030, which no other partition takes)
\set r random(1, 100000000)
INSERT INTO race_default (ts, device, value)
SELECT '2030-01-01 00:00+00'::timestamptz + ((:r + i) % 1440) * interval '1 minute', (:r + i) % 5, 1 + (:r + i) % 50
  FROM generate_series(1, 5) i;
DELETE FROM race_default WHERE id % 499 = :r % 499;
