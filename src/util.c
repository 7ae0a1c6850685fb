/*-------------------------------------------------------------------------
 * util.c
 *	  Helpers shared by every part of hybridagg.
 *
 * Generated SQL never depends on the session that runs it: it is built and
 * executed under fixed settings (fix_settings), names every relation with
 * its schema, quotes every identifier with quote_identifier, and passes
 * values as SPI parameters rather than as text.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "util.h"

char *
internal_relname(const char *kind, int32 id)
{
	return psprintf("%s_%d", kind, id);
}

char *
internal_qualname(const char *kind, int32 id)
{
	return quote_qualified_identifier(INTERNAL_SCHEMA,
									  internal_relname(kind, id));
}

Oid
internal_schema_oid(void)
{
	return get_namespace_oid(INTERNAL_SCHEMA, false);
}

static void
check_internal_relkind(const char *kind, int32 id, char relkind)
{
	char		made;

	if (strcmp(kind, OBJ_SOURCE) == 0 || strcmp(kind, OBJ_GROUPS) == 0 ||
		strcmp(kind, OBJ_VALUES) == 0)
		made = RELKIND_VIEW;
	else if (strcmp(kind, OBJ_HISTORY) == 0)
		made = RELKIND_PARTITIONED_TABLE;
	else
		made = RELKIND_RELATION;
	if (relkind != made)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("internal object %s of hybridagg aggregate %d is not what hybridagg made",
						internal_qualname(kind, id), id),
				 errdetail("Its kind of relation was changed."),
				 errhint("Drop the aggregate with hybridagg.drop() and create it again.")));
}

/*
 * Open an internal table of aggregate id, and check once it is locked that it
 * is still a table: a superuser's rule may have turned it into a view while
 * we waited for the lock, and a view has no storage to scan or insert into.
 */
Relation
open_internal_table(const char *kind, int32 id, Oid relid, LOCKMODE lockmode)
{
	Relation	rel;

	if (!OidIsValid(relid))
		relid = internal_relid(kind, id, false);
	rel = table_open(relid, lockmode);
	check_internal_relkind(kind, id, rel->rd_rel->relkind);
	return rel;
}

Oid
internal_relid(const char *kind, int32 id, bool missing_ok)
{
	Oid			relid = get_relname_relid(internal_relname(kind, id),
										  internal_schema_oid());

	char		relkind;

	if (!OidIsValid(relid))
	{
		if (!missing_ok)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("internal table %s of hybridagg aggregate %d is missing",
							internal_qualname(kind, id), id),
					 errhint("Drop the aggregate with hybridagg.drop() and create it again.")));
		return relid;
	}

	/*
	 * what hybridagg made: a table is still a table (a rule could make it a
	 * view)
	 */
	relkind = get_rel_relkind(relid);
	check_internal_relkind(kind, id, relkind);
	return relid;
}

/*
 * Does the delta table of aggregate id hold a row this snapshot can see
 * (with dirty_only, a row with __dirty set)?  A plain scan that stops at the
 * first match, with no plan: an idle aggregate costs its readers and the
 * worker one look at a small table.  The lock is kept to the end of the
 * transaction, which goes on to read the table when the answer is yes.
 */
bool
delta_has_rows(int32 id, bool dirty_only)
{
	Relation	delta = open_internal_table(OBJ_DELTA, id, InvalidOid,
											AccessShareLock);
	AttrNumber	dirty = RelationGetDescr(delta)->natts; /* __dirty comes last */
	TableScanDesc scan = table_beginscan(delta, GetActiveSnapshot(), 0, NULL);
	TupleTableSlot *slot = table_slot_create(delta, NULL);
	bool		found = false;

	while (!found && table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;

		found = !dirty_only || DatumGetBool(slot_getattr(slot, dirty, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(delta, NoLock);
	return found;
}

/* The owner of the extension's internal schema, who installed hybridagg. */
Oid
extension_owner(void)
{
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(NAMESPACEOID,
							ObjectIdGetDatum(internal_schema_oid()));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for schema %s", INTERNAL_SCHEMA);
	owner = ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * The settings every statement hybridagg runs, and every evaluation of the
 * definition, sees: name resolution (search_path), the text forms of values
 * (DateStyle, IntervalStyle, extra_float_digits, bytea_output, xmlbinary)
 * and the zone abbreviations date_trunc(unit, t, zone) may read.  The values
 * are PostgreSQL's defaults wherever the default would do, so that most
 * sessions already have them and pay nothing to fix them.
 */
typedef struct FixedSetting
{
	const char *name;
	const char *value;
} FixedSetting;

static const FixedSetting fixed_settings[] = {
	{"search_path", FIXED_SEARCH_PATH},
	{"DateStyle", "ISO, MDY"},
	{"IntervalStyle", "postgres"},
	{"extra_float_digits", "1"},
	{"bytea_output", "hex"},
	{"xmlbinary", "base64"},
	{"xmloption", "content"},
	{"timezone_abbreviations", "Default"},
};

static bool
setting_is(const char *name, const char *value)
{
	const char *current = GetConfigOption(name, true, false);

	return current != NULL && strcmp(current, value) == 0;
}

/*
 * Fixed settings for what hybridagg runs next, in a GUC nest level of their
 * own, always: restore_settings() ends the level and undoes every change
 * made inside it, hybridagg's and any that code run as an aggregate's owner
 * made (a SET or set_config() in its function), as PostgreSQL does after
 * running another role's code in an index build or VACUUM.  Nothing set in
 * there outlives the statement: not in the reader's, the writer's or the
 * worker's session.
 */
int
fix_settings(SettingsPurpose purpose)
{
	int			nestlevel = NewGUCNestLevel();

	for (int i = 0;
		 i < lengthof(fixed_settings) + (purpose == SETTINGS_DEPARSE ? 1 : 0);
		 i++)
	{
		const char *name = (i < lengthof(fixed_settings) ?
							fixed_settings[i].name : "TimeZone");
		const char *value = (i < lengthof(fixed_settings) ?
							 fixed_settings[i].value : "UTC");

		/* a compiled definition of C and internal functions reads no names */
		if (purpose == SETTINGS_EVALUATION && i == 0)
			continue;
		if (setting_is(name, value))
			continue;
		(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	return nestlevel;
}

void
restore_settings(int nestlevel)
{
	AtEOXact_GUC(false, nestlevel);
}

bool
settings_are_fixed(void)
{
	return setting_is("search_path", FIXED_SEARCH_PATH);
}

/*
 * every statement hybridagg runs goes through here: never with a user's
 * settings
 */
static void
require_fixed_settings(const char *sql)
{
	if (!settings_are_fixed())
		elog(ERROR, "hybridagg: statement run without fixed settings: %s", sql);
}

void
act_as(Oid role, ActingAs *saved)
{
	GetUserIdAndSecContext(&saved->saved_userid, &saved->saved_sec_context);
	SetUserIdAndSecContext(role,
						   saved->saved_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

void
act_as_restore(ActingAs *saved)
{
	SetUserIdAndSecContext(saved->saved_userid, saved->saved_sec_context);
}

/* utility statements of spi_run running now: DDL hybridagg itself runs */
static int	own_ddl_depth = 0;

bool
running_own_ddl(void)
{
	return own_ddl_depth > 0;
}

List *
collected_commands(void)
{
	List	   *commands = NIL;

	spi_run("SELECT command FROM pg_event_trigger_ddl_commands()",
			SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		command = SPI_getbinval(SPI_tuptable->vals[i],
											SPI_tuptable->tupdesc, 1, &isnull);

		/* a pointer into the event trigger's state, valid for this event */
		if (!isnull)
			commands = lappend(commands, DatumGetPointer(command));
	}
	return commands;
}

List *
relation_parents(Oid relid)
{
	Relation	pg_inherits = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	List	   *parents = NIL;

	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(pg_inherits, InheritsRelidSeqnoIndexId, true,
							  NULL, 1, &key);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
		parents = lappend_oid(parents,
							  ((Form_pg_inherits) GETSTRUCT(tuple))->inhparent);
	systable_endscan(scan);
	table_close(pg_inherits, AccessShareLock);
	return parents;
}

uint64
spi_run(const char *sql, int expected)
{
	return spi_run_args(sql, 0, NULL, NULL, NULL, expected);
}

uint64
spi_run_args(const char *sql, int nargs, Oid *types, Datum *values,
			 const char *nulls, int expected)
{
	volatile int rc = 0;

	/*
	 * Inside a parallel query (the view read by CREATE TABLE AS, a
	 * materialized view's refresh) no command may start: a read runs in the
	 * calling query's snapshot, read-only.  Nothing can have been written
	 * before it in that query, so it sees what it would have seen otherwise.
	 */
	bool		read_only = IsInParallelMode() && expected == SPI_OK_SELECT;
	int			nestlevel;

	require_fixed_settings(sql);
	if (expected == SPI_OK_UTILITY)
		own_ddl_depth++;
	/* what an owner's function sets in the statement ends with it */
	nestlevel = NewGUCNestLevel();
	PG_TRY();
	{
		rc = SPI_execute_with_args(sql, nargs, types, values, nulls,
								   read_only, 0);
	}
	PG_FINALLY();
	{
		if (expected == SPI_OK_UTILITY)
			own_ddl_depth--;
	}
	PG_END_TRY();
	AtEOXact_GUC(false, nestlevel);
	if (rc != expected)
		elog(ERROR, "hybridagg: SPI_execute returned %s for: %s",
			 SPI_result_code_string(rc), sql);
	return SPI_processed;
}

Snapshot
mover_snapshot(void)
{
	/* taken after the caller locked the aggregate */
	return RegisterSnapshot(GetLatestSnapshot());
}

uint64
spi_run_snapshot(const char *sql, int nargs, Oid *types, Datum *values,
				 const char *nulls, Snapshot snapshot, int expected)
{
	SPIPlanPtr	plan;
	int			rc;
	int			nestlevel;

	require_fixed_settings(sql);
	plan = SPI_prepare(sql, nargs, types);
	if (plan == NULL)
		elog(ERROR, "hybridagg: SPI_prepare failed (%s) for: %s",
			 SPI_result_code_string(SPI_result), sql);
	/* what an owner's function sets in the statement ends with it */
	nestlevel = NewGUCNestLevel();
	rc = SPI_execute_snapshot(plan, values, nulls, snapshot, InvalidSnapshot,
							  false, false, 0);
	AtEOXact_GUC(false, nestlevel);
	if (rc != expected)
		elog(ERROR, "hybridagg: SPI_execute_snapshot returned %s for: %s",
			 SPI_result_code_string(rc), sql);
	SPI_freeplan(plan);
	return SPI_processed;
}

Interval *
interval_from_usecs(int64 usecs)
{
	Interval   *result = palloc0(sizeof(Interval));

	result->time = usecs;
	return result;
}

char *
time_literal(Oid time_type, int64 value)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		buf[MAXDATELEN + 1];

	if (TIMESTAMP_NOT_FINITE(value))
		return pstrdup(TIMESTAMP_IS_NOBEGIN(value) ? "-infinity" : "infinity");
	/* an integer bucket's time is a number */
	if (time_type == INT2OID || time_type == INT4OID || time_type == INT8OID)
		return psprintf(INT64_FORMAT, value);

	/* both types are read as UTC here: no session TimeZone is involved */
	if (timestamp2tm(value, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	tm.tm_isdst = 0;			/* else EncodeDateTime leaves the offset out */
	EncodeDateTime(&tm, fsec, time_type == TIMESTAMPTZOID, 0, NULL,
				   USE_ISO_DATES, buf);
	return pstrdup(buf);
}

/* an operator or a function call: the function it calls and its arguments */
bool
function_call(Node *node, Oid *funcid, List **args)
{
	if (IsA(node, OpExpr))
	{
		*funcid = ((OpExpr *) node)->opfuncid;
		if (!OidIsValid(*funcid))
			*funcid = get_opcode(((OpExpr *) node)->opno);
		*args = ((OpExpr *) node)->args;
		return true;
	}
	if (IsA(node, FuncExpr))
	{
		*funcid = ((FuncExpr *) node)->funcid;
		*args = ((FuncExpr *) node)->args;
		return true;
	}
	return false;
}
