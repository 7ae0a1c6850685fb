-- the batch side: seal what is due, every second
CALL hybridagg.materialize('events_1m');
CALL hybridagg.materialize('events_1h');
\sleep 1 s
