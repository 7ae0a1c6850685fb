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
 * one left the watermark, and a crashed run is resumed by the next.  A chunk
 * that needs a new history partition first makes it, in a transaction of its
 * own (see history_partitions.c).  Called inside a transaction block (or
 * from a function), it cannot commit: it then does all chunks in the
 * caller's transaction.
 *
 * Without a range it seals what is due: every complete bucket older than
 * seal_after.  How depends on the mode:
 *	 batch, lambda	recompute [watermark, limit) from the base table into
 *					history, chunk by chunk, moving the watermark each time
 *	 hybrid			move recent rows below the limit into history
 *	 streaming, kappa  fold the pending deltas now
 * The watermark never passes the limit, whatever range is asked for.
 *
 * Chunks are ranges of buckets; the base rows a chunk reads are the times of
 * its buckets (bucket.c), and only groups of its buckets are kept, so that a
 * zone whose buckets overlap in time never has a group computed from part of
 * its rows.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_inherits.h"
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

#include "capture_triggers.h"
#include "catalog.h"
#include "costs.h"
#include "export.h"
#include "fold.h"
#include "guc.h"
#include "history_partitions.h"
#include "layout.h"
#include "materialize.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_materialize);

/* ----------------------------------------------------------------
 * Ranges of buckets in SQL
 * ----------------------------------------------------------------
 */

char *
bucket_range_condition(const char *col, int64 hi, int param)
{
	if (TIMESTAMP_IS_NOEND(hi))
		return psprintf("(%s >= $%d OR %s IS NULL)", col, param, col);
	return psprintf("(%s >= $%d AND %s < $%d)", col, param, col, param + 1);
}

char *
time_range_condition(const char *col, int64 hi, int param)
{
	if (TIMESTAMP_IS_NOEND(hi))
		return psprintf("(%s >= $%d OR %s IS NULL)", col, param, col);
	return psprintf("(%s >= $%d AND %s <= $%d)", col, param, col, param + 1);
}

void
delete_buckets(const AggregateEntry *entry, int64 lo, int64 hi, Snapshot snap)
{
	Oid			types[2] = {
		bucket_value_type(&entry->bucket), bucket_value_type(&entry->bucket)
	};
	Datum		values[2] = {Int64GetDatum(lo), Int64GetDatum(hi)};
	const char *kinds[] = {OBJ_DELTA, OBJ_RECENT, OBJ_HISTORY};
	char	   *condition = bucket_range_condition("g1", hi, 1);

	for (int i = MODE_IS_STREAMING(entry->mode) ? 0 : 2; i < lengthof(kinds);
		 i++)
		spi_run_snapshot(psprintf("DELETE FROM %s WHERE %s",
								  internal_qualname(kinds[i], entry->id),
								  condition),
						 2, types, values, NULL, snap, SPI_OK_DELETE);
}

/* ----------------------------------------------------------------
 * Exact recompute of a range
 * ----------------------------------------------------------------
 */

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
	Oid			types[4];
	Datum		values[4];
	TimeRange	times;
	StringInfoData sql;
	int			nestlevel;
	int64		groups;

	if (!bucket_range_times(&entry->bucket, lo, hi, &times))
		return 0;
	types[0] = types[1] = types[2] = types[3] =
		bucket_value_type(&entry->bucket);
	values[0] = Int64GetDatum(lo);
	values[1] = Int64GetDatum(hi);
	values[2] = Int64GetDatum(times.first);
	values[3] = Int64GetDatum(times.last);

	initStringInfo(&sql);
	appendStringInfoString(&sql, "WITH g AS MATERIALIZED (SELECT ");
	append_keys(&sql, layout, "s");
	appendStringInfoString(&sql, ", ");
	append_states_from_source(&sql, layout, "s");
	appendStringInfo(&sql, " FROM %s s WHERE %s AND %s GROUP BY ",
					 internal_qualname(OBJ_SOURCE, entry->id),
					 time_range_condition("s.__time", hi, 3),
					 bucket_range_condition("s.g1", hi, 1));
	append_keys(&sql, layout, "s");
	appendStringInfo(&sql, ") INSERT INTO %s (",
					 internal_qualname(kind, entry->id));
	append_keys(&sql, layout, NULL);
	appendStringInfoString(&sql, ", ");
	append_states(&sql, layout, NULL);
	appendStringInfoString(&sql, ") SELECT * FROM g ORDER BY ");
	append_keys(&sql, layout, NULL);

	nestlevel = NewGUCNestLevel();
	if (maintenance_work_mem > work_mem)
		(void) set_config_option("work_mem",
								 psprintf("%d", maintenance_work_mem),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	groups = spi_run_snapshot(sql.data, 4, types, values, NULL, snap,
							  SPI_OK_INSERT);
	AtEOXact_GUC(false, nestlevel);
	return groups;
}

/* below split, buckets belong in history; at or above it, in recent */
static int64
history_split(const AggregateEntry *entry)
{
	if (entry->mode == MODE_BATCH)
		return DT_NOEND;
	/* -infinity unless sealed, or kept from another mode (alter.c) */
	return entry->watermark;
}

int64
recompute_range(const AggregateEntry *entry, const AggLayout *layout,
				int64 lo, int64 hi, Snapshot snap)
{
	int64		split = history_split(entry);
	int64		groups = 0;

	delete_buckets(entry, lo, hi, snap);
	if (lo < Min(hi, split))
	{
		int64		history_hi = Min(hi, split);

		history_partitions_for_range(entry, layout, lo, history_hi);
		groups += insert_recomputed(entry, layout, OBJ_HISTORY, lo, history_hi,
									snap);
	}
	if (MODE_IS_STREAMING(entry->mode) && Max(lo, split) <= hi &&
		(Max(lo, split) < hi || TIMESTAMP_IS_NOEND(hi)))
		groups += insert_recomputed(entry, layout, OBJ_RECENT, Max(lo, split),
									hi, snap);
	return groups;
}

/* ----------------------------------------------------------------
 * Chunks
 * ----------------------------------------------------------------
 */

/*
 * The end of the chunk that starts at bucket start: a materialize_chunk of
 * buckets later, at least one bucket, at most limit.  The bucket of
 * -infinity is a chunk of its own.
 */
static int64
chunk_end(const AggregateEntry *entry, int64 start, int64 limit)
{
	int64		end;

	if (TIMESTAMP_IS_NOBEGIN(start))
		return Min(bucket_next(&entry->bucket, start), limit);
	if (TIMESTAMP_IS_NOEND(start))
		return limit;
	end = start + (int64) hybridagg_materialize_chunk * USECS_PER_MINUTE;
	end = IS_VALID_TIMESTAMP(end) ? bucket_ceil(&entry->bucket, end) : DT_NOEND;
	if (end <= start)
		end = bucket_next(&entry->bucket, start);
	return Min(end, limit);
}

/*
 * The first bucket at or after from that holds anything, in the base table
 * or in the aggregate's tables, or +infinity: chunks skip empty stretches.
 */
static int64
next_bucket_with_data(const AggregateEntry *entry, int64 from, Snapshot snap)
{
	Oid			types[2] = {
		bucket_value_type(&entry->bucket), bucket_value_type(&entry->bucket)
	};
	Datum		values[2];
	TimeRange	above;
	StringInfoData sql;
	bool		time_null;
	bool		bucket_null;
	int64		first = DT_NOEND;

	if (!bucket_range_times(&entry->bucket, from, DT_NOEND, &above))
		return DT_NOEND;
	values[0] = Int64GetDatum(from);
	values[1] = Int64GetDatum(above.first);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT (SELECT min(s.__time) FROM %s s "
					 "WHERE s.__time >= $2), "
					 "LEAST((SELECT min(h.g1) FROM %s h WHERE h.g1 >= $1)",
					 internal_qualname(OBJ_SOURCE, entry->id),
					 internal_qualname(OBJ_HISTORY, entry->id));
	if (MODE_IS_STREAMING(entry->mode))
		appendStringInfo(&sql, ", (SELECT min(r.g1) FROM %s r WHERE r.g1 >= $1)"
						 ", (SELECT min(d.g1) FROM %s d WHERE d.g1 >= $1)",
						 internal_qualname(OBJ_RECENT, entry->id),
						 internal_qualname(OBJ_DELTA, entry->id));
	appendStringInfoChar(&sql, ')');
	spi_run_snapshot(sql.data, 2, types, values, NULL, snap, SPI_OK_SELECT);
	{
		Datum		time = SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &time_null);
		Datum		bucket = SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 2,
										   &bucket_null);

		if (!time_null)
			first = bucket_floor(&entry->bucket, DatumGetTimestamp(time));
		if (!bucket_null)
			first = Min(first, DatumGetTimestamp(bucket));
	}
	return Max(from, first);
}

int64
recompute_all(const AggregateEntry *entry, const AggLayout *layout,
			  int64 lo, int64 hi, Snapshot snap)
{
	int64		groups = 0;
	int64		next = lo;

	for (;;)
	{
		int64		start = next_bucket_with_data(entry, next, snap);
		int64		end;

		if (start >= hi || TIMESTAMP_IS_NOEND(start))
			break;
		end = chunk_end(entry, start, hi);
		groups += recompute_range(entry, layout, start, end, snap);
		next = end;
		CHECK_FOR_INTERRUPTS();
	}
	/* the buckets of +infinity and of no time at all */
	if (TIMESTAMP_IS_NOEND(hi))
		groups += recompute_range(entry, layout, DT_NOEND, DT_NOEND, snap);
	return groups;
}

/* ----------------------------------------------------------------
 * Sealing by moving (hybrid)
 * ----------------------------------------------------------------
 */

int64
seal_by_move(AggregateEntry *entry, const AggLayout *layout,
			 int64 new_watermark, Snapshot snap, PartitionWait wait)
{
	int64		moved = move_recent_to_history(entry, layout, new_watermark,
											   snap, wait);

	/* groups whose partition could not be made now stay in recent */
	catalog_set_watermark(entry, new_watermark);
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
	bool		atomic;			/* cannot commit between chunks */
	bool		has_range;
	int64		range_lo;		/* aligned to bucket boundaries */
	int64		range_hi;
	int64		next;			/* start of the next chunk of a range */
	bool		top_done;		/* the +infinity and NULL buckets of a range
								 * up to +infinity */
	int64		total_groups;
	int			chunks;
} MaterializeRun;

static void
report_chunk(const MaterializeRun *run, const AggregateEntry *entry,
			 const char *what, int64 lo, int64 hi, int64 groups, double seconds)
{
	if (TIMESTAMP_IS_NOEND(lo))
		ereport(NOTICE,
				(errmsg("%s: %s of +infinity and of no time: %lld groups in %.3f s",
						run->name, what, (long long) groups, seconds)));
	else
		ereport(NOTICE,
				(errmsg("%s: %s [%s, %s): %lld groups in %.3f s",
						run->name, what,
						time_literal(entry->bucket.time_type, lo),
						time_literal(entry->bucket.time_type, hi),
						(long long) groups, seconds)));
}

/*
 * Outside a transaction block, a chunk whose buckets [lo, history_hi) go to
 * history and miss partitions makes them and commits first: the chunk is
 * then done in the next step.
 */
static bool
partitions_first(MaterializeRun *run, const AggregateEntry *entry,
				 const AggLayout *layout, int64 lo, int64 history_hi)
{
	if (run->atomic || lo >= history_hi ||
		!history_partitions_missing(entry, lo, history_hi))
		return false;
	history_partitions_for_range(entry, layout, lo, history_hi);
	return true;
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
	int64		lo = 0;
	int64		hi = 0;
	int64		groups = 0;
	bool		done = false;
	const char *what = NULL;
	instr_time	start;
	instr_time	duration;
	ActingAs	saved;

	INSTR_TIME_SET_CURRENT(start);
	lock_aggregate(entry);
	/* reread under the lock: another session may have moved the watermark */
	entry = catalog_reread(entry, run->name);
	act_as(entry->owner, &saved);
	layout = layout_read(entry->id);
	snap = mover_snapshot();
	limit = seal_limit(entry);

	if (run->has_range)
	{
		lo = next_bucket_with_data(entry, run->next, snap);
		hi = run->range_hi;
		if (entry->mode == MODE_BATCH)
			hi = Min(hi, limit);
		if (lo >= hi || TIMESTAMP_IS_NOEND(lo))
		{
			/*
			 * nothing finite left in the range; a batch watermark may cross
			 * it
			 */
			if (entry->mode == MODE_BATCH && run->next <= entry->watermark &&
				entry->watermark < hi)
				catalog_set_watermark(entry, hi);
			if (TIMESTAMP_IS_NOEND(hi) && !run->top_done)
			{
				lo = hi = DT_NOEND;
				groups = recompute_range(entry, layout, lo, hi, snap);
				run->top_done = true;
				what = "recomputed the buckets";
			}
			done = true;
		}
		else
		{
			hi = chunk_end(entry, lo, hi);
			if (!partitions_first(run, entry, layout, lo,
								  Min(hi, history_split(entry))))
			{
				groups = recompute_range(entry, layout, lo, hi, snap);
				/* a batch watermark moves only over buckets now exact */
				if (entry->mode == MODE_BATCH && lo <= entry->watermark &&
					entry->watermark < hi)
					catalog_set_watermark(entry, hi);
				run->next = hi;
				what = "recomputed buckets";
			}
		}
	}
	else if (entry->mode == MODE_BATCH || entry->mode == MODE_LAMBDA)
	{
		lo = next_bucket_with_data(entry, entry->watermark, snap);
		if (lo >= limit)
		{
			if (entry->watermark < limit)
				catalog_set_watermark(entry, limit);
			done = true;
		}
		else
		{
			hi = chunk_end(entry, lo, limit);
			/* the chunk goes to history */
			if (!partitions_first(run, entry, layout, lo, hi))
			{
				/* move the watermark first, which makes the split */
				catalog_set_watermark(entry, hi);
				groups = recompute_range(entry, layout, lo, hi, snap);
				what = "sealed buckets";
			}
		}
	}
	else if (entry->mode == MODE_HYBRID)
	{
		lo = entry->watermark;
		if (lo < limit)
		{
			hi = limit;
			groups = seal_by_move(entry, layout, limit, snap, PARTITION_WAIT);
			what = "sealed buckets";
		}
		done = true;
	}
	else
	{
		/*
		 * streaming and kappa keep everything in recent: fold what is pending
		 */
		groups = fold_aggregate(entry, layout, snap, PARTITION_WAIT);
		ereport(NOTICE,
				(errmsg("%s: folded %lld pending deltas", run->name,
						(long long) groups)));
		done = true;
	}

	UnregisterSnapshot(snap);
	act_as_restore(&saved);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	if (what)
		report_chunk(run, entry, what, lo, hi, groups,
					 INSTR_TIME_GET_DOUBLE(duration));
	if (what && (groups > 0 || !done))
	{
		run->total_groups += groups;
		run->chunks++;
		stats_record_batch(entry->id, groups, INSTR_TIME_GET_DOUBLE(duration));
	}
	return done;
}

/*
 * After a recompute of everything, a capture interrupted before it began
 * (capture triggers disabled for a while) has been made good, if the
 * triggers fire again on every table of the tree.
 */
static void
forget_capture_interrupted(int32 id, TimestampTz started)
{
	int			nestlevel = fix_settings(SETTINGS_SQL);
	AggregateEntry *entry = catalog_get(id, false);
	bool		capturing = MODE_IS_STREAMING(entry->mode);
	ListCell   *lc;

	if (capturing)
	{
		foreach(lc, find_all_inheritors(entry->base_relid, AccessShareLock,
										NULL))
		{
			capturing &= capture_triggers_complete(entry, lfirst_oid(lc)) &&
				capture_trigger_state(id, lfirst_oid(lc)) ==
				TRIGGER_FIRES_ALWAYS;
		}
	}
	if (capturing)
		catalog_clear_capture_interrupted(id, started);
	restore_settings(nestlevel);
}

Datum
hybridagg_materialize(PG_FUNCTION_ARGS)
{
	bool		atomic = !(fcinfo->context &&
						   IsA(fcinfo->context, CallContext) &&
						   !castNode(CallContext, fcinfo->context)->atomic);
	MaterializeRun run = {0};
	AggregateEntry *entry;
	MemoryContext step_context;
	int			nestlevel;
	TimestampTz started;
	instr_time	run_start;
	instr_time	run_time;

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

	started = GetCurrentTimestamp();
	run.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	entry = catalog_resolve(run.name);
	check_aggregate_owner(entry);
	run.id = entry->id;
	run.name = get_rel_name(entry->view_relid);
	run.atomic = atomic;

	if (!PG_ARGISNULL(1))
	{
		aggregate_range(entry, PG_GETARG_TIMESTAMPTZ(1),
						PG_GETARG_TIMESTAMPTZ(2), &run.range_lo,
						&run.range_hi);
		run.has_range = true;
		run.next = run.range_lo;
	}

	INSTR_TIME_SET_CURRENT(run_start);
	SPI_connect_ext(atomic ? 0 : SPI_OPT_NONATOMIC);
	step_context = AllocSetContextCreate(CurrentMemoryContext,
										 "hybridagg materialize step",
										 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		MemoryContext outer;
		bool		done;

		nestlevel = fix_settings(SETTINGS_SQL);
		outer = MemoryContextSwitchTo(step_context);
		done = materialize_step(&run);
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
	INSTR_TIME_SET_CURRENT(run_time);
	INSTR_TIME_SUBTRACT(run_time, run_start);
	if (run.chunks > 0)
		costs_note_batch(run.id, entry->view_relid, run.total_groups,
						 run_time);

	if (run.has_range && TIMESTAMP_IS_NOBEGIN(run.range_lo) &&
		TIMESTAMP_IS_NOEND(run.range_hi))
		forget_capture_interrupted(run.id, started);
	if (run.chunks == 0)
		ereport(NOTICE,
				(errmsg("%s: nothing to materialize", run.name),
				 errdetail("Every complete bucket older than seal_after is already sealed.")));
	PG_RETURN_VOID();
}
