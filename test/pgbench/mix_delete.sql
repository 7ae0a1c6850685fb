-- delete rows anywhere in the last two days (min and max go dirty)
\set off random(0, 172800)
SET TimeZone = 'UTC';
DELETE FROM events
 WHERE ts >= now() - :off * interval '1 second'
   AND ts < now() - :off * interval '1 second' + interval '20 seconds';
