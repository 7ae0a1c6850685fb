/*-------------------------------------------------------------------------
 * materialize.c
 *	  Batch materialization: hybridagg.materialize(), exact recompute of a
 *	  range of buckets, and sealing.
 *
 * hybridagg.materialize(name [, range_start, range_end]) is a procedure that
 * works in chunks of hybridagg.materialize_chunk and commits after each one,
 * so that its locks, its WAL and the work lost to a crash stay bounded.
 * Each chunk is one transaction that locks the aggregate, takes one snapshot,
 * and replaces its buckets by an exact recompute: there is no state carried
 * from one chunk to the next but the watermark in the catalog, so a second
 * caller waits for the lock and then simply continues from where the first
 * one left the watermark, and a crashed run is resumed by the next.
 * Called inside a transaction block (or from a function), it cannot commit:
 * it then does all chunks in the caller's transaction.
 *
 * Without a range it seals what is due: every complete bucket older than
 * seal_after.  How depends on the mode:
 *	 batch, lambda	recompute [watermark, limit) from the base table into
 *					history, chunk by chunk, moving the watermark each time
 *	 hybrid			move recent rows below the limit into history
 *	 streaming, kappa  fold the pending deltas now
 * The watermark never passes the limit, whatever range is asked for.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "fold.h"
#include "guc.h"
#include "layout.h"
#include "materialize.h"
#include "partitions.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_materialize);

/* ----------------------------------------------------------------
 * Exact recompute of a range
 * ----------------------------------------------------------------
 */

/* "col >= $1 AND col < $2", or "(col >= $1 OR col IS NULL)" up to +infinity */
static char *
range_condition(const char *col, int64 hi)
{
	if (TIMESTAMP_IS_NOEND(hi))
		return psprintf("(%s >= $1 OR %s IS NULL)", col, col);
	return psprintf("%s >= $1 AND %s < $2", col, col);
}

/*
 * Recomputes the groups of [lo, hi) from the base table into the table of
 * kind.  The grouping is planned on its own (a MATERIALIZED CTE), so that the
 * planner hashes the rows: it estimates one group per row for a bucket
 * expression, and would otherwise sort every row to serve the ORDER BY.  The
 * groups are then inserted in key order, so that the unique index grows at
 * its right edge (2-3x faster than in hash order).
 *
 * This is maintenance work: the statement runs with work_mem raised to
 * maintenance_work_mem (if that is larger), so that a day of one-minute
 * groups of 100 devices (~50 MB of hash table) stays in memory with the
 * default 64 MB instead of spilling to disk.  As in any query, the hash
 * table may take hash_mem_multiplier times that, and the CTE's tuplestore
 * and the sort of the groups work_mem each.  The planner sizes the hash
 * table by its estimate of the groups, one per row for a bucket expression,
 * so a lower setting makes it partition the hash table to disk from the start.
 */
static int64
insert_recomputed(const AggregateEntry *entry, const AggLayout *layout,
				  const char *kind, int64 lo, int64 hi, Snapshot snap)
{
	Oid			types[2] = {entry->bucket.time_type, entry->bucket.time_type};
	Datum		values[2] = {Int64GetDatum(lo), Int64GetDatum(hi)};
	StringInfoData sql;
	int			nestlevel;
	int64		groups;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "WITH g AS MATERIALIZED (SELECT ");
	append_keys(&sql, layout, "s");
	appendStringInfoString(&sql, ", ");
	append_states_from_source(&sql, layout, "s");
	appendStringInfo(&sql, " FROM %s s WHERE %s GROUP BY ",
					 internal_qualname(OBJ_SOURCE, entry->id),
					 range_condition("s.__time", hi));
	append_keys(&sql, layout, "s");
	appendStringInfo(&sql, ") INSERT INTO %s (", internal_qualname(kind, entry->id));
	append_keys(&sql, layout, NULL);
	appendStringInfoString(&sql, ", ");
	append_states(&sql, layout, NULL);
	appendStringInfoString(&sql, ") SELECT * FROM g ORDER BY ");
	append_keys(&sql, layout, NULL);

	nestlevel = NewGUCNestLevel();
	if (maintenance_work_mem > work_mem)
		(void) set_config_option("work_mem", psprintf("%d", maintenance_work_mem),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	groups = spi_run_snapshot(sql.data, 2, types, values, NULL, snap, SPI_OK_INSERT);
	AtEOXact_GUC(true, nestlevel);
	return groups;
}

int64
recompute_range(const AggregateEntry *entry, const AggLayout *layout,
				int64 lo, int64 hi, Snapshot snap)
{
	bool		streaming = MODE_IS_STREAMING(entry->mode);
	Oid			types[2] = {entry->bucket.time_type, entry->bucket.time_type};
	Datum		values[2] = {Int64GetDatum(lo), Int64GetDatum(hi)};
	char	   *condition = range_condition("g1", hi);
	int64		split;
	int64		groups = 0;

	/* below split, buckets belong in history; at or above it, in recent */
	if (entry->mode == MODE_BATCH)
		split = DT_NOEND;
	else if (MODE_HAS_HISTORY(entry->mode))
		split = entry->watermark;
	else
		split = DT_NOBEGIN;

	if (streaming)
	{
		spi_run_snapshot(psprintf("DELETE FROM %s WHERE %s",
								  internal_qualname(OBJ_DELTA, entry->id), condition),
						 2, types, values, NULL, snap, SPI_OK_DELETE);
		spi_run_snapshot(psprintf("DELETE FROM %s WHERE %s",
								  internal_qualname(OBJ_RECENT, entry->id), condition),
						 2, types, values, NULL, snap, SPI_OK_DELETE);
	}
	spi_run_snapshot(psprintf("DELETE FROM %s WHERE %s",
							  internal_qualname(OBJ_HISTORY, entry->id), condition),
					 2, types, values, NULL, snap, SPI_OK_DELETE);

	if (lo < Min(hi, split))
	{
		int64		history_hi = Min(hi, split);

		ensure_partitions_for_source(entry, lo, history_hi, snap);
		groups += insert_recomputed(entry, layout, OBJ_HISTORY, lo, history_hi, snap);
	}
	if (streaming && Max(lo, split) < hi)
		groups += insert_recomputed(entry, layout, OBJ_RECENT, Max(lo, split), hi, snap);
	return groups;
}

/* ----------------------------------------------------------------
 * Sealing by moving (hybrid)
 * ----------------------------------------------------------------
 */

int64
seal_by_move(AggregateEntry *entry, const AggLayout *layout, int64 new_watermark,
			 Snapshot snap)
{
	Oid			type = entry->bucket.time_type;
	Datum		value = Int64GetDatum(new_watermark);
	char	   *recent = internal_qualname(OBJ_RECENT, entry->id);
	StringInfoData sql;
	int64		moved;

	ensure_partitions_for(entry, psprintf("SELECT DISTINCT g1 FROM %s WHERE g1 < $1", recent),
						  1, &type, &value, snap);

	initStringInfo(&sql);
	appendStringInfo(&sql, "WITH moved AS (DELETE FROM %s t WHERE t.g1 < $1 RETURNING t.*) "
					 "INSERT INTO %s (", recent, internal_qualname(OBJ_HISTORY, entry->id));
	append_keys(&sql, layout, NULL);
	appendStringInfoString(&sql, ", ");
	append_states(&sql, layout, NULL);
	appendStringInfoString(&sql, ") SELECT ");
	append_keys(&sql, layout, "m");
	appendStringInfoString(&sql, ", ");
	append_states(&sql, layout, "m");
	appendStringInfoString(&sql, " FROM moved m WHERE m.__rows > 0");
	moved = spi_run_snapshot(sql.data, 1, &type, &value, NULL, snap, SPI_OK_INSERT);

	catalog_set_watermark(entry->id, new_watermark);
	entry->watermark = new_watermark;
	return moved;
}

/* ----------------------------------------------------------------
 * The procedure
 * ----------------------------------------------------------------
 */

typedef struct MaterializeRun
{
	int32		id;
	const char *name;
	bool		has_range;
	int64		range_lo;		/* aligned to bucket boundaries */
	int64		range_hi;
	int64		next;			/* start of the next chunk of a range */
	int64		total_groups;
	int			chunks;
} MaterializeRun;

static int64
chunk_end(const AggregateEntry *entry, int64 start, int64 limit)
{
	int64		end;

	if (TIMESTAMP_NOT_FINITE(start))
		return limit;
	end = start + (int64) hybridagg_materialize_chunk * USECS_PER_MINUTE;
	if (!IS_VALID_TIMESTAMP(end))
		return limit;
	end = bucket_ceil(&entry->bucket, end);
	if (end <= start)
		end = bucket_end(&entry->bucket, start);
	return Min(end, limit);
}

/*
 * The first bucket at or after from that holds anything, in the base table
 * or in the aggregate's tables, or +infinity: chunks skip empty stretches.
 */
static int64
next_bucket_with_data(const AggregateEntry *entry, int64 from, Snapshot snap)
{
	Oid			type = entry->bucket.time_type;
	Datum		value = Int64GetDatum(from);
	StringInfoData sql;
	bool		isnull;
	Datum		first;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT LEAST((SELECT min(s.__time) FROM %s s WHERE s.__time >= $1), "
					 "(SELECT min(h.g1) FROM %s h WHERE h.g1 >= $1)",
					 internal_qualname(OBJ_SOURCE, entry->id),
					 internal_qualname(OBJ_HISTORY, entry->id));
	if (MODE_IS_STREAMING(entry->mode))
		appendStringInfo(&sql, ", (SELECT min(r.g1) FROM %s r WHERE r.g1 >= $1)"
						 ", (SELECT min(d.g1) FROM %s d WHERE d.g1 >= $1)",
						 internal_qualname(OBJ_RECENT, entry->id),
						 internal_qualname(OBJ_DELTA, entry->id));
	appendStringInfoChar(&sql, ')');
	spi_run_snapshot(sql.data, 1, &type, &value, NULL, snap, SPI_OK_SELECT);
	first = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return DT_NOEND;
	return Max(from, bucket_floor(&entry->bucket, DatumGetTimestamp(first)));
}

static void
report_chunk(const MaterializeRun *run, const AggregateEntry *entry,
			 const char *what, int64 lo, int64 hi, int64 groups, double seconds)
{
	ereport(NOTICE,
			(errmsg("%s: %s [%s, %s): %lld groups in %.3f s",
					run->name, what,
					time_literal(entry->bucket.time_type, lo),
					time_literal(entry->bucket.time_type, hi),
					(long long) groups, seconds)));
}

/*
 * One transaction's worth of work; returns true when nothing is left.
 */
static bool
materialize_step(MaterializeRun *run)
{
	AggregateEntry *entry = catalog_get(run->id, false);
	AggLayout  *layout;
	Snapshot	snap;
	int64		limit;
	int64		lo;
	int64		hi;
	int64		groups = 0;
	bool		done = false;
	const char *what = NULL;
	instr_time	start;
	instr_time	duration;

	INSTR_TIME_SET_CURRENT(start);
	lock_aggregate(entry);
	/* reread under the lock: another session may have moved the watermark */
	entry = catalog_get(run->id, false);
	layout = layout_read(entry->id);
	snap = mover_snapshot();
	limit = seal_limit(entry);

	if (run->has_range)
	{
		lo = next_bucket_with_data(entry, run->next, snap);
		hi = run->range_hi;
		if (entry->mode == MODE_BATCH)
			hi = Min(hi, limit);
		if (lo >= hi)
		{
			/* nothing left in the range; a batch watermark may cross it */
			if (entry->mode == MODE_BATCH && run->next <= entry->watermark &&
				entry->watermark < hi)
				catalog_set_watermark(entry->id, hi);
			done = true;
		}
		else
		{
			hi = chunk_end(entry, lo, hi);
			groups = recompute_range(entry, layout, lo, hi, snap);
			/* a batch watermark moves only over buckets now exact */
			if (entry->mode == MODE_BATCH && lo <= entry->watermark && entry->watermark < hi)
				catalog_set_watermark(entry->id, hi);
			run->next = hi;
			what = "recomputed buckets";
		}
	}
	else if (entry->mode == MODE_BATCH || entry->mode == MODE_LAMBDA)
	{
		lo = next_bucket_with_data(entry, entry->watermark, snap);
		if (lo >= limit)
		{
			if (entry->watermark < limit)
				catalog_set_watermark(entry->id, limit);
			done = true;
		}
		else
		{
			hi = chunk_end(entry, lo, limit);
			/* the chunk goes to history: move the watermark first */
			entry->watermark = hi;
			catalog_set_watermark(entry->id, hi);
			groups = recompute_range(entry, layout, lo, hi, snap);
			what = "sealed buckets";
		}
	}
	else if (entry->mode == MODE_HYBRID)
	{
		lo = entry->watermark;
		if (lo < limit)
		{
			hi = limit;
			groups = seal_by_move(entry, layout, limit, snap);
			what = "sealed buckets";
		}
		done = true;
	}
	else
	{
		/* streaming and kappa keep everything in recent: fold what is pending */
		groups = fold_aggregate(entry, layout, snap);
		ereport(NOTICE,
				(errmsg("%s: folded %lld pending deltas", run->name, (long long) groups)));
		done = true;
		lo = hi = 0;
	}

	UnregisterSnapshot(snap);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	if (what)
		report_chunk(run, entry, what, lo, hi, groups, INSTR_TIME_GET_DOUBLE(duration));
	if (groups > 0 || !done)
	{
		run->total_groups += groups;
		run->chunks++;
		stats_record_batch(entry->id, groups, INSTR_TIME_GET_DOUBLE(duration));
	}
	return done;
}

Datum
hybridagg_materialize(PG_FUNCTION_ARGS)
{
	bool		atomic = !(fcinfo->context && IsA(fcinfo->context, CallContext) &&
						   !castNode(CallContext, fcinfo->context)->atomic);
	MaterializeRun run = {0};
	AggregateEntry *entry;
	MemoryContext step_context;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name of the aggregate must not be NULL"),
				 errhint("CALL hybridagg.materialize('events_1m');")));
	if (PG_ARGISNULL(1) != PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("range_start and range_end must be given together"),
				 errhint("Pass both to recompute a range, or neither to seal what is due.")));
	require_primary("hybridagg.materialize()");
	require_read_committed("hybridagg.materialize()");

	run.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	entry = catalog_resolve(run.name);
	check_aggregate_owner(entry);
	run.id = entry->id;
	run.name = get_rel_name(entry->view_relid);

	if (!PG_ARGISNULL(1))
	{
		aggregate_range(entry, PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_TIMESTAMPTZ(2),
						&run.range_lo, &run.range_hi);
		run.has_range = true;
		run.next = run.range_lo;
	}

	SPI_connect_ext(atomic ? 0 : SPI_OPT_NONATOMIC);
	step_context = AllocSetContextCreate(CurrentMemoryContext,
										 "hybridagg materialize step",
										 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		int			nestlevel = fix_settings(false);
		MemoryContext outer = MemoryContextSwitchTo(step_context);
		ActingAs	saved;
		bool		done;

		act_as(entry->owner, &saved);
		done = materialize_step(&run);
		act_as_restore(&saved);
		restore_settings(nestlevel);
		MemoryContextSwitchTo(outer);
		MemoryContextReset(step_context);
		if (done)
			break;
		if (!atomic)
			SPI_commit();
		CHECK_FOR_INTERRUPTS();
	}
	SPI_finish();

	if (run.chunks == 0)
		ereport(NOTICE,
				(errmsg("%s: nothing to materialize", run.name),
				 errdetail("Every complete bucket older than seal_after is already sealed.")));
	PG_RETURN_VOID();
}
