/*-------------------------------------------------------------------------
 * dirty_groups.c
 *	  Dirty groups: groups whose states no delta can bring up to date, so
 *	  that they can only be recomputed from the base table: by the fold,
 *	  which replaces them, and until then by every query on the view,
 *	  through hybridagg_internal.dirty_groups() (branch C of the view, see
 *	  view.c), in the query's own snapshot.
 *
 * The capture makes a group dirty (capture_groups.c) when a DELETE or
 * UPDATE may have taken away its min or max, or the value whose scale the
 * sum of an unconstrained numeric shows, and on any change at all when the
 * aggregate has a recomputed aggregate (one kept as its value, value_K,
 * such as count(DISTINCT x) or a percentile: no delta can update a value).
 * Here are what the fold and the view need of them: the buckets that the
 * pending (or only the dirty) delta rows hold, read by a plain scan; the
 * times those buckets cover, as parameters; the SQL of the recompute; the
 * count of dirty groups for the status view; and dirty_groups() itself.
 *
 * A dirty group is a delta row with __dirty set.  The recompute reads the
 * base rows of the dirty groups' buckets, each row once, groups them as the
 * defining query does, and keeps the dirty groups: the set of times to read
 * is computed here in C from the buckets (bucket.c), merged into disjoint
 * ranges, and passed to one SQL statement as arrays, so that the statement
 * never reads a row twice even where a zone's buckets overlap in time.  The
 * dirty groups are picked by GROUP BY, not by a join on the keys: NULL keys
 * match each other, keys compare as GROUP BY compares them, and the cost
 * grows with the number of groups, not with its square.
 *
 * Who may read: dirty_groups() reads the base table as the aggregate's
 * owner, so it serves only whoever passes the aggregate's token: its view
 * (view_calls.c).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "dirty_groups.h"
#include "export.h"
#include "util.h"
#include "view_calls.h"

PG_FUNCTION_INFO_V1(hybridagg_recompute_dirty_groups);
PG_FUNCTION_INFO_V1(hybridagg_dirty_groups);

/* ----------------------------------------------------------------
 * Which buckets are dirty
 * ----------------------------------------------------------------
 */

bool
delta_buckets(const AggregateEntry *entry, Snapshot snapshot,
			  bool dirty_only, DirtyBuckets *result)
{
	Relation	delta = open_internal_table(OBJ_DELTA, entry->id, InvalidOid,
											AccessShareLock);
	AttrNumber	dirty = RelationGetDescr(delta)->natts; /* __dirty comes last */
	TableScanDesc scan = table_beginscan(delta, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(delta, NULL);
	int			allocated = 16;

	result->buckets = palloc(sizeof(int64) * allocated);
	result->n = 0;
	result->null_bucket = false;
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		bucket;

		if (dirty_only && !DatumGetBool(slot_getattr(slot, dirty, &isnull)))
			continue;
		bucket = slot_getattr(slot, 1, &isnull);
		if (isnull)
		{
			result->null_bucket = true;
			continue;
		}
		if (result->n == allocated)
		{
			allocated *= 2;
			result->buckets = repalloc(result->buckets,
									   sizeof(int64) * allocated);
		}
		result->buckets[result->n++] = bucket_from_datum(&entry->bucket,
														 bucket);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	/* the lock is kept: the caller goes on to read the table */
	table_close(delta, NoLock);
	return result->n > 0 || result->null_bucket;
}

void
dirty_ranges_params(const AggregateEntry *entry, DirtyBuckets *dirty,
					Oid *types, Datum *values)
{
	List	   *ranges = bucket_list_times(&entry->bucket, dirty->buckets,
										   dirty->n);
	Datum	   *firsts = palloc(sizeof(Datum) * Max(list_length(ranges), 1));
	Datum	   *lasts = palloc(sizeof(Datum) * Max(list_length(ranges), 1));
	Oid			time_type = bucket_value_type(&entry->bucket);
	int			n = 0;
	ListCell   *lc;

	foreach(lc, ranges)
	{
		TimeRange  *range = lfirst(lc);

		firsts[n] = Int64GetDatum(range->first);
		lasts[n++] = Int64GetDatum(range->last);
	}
	types[0] = types[1] = bucket_array_type(&entry->bucket);
	types[2] = BOOLOID;
	values[0] = PointerGetDatum(construct_array(firsts, n, time_type,
												sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[1] = PointerGetDatum(construct_array(lasts, n, time_type,
												sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[2] = BoolGetDatum(dirty->null_bucket);
}

/* ----------------------------------------------------------------
 * The recompute
 * ----------------------------------------------------------------
 */

void
append_dirty_recompute(StringInfo buf, const AggLayout *layout, int32 id,
					   const char *dirty_keys, bool include_empty,
					   int first_param)
{
	char	   *source = internal_qualname(OBJ_SOURCE, id);
	const char *array_type = psprintf("%s[]",
									  type_sql(layout->keys[0].type, -1));

	appendStringInfoString(buf, "SELECT ");
	append_keys(buf, layout, "u");
	appendStringInfoString(buf, ", ");
	append_states_combined(buf, layout, "u");

	/* every group of the dirty buckets, recomputed ... */
	appendStringInfoString(buf, " FROM (SELECT ");
	append_keys(buf, layout, "s");
	appendStringInfoString(buf, ", ");
	append_states_from_source(buf, layout, "s");
	appendStringInfo(buf, ", false AS __wanted FROM (SELECT s.* "
					 "FROM unnest($%d::%s, $%d::%s) r(first, last)"
					 " CROSS JOIN LATERAL (SELECT s.* FROM %s s "
					 "WHERE s.__time >= r.first AND s.__time <= r.last) s",
					 first_param, array_type, first_param + 1, array_type,
					 source);
	if (!layout->keys[0].notnull)
		appendStringInfo(buf, " UNION ALL SELECT s.* FROM %s s "
						 "WHERE $%d AND s.__time IS NULL",
						 source, first_param + 2);
	appendStringInfoString(buf, ") s GROUP BY ");
	append_keys(buf, layout, "s");

	/* ... and the dirty keys, which pick the groups to keep */
	appendStringInfoString(buf, " UNION ALL SELECT ");
	append_keys(buf, layout, "d");
	appendStringInfoString(buf, ", ");
	append_states_empty(buf, layout);
	appendStringInfo(buf, ", true FROM %s) u GROUP BY ", dirty_keys);
	append_keys(buf, layout, "u");
	appendStringInfoString(buf, " HAVING bool_or(u.__wanted)");
	if (!include_empty)
		appendStringInfoString(buf, " AND sum(u.__rows) > 0");
}

int64
dirty_group_count(int32 id, const AggLayout *layout)
{
	StringInfoData sql;
	bool		isnull;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT count(*) FROM (SELECT DISTINCT ");
	append_keys(&sql, layout, "d");
	appendStringInfo(&sql, " FROM %s d WHERE d.__dirty) g",
					 internal_qualname(OBJ_DELTA, id));
	spi_run(sql.data, SPI_OK_SELECT);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

/* ----------------------------------------------------------------
 * hybridagg_internal.dirty_groups(id, token): branch C of groups_<id>
 * ----------------------------------------------------------------
 */

/* the recompute of the dirty groups of the dirty buckets, $1 to $3 */
static char *
dirty_recompute_sql(ViewCall *call, int *nargs, Oid *types)
{
	StringInfoData sql;
	Datum		values[3];
	DirtyBuckets none = {NULL, 0, false};

	initStringInfo(&sql);
	append_dirty_recompute(&sql, layout_read(call->id), call->id,
						   psprintf("%s d WHERE d.__dirty",
									internal_qualname(OBJ_DELTA, call->id)),
						   false, 1);
	dirty_ranges_params(call->entry, &none, types, values);
	*nargs = 3;
	return sql.data;
}

/*
 * The exact states of an aggregate's dirty groups, recomputed from the base
 * table in the calling query's snapshot, for whoever passes the aggregate's
 * token.  Called by every query on the view: with nothing dirty, which is
 * the usual case, it costs one scan of the small delta table: no plan, no
 * SPI, no settings.
 */
Datum
hybridagg_recompute_dirty_groups(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	bytea	   *token = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1);
	ViewCall   *call;
	DirtyBuckets dirty;
	Oid			types[3];
	Datum		values[3];

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	call = view_call(id, token, "dirty_groups");

	/* with nothing dirty, the usual case: one look at delta, no plan */
	if (!delta_buckets(call->entry, GetActiveSnapshot(), true, &dirty))
		return (Datum) 0;
	dirty_ranges_params(call->entry, &dirty, types, values);
	view_call_run(call, VIEW_DIRTY_RECOMPUTE, dirty_recompute_sql, values,
				  fcinfo);
	return (Datum) 0;
}

/*
 * The 0.1.0 signature, (id, source regclass), kept so that the library
 * loads under a 0.1.0 install; its view calls it until ALTER EXTENSION
 * hybridagg UPDATE.
 */
Datum
hybridagg_dirty_groups(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("hybridagg's SQL objects are older than its library"),
			 errdetail("The database has hybridagg 0.1.0 installed; the server loads a newer library."),
			 errhint("Run ALTER EXTENSION hybridagg UPDATE.")));
	PG_RETURN_NULL();
}
