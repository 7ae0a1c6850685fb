/*-------------------------------------------------------------------------
 * status.c
 *	  What the hybridagg.aggregates view shows of each aggregate's tables.
 *
 * Cheap, and never in anyone's way: the stored groups are counted by the
 * cumulative statistics system (live tuples, as pg_stat_user_tables shows
 * them, summed over history's partitions; on a hot standby, which has no
 * statistics of the primary's writes, the planner's reltuples), not by
 * scanning history and recent; only the pending deltas and dirty groups are
 * counted exactly, in the reader's snapshot, from the delta table, which the
 * worker keeps small.  A table that is locked (a drop in progress) or
 * unreadable gives NULLs for its aggregate rather than an error for
 * everyone, and so does an aggregate whose view the reader may not read.
 * The base rows a batch view aggregates at every query (those at or above
 * the watermark) are the planner's estimate: planned, never counted.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "capture_triggers.h"
#include "catalog.h"
#include "dirty_groups.h"
#include "export.h"
#include "layout.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_table_counts);
PG_FUNCTION_INFO_V1(hybridagg_aggregate_status);
PG_FUNCTION_INFO_V1(hybridagg_batch_tail_rows);

#define STATUS_COLUMNS 5

/*
 * Live tuples of a table and its partitions, as the statistics count them.
 * A hot standby has no statistics of the primary's writes: there the count
 * is the planner's (pg_class.reltuples, as of the last VACUUM or ANALYZE),
 * or NULL if there is none yet.
 */
static bool
live_groups(Oid relid, int64 *total)
{
	bool		known = !RecoveryInProgress();
	ListCell   *lc;

	*total = 0;
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Oid			table = lfirst_oid(lc);

		if (!RecoveryInProgress())
		{
			PgStat_StatTabEntry *stats = pgstat_fetch_stat_tabentry(table);

			if (stats)
				*total += stats->n_live_tuples;
		}
		else if (get_rel_relkind(table) != RELKIND_PARTITIONED_TABLE)
		{
			HeapTuple	tuple = SearchSysCache1(RELOID,
												ObjectIdGetDatum(table));
			float4		reltuples;

			if (!HeapTupleIsValid(tuple))
				continue;
			reltuples = ((Form_pg_class) GETSTRUCT(tuple))->reltuples;
			ReleaseSysCache(tuple);
			if (reltuples >= 0)
			{
				*total += (int64) reltuples;
				known = true;
			}
		}
	}
	return known;
}

/* 'on', or how the capture triggers of a table in the tree are set instead */
static char *
capture_state(const AggregateEntry *entry)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(entry->base_relid, NoLock, NULL))
	{
		Oid			relid = lfirst_oid(lc);

		if (!capture_triggers_complete(entry, relid))
			return psprintf("missing on %s", get_rel_name(relid));
		switch (capture_trigger_state(entry->id, relid))
		{
			case TRIGGER_FIRES_ALWAYS:
				continue;
			case TRIGGER_DISABLED:
				return psprintf("disabled on %s", get_rel_name(relid));
			case TRIGGER_FIRES_ON_REPLICA:
				return psprintf("replica only on %s", get_rel_name(relid));
			default:
				return psprintf("origin only on %s", get_rel_name(relid));
		}
	}
	return pstrdup("on");
}

/* values outlive SPI: the capture text goes to the caller's context */
static void
fill_status(const AggregateEntry *entry, MemoryContext caller, Datum *values,
			bool *nulls)
{
	Oid			history = internal_relid(OBJ_HISTORY, entry->id, true);
	Oid			delta = internal_relid(OBJ_DELTA, entry->id, true);
	int64		groups;

	if (!OidIsValid(history))
		return;
	if (live_groups(history, &groups))
	{
		values[0] = Int64GetDatum(groups);
		nulls[0] = false;
	}
	if (!MODE_IS_STREAMING(entry->mode) || !OidIsValid(delta))
		return;
	if (live_groups(internal_relid(OBJ_RECENT, entry->id, false), &groups))
	{
		values[1] = Int64GetDatum(groups);
		nulls[1] = false;
	}
	{
		char	   *state = capture_state(entry);
		MemoryContext spi = MemoryContextSwitchTo(caller);

		values[4] = CStringGetTextDatum(state);
		nulls[4] = false;
		MemoryContextSwitchTo(spi);
	}
	/* a drop in progress holds the table: say nothing rather than wait */
	if (ConditionalLockRelationOid(delta, AccessShareLock))
	{
		char	   *sql = psprintf("SELECT count(*) FROM %s",
								   internal_qualname(OBJ_DELTA, entry->id));
		bool		isnull;

		spi_run(sql, SPI_OK_SELECT);
		values[2] = SPI_getbinval(SPI_tuptable->vals[0],
								  SPI_tuptable->tupdesc, 1, &isnull);
		nulls[2] = false;
		values[3] = Int64GetDatum(dirty_group_count(entry->id,
													layout_read(entry->id)));
		nulls[3] = false;
	}
}

/*
 * hybridagg_internal.aggregate_status(id): history_rows, recent_rows,
 * pending_deltas, dirty_groups, capture.  NULLs where the reader may not
 * read the aggregate's view, or its tables cannot be read now.
 */
Datum
hybridagg_aggregate_status(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	TupleDesc	desc;
	Datum		values[STATUS_COLUMNS];
	bool		nulls[STATUS_COLUMNS] = {true, true, true, true, true};
	AggregateEntry *entry;
	int			nestlevel;
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	nestlevel = fix_settings(SETTINGS_SQL);
	entry = catalog_get(id, true);
	if (entry != NULL && OidIsValid(entry->owner) &&
		pg_class_aclcheck(entry->view_relid, GetUserId(),
						  ACL_SELECT) == ACLCHECK_OK)
	{
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(context);
		PG_TRY();
		{
			ActingAs	saved;

			SPI_connect();
			act_as(entry->owner, &saved);
			fill_status(entry, context, values, nulls);
			act_as_restore(&saved);
			SPI_finish();
			ReleaseCurrentSubTransaction();
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(context);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			/* a cancel or a shutdown is not this aggregate's */
			if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
				edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
				ReThrowError(edata);
			for (int i = 0; i < STATUS_COLUMNS; i++)
				nulls[i] = true;
		}
		PG_END_TRY();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
	}
	restore_settings(nestlevel);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* the planner's rows for the base rows at or above the watermark */
static double
tail_rows_planned(const AggregateEntry *entry)
{
	const char *utc = entry->bucket.time_type == TIMESTAMPTZOID ? "%s" :
	"pg_catalog.timezone('UTC', %s)";
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(entry->id)};
	bool		isnull;
	char	   *plan;

	spi_run_args(psprintf("SELECT %s FROM " INTERNAL_SCHEMA ".aggregate "
						  "WHERE id = $1", psprintf(utc, "watermark_time")),
				 1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
		return -1;
	values[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							  1, &isnull);
	types[0] = entry->bucket.time_type;
	/* EXPLAIN plans with the parameter's value: a custom plan */
	spi_run_args(psprintf("EXPLAIN (FORMAT JSON) SELECT FROM %s s "
						  "WHERE s.__time >= $1",
						  internal_qualname(OBJ_SOURCE, entry->id)),
				 1, types, values, NULL, SPI_OK_UTILITY);
	plan = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	types[0] = TEXTOID;
	values[0] = CStringGetTextDatum(plan);
	spi_run_args("SELECT ($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 0 "
				 "OPERATOR(pg_catalog.->) 'Plan' "
				 "OPERATOR(pg_catalog.->>) 'Plan Rows')::pg_catalog.float8",
				 1, types, values, NULL, SPI_OK_SELECT);
	return DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * hybridagg_internal.batch_tail_rows(id): the planner's estimate of the
 * base rows a query of a batch aggregate's view aggregates (those at or
 * above its watermark); NULL in the other modes and for those who may not
 * read the view.
 */
Datum
hybridagg_batch_tail_rows(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	AggregateEntry *entry;
	int			nestlevel;
	double		rows = -1;
	ActingAs	saved;

	nestlevel = fix_settings(SETTINGS_SQL);
	entry = catalog_get(id, true);
	if (entry != NULL && entry->mode == MODE_BATCH &&
		OidIsValid(entry->owner) &&
		pg_class_aclcheck(entry->view_relid, GetUserId(),
						  ACL_SELECT) == ACLCHECK_OK)
	{
		Oid			source = internal_relid(OBJ_SOURCE, entry->id, true);

		/* a drop in progress holds the tables: say nothing rather than wait */
		if (OidIsValid(source) &&
			ConditionalLockRelationOid(entry->base_relid, AccessShareLock) &&
			ConditionalLockRelationOid(source, AccessShareLock))
		{
			SPI_connect();
			act_as(entry->owner, &saved);
			rows = tail_rows_planned(entry);
			act_as_restore(&saved);
			SPI_finish();
		}
	}
	restore_settings(nestlevel);
	if (rows < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64((int64) rows);
}

/*
 * The 0.1.0 name, which its status view calls until ALTER EXTENSION
 * hybridagg UPDATE: nothing to show.
 */
Datum
hybridagg_table_counts(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("hybridagg's SQL objects are older than its library"),
			 errdetail("The database has hybridagg 0.1.0 installed; the server loads a newer library."),
			 errhint("Run ALTER EXTENSION hybridagg UPDATE.")));
	PG_RETURN_NULL();
}
