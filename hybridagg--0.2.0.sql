-- hybridagg 0.2.0: install script
--
-- Public interface in schema hybridagg; everything an aggregate owns lives in
-- schema hybridagg_internal, named after the aggregate's id (source_<id>,
-- groups_<id>, history_<id>, recent_<id>, delta_<id>).  See README.md.

\echo Use "CREATE EXTENSION hybridagg" to load this file. \quit

-- Everyone may call the functions and read the status; the functions check
-- privileges on the tables involved themselves.
GRANT USAGE ON SCHEMA hybridagg TO PUBLIC;

CREATE SCHEMA hybridagg_internal;
COMMENT ON SCHEMA hybridagg_internal IS
  'hybridagg: internal tables and views of each aggregate; do not change them by hand';
GRANT USAGE ON SCHEMA hybridagg_internal TO PUBLIC;

------------------------------------------------------------------------------
-- Catalog
------------------------------------------------------------------------------

-- One row per aggregate: what it is and how it is kept.  Dumped by pg_dump.
CREATE TABLE hybridagg_internal.aggregate (
    id              integer PRIMARY KEY,
    view            regclass NOT NULL UNIQUE,
    base_table      regclass NOT NULL,
    owner           regrole NOT NULL,
    definition      text NOT NULL,
    mode            text NOT NULL
                    CHECK (mode IN ('batch', 'streaming', 'lambda', 'kappa', 'hybrid')),
    seal_after      interval NOT NULL CHECK (seal_after >= interval '0'),
    -- the bucket function, so that bucket boundaries can be computed without
    -- reparsing the definition
    time_type       regtype NOT NULL CHECK (time_type IN ('timestamptz'::regtype, 'timestamp'::regtype)),
    bucket_function text NOT NULL CHECK (bucket_function IN ('date_bin', 'date_trunc')),
    bucket_width    interval NOT NULL,
    bucket_unit     text,
    bucket_origin   timestamptz,
    bucket_zone     text,
    -- history holds buckets below the watermark, recent those at or above it;
    -- for timestamp (without time zone) buckets it is read as UTC
    watermark       timestamptz NOT NULL DEFAULT '-infinity',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE hybridagg_internal.aggregate_id_seq AS integer OWNED BY hybridagg_internal.aggregate.id;
SELECT pg_catalog.pg_extension_config_dump('hybridagg_internal.aggregate', '');
SELECT pg_catalog.pg_extension_config_dump('hybridagg_internal.aggregate_id_seq', '');
GRANT SELECT ON hybridagg_internal.aggregate TO PUBLIC;

-- Counters and the last error, one row per aggregate; runtime state, not dumped.
CREATE TABLE hybridagg_internal.aggregate_stats (
    id                  integer PRIMARY KEY
                        REFERENCES hybridagg_internal.aggregate (id) ON DELETE CASCADE,
    batches             bigint NOT NULL DEFAULT 0,
    batch_groups        bigint NOT NULL DEFAULT 0,
    last_batch_at       timestamptz,
    last_batch_seconds  double precision,
    folds               bigint NOT NULL DEFAULT 0,
    folded_deltas       bigint NOT NULL DEFAULT 0,
    last_fold_at        timestamptz,
    last_fold_seconds   double precision,
    last_error          text,
    last_error_at       timestamptz,
    last_error_sqlstate text,
    last_error_detail   text
) WITH (fillfactor = 50);
GRANT SELECT ON hybridagg_internal.aggregate_stats TO PUBLIC;

------------------------------------------------------------------------------
-- Functions and procedures
------------------------------------------------------------------------------

CREATE FUNCTION hybridagg.create(
    name text,
    query text,
    mode text DEFAULT 'hybrid',
    seal_after interval DEFAULT '1 hour',
    with_data boolean DEFAULT true)
RETURNS regclass
AS 'MODULE_PATHNAME', 'hybridagg_create'
LANGUAGE C;
COMMENT ON FUNCTION hybridagg.create(text, text, text, interval, boolean) IS
  'Define a time-bucketed aggregate from a GROUP BY query and return the view that serves it';

CREATE FUNCTION hybridagg.drop(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'hybridagg_drop'
LANGUAGE C;
COMMENT ON FUNCTION hybridagg.drop(text) IS
  'Drop an aggregate: its view, its capture triggers and all its internal tables';

CREATE PROCEDURE hybridagg.materialize(
    name text,
    range_start timestamptz DEFAULT NULL,
    range_end timestamptz DEFAULT NULL)
AS 'MODULE_PATHNAME', 'hybridagg_materialize'
LANGUAGE C;
COMMENT ON PROCEDURE hybridagg.materialize(text, timestamptz, timestamptz) IS
  'Batch: recompute [range_start, range_end) exactly from the base table, or, without a range, seal every complete bucket older than seal_after; commits between chunks';

CREATE FUNCTION hybridagg.reprocess(name text, range_start timestamptz, range_end timestamptz)
RETURNS bigint
AS 'MODULE_PATHNAME', 'hybridagg_reprocess'
LANGUAGE C;
COMMENT ON FUNCTION hybridagg.reprocess(text, timestamptz, timestamptz) IS
  'Kappa: replay the base rows of [range_start, range_end) through the streaming fold path; returns the number of rows replayed';

-- Capture trigger of the streaming modes (INSERT, UPDATE, DELETE, TRUNCATE).
CREATE FUNCTION hybridagg_internal.capture()
RETURNS trigger
AS 'MODULE_PATHNAME', 'hybridagg_capture'
LANGUAGE C;

-- Branch C of a streaming aggregate's view: its dirty groups, recomputed
-- from the base table in the caller's snapshot.  A fixed row estimate keeps
-- the view's plan from hanging on the statistics of the delta table.
CREATE FUNCTION hybridagg_internal.dirty_groups(id integer, source regclass)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'hybridagg_dirty_groups'
LANGUAGE C STRICT STABLE PARALLEL SAFE ROWS 10;

-- Exact row counts of an aggregate's tables, read as the aggregate's owner.
CREATE FUNCTION hybridagg_internal.table_counts(
    id integer,
    OUT history_rows bigint,
    OUT recent_rows bigint,
    OUT pending_deltas bigint,
    OUT dirty_groups bigint)
AS 'MODULE_PATHNAME', 'hybridagg_table_counts'
LANGUAGE C STRICT STABLE;

-- Run by the event trigger below: forget aggregates whose view was dropped
-- with DROP VIEW or by a cascade from the base table.
CREATE FUNCTION hybridagg_internal.forget_dropped_views()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'hybridagg_forget_dropped_views'
LANGUAGE C;

CREATE EVENT TRIGGER hybridagg_forget_dropped_views ON sql_drop
  EXECUTE FUNCTION hybridagg_internal.forget_dropped_views();

-- Run at the end of CREATE TABLE and ALTER TABLE: partitions created,
-- attached or detached under a streaming aggregate's base table get or lose
-- the capture triggers, and their rows are added or subtracted.
CREATE FUNCTION hybridagg_internal.capture_partitions()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'hybridagg_capture_partitions'
LANGUAGE C;

CREATE EVENT TRIGGER hybridagg_capture_partitions ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
  EXECUTE FUNCTION hybridagg_internal.capture_partitions();

-- Ask the launcher for a worker in this database (a no-op when the library
-- is not preloaded).  Run now, so that a database restored by pg_restore, or
-- created with CREATE EXTENSION, gets its worker without waiting.
CREATE FUNCTION hybridagg_internal.request_worker()
RETURNS void
AS 'MODULE_PATHNAME', 'hybridagg_request_worker'
LANGUAGE C;
SELECT hybridagg_internal.request_worker();

------------------------------------------------------------------------------
-- Status
------------------------------------------------------------------------------

-- What the worker of this database is doing, read from shared memory:
-- running, starting, waiting for a worker slot, not started yet, disabled,
-- none on a standby, or not preloaded.
CREATE FUNCTION hybridagg_internal.worker_state()
RETURNS text
AS 'MODULE_PATHNAME', 'hybridagg_worker_state'
LANGUAGE C VOLATILE;

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
       s.batches,
       s.batch_groups,
       s.last_batch_at,
       s.last_batch_seconds,
       s.folds,
       s.folded_deltas,
       s.last_fold_at,
       s.last_fold_seconds,
       s.last_error,
       s.last_error_at,
       a.owner,
       a.created_at,
       a.definition,
       s.last_error_sqlstate,
       s.last_error_detail,
       CASE WHEN a.mode <> 'batch' THEN hybridagg_internal.worker_state() END AS worker
  FROM hybridagg_internal.aggregate a
  LEFT JOIN hybridagg_internal.aggregate_stats s USING (id)
  CROSS JOIN LATERAL hybridagg_internal.table_counts(a.id) c;
GRANT SELECT ON hybridagg.aggregates TO PUBLIC;
COMMENT ON VIEW hybridagg.aggregates IS
  'hybridagg: one row per aggregate with its mode, watermark, table sizes, pending work, counters, last error and worker';
