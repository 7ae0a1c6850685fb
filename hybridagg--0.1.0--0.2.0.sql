-- hybridagg 0.1.0 -> 0.2.0
--
-- The catalog loses the owner column (an aggregate's owner is its view's
-- owner) and gains watermark_time and capture_interrupted_at; internal
-- functions are no longer executable by PUBLIC; dirty_groups() takes the
-- aggregate's token; the status view reads counters and estimates instead
-- of counting rows; new: hybridagg.fold(), hybridagg.alter(), least_of and
-- greatest_of, the event triggers of base_table_ddl; integer buckets
-- (integer_width).  Aggregates created under 0.1.0 keep views and tables of
-- the 0.1.0 layout, which this version cannot serve: they must be dropped
-- before the update and created again after it.
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
    ADD COLUMN finals text[] NOT NULL DEFAULT '{}',
    ADD COLUMN integer_width bigint CHECK (integer_width >= 2),
    ALTER COLUMN bucket_width DROP NOT NULL,
    DROP CONSTRAINT aggregate_time_type_check,
    ADD CONSTRAINT aggregate_time_type_check CHECK (time_type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)),
    DROP CONSTRAINT aggregate_bucket_function_check,
    ADD CONSTRAINT aggregate_bucket_function_check CHECK (bucket_function IN ('date_bin', 'date_trunc', 'integer_truncate', 'integer_floor'));

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

CREATE FUNCTION hybridagg.reset_costs(name text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'hybridagg_reset_costs'
LANGUAGE C;
COMMENT ON FUNCTION hybridagg.reset_costs(text) IS
  'Start the cost counters of an aggregate (its owner), or of every aggregate of the database (a superuser), again from zero';

CREATE FUNCTION hybridagg.advise(name text, freshness interval DEFAULT NULL, growth numeric DEFAULT 1)
RETURNS TABLE (mode text, current boolean,
               write_us_per_row double precision, write_us_per_statement double precision,
               worker_seconds_per_hour double precision,
               batch_seconds_per_run double precision, batch_seconds_per_day double precision,
               view_ms_whole_range double precision, view_ms_last_hour double precision,
               stored_freshness interval, exactness text, storage_bytes bigint,
               fits boolean, limit_reached text, figures text,
               recommended boolean, reason text)
AS 'MODULE_PATHNAME', 'hybridagg_advise'
LANGUAGE C;
COMMENT ON FUNCTION hybridagg.advise(text, interval, numeric) IS
  'What each mode would cost this aggregate here (measured, sampled or estimated, as the figures column says), at growth times the data, and the mode to pick for the freshness asked';

REVOKE ALL ON FUNCTION hybridagg_internal.capture() FROM PUBLIC;

DROP FUNCTION hybridagg_internal.dirty_groups(integer, regclass);
CREATE FUNCTION hybridagg_internal.dirty_groups(id integer, token bytea)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hybridagg_recompute_dirty_groups'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
-- Branch B of a streaming aggregate's view: the groups of the buckets that
-- hold pending deltas, stored states and deltas combined, and the test that
-- keeps those buckets' stored groups out of branch A (pending_groups.c), in
-- the caller's snapshot, for whoever passes the aggregate's token.
CREATE FUNCTION hybridagg_internal.pending_groups(id integer, token bytea)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hybridagg_pending_groups'
LANGUAGE C STABLE PARALLEL SAFE ROWS 10;
CREATE FUNCTION hybridagg_internal.bucket_pending(id integer, token bytea, bucket anyelement)
RETURNS boolean
AS 'MODULE_PATHNAME', 'hybridagg_bucket_pending'
LANGUAGE C STABLE PARALLEL SAFE;

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
-- The value of a float or numeric sum or average from the sum of its
-- finite values and the counts of its NaN and infinities (nonfinite.c).
-- The views call it with the reader's rights: executable by PUBLIC, it
-- reads nothing but its arguments.
CREATE FUNCTION hybridagg_internal.nonfinite_or(finite anyelement, nan bigint, posinf bigint, neginf bigint)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'hybridagg_nonfinite_or'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.any_value_step(anyelement, anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'hybridagg_any_value_step'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE hybridagg_internal.any_value(anyelement) (
    SFUNC = hybridagg_internal.any_value_step, STYPE = anyelement,
    COMBINEFUNC = hybridagg_internal.any_value_step, PARALLEL = SAFE);

-- Aggregates kept as their own transition states, stored in their type's
-- binary send form and combined with the aggregate's own combine function,
-- under the aggregate's input collation (combined_states.c).  The views call final_value() with the reader's
-- rights; each function checks that the caller may execute the aggregate,
-- that it is one kept this way and that the arguments are of its types.
CREATE FUNCTION hybridagg_internal.partial_state_step(internal, regprocedure, VARIADIC "any")
RETURNS internal
AS 'MODULE_PATHNAME', 'hybridagg_partial_state_step'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.combine_states_step(internal, regprocedure, regcollation, bytea)
RETURNS internal
AS 'MODULE_PATHNAME', 'hybridagg_combine_states_step'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.state_final(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'hybridagg_state_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- in a parallel plan: the workers' states, serialized and combined
CREATE FUNCTION hybridagg_internal.wrapper_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hybridagg_wrapper_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.wrapper_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'hybridagg_wrapper_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.wrapper_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hybridagg_wrapper_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION hybridagg_internal.partial_state_step(internal, regprocedure, "any"),
    hybridagg_internal.combine_states_step(internal, regprocedure, regcollation, bytea),
    hybridagg_internal.state_final(internal),
    hybridagg_internal.wrapper_combine(internal, internal),
    hybridagg_internal.wrapper_serialize(internal),
    hybridagg_internal.wrapper_deserialize(bytea, internal) FROM PUBLIC;
CREATE AGGREGATE hybridagg_internal.partial_state(regprocedure, VARIADIC "any") (
    SFUNC = hybridagg_internal.partial_state_step, STYPE = internal,
    FINALFUNC = hybridagg_internal.state_final,
    COMBINEFUNC = hybridagg_internal.wrapper_combine,
    SERIALFUNC = hybridagg_internal.wrapper_serialize,
    DESERIALFUNC = hybridagg_internal.wrapper_deserialize, PARALLEL = SAFE);
CREATE AGGREGATE hybridagg_internal.combine_states(regprocedure, regcollation, bytea) (
    SFUNC = hybridagg_internal.combine_states_step, STYPE = internal,
    FINALFUNC = hybridagg_internal.state_final,
    COMBINEFUNC = hybridagg_internal.wrapper_combine,
    SERIALFUNC = hybridagg_internal.wrapper_serialize,
    DESERIALFUNC = hybridagg_internal.wrapper_deserialize, PARALLEL = SAFE);
CREATE FUNCTION hybridagg_internal.combine_two(regprocedure, regcollation, bytea, bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'hybridagg_combine_two'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION hybridagg_internal.final_value(regprocedure, regcollation, bytea, anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'hybridagg_final_value'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

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

-- The cost counters of an aggregate, kept in shared memory (costs.c), to
-- whoever may read its view (NULLs to others, and when nothing is counted).
CREATE FUNCTION hybridagg_internal.aggregate_costs(
    id integer,
    OUT capture_statements bigint,
    OUT capture_rows bigint,
    OUT capture_groups bigint,
    OUT capture_seconds double precision,
    OUT folds bigint,
    OUT fold_deltas bigint,
    OUT fold_seconds double precision,
    OUT batch_runs bigint,
    OUT batch_groups bigint,
    OUT batch_seconds double precision,
    OUT caught_up_at timestamptz,
    OUT since timestamptz)
AS 'MODULE_PATHNAME', 'hybridagg_aggregate_costs'
LANGUAGE C STRICT VOLATILE;

-- The planner's estimate of the base rows a batch view aggregates at every
-- query (at or above the watermark), to whoever may read the view.
CREATE FUNCTION hybridagg_internal.batch_tail_rows(id integer)
RETURNS bigint
AS 'MODULE_PATHNAME', 'hybridagg_batch_tail_rows'
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
       CASE WHEN a.integer_width IS NULL THEN a.seal_after END AS seal_after,
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
           AND t.attname OPERATOR(pg_catalog.~~) 'value\_%' AND NOT t.attisdropped)::integer AS recomputed_aggregates,
       (SELECT count(*) FROM pg_catalog.pg_attribute t
         WHERE t.attrelid = pg_catalog.to_regclass(pg_catalog.format('hybridagg_internal.history_%s', a.id))
           AND t.attname OPERATOR(pg_catalog.~~) 'state\_%' AND NOT t.attisdropped)::integer AS combined_aggregates,
       k.capture_statements,
       k.capture_rows,
       k.capture_groups,
       k.capture_seconds,
       k.folds AS fold_runs,
       k.fold_deltas,
       k.fold_seconds,
       k.batch_runs,
       k.batch_groups AS batch_run_groups,
       k.batch_seconds,
       CASE WHEN a.mode = 'batch' THEN
              CASE WHEN pg_catalog.isfinite(a.watermark_time)
                   THEN GREATEST(pg_catalog.now() OPERATOR(pg_catalog.-) a.watermark_time, interval '0') END
            WHEN c.pending_deltas = 0 THEN interval '0'
            ELSE pg_catalog.now() OPERATOR(pg_catalog.-) k.caught_up_at
       END AS freshness_lag,
       k.since AS costs_since,
       hybridagg_internal.batch_tail_rows(a.id) AS batch_tail_rows
  FROM hybridagg_internal.aggregate a
  JOIN pg_catalog.pg_class v ON v.oid = a.view
  LEFT JOIN hybridagg_internal.aggregate_stats s USING (id)
  CROSS JOIN LATERAL hybridagg_internal.aggregate_status(a.id) c
  CROSS JOIN LATERAL hybridagg_internal.aggregate_costs(a.id) k;
GRANT SELECT ON hybridagg.aggregates TO PUBLIC;
COMMENT ON VIEW hybridagg.aggregates IS
  'hybridagg: one row per aggregate with its mode, watermark, table sizes, pending work, capture, worker, counters and last error';
