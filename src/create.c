/*-------------------------------------------------------------------------
 * create.c
 *	  hybridagg.create(): an aggregate's objects, made from its definition.
 *	  What alter.c makes when an aggregate starts capturing (the tables of
 *	  the streaming modes, the checks of the base table) is made here too.
 *	  (hybridagg.drop() and the sql_drop event trigger are in drop.c.)
 *
 * create() checks everything it can before it creates anything, then creates
 * every object in the caller's transaction: a refused or failed create
 * leaves nothing behind.  For the streaming modes it takes SHARE ROW
 * EXCLUSIVE on the base table, so that no write commits between the capture
 * triggers being installed and the backfill reading the table; writers wait
 * for the backfill, which recomputes the rows already there (with_data) and
 * sets the watermark.
 *
 * Objects in hybridagg_internal are created as the extension's owner from
 * the definition alone and then given to the aggregate's owner, who is the
 * caller.  The user's view is created as the caller, so CREATE on its schema
 * applies.  The capture triggers are created as the extension's owner
 * (capture_triggers.c), but only for a caller who holds the TRIGGER
 * privilege on the base table, as if it created them itself.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "capture_triggers.h"
#include "catalog.h"
#include "code_owners.h"
#include "create.h"
#include "definition.h"
#include "dirty_groups.h"
#include "export.h"
#include "hybridagg.h"
#include "materialize.h"
#include "util.h"
#include "view.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(hybridagg_create);

/* ----------------------------------------------------------------
 * Arguments
 * ----------------------------------------------------------------
 */

static void
require_argument(FunctionCallInfo fcinfo, int n, const char *name,
				 const char *hint)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument %s of hybridagg.create() must not be NULL",
						name),
				 errdetail("hybridagg.create() was called with %s => NULL.",
						   name),
				 errhint("%s", hint)));
}

AggregateMode
parse_mode(const char *text)
{
	AggregateMode mode;

	if (!mode_from_name(text, &mode))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown mode \"%s\"", text),
				 errdetail("A hybridagg aggregate is kept in one of five modes."),
				 errhint("Valid modes are: batch, streaming, lambda, kappa, hybrid.")));
	return mode;
}

void
check_seal_after(const Interval *seal_after)
{
	Interval   *zero = interval_from_usecs(0);

	if (DatumGetBool(DirectFunctionCall2(interval_lt,
										 IntervalPGetDatum(seal_after),
										 IntervalPGetDatum(zero))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("seal_after must not be negative"),
				 errdetail("seal_after is how long after its end a bucket is sealed."),
				 errhint("Pass a duration such as '1 hour', or '0' to seal buckets as soon as they end.")));
}

void
check_streaming_possible(AggregateMode mode, const char *what)
{
	if (!hybridagg_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("mode \"%s\" needs hybridagg in shared_preload_libraries", mode_name(mode)),
				 errdetail("A %s aggregate is folded by hybridagg's background worker, which only runs when the server loads the library at start.",
						   mode_name(mode)),
				 errhint("Add hybridagg to shared_preload_libraries in postgresql.conf and restart the server, or use mode => 'batch'.")));
	require_read_committed(what);
}

/* a streaming aggregate of a partitioned table: no partition may be unlogged */
static void
refuse_unlogged_partitions(const Definition *def)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(def->base_relid, NoLock, NULL))
	{
		Oid			relid = lfirst_oid(lc);

		if (get_rel_persistence(relid) == RELPERSISTENCE_UNLOGGED)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("partition \"%s\" of \"%s\" is unlogged",
							get_rel_name(relid),
							get_rel_name(def->base_relid)),
					 errdetail("After a crash an unlogged partition is empty, and the aggregate would not be."),
					 errhint("ALTER TABLE %s SET LOGGED; then create the aggregate.",
							 quote_identifier(get_rel_name(relid)))));
	}
}

void
check_base_table(const Definition *def, AggregateMode mode, bool with_data)
{
	const char *table = get_rel_name(def->base_relid);
	AclResult	acl = pg_class_aclcheck(def->base_relid, GetUserId(),
										ACL_SELECT);

	if (acl != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", table),
				 errdetail("Creating an aggregate of a table needs SELECT on it."),
				 errhint("GRANT SELECT ON %s TO %s;", table,
						 GetUserNameFromId(GetUserId(), false))));
	if (get_rel_persistence(def->base_relid) == RELPERSISTENCE_UNLOGGED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"%s\" is an unlogged table", table),
				 errdetail("After a crash an unlogged table is empty, and the aggregate would not be."),
				 errhint("ALTER TABLE %s SET LOGGED; then create the aggregate.",
						 table)));
	if (!MODE_IS_STREAMING(mode))
		return;

	if (get_rel_relispartition(def->base_relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"%s\" is a partition of \"%s\"", table,
						get_rel_name(get_partition_parent(def->base_relid,
														  true))),
				 errdetail("Writes through the partitioned table fire no trigger on the partition, so a %s aggregate would miss them.",
						   mode_name(mode)),
				 errhint("Aggregate \"%s\" with a WHERE clause on its partition key, or use mode => 'batch'.",
						 get_rel_name(get_partition_parent(def->base_relid,
														   true)))));
	refuse_unlogged_partitions(def);
	if (pg_class_aclcheck(def->base_relid, GetUserId(), ACL_TRIGGER) !=
		ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", table),
				 errdetail("A %s aggregate captures changes with triggers, which needs the TRIGGER privilege on the table.",
						   mode_name(mode)),
				 errhint("GRANT TRIGGER ON %s TO %s; or use mode => 'batch'.",
						 table, GetUserNameFromId(GetUserId(), false))));
	if (get_rel_relkind(def->base_relid) == RELKIND_RELATION &&
		find_inheritance_children(def->base_relid, NoLock) != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table %s has inheritance children", table),
				 errdetail(def->base_inh ?
						   "Rows written directly into a child table would not be captured." :
						   "An UPDATE or DELETE of the parent reaches the children's rows too, which FROM ONLY leaves out."),
				 errhint("Use declarative partitioning, or mode => 'batch'.")));
	if (!with_data)
	{
		Oid			namespace = get_rel_namespace(def->base_relid);
		char	   *schema = get_namespace_name(namespace);
		char	   *sql = psprintf("SELECT EXISTS (SELECT FROM %s)",
								   quote_qualified_identifier(schema, table));
		bool		isnull;
		bool		has_rows;

		SPI_connect();
		spi_run(sql, SPI_OK_SELECT);
		has_rows = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1,
											  &isnull));
		SPI_finish();
		if (has_rows)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a %s aggregate must start from the rows already in %s",
							mode_name(mode), table),
					 errdetail("with_data => false would leave those rows out of every result, and a later DELETE of them would make counts negative."),
					 errhint("Leave with_data at true, or use mode => 'batch', whose view reads unmaterialized rows from the table.")));
	}
}

/* the caller may create the view in its schema; errors if the name is taken */
static void
check_view_name(RangeVar *rv, Oid namespace_oid)
{
	Oid			existing = get_relname_relid(rv->relname, namespace_oid);
	AclResult	acl = pg_namespace_aclcheck(namespace_oid, GetUserId(),
											ACL_CREATE);

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_SCHEMA, get_namespace_name(namespace_oid));
	if (OidIsValid(existing))
	{
		if (catalog_get_by_view(existing, true) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("hybridagg aggregate \"%s\" already exists",
							rv->relname),
					 errhint("Drop it first with hybridagg.drop(), or choose another name.")));
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists in schema \"%s\"",
						rv->relname, get_namespace_name(namespace_oid)),
				 errhint("Choose another name for the aggregate.")));
	}
}

/* ----------------------------------------------------------------
 * Objects
 * ----------------------------------------------------------------
 */

static void
give_to_owner(const char *kind, const char *qualname, Oid owner)
{
	spi_run(psprintf("ALTER %s %s OWNER TO %s", kind, qualname,
					 quote_identifier(GetUserNameFromId(owner, false))),
			SPI_OK_UTILITY);
}

static void
create_state_table(const AggLayout *layout, const char *kind, int32 id,
				   const char *options, Oid owner)
{
	char	   *qualname = internal_qualname(kind, id);
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (", qualname);
	append_column_defs(&sql, layout, strcmp(kind, OBJ_DELTA) == 0);
	appendStringInfo(&sql, ") %s", options);
	spi_run(sql.data, SPI_OK_UTILITY);

	if (strcmp(kind, OBJ_DELTA) != 0)
	{
		/* delta is append-only: no index */
		resetStringInfo(&sql);
		appendStringInfo(&sql, "CREATE UNIQUE INDEX %s ON %s (",
						 quote_identifier(psprintf("%s_%d_group", kind, id)),
						 qualname);
		append_keys(&sql, layout, NULL);
		appendStringInfoString(&sql, ") NULLS NOT DISTINCT");
		spi_run(sql.data, SPI_OK_UTILITY);
	}
	give_to_owner("TABLE", qualname, owner);
}

/* token_<id>: a secret only the owner may read, which its view passes on */
static void
create_token_table(int32 id, Oid owner)
{
	char	   *qualname = internal_qualname(OBJ_TOKEN, id);
	char		token[TOKEN_BYTES];
	Oid			type = BYTEAOID;
	Datum		value;
	bytea	   *bytes = palloc(VARHDRSZ + TOKEN_BYTES);

	if (!pg_strong_random(token, TOKEN_BYTES))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random token")));
	SET_VARSIZE(bytes, VARHDRSZ + TOKEN_BYTES);
	memcpy(VARDATA(bytes), token, TOKEN_BYTES);
	value = PointerGetDatum(bytes);
	spi_run(psprintf("CREATE TABLE %s (token pg_catalog.bytea NOT NULL)",
					 qualname),
			SPI_OK_UTILITY);
	spi_run_args(psprintf("INSERT INTO %s VALUES ($1)", qualname), 1, &type,
				 &value, NULL, SPI_OK_INSERT);
	give_to_owner("TABLE", qualname, owner);
}

void
create_streaming_tables(const AggLayout *layout, const AggregateEntry *entry)
{
	ActingAs	saved;

	act_as(extension_owner(), &saved);
	create_state_table(layout, OBJ_RECENT, entry->id,
					   "WITH (fillfactor = 70)", entry->owner);
	create_state_table(layout, OBJ_DELTA, entry->id,
					   "WITH (autovacuum_vacuum_scale_factor = 0, "
					   "autovacuum_vacuum_threshold = 10000, "
					   "autovacuum_vacuum_insert_scale_factor = 0, "
					   "autovacuum_vacuum_insert_threshold = 100000, "
					   "autovacuum_vacuum_cost_delay = 0)",
					   entry->owner);
	create_token_table(entry->id, entry->owner);
	act_as_restore(&saved);
}

char *
view_comment(AggregateMode mode, const char *query)
{
	return psprintf("hybridagg aggregate, kept in %s mode; defined as: %s",
					mode_name(mode), query);
}

/* as the extension's owner: fresh objects, made from the definition alone */
static void
create_internal_objects(const Definition *def, const AggregateEntry *entry)
{
	ActingAs	saved;

	act_as(extension_owner(), &saved);
	create_source_view(def, entry->id);
	give_to_owner("VIEW", internal_qualname(OBJ_SOURCE, entry->id),
				  entry->owner);
	if (def->layout->has_values)
	{
		create_values_view(def, entry->id);
		give_to_owner("VIEW", internal_qualname(OBJ_VALUES, entry->id),
					  entry->owner);
	}
	layout_read_values(def->layout, entry->id);

	create_state_table(def->layout, OBJ_HISTORY, entry->id,
					   "PARTITION BY RANGE (g1)", entry->owner);
	if (MODE_IS_STREAMING(entry->mode))
		create_streaming_tables(def->layout, entry);
	create_groups_view(def, entry, false);
	give_to_owner("VIEW", internal_qualname(OBJ_GROUPS, entry->id),
				  entry->owner);
	act_as_restore(&saved);
}

static void
backfill(AggregateEntry *entry, bool with_data)
{
	AggLayout  *layout = layout_read(entry->id);
	ActingAs	saved;
	Snapshot	snap;

	lock_aggregate(entry);
	act_as(entry->owner, &saved);
	snap = mover_snapshot();
	if (MODE_HAS_HISTORY(entry->mode) &&
		(with_data || entry->mode != MODE_BATCH))
		catalog_set_watermark(entry, seal_limit(entry));
	if (with_data)
	{
		int64		groups = recompute_all(entry, layout, DT_NOBEGIN,
										   entry->mode == MODE_BATCH ?
										   entry->watermark : DT_NOEND,
										   snap);

		stats_record_batch(entry->id, groups, 0);
	}
	UnregisterSnapshot(snap);
	act_as_restore(&saved);
}

/* ----------------------------------------------------------------
 * hybridagg.create()
 * ----------------------------------------------------------------
 */

/* seal_after as create() takes it by default (the SQL files say '1 hour') */
static bool
is_default_seal_after(Interval *seal_after)
{
	Interval   *hour = interval_from_usecs(USECS_PER_HOUR);

	return DatumGetBool(DirectFunctionCall2(interval_eq,
											IntervalPGetDatum(seal_after),
											IntervalPGetDatum(hour)));
}

Datum
hybridagg_create(PG_FUNCTION_ARGS)
{
	const char *name;
	const char *query;
	AggregateMode mode;
	Interval   *seal_after;
	bool		with_data;
	RangeVar   *rv;
	Oid			namespace_oid;
	Definition *def;
	AggregateEntry entry = {0};
	int			nestlevel;
	char	   *comment;
	char	   *qualname;

	require_primary("hybridagg.create()");
	require_argument(fcinfo, 0, "name",
					 "Pass the name of the view to create, such as 'events_1m'.");
	require_argument(fcinfo, 1, "query",
					 "Pass the defining query, SELECT ... GROUP BY <time bucket>, as text.");
	require_argument(fcinfo, 2, "mode",
					 "Leave mode out to take its default, 'hybrid'.");
	require_argument(fcinfo, 3, "seal_after",
					 "Leave seal_after out to take its default, '1 hour'.");
	require_argument(fcinfo, 4, "with_data",
					 "Leave with_data out to take its default, true.");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	mode = parse_mode(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	seal_after = PG_GETARG_INTERVAL_P(3);
	with_data = PG_GETARG_BOOL(4);

	check_seal_after(seal_after);
	if (MODE_IS_STREAMING(mode))
		check_streaming_possible(mode,
								 "hybridagg.create() of a streaming aggregate");

	/* the query and the name are read in the caller's session */
	def = definition_analyze(query);
	if (def->bucket.is_integer && !is_default_seal_after(seal_after))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("seal_after has no meaning for an integer time bucket"),
				 errdetail("An integer time has no clock to tell a bucket's age: hybridagg seals no bucket of it, whatever seal_after says."),
				 errhint("Leave seal_after out: every bucket of an integer time stays in recent, and batch mode aggregates the base table.")));
	rv = name_to_rangevar(name);
	namespace_oid = RangeVarGetCreationNamespace(rv);

	nestlevel = fix_settings(SETTINGS_DEPARSE);
	check_view_name(rv, namespace_oid);
	check_base_table(def, mode, with_data);
	LockRelationOid(def->base_relid,
					MODE_IS_STREAMING(mode) ? ShareRowExclusiveLock :
					AccessShareLock);
	SPI_connect();

	entry.id = catalog_next_id();
	entry.base_relid = def->base_relid;
	entry.owner = GetUserId();
	check_code_owners(def, entry.owner, mode == MODE_BATCH);
	entry.mode = mode;
	entry.seal_after = *seal_after;
	entry.bucket = def->bucket;
	entry.watermark = DT_NOBEGIN;
	entry.definition = pstrdup(query);

	create_internal_objects(def, &entry);
	create_user_view(def, entry.id, namespace_oid, rv->relname);
	entry.view_relid = get_relname_relid(rv->relname, namespace_oid);
	comment = quote_literal_cstr(view_comment(mode, query));
	qualname = quote_qualified_identifier(get_namespace_name(namespace_oid),
										  rv->relname);
	spi_run(psprintf("COMMENT ON VIEW %s IS %s", qualname, comment),
			SPI_OK_UTILITY);
	if (MODE_IS_STREAMING(mode))
		install_capture_triggers(&entry);
	catalog_insert(&entry);
	{
		List	   *finals = NIL;
		ListCell   *lc;

		foreach(lc, def->aggregates)
		{
			DefinedAggregate *agg = lfirst(lc);

			finals = lappend(finals, psprintf("%s:%d", agg_func_name(agg->func),
											  agg->arg));
		}
		catalog_set_finals(entry.id, finals);
	}
	backfill(&entry, with_data);
	if (MODE_IS_STREAMING(mode))
		worker_request();

	SPI_finish();
	restore_settings(nestlevel);
	PG_RETURN_OID(entry.view_relid);
}
