/*-------------------------------------------------------------------------
 * verify.c
 *	  hybridagg.verify(name, range_start, range_end): recompute the buckets
 *	  of a range from the base table and compare them with what the view
 *	  serves and with what is stored.
 *
 * One statement, so one snapshot: the recompute (what a batch would store,
 * finalized), the view's rows, the stored groups of history and recent
 * finalized, and the keys of the pending deltas are read side by side and
 * grouped by key, as GROUP BY groups them.  A group is served wrong when the
 * view lacks it, has it twice, or shows another value; stored wrong when,
 * with no delta pending for it, history or recent lack it or hold another
 * value (a group with pending deltas is counted as pending: the fold has not
 * reached it yet; batch mode stores only the buckets below its watermark).
 * Floats match within 1e-9 relative, as the tests compare them (NaN and the
 * infinities only themselves); every other value by its text, under fixed
 * settings (so numerics show their scale).
 * In batch mode, buckets below the watermark served or stored wrong are
 * stale, not corrupt: verify says what a materialize would change.
 *
 * It returns one row per bucket with a wrong group, records the totals in
 * hybridagg_internal.aggregate_stats (shown by hybridagg.aggregates), and
 * reports them in a NOTICE.  It takes no lock of the aggregate and writes
 * nothing but the counters, so it can run beside writers and the worker,
 * scheduled with pg_cron.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "export.h"
#include "layout.h"
#include "materialize.h"
#include "util.h"
#include "view.h"

PG_FUNCTION_INFO_V1(hybridagg_verify);

/* one final column of groups_<id> */
typedef struct FinalColumn
{
	AggFunc		func;
	int			arg;
	Oid			type;
} FinalColumn;

static List *
read_finals(const AggregateEntry *entry)
{
	Oid			type = INT4OID;
	Datum		value = Int32GetDatum(entry->id);
	Oid			groups_relid = internal_relid(OBJ_GROUPS, entry->id, false);
	Relation	groups = relation_open(groups_relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(groups);
	List	   *finals = NIL;
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	bool		isnull;

	spi_run_args("SELECT finals FROM " INTERNAL_SCHEMA ".aggregate"
				 " WHERE id = $1",
				 1, &type, &value, NULL, SPI_OK_SELECT);
	array = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1,
											 &isnull));
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *kind = TextDatumGetCString(elems[i]);
		char	   *colon = strchr(kind, ':');
		FinalColumn *col = palloc(sizeof(FinalColumn));
		char	   *name = psprintf("f%d", i + 1);

		if (colon == NULL)
			elog(ERROR, "malformed final column \"%s\" of aggregate %d",
				 kind, entry->id);
		*colon = '\0';
		if (!agg_func_from_name(kind, &col->func))
			elog(ERROR, "unknown final column kind \"%s\" of aggregate %d",
				 kind, entry->id);
		col->arg = atoi(colon + 1);
		col->type = InvalidOid;
		for (int a = 0; a < desc->natts; a++)
			if (strcmp(NameStr(TupleDescAttr(desc, a)->attname), name) == 0)
				col->type = TupleDescAttr(desc, a)->atttypid;
		if (!OidIsValid(col->type))
			elog(ERROR, "groups view of aggregate %d lacks column %s",
				 entry->id, name);
		finals = lappend(finals, col);
	}
	relation_close(groups, AccessShareLock);
	return finals;
}

/* keys and final values over states aliased alias, as one side of the union */
static void
append_side(StringInfo sql, const AggLayout *layout, List *finals,
			const char *side, const char *alias)
{
	ListCell   *lc;
	int			i = 0;

	appendStringInfo(sql, "SELECT '%s' AS side, ", side);
	append_keys(sql, layout, alias);
	foreach(lc, finals)
	{
		FinalColumn *col = lfirst(lc);

		appendStringInfoString(sql, ", (");
		append_final_value(sql, col->func, col->arg, layout, alias);
		appendStringInfo(sql, ")::%s AS f%d", type_sql(col->type, -1), ++i);
	}
}

/* f<i> of side a and of side b agree, within a group of the union */
static void
append_same(StringInfo sql, List *finals, const char *a, const char *b)
{
	ListCell   *lc;
	int			i = 0;

	appendStringInfoString(sql, "true");
	foreach(lc, finals)
	{
		FinalColumn *col = lfirst(lc);
		char	   *fa;
		char	   *fb;

		i++;
		appendStringInfo(sql,
						 " AND count(u.f%d) FILTER (WHERE u.side = '%s')"
						 " = count(u.f%d) FILTER (WHERE u.side = '%s')",
						 i, a, i, b);
		if (col->type == FLOAT8OID || col->type == FLOAT4OID)
		{
			fa = psprintf("max(u.f%d) FILTER (WHERE u.side = '%s')", i, a);
			fb = psprintf("max(u.f%d) FILTER (WHERE u.side = '%s')", i, b);
			/* NaN and infinities match only themselves */
			appendStringInfo(sql,
							 " AND (%s IS NOT DISTINCT FROM %s"
							 " OR (abs(%s) < 'Infinity'"
							 " AND abs(%s) < 'Infinity'"
							 " AND abs(%s - %s)"
							 " <= 1e-9 * greatest(abs(%s), abs(%s))))",
							 fa, fb, fa, fb, fa, fb, fa, fb);
		}
		else
			appendStringInfo(sql,
							 " AND min(u.f%d::text)"
							 " FILTER (WHERE u.side = '%s')"
							 " IS NOT DISTINCT FROM"
							 " min(u.f%d::text) FILTER (WHERE u.side = '%s')",
							 i, a, i, b);
	}
}

static char *
verify_sql(const AggregateEntry *entry, const AggLayout *layout, List *finals,
		   int64 hi)
{
	StringInfoData sql;
	const char *in_range = bucket_range_condition("x.g1", hi, 1);
	ListCell   *lc;
	const char *bucket = "p.g1";

	if (entry->bucket.time_type != TIMESTAMPTZOID)
		bucket = "timezone('UTC', p.g1)";
	/* the bucket column is a timestamptz: an integer bucket shows as NULL */
	if (entry->bucket.is_integer)
		bucket = "NULL::pg_catalog.timestamptz";

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	appendStringInfo(&sql, "%s, count(*) FILTER (WHERE p.expected), "
					 "count(*) FILTER (WHERE NOT p.served_right), "
					 "count(*) FILTER (WHERE NOT p.stored_right"
					 " AND NOT p.pending AND p.g1 < $5), "
					 "count(*) FILTER (WHERE p.pending), count(*)"
					 " FROM (SELECT u.g1, ", bucket);
	appendStringInfoString(&sql,
						   "count(*) FILTER (WHERE u.side = 'r') = 1"
						   " AS expected, ");
	appendStringInfoString(&sql,
						   "count(*) FILTER (WHERE u.side = 'd') > 0"
						   " AS pending, ");
	appendStringInfoString(&sql,
						   "(count(*) FILTER (WHERE u.side = 'r')"
						   " = count(*) FILTER (WHERE u.side = 'v')"
						   " AND count(*) FILTER (WHERE u.side = 'v') <= 1"
						   " AND ");
	append_same(&sql, finals, "r", "v");
	appendStringInfoString(&sql, ") AS served_right, ");
	appendStringInfoString(&sql,
						   "(count(*) FILTER (WHERE u.side = 'r')"
						   " = count(*) FILTER (WHERE u.side = 's')"
						   " AND count(*) FILTER (WHERE u.side = 's') <= 1"
						   " AND ");
	append_same(&sql, finals, "r", "s");
	appendStringInfoString(&sql, ") AS stored_right FROM (");

	/* r: the recompute, as a batch would store it */
	append_side(&sql, layout, finals, "r", "x");
	appendStringInfoString(&sql, " FROM (SELECT ");
	append_keys(&sql, layout, "s");
	appendStringInfoString(&sql, ", ");
	append_states_from_source(&sql, layout, "s");
	appendStringInfo(&sql, " FROM %s s WHERE %s GROUP BY ",
					 internal_qualname(OBJ_SOURCE, entry->id),
					 time_range_condition("s.__time", hi, 3));
	append_keys(&sql, layout, "s");
	appendStringInfo(&sql, ") x WHERE %s", in_range);

	/* v: what the view serves */
	appendStringInfoString(&sql, " UNION ALL SELECT 'v', ");
	append_keys(&sql, layout, "x");
	for (int i = 1; i <= list_length(finals); i++)
		appendStringInfo(&sql, ", x.f%d", i);
	appendStringInfo(&sql, " FROM %s x WHERE %s",
					 internal_qualname(OBJ_GROUPS, entry->id), in_range);

	/* s: what history and recent hold */
	appendStringInfoString(&sql, " UNION ALL ");
	append_side(&sql, layout, finals, "s", "x");
	appendStringInfo(&sql, " FROM %s x WHERE %s",
					 internal_qualname(OBJ_HISTORY, entry->id), in_range);
	if (MODE_IS_STREAMING(entry->mode))
	{
		appendStringInfoString(&sql, " UNION ALL ");
		append_side(&sql, layout, finals, "s", "x");
		appendStringInfo(&sql, " FROM %s x WHERE %s",
						 internal_qualname(OBJ_RECENT, entry->id), in_range);

		/* d: the keys of the pending deltas */
		appendStringInfoString(&sql, " UNION ALL SELECT 'd', ");
		append_keys(&sql, layout, "x");
		foreach(lc, finals)
			appendStringInfo(&sql, ", NULL::%s",
							 type_sql(((FinalColumn *) lfirst(lc))->type, -1));
		appendStringInfo(&sql, " FROM %s x WHERE %s",
						 internal_qualname(OBJ_DELTA, entry->id), in_range);
	}
	appendStringInfoString(&sql, ") u GROUP BY ");
	append_keys(&sql, layout, "u");
	appendStringInfoString(&sql, ") p GROUP BY p.g1 ORDER BY p.g1");
	return sql.data;
}

Datum
hybridagg_verify(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AggregateEntry *entry;
	AggLayout  *layout;
	List	   *finals;
	int64		lo;
	int64		hi;
	TimeRange	times;
	Oid			types[5];
	Datum		values[5];
	int64		buckets = 0;
	int64		groups = 0;
	int64		served_wrong = 0;
	int64		stored_wrong = 0;
	int64		pending = 0;
	instr_time	start;
	instr_time	duration;
	ActingAs	saved;
	int			nestlevel;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("hybridagg.verify() needs a name, a range_start and a range_end"),
				 errhint("SELECT * FROM hybridagg.verify('events_1m', now() - interval '1 day', now());")));
	require_primary("hybridagg.verify()");
	INSTR_TIME_SET_CURRENT(start);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	entry = catalog_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	check_aggregate_owner(entry);
	aggregate_range(entry, PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_TIMESTAMPTZ(2),
					&lo, &hi);

	nestlevel = fix_settings(SETTINGS_SQL);
	SPI_connect();
	act_as(entry->owner, &saved);
	layout = layout_read(entry->id);
	finals = read_finals(entry);
	if (bucket_range_times(&entry->bucket, lo, hi, &times))
	{
		types[0] = types[1] = types[2] = types[3] = types[4] =
			bucket_value_type(&entry->bucket);
		values[0] = Int64GetDatum(lo);
		values[1] = Int64GetDatum(hi);
		values[2] = Int64GetDatum(times.first);
		values[3] = Int64GetDatum(times.last);
		/* batch mode stores only the buckets below its watermark */
		values[4] = Int64GetDatum(entry->mode == MODE_BATCH ?
								  entry->watermark : DT_NOEND);
		spi_run_args(verify_sql(entry, layout, finals, hi), 5, types, values,
					 NULL, SPI_OK_SELECT);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	row = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			Datum		out[5];
			bool		out_nulls[5] = {false, false, false, false, false};
			bool		isnull;

			out[0] = SPI_getbinval(row, desc, 1, &out_nulls[0]);
			for (int c = 1; c < 5; c++)
				out[c] = SPI_getbinval(row, desc, c + 1, &isnull);
			buckets++;
			groups += DatumGetInt64(SPI_getbinval(row, desc, 6, &isnull));
			served_wrong += DatumGetInt64(out[2]);
			stored_wrong += DatumGetInt64(out[3]);
			pending += DatumGetInt64(out[4]);
			if (DatumGetInt64(out[2]) > 0 || DatumGetInt64(out[3]) > 0)
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
									 out, out_nulls);
		}
	}
	act_as_restore(&saved);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	stats_record_verify(entry->id, groups, served_wrong + stored_wrong,
						INSTR_TIME_GET_DOUBLE(duration));
	SPI_finish();
	restore_settings(nestlevel);

	ereport(NOTICE,
			(errmsg("%s: verified %lld groups in %lld buckets in %.3f s: %lld served wrong, %lld stored wrong, %lld pending",
					get_rel_name(entry->view_relid), (long long) groups,
					(long long) buckets,
					INSTR_TIME_GET_DOUBLE(duration), (long long) served_wrong,
					(long long) stored_wrong, (long long) pending)));
	return (Datum) 0;
}
