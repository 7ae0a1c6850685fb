-- the batch side: seal what is due, every second
CALL hybridagg.materialize('events_1m');
CALL hybridagg.materialize('events_1h');
CALL hybridagg.materialize('events_rc');
\sleep 1 s
