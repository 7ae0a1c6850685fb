/*-------------------------------------------------------------------------
 * ddl_guard.c
 *	  What DDL on a base table, or on an aggregate's view, does to the
 *	  aggregate: event triggers at the start and at the end of CREATE TABLE,
 *	  ALTER TABLE and ALTER VIEW.
 *
 * Each command is looked at only if it touched a base table, a table of its
 * partition or inheritance tree, a table one of them is attached to, or an
 * aggregate's view; every other DDL in the database costs one scan of the
 * small catalog.  Under the aggregate's lock (so that concurrent DDL on two
 * partitions of one table, and the worker, take turns):
 *	 - a partition created, attached or detached under a streaming
 *	   aggregate's base table gets or loses the capture triggers, and its
 *	   rows are added to or subtracted from the aggregate; the DDL holds the
 *	   locks that keep writers out of it, so the rows are replayed in its
 *	   transaction;
 *	 - refused, since the aggregate would silently go wrong: making a base
 *	   table (or a partition) UNLOGGED, enabling row-level security on it,
 *	   attaching a streaming aggregate's base table as a partition of
 *	   another table (writes through the parent would not be captured),
 *	   giving it inheritance children, and, at the start of the command,
 *	   DETACH PARTITION ... CONCURRENTLY of its partitions;
 *	 - capture triggers that a command disabled or set to fire on replicas
 *	   only are reported with a WARNING and recorded in the catalog
 *	   (capture_interrupted_at), since writes from then on are missed;
 *	   triggers merely enabled again (ENABLE TRIGGER ALL leaves them firing
 *	   on the origin only) are made to fire always again;
 *	 - a new owner of an aggregate's view becomes the owner of its internal
 *	   objects too (the aggregate's owner is its view's owner).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "capture.h"
#include "capture_triggers.h"
#include "catalog.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_base_table_ddl);
PG_FUNCTION_INFO_V1(hybridagg_base_table_ddl_start);
PG_FUNCTION_INFO_V1(hybridagg_capture_partitions);

/* the relations a command touched, from pg_event_trigger_ddl_commands() */
static pg_noinline List *
touched_relations(void)
{
	List	   *relids = NIL;

	spi_run("SELECT DISTINCT objid FROM pg_event_trigger_ddl_commands() "
			" WHERE classid = 'pg_class'::regclass AND objid IS NOT NULL", SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		relids = lappend_oid(relids, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return relids;
}

/* every aggregate, for a look at which ones a command touched */
static List *
all_aggregates(void)
{
	List	   *ids = NIL;

	spi_run("SELECT id FROM " INTERNAL_SCHEMA ".aggregate ORDER BY id", SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		ids = lappend_int(ids, DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return ids;
}

static bool
touches(const AggregateEntry *entry, List *touched)
{
	List	   *tree;
	ListCell   *lc;

	if (list_member_oid(touched, entry->view_relid) || list_member_oid(touched, entry->base_relid))
		return true;
	/* the tables under the base table, and the detached ones that still carry its triggers */
	tree = list_concat(find_all_inheritors(entry->base_relid, NoLock, NULL),
					   MODE_IS_STREAMING(entry->mode) ? tables_with_capture_triggers(entry->id) : NIL);
	foreach(lc, touched)
	{
		Oid			relid = lfirst_oid(lc);

		if (list_member_oid(tree, relid) ||
			list_member_oid(find_inheritance_children(relid, NoLock), entry->base_relid))
			return true;
	}
	return false;
}

static void
refuse(const AggregateEntry *entry, Oid relid, const char *what, const char *detail,
	   const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s \"%s\" %s", relid == entry->base_relid ? "table" : "partition",
					get_rel_name(relid), what),
			 errdetail("It is %s hybridagg aggregate %s: %s",
					   relid == entry->base_relid ? "the base table of" : "a partition of the base table of",
					   get_rel_name(entry->view_relid), detail),
			 errhint("%s", hint)));
}

static void
check_table(const AggregateEntry *entry, Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;

	if (!HeapTupleIsValid(tuple))
		return;
	form = (Form_pg_class) GETSTRUCT(tuple);
	if (form->relpersistence == RELPERSISTENCE_UNLOGGED)
		refuse(entry, relid, "cannot be unlogged",
			   "after a crash an unlogged table is empty, and the aggregate would not be.",
			   "Keep the table logged, or drop the aggregate first.");
	if (relid == entry->base_relid && form->relrowsecurity)
		refuse(entry, relid, "cannot have row-level security",
			   "the aggregate would serve every reader totals of rows that its policies hide.",
			   "Drop the aggregate first, or aggregate a table that holds only rows all readers may see.");
	if (relid == entry->base_relid && form->relispartition && MODE_IS_STREAMING(entry->mode))
		refuse(entry, relid, "cannot become a partition",
			   "writes through the partitioned table would not be captured.",
			   "Aggregate the partitioned table instead, with a WHERE clause on the partition key.");
	if (form->relkind == RELKIND_RELATION && MODE_IS_STREAMING(entry->mode) &&
		find_inheritance_children(relid, NoLock) != NIL)
		refuse(entry, relid, "cannot have inheritance children",
			   "an UPDATE or DELETE of the parent reaches the children's rows, which the aggregate does not hold.",
			   "Use declarative partitioning, or mode => 'batch'.");
	ReleaseSysCache(tuple);
}

static void
record_capture_interrupted(const AggregateEntry *entry, Oid relid, char state)
{
	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg("the capture triggers of hybridagg aggregate %s on \"%s\" %s",
					get_rel_name(entry->view_relid), get_rel_name(relid),
					state == TRIGGER_DISABLED ? "are disabled" : "fire on replicas only"),
			 errdetail("Writes to the table from now on are not seen by the aggregate, whose view will not equal its defining query."),
			 errhint("Run ALTER TABLE %s ENABLE ALWAYS TRIGGER ALL, then CALL hybridagg.materialize('%s', '-infinity', 'infinity') to recompute what was missed.",
					 quote_identifier(get_rel_name(relid)), get_rel_name(entry->view_relid))));
	catalog_set_capture_interrupted(entry->id, true);
}

/* the capture triggers in line with the partition tree, firing always */
static void
align_capture_triggers(const AggregateEntry *entry)
{
	List	   *tree = find_all_inheritors(entry->base_relid, NoLock, NULL);
	ListCell   *lc;

	foreach(lc, tree)
	{
		Oid			relid = lfirst_oid(lc);
		char		state;

		if (!has_capture_triggers(entry->id, relid))
		{
			/* new or attached: its rows join the base table */
			install_capture_triggers_on(entry, relid);
			capture_replay_relation(entry->id, relid, 1);
			continue;
		}
		state = capture_trigger_state(entry->id, relid);
		if (state == TRIGGER_FIRES_ON_ORIGIN)
			enable_capture_triggers_always(entry->id, relid);
		else if (state != TRIGGER_FIRES_ALWAYS)
			record_capture_interrupted(entry, relid, state);
	}
	foreach(lc, tables_with_capture_triggers(entry->id))
	{
		Oid			relid = lfirst_oid(lc);

		if (list_member_oid(tree, relid))
			continue;
		/* detached: its rows leave the base table */
		remove_capture_triggers_from(entry, relid);
		capture_replay_relation(entry->id, relid, -1);
	}
}

/* the view's owner owns the internal objects too */
static void
follow_view_owner(const AggregateEntry *entry)
{
	const char *owner = quote_identifier(GetUserNameFromId(entry->owner, false));
	Oid			schema = internal_schema_oid();
	ActingAs	saved;

	spi_run_args("SELECT c.oid::regclass::text, c.relkind = 'v' FROM pg_class c "
				 " WHERE c.relnamespace = $1 AND c.relowner <> $2 "
				 "   AND c.relkind IN ('r', 'p', 'v') AND c.relname ~ ('^[a-z]+_' || $3 || '($|_)')",
				 3, (Oid[]) {OIDOID, OIDOID, TEXTOID},
				 (Datum[]) {ObjectIdGetDatum(schema), ObjectIdGetDatum(entry->owner),
				 CStringGetTextDatum(psprintf("%d", entry->id))},
				 NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return;
	{
		List	   *objects = NIL;
		ListCell   *lc;

		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			bool		is_view = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));

			objects = lappend(objects, psprintf("ALTER %s %s OWNER TO %s", is_view ? "VIEW" : "TABLE",
												SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
												owner));
		}
		/* ALTER ... OWNER runs no code of the old or the new owner */
		act_as(extension_owner(), &saved);
		foreach(lc, objects)
			spi_run(lfirst(lc), SPI_OK_UTILITY);
		act_as_restore(&saved);
	}
}

/* set while the guard runs DDL of its own, which it need not look at */
static bool guarding = false;

Datum
hybridagg_base_table_ddl(PG_FUNCTION_ARGS)
{
	List	   *touched;
	ListCell   *lc;
	int			nestlevel;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hybridagg_internal.base_table_ddl() must be called as an event trigger")));
	if (guarding || changing_capture_triggers)
		PG_RETURN_NULL();

	nestlevel = fix_settings(SETTINGS_SQL);
	SPI_connect();
	touched = touched_relations();
	/* hybridagg's own tables change as it works: nothing to look at */
	foreach(lc, touched)
		if (get_rel_namespace(lfirst_oid(lc)) == internal_schema_oid())
			touched = foreach_delete_current(touched, lc);
	if (touched != NIL)
	{
		guarding = true;
		PG_TRY();
		{
			foreach(lc, all_aggregates())
			{
				AggregateEntry *entry = catalog_get(lfirst_int(lc), true);

				if (entry == NULL || !OidIsValid(entry->owner) || !touches(entry, touched))
					continue;
				lock_aggregate(entry);
				check_table(entry, entry->base_relid);
				if (MODE_IS_STREAMING(entry->mode))
				{
					ListCell   *lc2;

					foreach(lc2, find_all_inheritors(entry->base_relid, NoLock, NULL))
						check_table(entry, lfirst_oid(lc2));
					align_capture_triggers(entry);
				}
				follow_view_owner(entry);
			}
		}
		PG_FINALLY();
		{
			guarding = false;
		}
		PG_END_TRY();
	}
	SPI_finish();
	restore_settings(nestlevel);
	PG_RETURN_NULL();
}

/* the 0.1.0 name of the end-of-command event trigger */
Datum
hybridagg_capture_partitions(PG_FUNCTION_ARGS)
{
	return hybridagg_base_table_ddl(fcinfo);
}

/*
 * At the start of ALTER TABLE: DETACH PARTITION ... CONCURRENTLY of a
 * partition of a streaming aggregate's base table is refused, since the
 * partition's rows leave in two steps that no one transaction could replay.
 */
Datum
hybridagg_base_table_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = (EventTriggerData *) fcinfo->context;
	AlterTableStmt *stmt;
	ListCell   *lc;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hybridagg_internal.base_table_ddl_start() must be called as an event trigger")));
	if (!IsA(trigdata->parsetree, AlterTableStmt))
		PG_RETURN_NULL();
	stmt = (AlterTableStmt *) trigdata->parsetree;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		Oid			parent;
		int			nestlevel;
		List	   *ids;
		ListCell   *lc2;

		if (cmd->subtype != AT_DetachPartition ||
			!((PartitionCmd *) cmd->def)->concurrent)
			continue;
		parent = RangeVarGetRelid(stmt->relation, NoLock, true);
		if (!OidIsValid(parent))
			continue;
		nestlevel = fix_settings(SETTINGS_SQL);
		SPI_connect();
		ids = all_aggregates();
		foreach(lc2, ids)
		{
			AggregateEntry *entry = catalog_get(lfirst_int(lc2), true);

			if (entry && MODE_IS_STREAMING(entry->mode) &&
				list_member_oid(find_all_inheritors(entry->base_relid, NoLock, NULL), parent))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("DETACH PARTITION CONCURRENTLY is not supported under hybridagg aggregate %s",
								get_rel_name(entry->view_relid)),
						 errdetail("The partition's rows leave the table in two transactions; the aggregate can only subtract them in one."),
						 errhint("Use ALTER TABLE ... DETACH PARTITION without CONCURRENTLY.")));
		}
		SPI_finish();
		restore_settings(nestlevel);
	}
	PG_RETURN_NULL();
}
