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
 * owner, so it must not serve whoever calls it.  The view passes it a token
 * it reads from hybridagg_internal.token_<id>, a table only the aggregate's
 * owner may read; PostgreSQL checks that as the view's owner, so the view,
 * and any view built on it, serves its readers, and a direct call by anyone
 * else fails.
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
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "dirty_groups.h"
#include "export.h"
#include "util.h"

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

/* per backend, per aggregate: the prepared recompute and the token */
typedef struct DirtyGroupsCache
{
	int32		id;				/* hash key */
	Oid			owner;
	AggregateEntry *entry;
	bytea	   *token;
	SPIPlanPtr	plan;			/* kept; PostgreSQL replans it when needed */
	MemoryContext context;
} DirtyGroupsCache;

static HTAB *dirty_groups_cache = NULL;

/* the token in token_<id>, read as the aggregate's owner */
static bytea *
read_token(int32 id)
{
	bool		isnull;
	Datum		token;

	spi_run(psprintf("SELECT t.token FROM %s t",
					 internal_qualname(OBJ_TOKEN, id)),
			SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s must hold exactly one token",
						internal_qualname(OBJ_TOKEN, id)),
				 errhint("Drop the aggregate and create it again.")));
	token = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
						  &isnull);
	return isnull ? NULL : DatumGetByteaPP(token);
}

/* the cached entry of aggregate id, if it is built */
static DirtyGroupsCache *
cached_entry(int32 id)
{
	DirtyGroupsCache *cache;

	if (dirty_groups_cache == NULL)
		return NULL;
	cache = hash_search(dirty_groups_cache, &id, HASH_FIND, NULL);
	return cache && cache->context && cache->plan ? cache : NULL;
}

/* the entry of aggregate id, built (again, if rebuild) with SQL */
static DirtyGroupsCache *
dirty_groups_entry(int32 id, bool rebuild)
{
	DirtyGroupsCache *cache;
	bool		found;

	if (dirty_groups_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(DirtyGroupsCache);
		dirty_groups_cache = hash_create("hybridagg dirty groups", 16, &ctl,
										 HASH_ELEM | HASH_BLOBS);
	}
	cache = hash_search(dirty_groups_cache, &id, HASH_ENTER, &found);
	if (!found)
	{
		cache->context = NULL;
		cache->plan = NULL;
	}
	if (rebuild || cache->context == NULL || cache->plan == NULL)
	{
		AggregateEntry *entry = catalog_get(id, false);
		MemoryContext context = AllocSetContextCreate(CacheMemoryContext,
													  "hybridagg dirty groups",
													  ALLOCSET_SMALL_SIZES);
		MemoryContext old;
		StringInfoData sql;
		ActingAs	saved;
		SPIPlanPtr	plan;
		bytea	   *token;
		Oid			types[3];
		Datum		values[3];
		DirtyBuckets none = {NULL, 0, false};

		if (cache->context)
			MemoryContextDelete(cache->context);
		if (cache->plan)
			SPI_freeplan(cache->plan);
		cache->context = NULL;
		cache->plan = NULL;

		initStringInfo(&sql);
		append_dirty_recompute(&sql, layout_read(id), id,
							   psprintf("%s d WHERE d.__dirty",
										internal_qualname(OBJ_DELTA, id)),
							   false, 1);
		dirty_ranges_params(entry, &none, types, values);
		act_as(entry->owner, &saved);
		plan = SPI_prepare(sql.data, 3, types);
		if (plan == NULL)
			elog(ERROR, "hybridagg: could not prepare the dirty groups of aggregate %d", id);
		token = read_token(id);
		/* SPI leaves its own context current: copy into the cache's */
		old = MemoryContextSwitchTo(context);
		cache->token = token ? DatumGetByteaPCopy(PointerGetDatum(token)) :
			NULL;
		cache->entry = palloc(sizeof(AggregateEntry));
		*cache->entry = *entry;
		cache->entry->bucket.unit = entry->bucket.unit ?
			pstrdup(entry->bucket.unit) : NULL;
		cache->entry->bucket.zone = entry->bucket.zone ?
			pstrdup(entry->bucket.zone) : NULL;
		cache->entry->definition = NULL;
		MemoryContextSwitchTo(old);
		act_as_restore(&saved);
		SPI_keepplan(plan);
		cache->owner = entry->owner;
		cache->plan = plan;
		cache->context = context;
	}
	return cache;
}

/* equal tokens, compared in constant time */
static bool
tokens_match(const bytea *a, const bytea *b)
{
	int			len;
	unsigned char diff = 0;

	if (a == NULL || b == NULL || VARSIZE_ANY_EXHDR(a) != VARSIZE_ANY_EXHDR(b))
		return false;
	len = VARSIZE_ANY_EXHDR(a);
	for (int i = 0; i < len; i++)
		diff |= ((const unsigned char *) VARDATA_ANY(a))[i] ^
			((const unsigned char *) VARDATA_ANY(b))[i];
	return diff == 0;
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
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		id = PG_GETARG_INT32(0);
	bytea	   *token = PG_ARGISNULL(1) ? NULL : PG_GETARG_BYTEA_PP(1);
	DirtyGroupsCache *cache;
	DirtyBuckets dirty;
	Oid			types[3];
	Datum		values[3];
	ActingAs	saved;
	int			nestlevel;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	/* built, or built again if the token or the owner changed, with SQL */
	cache = cached_entry(id);
	if (cache == NULL || !tokens_match(token, cache->token) ||
		cache->owner != aggregate_owner(cache->entry->view_relid))
	{
		nestlevel = fix_settings(SETTINGS_SQL);
		SPI_connect();
		cache = dirty_groups_entry(id, true);
		SPI_finish();
		restore_settings(nestlevel);
	}
	if (!tokens_match(token, cache->token))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for hybridagg_internal.dirty_groups()"),
				 errdetail("It returns groups of a hybridagg aggregate to the aggregate's own view only."),
				 errhint("Query the aggregate's view.")));

	/* with nothing dirty, the usual case: one look at delta, no plan */
	if (!delta_buckets(cache->entry, GetActiveSnapshot(), true, &dirty))
		return (Datum) 0;

	nestlevel = fix_settings(SETTINGS_SQL);
	SPI_connect();
	act_as(cache->owner, &saved);
	{
		int			guc_level = NewGUCNestLevel();

		/* a few groups: compiling the plan would cost more than running it */
		(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		dirty_ranges_params(cache->entry, &dirty, types, values);
		/* read-only: in the snapshot of the query that calls it */
		if (SPI_execute_plan(cache->plan, values, NULL, true, 0) !=
			SPI_OK_SELECT)
			elog(ERROR, "hybridagg: could not recompute the dirty groups of aggregate %d", id);
		AtEOXact_GUC(false, guc_level);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			Datum	   *row = palloc(sizeof(Datum) * rsinfo->setDesc->natts);
			bool	   *nulls = palloc(sizeof(bool) * rsinfo->setDesc->natts);

			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
							  row, nulls);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row,
								 nulls);
		}
	}
	act_as_restore(&saved);
	SPI_finish();
	restore_settings(nestlevel);
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
