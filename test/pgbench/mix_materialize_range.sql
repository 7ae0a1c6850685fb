-- the batch side: exact recompute of a random 30-minute range, then pause
\set back random(0, 2880)
SET TimeZone = 'Pacific/Chatham';
CALL hybridagg.materialize('events_1m', now() - :back * interval '1 minute', now() - :back * interval '1 minute' + interval '30 minutes');
\sleep 1 s
