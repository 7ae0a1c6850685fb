-- one fresh row, its time written as a local time of the session's zone
\set dev random(0, 9)
\set v random(10, 1000)
\set back random(0, 600)
SET TimeZone = 'America/St_Johns';
INSERT INTO events (ts, device_id, value)
VALUES ((localtimestamp - :back * interval '1 second')::timestamptz, :dev, :v / 10.0);
