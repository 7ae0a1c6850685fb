-- move recent rows across the watermark, both ways, and between devices
\set off random(0, 7200)
\set k random(1, 2)
SET TimeZone = 'America/St_Johns';
UPDATE events
   SET ts = CASE WHEN :k = 1 THEN ts - interval '47 minutes' ELSE ts + interval '53 minutes' END,
       device_id = 9 - device_id,
       value = value + 0.5
 WHERE ts >= now() - :off * interval '1 second'
   AND ts < now() - :off * interval '1 second' + interval '20 seconds';
