-- hybridagg 0.1.0 -> 0.2.0
--
-- The catalog loses the owner column (an aggregate's owner is its view's
-- owner) and gains watermark_time and capture_interrupted_at; internal
-- functions are no longer executable by PUBLIC; dirty_groups() takes the
-- aggregate's token; the status view reads counters and estimates instead
-- of counting rows; new: hybridagg.fold(), hybridagg.alter(), least_of/greatest_of, the event
-- triggers of base_table_ddl.  Aggregates created under 0.1.0 keep views and
-- tables of the 0.1.0 layout, which this version cannot serve: they must be
-- dropped before the update and created again after it.
\echo Use "ALTER EXTENSION hybridagg UPDATE TO '0.2.0'" to load this file. \quit

DO $$
BEGIN
    IF EXISTS (SELECT FROM hybridagg_internal.aggregate) THEN
        RAISE EXCEPTION 'hybridagg 0.2.0 cannot update a database that has hybridagg 0.1.0 aggregates'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('%s aggregates were made with the 0.1.0 layout: %s.',
                                  (SELECT count(*) FROM hybridagg_internal.aggregate),
                                  (SELECT string_agg(view::text, ', ' ORDER BY id) FROM hybridagg_internal.aggregate)),
                  HINT = 'Note their definitions (SELECT name, mode, seal_after, definition FROM hybridagg.aggregates), drop them with hybridagg.drop(), update, and create them again.';
    END IF;
END
$$;

-- the catalog
DROP VIEW hybridagg.aggregates;
ALTER TABLE hybridagg_internal.aggregate DROP COLUMN owner;
ALTER TABLE hybridagg_internal.aggregate DROP COLUMN created_at;
ALTER TABLE hybridagg_internal.aggregate
    ADD COLUMN watermark_time timestamptz NOT NULL DEFAULT '-infinity',
    ADD COLUMN capture_interrupted_at timestamptz,
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN finals text[] NOT NULL DEFAULT '{}';

ALTER TABLE hybridagg_internal.aggregate_stats
    ADD COLUMN last_error_sqlstate text,
    ADD COLUMN last_error_detail text,
    ADD COLUMN last_verify_at timestamptz,
    ADD COLUMN last_verify_seconds double precision,
    ADD COLUMN last_verify_groups bigint,
    ADD COLUMN last_verify_wrong bigint;

-- functions
CREATE FUNCTION hybridagg.verify(name text, range_start timestamptz DEFAULT '-infinity',
                                 range_end timestamptz DEFAULT 'infinity')
RETURNS TABLE (bucket timestamptz, groups bigint, served_wrong bigint, stored_wrong bigint, pending bigint)
AS 'MODULE_PATHNAME', 'hybridagg_verify'
LANGUAGE C;
COMMENT ON FUNCTION hybridagg.verify(text, timestamptz, timestamptz) IS
  'Recompute the buckets of a range from the base table and compare them with what the view serves and what is stored; one row per bucket that differs';

CREATE FUNCTION hybridagg.alter(
    name text,
    mode text DEFAULT NULL,
    seal_after interval DEFAULT NULL)
RETURNS regclass
AS 'MODULE_PATHNAME', 'hybridagg_alter'
LANGUAGE C;
COMMENT ON FUNCTION hybridagg.alter(text, text, interval) IS
  'Switch a live aggregate to another mode, or change its seal_after, keeping its history and its view; NULL keeps a setting as it is';

CREATE FUNCTION hybridagg.fold(name text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'hybridagg_fold'
LANGUAGE C;
COMMENT ON FUNCTION hybridagg.fold(text) IS
  'Streaming modes: fold the pending deltas into the stored groups now, as the worker does; returns the number of delta rows folded';

REVOKE ALL ON FUNCTION hybridagg_internal.capture() FROM PUBLIC;

DROP FUNCTION hybridagg_internal.dirty_groups(integer, regclass);
CREATE FUNCTION hybridagg_internal.dirty_groups(id integer, token bytea)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hybridagg_recompute_dirty_groups'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;

CREATE FUNCTION hybridagg_internal.least_of_step(anyelement, anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'hybridagg_least_of_step'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.greatest_of_step(anyelement, anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'hybridagg_greatest_of_step'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE hybridagg_internal.least_of(anyelement) (
    SFUNC = hybridagg_internal.least_of_step, STYPE = anyelement,
    COMBINEFUNC = hybridagg_internal.least_of_step, PARALLEL = SAFE);
CREATE AGGREGATE hybridagg_internal.greatest_of(anyelement) (
    SFUNC = hybridagg_internal.greatest_of_step, STYPE = anyelement,
    COMBINEFUNC = hybridagg_internal.greatest_of_step, PARALLEL = SAFE);
CREATE FUNCTION hybridagg_internal.any_value_step(anyelement, anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'hybridagg_any_value_step'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE hybridagg_internal.any_value(anyelement) (
    SFUNC = hybridagg_internal.any_value_step, STYPE = anyelement,
    COMBINEFUNC = hybridagg_internal.any_value_step, PARALLEL = SAFE);

-- first(value, time) and last(value, time): the value of the earliest and
-- of the latest row by time, ties broken by the value (first_last.c).
CREATE FUNCTION hybridagg_internal.first_transition(internal, anyelement, anycompatible)
RETURNS internal
AS 'MODULE_PATHNAME', 'hybridagg_first_transition'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.last_transition(internal, anyelement, anycompatible)
RETURNS internal
AS 'MODULE_PATHNAME', 'hybridagg_last_transition'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.first_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hybridagg_first_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.last_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hybridagg_last_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.first_last_final(internal, anyelement, anycompatible)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'hybridagg_first_last_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.first_last_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'hybridagg_first_last_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.first_last_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hybridagg_first_last_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION hybridagg_internal.first_transition(internal, anyelement, anycompatible),
    hybridagg_internal.last_transition(internal, anyelement, anycompatible),
    hybridagg_internal.first_combine(internal, internal),
    hybridagg_internal.last_combine(internal, internal),
    hybridagg_internal.first_last_final(internal, anyelement, anycompatible),
    hybridagg_internal.first_last_serialize(internal),
    hybridagg_internal.first_last_deserialize(bytea, internal) FROM PUBLIC;
CREATE AGGREGATE hybridagg.first(anyelement, anycompatible) (
    SFUNC = hybridagg_internal.first_transition, STYPE = internal,
    FINALFUNC = hybridagg_internal.first_last_final, FINALFUNC_EXTRA,
    COMBINEFUNC = hybridagg_internal.first_combine,
    SERIALFUNC = hybridagg_internal.first_last_serialize,
    DESERIALFUNC = hybridagg_internal.first_last_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE hybridagg.last(anyelement, anycompatible) (
    SFUNC = hybridagg_internal.last_transition, STYPE = internal,
    FINALFUNC = hybridagg_internal.first_last_final, FINALFUNC_EXTRA,
    COMBINEFUNC = hybridagg_internal.last_combine,
    SERIALFUNC = hybridagg_internal.first_last_serialize,
    DESERIALFUNC = hybridagg_internal.first_last_deserialize, PARALLEL = SAFE);

DROP FUNCTION hybridagg_internal.table_counts(integer);
CREATE FUNCTION hybridagg_internal.aggregate_status(
    id integer,
    OUT history_rows bigint,
    OUT recent_rows bigint,
    OUT pending_deltas bigint,
    OUT dirty_groups bigint,
    OUT capture text)
AS 'MODULE_PATHNAME', 'hybridagg_aggregate_status'
LANGUAGE C STRICT STABLE;

REVOKE ALL ON FUNCTION hybridagg_internal.forget_dropped_views() FROM PUBLIC;
ALTER EVENT TRIGGER hybridagg_forget_dropped_views ENABLE ALWAYS;

DROP EVENT TRIGGER hybridagg_capture_partitions;
DROP FUNCTION hybridagg_internal.capture_partitions();
CREATE FUNCTION hybridagg_internal.base_table_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'hybridagg_base_table_ddl'
LANGUAGE C;
REVOKE ALL ON FUNCTION hybridagg_internal.base_table_ddl() FROM PUBLIC;
CREATE EVENT TRIGGER hybridagg_base_table_ddl ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'ALTER VIEW')
  EXECUTE FUNCTION hybridagg_internal.base_table_ddl();
ALTER EVENT TRIGGER hybridagg_base_table_ddl ENABLE ALWAYS;

CREATE FUNCTION hybridagg_internal.base_table_ddl_start()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'hybridagg_base_table_ddl_start'
LANGUAGE C;
REVOKE ALL ON FUNCTION hybridagg_internal.base_table_ddl_start() FROM PUBLIC;
CREATE EVENT TRIGGER hybridagg_base_table_ddl_start ON ddl_command_start
  WHEN TAG IN ('ALTER TABLE')
  EXECUTE FUNCTION hybridagg_internal.base_table_ddl_start();
ALTER EVENT TRIGGER hybridagg_base_table_ddl_start ENABLE ALWAYS;

CREATE FUNCTION hybridagg_internal.internal_objects_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'hybridagg_internal_objects_ddl'
LANGUAGE C;
REVOKE ALL ON FUNCTION hybridagg_internal.internal_objects_ddl() FROM PUBLIC;
CREATE EVENT TRIGGER hybridagg_internal_objects_ddl ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE VIEW', 'ALTER VIEW',
               'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE', 'CREATE INDEX',
               'ALTER INDEX', 'CREATE TRIGGER', 'ALTER TRIGGER', 'CREATE RULE',
               'ALTER RULE', 'CREATE POLICY', 'ALTER POLICY')
  EXECUTE FUNCTION hybridagg_internal.internal_objects_ddl();
ALTER EVENT TRIGGER hybridagg_internal_objects_ddl ENABLE ALWAYS;

REVOKE ALL ON FUNCTION hybridagg_internal.request_worker() FROM PUBLIC;

-- The times hybridagg reads for a bucket of an aggregate: a diagnostic, and
-- what the tests check against PostgreSQL's own bucket functions.
CREATE FUNCTION hybridagg_internal.bucket_times(id integer, bucket anyelement,
                                                OUT first anyelement, OUT last anyelement)
AS 'MODULE_PATHNAME', 'hybridagg_bucket_times'
LANGUAGE C STRICT STABLE;
REVOKE ALL ON FUNCTION hybridagg_internal.bucket_times(integer, anyelement) FROM PUBLIC;

-- What the worker of this database is doing, read from shared memory:
-- running, starting, waiting for a worker slot, not started yet, disabled,
-- none on a standby, or not preloaded.
CREATE FUNCTION hybridagg_internal.worker_state()
RETURNS text
AS 'MODULE_PATHNAME', 'hybridagg_worker_state'
LANGUAGE C VOLATILE;

-- the status view
CREATE VIEW hybridagg.aggregates AS
SELECT a.view::text AS name,
       a.view,
       a.base_table,
       a.mode,
       a.seal_after,
       a.watermark,
       c.history_rows,
       c.recent_rows,
       c.pending_deltas,
       c.dirty_groups,
       c.capture,
       a.capture_interrupted_at,
       CASE WHEN a.mode <> 'batch' THEN hybridagg_internal.worker_state() END AS worker,
       s.batches,
       s.batch_groups,
       s.last_batch_at,
       s.last_batch_seconds,
       s.folds,
       s.folded_deltas,
       s.last_fold_at,
       s.last_fold_seconds,
       s.last_error,
       s.last_error_sqlstate,
       s.last_error_detail,
       s.last_error_at,
       s.last_verify_at,
       s.last_verify_groups,
       s.last_verify_wrong,
       v.relowner::regrole AS owner,
       a.created_at,
       a.definition,
       (SELECT count(*) FROM pg_catalog.pg_attribute t
         WHERE t.attrelid = pg_catalog.to_regclass(pg_catalog.format('hybridagg_internal.history_%s', a.id))
           AND t.attname OPERATOR(pg_catalog.~~) 'value\_%' AND NOT t.attisdropped)::integer AS recomputed_aggregates
  FROM hybridagg_internal.aggregate a
  JOIN pg_catalog.pg_class v ON v.oid = a.view
  LEFT JOIN hybridagg_internal.aggregate_stats s USING (id)
  CROSS JOIN LATERAL hybridagg_internal.aggregate_status(a.id) c;
GRANT SELECT ON hybridagg.aggregates TO PUBLIC;
COMMENT ON VIEW hybridagg.aggregates IS
  'hybridagg: one row per aggregate with its mode, watermark, table sizes, pending work, capture, worker, counters and last error';
