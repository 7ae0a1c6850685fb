-- move rows anywhere in the last two days to other buckets and devices
\set off random(0, 172800)
\set k random(1, 3)
SET TimeZone = 'Pacific/Chatham';
UPDATE events
   SET ts = ts + (:k - 2) * interval '37 minutes' + interval '1 minute',
       device_id = (device_id + :k) % 10,
       value = CASE WHEN :k = 3 THEN NULL ELSE coalesce(value, 0) + 1 END
 WHERE ts >= now() - :off * interval '1 second'
   AND ts < now() - :off * interval '1 second' + interval '40 seconds';
