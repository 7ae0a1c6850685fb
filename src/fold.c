/*-------------------------------------------------------------------------
 * fold.c
 *	  Fold pending deltas into recent and history; replay base rows (Kappa).
 *
 * A fold is one statement: it deletes every delta its snapshot sees, groups
 * them, adds the non-dirty groups to the stored states (INSERT ... ON
 * CONFLICT DO UPDATE), and replaces the dirty groups by a recompute from the
 * base table through the same snapshot.  Reading and consuming in one
 * snapshot is what makes it exact (src/README.md, invariant 2): a delta of a
 * transaction the snapshot does not see is neither deleted nor reflected in
 * a recompute; it waits for the next fold.  Groups left with no rows are
 * deleted by a second statement in the same snapshot.
 *
 * Buckets below the watermark (late rows of the hybrid and lambda modes, or
 * of a streaming or kappa aggregate that was altered from another mode and
 * kept its history) go to history, the others to recent.
 * Groups of recent whose bucket is below
 * the watermark first move to history (move_recent_to_history, which
 * hybrid mode's sealing in materialize.c calls too), once their partition
 * exists; until then they stay in recent, and so do their deltas, so that
 * no group is ever in recent and in history at once (invariant 6).
 *
 * The worker's folds and fold() are counted in shared memory (costs.c), with
 * the time before their snapshot: nothing committed before it is pending.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "costs.h"
#include "dirty_groups.h"
#include "export.h"
#include "fold.h"
#include "materialize.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_reprocess);
PG_FUNCTION_INFO_V1(hybridagg_fold);

/* INSERT ... ON CONFLICT of rows of cte into kind, adding or replacing */
static void
append_upsert(StringInfo sql, const AggLayout *layout,
			  const AggregateEntry *entry, const char *name, const char *kind,
			  const char *cte, const char *side, bool replace)
{
	appendStringInfo(sql, ", %s AS (INSERT INTO %s AS t (", name,
					 internal_qualname(kind, entry->id));
	append_keys(sql, layout, NULL);
	appendStringInfoString(sql, ", ");
	append_states(sql, layout, NULL);
	appendStringInfoString(sql, ") SELECT ");
	append_keys(sql, layout, "g");
	appendStringInfoString(sql, ", ");
	append_states(sql, layout, "g");
	appendStringInfo(sql, " FROM %s g WHERE %s%s ON CONFLICT (", cte, side,
					 replace ? "" : " AND NOT g.__dirty");
	append_keys(sql, layout, NULL);
	appendStringInfoString(sql, ") DO UPDATE SET ");
	if (replace)
		append_states_replaced(sql, layout);
	else
		append_states_added(sql, layout, "t");
	appendStringInfoString(sql, " RETURNING t.g1, t.__rows)");
}

static void
delete_empty_groups(const AggregateEntry *entry, const char *kind,
					HeapTuple row, TupleDesc desc, int first_column,
					Snapshot snap)
{
	bool		lo_null;
	bool		hi_null;
	bool		null_null;
	Datum		values[3];
	Oid			types[3] = {
		bucket_value_type(&entry->bucket),
		bucket_value_type(&entry->bucket), BOOLOID
	};
	char		nulls[3] = {' ', ' ', ' '};

	values[0] = SPI_getbinval(row, desc, first_column, &lo_null);
	values[1] = SPI_getbinval(row, desc, first_column + 1, &hi_null);
	values[2] = SPI_getbinval(row, desc, first_column + 2, &null_null);
	if (lo_null && (null_null || !DatumGetBool(values[2])))
		return;					/* no group of this table lost its last row */
	nulls[0] = lo_null ? 'n' : ' ';
	nulls[1] = hi_null ? 'n' : ' ';
	if (null_null)
		values[2] = BoolGetDatum(false);
	spi_run_snapshot(psprintf("DELETE FROM %s WHERE __rows = 0 AND "
							  "(g1 BETWEEN $1 AND $2 OR ($3 AND g1 IS NULL))",
							  internal_qualname(kind, entry->id)),
					 3, types, values, nulls, snap, SPI_OK_DELETE);
}

/* an array of the time type holding a List of int64 pointers */
static Datum
bucket_array(const AggregateEntry *entry, List *buckets)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(buckets), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, buckets)
		elems[n++] = Int64GetDatum(*(int64 *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n,
										   bucket_value_type(&entry->bucket),
										   sizeof(int64), FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

/* the distinct buckets below below in the column g1 of sql's rows */
static void
buckets_below(const char *sql, const AggregateEntry *entry, int64 below,
			  Snapshot snap, int64 **buckets, int *n)
{
	Oid			type = bucket_value_type(&entry->bucket);
	Datum		value = Int64GetDatum(below);

	spi_run_snapshot(sql, 1, &type, &value, NULL, snap, SPI_OK_SELECT);
	*buckets = palloc(sizeof(int64) * Max(SPI_processed, 1));
	*n = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		bucket = SPI_getbinval(SPI_tuptable->vals[i],
										   SPI_tuptable->tupdesc, 1, &isnull);

		(*buckets)[(*n)++] = bucket_from_datum(&entry->bucket, bucket);
	}
}

int64
move_recent_to_history(const AggregateEntry *entry, const AggLayout *layout,
					   int64 below, Snapshot snap, PartitionWait wait)
{
	char	   *recent = internal_qualname(OBJ_RECENT, entry->id);
	int64	   *buckets;
	int			n;
	List	   *unplaced;
	Oid			types[2] = {
		bucket_value_type(&entry->bucket), bucket_array_type(&entry->bucket)
	};
	Datum		values[2];
	StringInfoData sql;

	buckets_below(psprintf("SELECT DISTINCT g1 FROM %s WHERE g1 < $1", recent),
				  entry, below, snap, &buckets, &n);
	if (n == 0)
		return 0;
	unplaced = history_partitions_for(entry, layout, buckets, n, wait);

	values[0] = Int64GetDatum(below);
	values[1] = bucket_array(entry, unplaced);
	initStringInfo(&sql);
	appendStringInfo(&sql, "WITH moved AS (DELETE FROM %s t "
					 "WHERE t.g1 < $1 AND NOT t.g1 = ANY($2)"
					 " RETURNING t.*) INSERT INTO %s (", recent,
					 internal_qualname(OBJ_HISTORY, entry->id));
	append_keys(&sql, layout, NULL);
	appendStringInfoString(&sql, ", ");
	append_states(&sql, layout, NULL);
	appendStringInfoString(&sql, ") SELECT ");
	append_keys(&sql, layout, "m");
	appendStringInfoString(&sql, ", ");
	append_states(&sql, layout, "m");
	appendStringInfoString(&sql, " FROM moved m WHERE m.__rows > 0");
	return spi_run_snapshot(sql.data, 2, types, values, NULL, snap,
							SPI_OK_INSERT);
}

int64
fold_aggregate(const AggregateEntry *entry, const AggLayout *layout,
			   Snapshot snap, PartitionWait wait)
{
	char	   *delta = internal_qualname(OBJ_DELTA, entry->id);

	/* a watermark above -infinity splits, whoever moved it (alter.c) */
	bool		has_history = !TIMESTAMP_IS_NOBEGIN(entry->watermark);
	int64		split = has_history ? entry->watermark : DT_NOBEGIN;
	const char *recent_side = "(g.g1 >= $1 OR g.g1 IS NULL OR g.g1 = ANY($2))";
	const char *history_side = "(g.g1 < $1 AND NOT g.g1 = ANY($2))";
	List	   *unplaced = NIL;
	DirtyBuckets pending;
	DirtyBuckets dirty;
	Oid			types[5];
	Datum		values[5];
	StringInfoData sql;
	HeapTuple	result;
	TupleDesc	desc;
	bool		isnull;
	int64		consumed;

	if (!delta_buckets(entry, snap, false, &pending))
		return 0;

	/*
	 * Groups below the watermark go to history, once their partition is
	 * there; those whose partition could not be made now wait in recent,
	 * which the view reads too, and move when it is made.
	 */
	if (has_history)
	{
		int64	   *below = palloc(sizeof(int64) * Max(pending.n, 1));
		int			n = 0;

		int64	   *stayed;
		int			nstayed;

		(void) move_recent_to_history(entry, layout, split, snap, wait);
		for (int i = 0; i < pending.n; i++)
			if (pending.buckets[i] < split)
				below[n++] = pending.buckets[i];
		unplaced = history_partitions_for(entry, layout, below, n, wait);

		/*
		 * Groups that could not move just now are still in recent: their
		 * deltas go there too, even if their partition has been made since,
		 * so that no group is ever in recent and in history at once.
		 */
		buckets_below(psprintf("SELECT DISTINCT g1 FROM %s WHERE g1 < $1",
							   internal_qualname(OBJ_RECENT, entry->id)),
					  entry, split, snap, &stayed, &nstayed);
		for (int i = 0; i < nstayed; i++)
		{
			int64	   *copy = palloc(sizeof(int64));

			*copy = stayed[i];
			unplaced = lappend(unplaced, copy);
		}
	}

	types[0] = bucket_value_type(&entry->bucket);
	values[0] = Int64GetDatum(split);
	types[1] = bucket_array_type(&entry->bucket);
	values[1] = bucket_array(entry, unplaced);
	if (!layout->deletes_dirty || !delta_buckets(entry, snap, true, &dirty))
	{
		/* no dirty buckets (pg_bsd_indent cannot format a compound literal) */
		dirty.buckets = NULL;
		dirty.n = 0;
		dirty.null_bucket = false;
	}
	dirty_ranges_params(entry, &dirty, &types[2], &values[2]);

	initStringInfo(&sql);
	appendStringInfo(&sql, "WITH consumed AS (DELETE FROM %s d RETURNING d.*), "
					 "grouped AS (SELECT ", delta);
	append_keys(&sql, layout, "c");
	appendStringInfoString(&sql, ", ");
	append_states_combined(&sql, layout, "c");
	appendStringInfoString(&sql, ", bool_or(c.__dirty) AS __dirty "
						   "FROM consumed c GROUP BY ");
	append_keys(&sql, layout, "c");
	appendStringInfoChar(&sql, ')');
	if (layout->deletes_dirty)
	{
		/*
		 * the dirty groups' exact states; a group left with no rows gets
		 * zeros
		 */
		appendStringInfoString(&sql, ", recomputed AS (");
		append_dirty_recompute(&sql, layout, entry->id,
							   "grouped d WHERE d.__dirty", true, 3);
		appendStringInfoChar(&sql, ')');
	}
	append_upsert(&sql, layout, entry, "recent_added", OBJ_RECENT, "grouped",
				  recent_side, false);
	if (layout->deletes_dirty)
		append_upsert(&sql, layout, entry, "recent_replaced", OBJ_RECENT,
					  "recomputed", recent_side, true);
	if (has_history)
	{
		append_upsert(&sql, layout, entry, "history_added", OBJ_HISTORY,
					  "grouped", history_side, false);
		if (layout->deletes_dirty)
			append_upsert(&sql, layout, entry, "history_replaced", OBJ_HISTORY,
						  "recomputed", history_side, true);
	}

	/* consumed deltas, and the range of buckets of groups left empty */
	appendStringInfoString(&sql, ", touched AS (SELECT 'r' AS tab, g1, __rows "
						   "FROM recent_added");
	if (layout->deletes_dirty)
		appendStringInfoString(&sql, " UNION ALL SELECT 'r', g1, __rows "
							   "FROM recent_replaced");
	if (has_history)
	{
		appendStringInfoString(&sql, " UNION ALL SELECT 'h', g1, __rows "
							   "FROM history_added");
		if (layout->deletes_dirty)
			appendStringInfoString(&sql, " UNION ALL SELECT 'h', g1, __rows "
								   "FROM history_replaced");
	}
	appendStringInfoString(&sql, ") SELECT (SELECT count(*) FROM consumed)");
	for (int i = 0; i < 2; i++)
	{
		const char *tab = i == 0 ? "'r'" : "'h'";

		appendStringInfo(&sql,
						 ", min(g1) FILTER (WHERE tab = %s AND __rows = 0)"
						 ", max(g1) FILTER (WHERE tab = %s AND __rows = 0)"
						 ", bool_or(g1 IS NULL) "
						 "FILTER (WHERE tab = %s AND __rows = 0)",
						 tab, tab, tab);
	}
	appendStringInfoString(&sql, " FROM touched");

	spi_run_snapshot(sql.data, layout->deletes_dirty ? 5 : 2, types, values,
					 NULL, snap, SPI_OK_SELECT);
	result = SPI_copytuple(SPI_tuptable->vals[0]);
	desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	consumed = DatumGetInt64(SPI_getbinval(result, desc, 1, &isnull));

	delete_empty_groups(entry, OBJ_RECENT, result, desc, 2, snap);
	if (has_history)
		delete_empty_groups(entry, OBJ_HISTORY, result, desc, 5, snap);
	return consumed;
}

bool
fold_aggregate_by_id(int32 id, int64 *consumed)
{
	AggregateEntry *entry = catalog_get(id, true);
	AggLayout  *layout;
	Snapshot	snap;
	instr_time	start;
	instr_time	duration;
	TimestampTz looked_at;

	*consumed = 0;
	if (entry == NULL || !MODE_IS_STREAMING(entry->mode))
		return true;			/* dropped, or switched to batch */
	/* lock order: base table, aggregate, then delta (catalog.c) */
	if (!lock_aggregate_conditional(entry))
		return false;
	entry = catalog_get(id, true);
	if (entry == NULL || !MODE_IS_STREAMING(entry->mode))
		return true;
	looked_at = GetCurrentTimestamp();
	if (!delta_has_rows(id, false))
	{
		costs_note_caught_up(id, entry->view_relid, looked_at);
		return true;
	}
	INSTR_TIME_SET_CURRENT(start);
	layout = layout_read(id);
	looked_at = GetCurrentTimestamp();
	snap = mover_snapshot();
	*consumed = fold_aggregate(entry, layout, snap, PARTITION_TRY);
	UnregisterSnapshot(snap);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	costs_note_caught_up(id, entry->view_relid, looked_at);
	if (*consumed > 0)
	{
		stats_record_fold(id, *consumed, INSTR_TIME_GET_DOUBLE(duration));
		costs_note_fold(id, entry->view_relid, *consumed, duration);
	}
	return true;
}

/* ----------------------------------------------------------------
 * hybridagg.fold(): fold the pending deltas now
 * ----------------------------------------------------------------
 */

Datum
hybridagg_fold(PG_FUNCTION_ARGS)
{
	AggregateEntry *entry;
	AggLayout  *layout;
	Snapshot	snap;
	int			nestlevel;
	ActingAs	saved;
	int64		consumed;
	instr_time	start;
	instr_time	duration;
	TimestampTz looked_at;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name of the aggregate must not be NULL"),
				 errhint("SELECT hybridagg.fold('events_1m');")));
	require_primary("hybridagg.fold()");
	require_read_committed("hybridagg.fold()");
	entry = catalog_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	check_aggregate_owner(entry);
	if (!MODE_IS_STREAMING(entry->mode))
		PG_RETURN_INT64(0);		/* batch mode captures nothing to fold */

	INSTR_TIME_SET_CURRENT(start);
	nestlevel = fix_settings(SETTINGS_SQL);
	SPI_connect();
	lock_aggregate(entry);
	entry = catalog_reread(entry, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	act_as(entry->owner, &saved);
	layout = layout_read(entry->id);
	looked_at = GetCurrentTimestamp();
	snap = mover_snapshot();
	consumed = fold_aggregate(entry, layout, snap, PARTITION_WAIT);
	UnregisterSnapshot(snap);
	act_as_restore(&saved);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	costs_note_caught_up(entry->id, entry->view_relid, looked_at);
	if (consumed > 0)
	{
		stats_record_fold(entry->id, consumed,
						  INSTR_TIME_GET_DOUBLE(duration));
		costs_note_fold(entry->id, entry->view_relid, consumed, duration);
	}
	SPI_finish();
	restore_settings(nestlevel);
	PG_RETURN_INT64(consumed);
}

/* ----------------------------------------------------------------
 * hybridagg.reprocess(): Kappa's batch is a replay through the stream
 * ----------------------------------------------------------------
 */

Datum
hybridagg_reprocess(PG_FUNCTION_ARGS)
{
	AggregateEntry *entry;
	AggLayout  *layout;
	Snapshot	snap;
	int64		lo;
	int64		hi;
	TimeRange	times;
	Oid			types[4];
	Datum		values[4];
	StringInfoData sql;
	int			nestlevel;
	ActingAs	saved;
	int64		replayed = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("hybridagg.reprocess() needs a name, a range_start and a range_end"),
				 errhint("SELECT hybridagg.reprocess('events_1m', now() - interval '1 day', now());")));
	require_primary("hybridagg.reprocess()");
	require_read_committed("hybridagg.reprocess()");
	entry = catalog_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	check_aggregate_owner(entry);
	nestlevel = fix_settings(SETTINGS_SQL);
	if (!MODE_IS_STREAMING(entry->mode))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s is kept in batch mode and has no stream to replay through",
						get_rel_name(entry->view_relid)),
				 errhint("Use CALL hybridagg.materialize(name, range_start, range_end) to recompute a range.")));

	aggregate_range(entry, PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_TIMESTAMPTZ(2),
					&lo, &hi);

	SPI_connect();
	lock_aggregate(entry);
	entry = catalog_reread(entry, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	act_as(entry->owner, &saved);
	layout = layout_read(entry->id);
	snap = mover_snapshot();

	/* forget the range, then send its base rows down the stream again */
	delete_buckets(entry, lo, hi, snap);
	if (bucket_range_times(&entry->bucket, lo, hi, &times))
	{
		bool		isnull;

		types[0] = types[1] = types[2] = types[3] =
			bucket_value_type(&entry->bucket);
		values[0] = Int64GetDatum(lo);
		values[1] = Int64GetDatum(hi);
		values[2] = Int64GetDatum(times.first);
		values[3] = Int64GetDatum(times.last);
		initStringInfo(&sql);
		appendStringInfo(&sql, "WITH replay AS (INSERT INTO %s (",
						 internal_qualname(OBJ_DELTA, entry->id));
		append_keys(&sql, layout, NULL);
		appendStringInfoString(&sql, ", ");
		append_states(&sql, layout, NULL);
		appendStringInfoString(&sql, ", __dirty) SELECT ");
		append_keys(&sql, layout, "s");
		appendStringInfoString(&sql, ", ");
		append_states_from_source(&sql, layout, "s");
		/* a recomputed aggregate's group is recomputed by the fold again */
		appendStringInfo(&sql, ", %s FROM %s s WHERE %s AND %s GROUP BY ",
						 layout->changes_dirty ? "true" : "false",
						 internal_qualname(OBJ_SOURCE, entry->id),
						 time_range_condition("s.__time", hi, 3),
						 bucket_range_condition("s.g1", hi, 1));
		append_keys(&sql, layout, "s");
		appendStringInfoString(&sql, " RETURNING __rows) SELECT "
							   "COALESCE(sum(__rows), 0)::int8 FROM replay");
		spi_run_snapshot(sql.data, 4, types, values, NULL, snap, SPI_OK_SELECT);
		replayed = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1,
											   &isnull));
	}

	(void) fold_aggregate(entry, layout, snap, PARTITION_WAIT);
	UnregisterSnapshot(snap);
	act_as_restore(&saved);
	SPI_finish();
	restore_settings(nestlevel);

	PG_RETURN_INT64(replayed);
}
