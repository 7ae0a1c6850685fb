-- The aggregates of the 09_streaming_* tests, read with \i after
-- test/sql/helpers.sql (it uses test_diff and stored_groups), and echoed:
-- a table events with 3,000 rows over the last 2.5 days, and two aggregates
-- of it in each streaming mode (streaming, hybrid, lambda, kappa): *_x with
-- min and max (a DELETE or UPDATE makes its groups dirty, recomputed from
-- the table) and *_s with only count, sum and avg (folded by addition).
-- differing() lists the aggregates whose view differs from its defining
-- query (none, if all is well); wait_drained() waits until the worker has
-- folded every pending delta.  The test drops all of it at its end.
CREATE TABLE events (
    id        serial PRIMARY KEY,
    ts        timestamptz NOT NULL DEFAULT now(),
    device_id int NOT NULL,
    site      text,
    value     float8,
    qty       int
);
CREATE INDEX ON events (ts);
CREATE FUNCTION add_events(n int, newest timestamptz, step interval) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO events (ts, device_id, site, value, qty)
    SELECT newest - i * step, i % 5, CASE WHEN i % 4 <> 0 THEN 'site' || i % 3 END,
           CASE WHEN i % 9 <> 0 THEN (i % 89) / 4.0 END, i % 20 - 2
      FROM generate_series(1, n) i
$$;
SELECT add_events(3000, now(), '71 seconds');

\set q_extremes 'SELECT date_bin(''5 minutes'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, site, count(*) AS n, count(value) AS nv, sum(value) AS total, avg(value) AS mean, min(value) AS lo, max(value) AS hi, sum(qty) AS q FROM events WHERE qty >= 0 GROUP BY 1, 2, 3'
\set q_sums 'SELECT date_bin(''1 hour'', ts, ''2000-01-01 00:00+00'') AS bucket, device_id, count(*) AS n, sum(value) AS total, avg(qty) AS mean_qty FROM events GROUP BY 1, 2'

CREATE TABLE checks (aggregate text, query text, keys text[]);
INSERT INTO checks VALUES
    ('streaming_x', :'q_extremes', '{bucket,device_id,site}'),
    ('streaming_s', :'q_sums', '{bucket,device_id}'),
    ('hybrid_x', :'q_extremes', '{bucket,device_id,site}'),
    ('hybrid_s', :'q_sums', '{bucket,device_id}'),
    ('lambda_x', :'q_extremes', '{bucket,device_id,site}'),
    ('lambda_s', :'q_sums', '{bucket,device_id}'),
    ('kappa_x', :'q_extremes', '{bucket,device_id,site}'),
    ('kappa_s', :'q_sums', '{bucket,device_id}');

-- the aggregates whose view differs from its query (none, if all is well)
CREATE FUNCTION differing() RETURNS TABLE (aggregate text, differences bigint)
LANGUAGE sql AS $$
    SELECT * FROM (
        SELECT c.aggregate,
               CASE WHEN to_regclass(c.aggregate) IS NULL THEN NULL
                    ELSE test_diff(c.aggregate::regclass, c.query, c.keys) END AS differences
          FROM checks c) d
     WHERE differences IS DISTINCT FROM 0 ORDER BY 1
$$;

CREATE PROCEDURE wait_drained(timeout interval DEFAULT '60 seconds') LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
BEGIN
    WHILE EXISTS (SELECT FROM hybridagg.aggregates
                   WHERE name IN (SELECT aggregate FROM checks) AND (pending_deltas > 0 OR dirty_groups > 0)) LOOP
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'pending deltas were not folded within %', timeout;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;

SELECT hybridagg.create('streaming_x', :'q_extremes', mode => 'streaming');
SELECT hybridagg.create('streaming_s', :'q_sums', mode => 'streaming');
SELECT hybridagg.create('hybrid_x', :'q_extremes', mode => 'hybrid', seal_after => '30 minutes');
SELECT hybridagg.create('hybrid_s', :'q_sums', mode => 'hybrid');
SELECT hybridagg.create('lambda_x', :'q_extremes', mode => 'lambda', seal_after => '30 minutes');
SELECT hybridagg.create('lambda_s', :'q_sums', mode => 'lambda');
SELECT hybridagg.create('kappa_x', :'q_extremes', mode => 'kappa');
SELECT hybridagg.create('kappa_s', :'q_sums', mode => 'kappa');
SELECT name, mode, watermark > '-infinity' AS has_watermark,
       (stored_groups(view)).history > 0 AS has_history, (stored_groups(view)).recent > 0 AS has_recent
  FROM hybridagg.aggregates WHERE name IN (SELECT aggregate FROM checks) ORDER BY name;
SELECT * FROM differing();
