-- 045_partition_ddl_race: the default partition leaves and comes back
ALTER TABLE race DETACH PARTITION race_default;
\sleep 20 ms
ALTER TABLE race ATTACH PARTITION race_default DEFAULT;
\sleep 20 ms
