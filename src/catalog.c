/*-------------------------------------------------------------------------
 * catalog.c
 *	  Reading and writing hybridagg's catalog and counters, the
 *	  per-aggregate lock, the resolution of an aggregate's name, and the
 *	  checks the SQL-callable functions share (the caller owns the
 *	  aggregate, runs on a primary, in READ COMMITTED).
 *
 * The catalog is a plain table, read and written through SPI with values as
 * parameters.  Callers run under fix_settings(), so the SQL here resolves
 * nothing through the session's search_path.
 *
 * Lock order, everywhere: base table, then the aggregate's lock (an object
 * lock on (hybridagg_internal.aggregate, id)), then internal tables.  Writers
 * only ever take the first and the last (RowExclusiveLock on delta), so no
 * writer waits for a mover or for another writer.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/scansup.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "catalog.h"
#include "util.h"

static const char *const mode_names[] = {
	"batch", "streaming", "lambda", "kappa", "hybrid"
};

const char *
mode_name(AggregateMode mode)
{
	return mode_names[mode];
}

bool
mode_from_name(const char *name, AggregateMode *mode)
{
	for (int i = 0; i < lengthof(mode_names); i++)
	{
		if (pg_strcasecmp(name, mode_names[i]) == 0)
		{
			*mode = (AggregateMode) i;
			return true;
		}
	}
	return false;
}

#define CATALOG_COLUMNS \
	"id, view, base_table, definition, mode, seal_after, time_type, " \
	"bucket_function, bucket_width, bucket_unit, bucket_origin, bucket_zone, " \
	"watermark, integer_width"

/*
 * The owner of an aggregate is the owner of its view, so that it follows
 * ALTER VIEW ... OWNER TO and REASSIGN OWNED (which move the internal
 * objects too, see create.c); InvalidOid if the view is gone.
 */
Oid
aggregate_owner(Oid view_relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(view_relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* column n of a catalog row: NOT NULL, or read only where it is set */
static Datum
column_value(HeapTuple tuple, TupleDesc desc, int n)
{
	bool		isnull;

	return SPI_getbinval(tuple, desc, n, &isnull);
}

/* one statement on hybridagg's catalog, run as the extension's owner */
static void
catalog_write(const char *sql, int nargs, Oid *types, Datum *values,
			  const char *nulls, int expected)
{
	ActingAs	saved;

	act_as(extension_owner(), &saved);
	SPI_connect();
	spi_run_args(sql, nargs, types, values, nulls, expected);
	SPI_finish();
	act_as_restore(&saved);
}

static AggregateEntry *
entry_from_tuple(HeapTuple tuple, TupleDesc desc)
{
	AggregateEntry *entry = palloc0(sizeof(AggregateEntry));
	char	   *text;
	Interval   *width;

	entry->id = DatumGetInt32(column_value(tuple, desc, 1));
	entry->view_relid = DatumGetObjectId(column_value(tuple, desc, 2));
	entry->base_relid = DatumGetObjectId(column_value(tuple, desc, 3));
	entry->owner = aggregate_owner(entry->view_relid);
	entry->definition = SPI_getvalue(tuple, desc, 4);
	text = SPI_getvalue(tuple, desc, 5);
	if (!mode_from_name(text, &entry->mode))
		elog(ERROR, "unknown hybridagg mode \"%s\"", text);
	entry->seal_after = *DatumGetIntervalP(column_value(tuple, desc, 6));
	entry->bucket.time_type = DatumGetObjectId(column_value(tuple, desc, 7));
	text = SPI_getvalue(tuple, desc, 8);
	entry->bucket.is_date_bin = strcmp(text, "date_bin") == 0;
	entry->bucket.is_integer = strncmp(text, "integer_", 8) == 0;
	entry->bucket.floors = strcmp(text, "integer_floor") == 0;
	if (entry->bucket.is_integer)
		entry->bucket.stride = DatumGetInt64(column_value(tuple, desc, 14));
	else if (entry->bucket.is_date_bin)
	{
		width = DatumGetIntervalP(column_value(tuple, desc, 9));
		entry->bucket.stride = width->time;
		entry->bucket.origin =
			DatumGetTimestampTz(column_value(tuple, desc, 11));
	}
	else
	{
		if (!bucket_set_unit(&entry->bucket, SPI_getvalue(tuple, desc, 10)))
			elog(ERROR, "unknown date_trunc unit in hybridagg catalog");
		entry->bucket.zone = SPI_getvalue(tuple, desc, 12);
	}
	entry->watermark = DatumGetTimestampTz(column_value(tuple, desc, 13));
	return entry;
}

static AggregateEntry *
catalog_fetch(const char *where, Oid argtype, Datum arg)
{
	MemoryContext caller = CurrentMemoryContext;
	AggregateEntry *entry = NULL;
	char	   *sql;

	SPI_connect();
	sql = psprintf("SELECT " CATALOG_COLUMNS " FROM %s.aggregate WHERE %s = $1",
				   INTERNAL_SCHEMA, where);
	spi_run_args(sql, 1, &argtype, &arg, NULL, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		entry = entry_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return entry;
}

AggregateEntry *
catalog_get(int32 id, bool missing_ok)
{
	AggregateEntry *entry = catalog_fetch("id", INT4OID, Int32GetDatum(id));

	if (entry == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("hybridagg aggregate with id %d does not exist", id)));
	return entry;
}

AggregateEntry *
catalog_get_by_view(Oid view_relid, bool missing_ok)
{
	AggregateEntry *entry = catalog_fetch("view", REGCLASSOID,
										  ObjectIdGetDatum(view_relid));

	if (entry == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a hybridagg aggregate",
						get_rel_name(view_relid)),
				 errhint("SELECT name FROM hybridagg.aggregates lists the aggregates.")));
	return entry;
}

AggregateEntry *
catalog_reread(const AggregateEntry *entry, const char *name)
{
	AggregateEntry *current = catalog_get(entry->id, true);

	if (current == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("hybridagg aggregate \"%s\" was dropped while this command waited for it", name),
				 errdetail("Another session dropped it and committed.")));
	return current;
}

RangeVar *
name_to_rangevar(const char *name)
{
	char	   *copy = pstrdup(name);
	List	   *parts = NIL;

	if (name[0] == '\0' || strspn(name, " \t\n\r") == strlen(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("the name of a hybridagg aggregate must not be empty"),
				 errhint("Pass a name such as 'events_1m' or 'analytics.events_1m'.")));

	if (!SplitIdentifierString(copy, '.', &parts))
	{
		/* not SQL name syntax: the whole text is the name */
		char	   *literal = pstrdup(name);

		truncate_identifier(literal, strlen(literal), true);
		return makeRangeVar(NULL, literal, -1);
	}
	switch (list_length(parts))
	{
		case 1:
			return makeRangeVar(NULL, pstrdup(linitial(parts)), -1);
		case 2:
			return makeRangeVar(pstrdup(linitial(parts)),
								pstrdup(lsecond(parts)), -1);
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("improper qualified name (too many dotted names): %s", name),
					 errhint("Name an aggregate as name or schema.name.")));
	}
	return NULL;				/* keep compiler quiet */
}

AggregateEntry *
catalog_resolve(const char *name)
{
	RangeVar   *rv = name_to_rangevar(name);

	/* the name is the caller's: resolved with the caller's search_path */
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	int			nestlevel;
	AggregateEntry *entry;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("hybridagg aggregate \"%s\" does not exist",
						rv->schemaname ?
						psprintf("%s.%s", rv->schemaname, rv->relname) :
						rv->relname),
				 errhint("SELECT name FROM hybridagg.aggregates lists the aggregates.")));
	nestlevel = fix_settings(SETTINGS_SQL);
	entry = catalog_get_by_view(relid, false);
	restore_settings(nestlevel);
	return entry;
}

int32
catalog_next_id(void)
{
	int32		id;
	bool		isnull;
	ActingAs	saved;

	act_as(extension_owner(), &saved);
	SPI_connect();
	spi_run("SELECT nextval('" INTERNAL_SCHEMA ".aggregate_id_seq')::int4",
			SPI_OK_SELECT);
	id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
									 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	act_as_restore(&saved);
	return id;
}

void
catalog_insert(const AggregateEntry *e)
{
	Oid			types[14] = {INT4OID, REGCLASSOID, REGCLASSOID, TEXTOID,
		TEXTOID, INTERVALOID, REGTYPEOID, TEXTOID, INTERVALOID, TEXTOID,
	TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID, INT8OID};
	Datum		values[14];
	char		nulls[14];
	Interval   *width = bucket_width(&e->bucket);

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int32GetDatum(e->id);
	values[1] = ObjectIdGetDatum(e->view_relid);
	values[2] = ObjectIdGetDatum(e->base_relid);
	values[3] = CStringGetTextDatum(e->definition);
	values[4] = CStringGetTextDatum(mode_name(e->mode));
	values[5] = IntervalPGetDatum(&e->seal_after);
	values[6] = ObjectIdGetDatum(e->bucket.time_type);
	values[7] = CStringGetTextDatum(bucket_function_name(&e->bucket));
	values[8] = width ? IntervalPGetDatum(width) : (Datum) 0;
	nulls[8] = width ? ' ' : 'n';
	values[9] = e->bucket.unit ?
		CStringGetTextDatum(e->bucket.unit) : (Datum) 0;
	nulls[9] = e->bucket.unit ? ' ' : 'n';
	values[10] = TimestampTzGetDatum(e->bucket.origin);
	nulls[10] = e->bucket.is_date_bin ? ' ' : 'n';
	values[11] = e->bucket.zone ?
		CStringGetTextDatum(e->bucket.zone) : (Datum) 0;
	nulls[11] = e->bucket.zone ? ' ' : 'n';
	values[12] = TimestampTzGetDatum(e->watermark);
	values[13] = Int64GetDatum(e->bucket.stride);
	nulls[13] = e->bucket.is_integer ? ' ' : 'n';

	catalog_write("INSERT INTO " INTERNAL_SCHEMA ".aggregate"
				  " (" CATALOG_COLUMNS ") "
				  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
				  "$13, $14)",
				  14, types, values, nulls, SPI_OK_INSERT);
	catalog_write("INSERT INTO " INTERNAL_SCHEMA ".aggregate_stats (id)"
				  " VALUES ($1)",
				  1, types, values, NULL, SPI_OK_INSERT);
}

void
catalog_set_finals(int32 id, List *finals)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(finals), 1));
	Oid			types[2] = {INT4OID, TEXTARRAYOID};
	Datum		values[2];
	int			n = 0;
	ListCell   *lc;

	foreach(lc, finals)
		elems[n++] = CStringGetTextDatum(lfirst(lc));
	values[0] = Int32GetDatum(id);
	values[1] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
												TYPALIGN_INT));
	catalog_write("UPDATE " INTERNAL_SCHEMA ".aggregate SET finals = $2"
				  " WHERE id = $1",
				  2, types, values, NULL, SPI_OK_UPDATE);
}

void
catalog_delete(int32 id)
{
	Oid			type = INT4OID;
	Datum		value = Int32GetDatum(id);

	catalog_write("DELETE FROM " INTERNAL_SCHEMA ".aggregate WHERE id = $1",
				  1, &type, &value, NULL, SPI_OK_DELETE);
}

void
catalog_set_watermark(AggregateEntry *entry, int64 watermark)
{
	TimeRange	above;
	Oid			types[3] = {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[3];

	/* batch mode's view reads the base table from the first time of W on */
	if (!bucket_range_times(&entry->bucket, watermark, DT_NOEND, &above))
		above.first = DT_NOEND;
	values[0] = Int32GetDatum(entry->id);
	values[1] = TimestampTzGetDatum(watermark);
	values[2] = TimestampTzGetDatum(above.first);
	entry->watermark = watermark;

	catalog_write("UPDATE " INTERNAL_SCHEMA ".aggregate"
				  " SET watermark = $2, watermark_time = $3 WHERE id = $1",
				  3, types, values, NULL, SPI_OK_UPDATE);
}

void
catalog_set_mode(AggregateEntry *entry, AggregateMode mode,
				 const Interval *seal_after)
{
	Oid			types[3] = {INT4OID, TEXTOID, INTERVALOID};
	Datum		values[3];

	values[0] = Int32GetDatum(entry->id);
	values[1] = CStringGetTextDatum(mode_name(mode));
	values[2] = IntervalPGetDatum(seal_after);
	entry->mode = mode;
	entry->seal_after = *seal_after;

	catalog_write("UPDATE " INTERNAL_SCHEMA ".aggregate"
				  " SET mode = $2, seal_after = $3 WHERE id = $1",
				  3, types, values, NULL, SPI_OK_UPDATE);
}

void
catalog_set_capture_interrupted(int32 id, bool interrupted)
{
	Oid			types[2] = {INT4OID, BOOLOID};
	Datum		values[2] = {Int32GetDatum(id), BoolGetDatum(interrupted)};

	catalog_write("UPDATE " INTERNAL_SCHEMA ".aggregate"
				  " SET capture_interrupted_at = "
				  "CASE WHEN NOT $2 THEN NULL"
				  " ELSE coalesce(capture_interrupted_at, now()) END"
				  " WHERE id = $1",
				  2, types, values, NULL, SPI_OK_UPDATE);
}

void
catalog_clear_capture_interrupted(int32 id, TimestampTz before)
{
	Oid			types[2] = {INT4OID, TIMESTAMPTZOID};
	Datum		values[2] = {Int32GetDatum(id), TimestampTzGetDatum(before)};

	catalog_write("UPDATE " INTERNAL_SCHEMA ".aggregate"
				  " SET capture_interrupted_at = NULL "
				  "WHERE id = $1 AND capture_interrupted_at < $2",
				  2, types, values, NULL, SPI_OK_UPDATE);
}

List *
catalog_streaming_ids(void)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *ids = NIL;

	SPI_connect();
	spi_run("SELECT id FROM " INTERNAL_SCHEMA ".aggregate"
			" WHERE mode <> 'batch' ORDER BY id",
			SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int32		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
													 SPI_tuptable->tupdesc, 1,
													 &isnull));
		MemoryContext spi = MemoryContextSwitchTo(caller);

		ids = lappend_int(ids, id);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return ids;
}

static void
stats_update(const char *set, int32 id, int64 count, double seconds,
			 const char *message)
{
	Oid			types[4] = {INT4OID, INT8OID, FLOAT8OID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	char	   *sql;
	ActingAs	saved;

	values[0] = Int32GetDatum(id);
	values[1] = Int64GetDatum(count);
	values[2] = Float8GetDatum(seconds);
	values[3] = message ? CStringGetTextDatum(message) : (Datum) 0;
	if (message == NULL)
		nulls[3] = 'n';

	sql = psprintf("UPDATE " INTERNAL_SCHEMA ".aggregate_stats SET %s"
				   " WHERE id = $1", set);
	act_as(extension_owner(), &saved);
	SPI_connect();
	/* a restored dump has the catalog (dumped) but not the counters */
	spi_run_args("INSERT INTO " INTERNAL_SCHEMA ".aggregate_stats (id)"
				 " VALUES ($1) ON CONFLICT DO NOTHING",
				 1, types, values, NULL, SPI_OK_INSERT);
	spi_run_args(sql, 4, types, values, nulls, SPI_OK_UPDATE);
	SPI_finish();
	act_as_restore(&saved);
}

void
stats_record_verify(int32 id, int64 groups, int64 wrong, double seconds)
{
	char	   *set = psprintf("last_verify_at = now(), "
							   "last_verify_seconds = $3, "
							   "last_verify_groups = $2, "
							   "last_verify_wrong = " INT64_FORMAT,
							   wrong);

	stats_update(set, id, groups, seconds, NULL);
}

void
stats_record_batch(int32 id, int64 groups, double seconds)
{
	stats_update("batches = batches + 1, batch_groups = batch_groups + $2, "
				 "last_batch_at = now(), last_batch_seconds = $3",
				 id, groups, seconds, NULL);
}

void
stats_record_fold(int32 id, int64 deltas, double seconds)
{
	stats_update("folds = folds + 1, folded_deltas = folded_deltas + $2, "
				 "last_fold_at = now(), last_fold_seconds = $3, "
				 "last_error = NULL, "
				 "last_error_sqlstate = NULL, last_error_detail = NULL",
				 id, deltas, seconds, NULL);
}

void
stats_record_error(int32 id, const ErrorData *edata)
{
	Oid			types[4] = {INT4OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	ActingAs	saved;

	values[0] = Int32GetDatum(id);
	values[1] = CStringGetTextDatum(edata->message ? edata->message : "");
	values[2] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
	values[3] = edata->detail ? CStringGetTextDatum(edata->detail) : (Datum) 0;
	if (edata->detail == NULL)
		nulls[3] = 'n';

	act_as(extension_owner(), &saved);
	SPI_connect();
	/* a restored dump has the catalog (dumped) but not the counters */
	spi_run_args("INSERT INTO " INTERNAL_SCHEMA ".aggregate_stats (id)"
				 " VALUES ($1) ON CONFLICT DO NOTHING",
				 1, types, values, NULL, SPI_OK_INSERT);
	spi_run_args("UPDATE " INTERNAL_SCHEMA ".aggregate_stats"
				 " SET last_error = $2, "
				 "last_error_sqlstate = $3, last_error_detail = $4, "
				 "last_error_at = now() WHERE id = $1",
				 4, types, values, nulls, SPI_OK_UPDATE);
	SPI_finish();
	act_as_restore(&saved);
}

void
lock_aggregate(const AggregateEntry *entry)
{
	Oid			catalog = get_relname_relid("aggregate", internal_schema_oid());

	LockRelationOid(entry->base_relid, AccessShareLock);
	LockDatabaseObject(catalog, (Oid) entry->id, 0, ExclusiveLock);
}

bool
lock_aggregate_conditional(const AggregateEntry *entry)
{
	Oid			catalog = get_relname_relid("aggregate", internal_schema_oid());

	if (!ConditionalLockRelationOid(entry->base_relid, AccessShareLock))
		return false;
	if (!ConditionalLockDatabaseObject(catalog, (Oid) entry->id, 0,
									   ExclusiveLock))
	{
		UnlockRelationOid(entry->base_relid, AccessShareLock);
		return false;
	}
	return true;
}

/* a timestamptz as a timestamp, as the SQL cast from one to the other */
static Timestamp
timestamptz_to_timestamp(TimestampTz time)
{
	return DatumGetTimestamp(DirectFunctionCall1(timestamptz_timestamp,
												 TimestampTzGetDatum(time)));
}

void
aggregate_range(const AggregateEntry *entry, TimestampTz range_start,
				TimestampTz range_end, int64 *lo, int64 *hi)
{
	if (range_start >= range_end)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("range_start must be before range_end"),
				 errdetail("The range is empty or reversed."),
				 errhint("Ranges are half-open: [range_start, range_end).")));
	if (entry->bucket.is_integer &&
		(!TIMESTAMP_IS_NOBEGIN(range_start) || !TIMESTAMP_IS_NOEND(range_end)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a range of times cannot name buckets of an integer time column"),
				 errdetail("The buckets of \"%s\" are integers; range_start and range_end are timestamps.",
						   get_rel_name(entry->view_relid)),
				 errhint("Pass '-infinity' and 'infinity' to cover every bucket.")));
	if (entry->bucket.time_type == TIMESTAMPOID)
	{
		range_start = timestamptz_to_timestamp(range_start);
		range_end = timestamptz_to_timestamp(range_end);
	}
	*lo = bucket_floor(&entry->bucket, range_start);
	*hi = bucket_ceil(&entry->bucket, range_end);
}

int64
seal_limit(const AggregateEntry *entry)
{
	/* an integer time has no clock: nothing is ever complete by age */
	if (entry->bucket.is_integer)
		return DT_NOBEGIN;
	return bucket_floor(&entry->bucket,
						time_minus_interval(bucket_now(&entry->bucket),
											&entry->seal_after));
}

void
check_aggregate_owner(const AggregateEntry *entry)
{
	if (!has_privs_of_role(GetUserId(), entry->owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for hybridagg aggregate %s",
						get_rel_name(entry->view_relid)),
				 errdetail("Only its owner, %s, and members of that role may change it.",
						   GetUserNameFromId(entry->owner, false)),
				 errhint("Run this as %s, or GRANT %s to your role.",
						 GetUserNameFromId(entry->owner, false),
						 GetUserNameFromId(entry->owner, false))));
}

void
require_primary(const char *what)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot run %s on a hot standby", what),
				 errdetail("A standby replays the primary's changes and can only read the aggregate's view."),
				 errhint("Run %s on the primary; the standby follows.", what)));
}

void
require_read_committed(const char *what)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s must run in READ COMMITTED isolation", what),
				 errdetail("It reads the base table in a snapshot taken after it locks the aggregate; "
						   "this transaction's snapshot may be older than that lock."),
				 errhint("Run it outside an explicit transaction block, or start the "
						 "transaction with BEGIN ISOLATION LEVEL READ COMMITTED.")));
}
