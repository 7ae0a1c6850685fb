-- 045_partition_ddl_race: DDL on tables no aggregate reads
CREATE TABLE race_unrelated_:client_id (x int);
ALTER TABLE race_unrelated_:client_id ADD COLUMN y int;
DROP TABLE race_unrelated_:client_id;
