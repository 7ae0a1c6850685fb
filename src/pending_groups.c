/*-------------------------------------------------------------------------
 * pending_groups.c
 *	  The groups of the buckets that hold pending deltas, their stored
 *	  states combined with the deltas: branch B of the view (view.c), and
 *	  bucket_pending(), which keeps those buckets' stored groups out of
 *	  branch A.
 *
 * A query on the view must add the deltas no fold has taken yet to the
 * groups they change.  The view reads the stored groups (history and
 * recent) as they are, but for those of a pending bucket, a bucket at least
 * one pending delta row holds: bucket_pending(id, token, g1) tells which,
 * and pending_groups(id, token) returns the groups of those buckets, each
 * one's stored states and deltas combined.  Both read delta in the calling
 * query's snapshot, so they see the same delta rows, and every stored group
 * lies in exactly one of the two branches (invariant 1).  Groups with a
 * dirty delta are left to dirty_groups(), which recomputes them.
 *
 * Why functions: the planner plans every branch of the view for every
 * query, and a branch that merges deltas (a union, a grouping, joins on
 * the keys) costs more to plan than the final-rows table costs to read.
 * These functions cost one scan of the small delta table when nothing is
 * pending, which is the usual case once the worker has folded; otherwise
 * one prepared statement (planned once per backend), which reads the
 * stored groups of the pending buckets through the (g1, ...) index.  The
 * query's own WHERE clause does not reach into that statement: it reads all
 * the groups of the pending buckets, which are few.
 *
 * Who may call: like dirty_groups(), only the aggregate's view
 * (view_calls.c).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/array.h"
#include "utils/snapmgr.h"

#include "bucket.h"
#include "dirty_groups.h"
#include "export.h"
#include "layout.h"
#include "util.h"
#include "view_calls.h"

PG_FUNCTION_INFO_V1(hybridagg_pending_groups);
PG_FUNCTION_INFO_V1(hybridagg_bucket_pending);

/*
 * The stored groups of the pending buckets ($1, and the NULL bucket if $2)
 * and the deltas, combined per group; groups with a dirty delta left out.
 */
static char *
pending_merge_sql(ViewCall *call, int *nargs, Oid *types)
{
	int32		id = call->id;
	AggLayout  *layout = layout_read(id);
	const char *stored[] = {
		internal_qualname(OBJ_HISTORY, id), internal_qualname(OBJ_RECENT, id)
	};
	Oid			bucket_type = bucket_value_type(&call->entry->bucket);
	const char *array_type = psprintf("%s[]", type_sql(bucket_type, -1));
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	append_keys(&sql, layout, "u");
	appendStringInfoString(&sql, ", ");
	append_states_combined(&sql, layout, "u");
	appendStringInfoString(&sql, " FROM (");
	for (int i = 0; i < lengthof(stored); i++)
	{
		appendStringInfoString(&sql, "SELECT ");
		append_keys(&sql, layout, "t");
		appendStringInfoString(&sql, ", ");
		append_states(&sql, layout, "t");
		appendStringInfo(&sql, ", false AS __dirty FROM %s t WHERE "
						 "(t.g1 OPERATOR(pg_catalog.=) ANY ($1::%s)",
						 stored[i], array_type);
		if (!layout->keys[0].notnull)
			appendStringInfoString(&sql, " OR ($2 AND t.g1 IS NULL)");
		appendStringInfoString(&sql, ") UNION ALL ");
	}
	appendStringInfoString(&sql, "SELECT ");
	append_keys(&sql, layout, "d");
	appendStringInfoString(&sql, ", ");
	append_states(&sql, layout, "d");
	appendStringInfo(&sql, ", d.__dirty FROM %s d) u GROUP BY ",
					 internal_qualname(OBJ_DELTA, id));
	append_keys(&sql, layout, "u");
	appendStringInfoString(&sql, " HAVING pg_catalog.sum(u.__rows) "
						   "OPERATOR(pg_catalog.>) 0");
	if (layout->deletes_dirty)
		appendStringInfoString(&sql, " AND NOT pg_catalog.bool_or(u.__dirty)");
	types[0] = bucket_array_type(&call->entry->bucket);
	types[1] = BOOLOID;
	*nargs = 2;
	return sql.data;
}

/*
 * hybridagg_internal.pending_groups(id, token): the groups of the pending
 * buckets, for the aggregate's view, in the calling query's snapshot.
 */
Datum
hybridagg_pending_groups(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	bytea	   *token = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1);
	ViewCall   *call;
	DirtyBuckets pending;
	Oid			type;
	Datum	   *buckets;
	Datum		values[2];

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	call = view_call(id, token, "pending_groups");

	/* nothing pending, the usual case: one look at delta, no plan */
	if (!delta_buckets(call->entry, GetActiveSnapshot(), false, &pending))
		return (Datum) 0;
	pending.n = bucket_sort_unique(pending.buckets, pending.n);
	type = bucket_value_type(&call->entry->bucket);
	buckets = palloc(sizeof(Datum) * Max(pending.n, 1));
	for (int i = 0; i < pending.n; i++)
		buckets[i] = Int64GetDatum(pending.buckets[i]);
	values[0] = PointerGetDatum(construct_array(buckets, pending.n, type,
												sizeof(int64), FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[1] = BoolGetDatum(pending.null_bucket);
	view_call_run(call, VIEW_PENDING_MERGE, pending_merge_sql, values, fcinfo);
	return (Datum) 0;
}

/* What bucket_pending() read for the query that calls it */
typedef struct PendingBuckets
{
	int32		id;
	bytea	   *token;			/* checked on every call */
	BucketSpec	bucket;			/* its time type, which g1's Datum has */
	DirtyBuckets buckets;		/* sorted, without repeats */
} PendingBuckets;

/*
 * hybridagg_internal.bucket_pending(id, token, bucket): does a pending delta
 * hold bucket (NULL: the group with no bucket)?  Read once per query, in
 * its snapshot, on the first call; the view calls it only for the stored
 * groups inside the range of pending buckets.
 */
Datum
hybridagg_bucket_pending(PG_FUNCTION_ARGS)
{
	PendingBuckets *pending = fcinfo->flinfo->fn_extra;
	int32		id = PG_GETARG_INT32(0);
	int64		bucket;
	int			lo;
	int			hi;
	bytea	   *token = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1);

	if (pending == NULL || pending->id != id ||
		!view_tokens_match(token, pending->token))
	{
		ViewCall   *call = view_call(id, token, "bucket_pending");
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		pending = palloc0(sizeof(PendingBuckets));
		pending->token = DatumGetByteaPCopy(PointerGetDatum(call->token));
		(void) delta_buckets(call->entry, GetActiveSnapshot(), false,
							 &pending->buckets);
		pending->buckets.n = bucket_sort_unique(pending->buckets.buckets,
												pending->buckets.n);
		pending->bucket = call->entry->bucket;
		pending->bucket.unit = pending->bucket.zone = NULL;
		pending->id = id;
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = pending;
	}
	if (PG_ARGISNULL(2))
		PG_RETURN_BOOL(pending->buckets.null_bucket);
	bucket = bucket_from_datum(&pending->bucket, PG_GETARG_DATUM(2));
	lo = 0;
	hi = pending->buckets.n - 1;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (pending->buckets.buckets[mid] == bucket)
			PG_RETURN_BOOL(true);
		if (pending->buckets.buckets[mid] < bucket)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	PG_RETURN_BOOL(false);
}
