/*-------------------------------------------------------------------------
 * ddl_guard.c
 *	  What DDL on a base table, or on an aggregate's view, does to the
 *	  aggregate: event triggers at the start and at the end of CREATE TABLE,
 *	  ALTER TABLE and ALTER VIEW.
 *
 * The guard reads what each command did (the collected commands and their
 * ALTER TABLE subcommands, as PostgreSQL hands them to event triggers) and
 * acts on those subcommands only: CREATE TABLE ... PARTITION OF or
 * INHERITS, ATTACH and DETACH PARTITION, INHERIT, ROW LEVEL SECURITY,
 * SET UNLOGGED, ENABLE and DISABLE TRIGGER, OWNER TO.  So DDL on unrelated
 * tables, hybridagg's own partition DDL, and a pg_restore (which loads the
 * catalog before it creates the capture triggers) change nothing.  Under the
 * aggregate's lock (so that concurrent DDL on two partitions of one table,
 * and the worker, take turns):
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

#include "access/genam.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/deparse_utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "capture.h"
#include "capture_triggers.h"
#include "catalog.h"
#include "export.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_base_table_ddl);
PG_FUNCTION_INFO_V1(hybridagg_base_table_ddl_start);
PG_FUNCTION_INFO_V1(hybridagg_capture_partitions);

/* every aggregate, for a look at which ones a command touched */
static List *
all_aggregates(void)
{
	List	   *entries = NIL;
	List	   *ids = NIL;
	ListCell   *lc;

	spi_run("SELECT id FROM " INTERNAL_SCHEMA ".aggregate ORDER BY id",
			SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[i],
									   SPI_tuptable->tupdesc, 1, &isnull);

		ids = lappend_int(ids, DatumGetInt32(id));
	}
	foreach(lc, ids)
	{
		AggregateEntry *entry = catalog_get(lfirst_int(lc), true);

		if (entry != NULL && OidIsValid(entry->owner))
			entries = lappend(entries, entry);
	}
	return entries;
}

/* the aggregates whose base table is relid or has it in its partition tree */
static List *
aggregates_over(List *aggregates, Oid relid)
{
	List	   *found = NIL;
	ListCell   *lc;

	foreach(lc, aggregates)
	{
		AggregateEntry *entry = lfirst(lc);

		if (entry->base_relid == relid ||
			list_member_oid(find_all_inheritors(entry->base_relid, NoLock,
												NULL),
							relid))
			found = lappend(found, entry);
	}
	return found;
}

static void
refuse(const AggregateEntry *entry, Oid relid, const char *what,
	   const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s \"%s\" %s",
					relid == entry->base_relid ? "table" : "partition",
					get_rel_name(relid), what),
			 errdetail("It is %s hybridagg aggregate %s: %s",
					   relid == entry->base_relid ? "the base table of" :
					   "a partition of the base table of",
					   get_rel_name(entry->view_relid), detail),
			 errhint("%s", hint)));
}

static void
refuse_unlogged(const AggregateEntry *entry, Oid relid)
{
	if (get_rel_persistence(relid) == RELPERSISTENCE_UNLOGGED)
		refuse(entry, relid, "cannot be unlogged",
			   "after a crash an unlogged table is empty, and the aggregate would not be.",
			   "Keep the table logged, or drop the aggregate first.");
}

static void
record_capture_interrupted(const AggregateEntry *entry, Oid relid, char state)
{
	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg("the capture triggers of hybridagg aggregate %s on \"%s\" %s",
					get_rel_name(entry->view_relid), get_rel_name(relid),
					state == TRIGGER_DISABLED ? "are disabled" :
					"fire on replicas only"),
			 errdetail("Writes to the table from now on are not seen by the aggregate, whose view will not equal its defining query."),
			 errhint("Run ALTER TABLE %s ENABLE ALWAYS TRIGGER ALL, then CALL hybridagg.materialize('%s', '-infinity', 'infinity') to recompute what was missed.",
					 quote_identifier(get_rel_name(relid)),
					 get_rel_name(entry->view_relid))));
	catalog_set_capture_interrupted(entry->id, true);
}

/* a trigger of relid was enabled or disabled: the capture must fire always */
static void
check_capture_state(const AggregateEntry *entry, Oid relid)
{
	char		state;

	if (!has_capture_triggers(entry->id, relid))
		return;
	state = capture_trigger_state(entry->id, relid);
	/* ENABLE TRIGGER (ALL) leaves it firing on the origin only */
	if (state == TRIGGER_FIRES_ON_ORIGIN)
		enable_capture_triggers_always(entry->id, relid);
	else if (state != TRIGGER_FIRES_ALWAYS)
		record_capture_interrupted(entry, relid, state);
}

/* partition relid (and its partitions) joined the base table: rows too */
static void
partition_joined(const AggregateEntry *entry, Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Oid			part = lfirst_oid(lc);

		refuse_unlogged(entry, part);
		if (has_capture_triggers(entry->id, part))
			continue;
		install_capture_triggers_on(entry, part);
		capture_replay_relation(entry->id, part, 1);
	}
}

/* partition relid (and its partitions) left the base table: rows too */
static void
partition_left(const AggregateEntry *entry, Oid relid)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Oid			part = lfirst_oid(lc);

		if (!has_capture_triggers(entry->id, part))
			continue;
		remove_capture_triggers_from(entry, part);
		capture_replay_relation(entry->id, part, -1);
	}
}

/* the view's owner owns the internal objects too */
static void
follow_view_owner(const AggregateEntry *entry)
{
	const char *owner = quote_identifier(GetUserNameFromId(entry->owner,
														   false));
	Oid			types[3] = {OIDOID, OIDOID, TEXTOID};
	Datum		values[3];
	List	   *statements = NIL;
	ListCell   *lc;
	ActingAs	saved;

	values[0] = ObjectIdGetDatum(internal_schema_oid());
	values[1] = ObjectIdGetDatum(entry->owner);
	values[2] = CStringGetTextDatum(psprintf("%d", entry->id));
	spi_run_args("SELECT c.oid::regclass::text, c.relkind = 'v' "
				 "FROM pg_class c "
				 " WHERE c.relnamespace = $1 AND c.relowner <> $2 "
				 "   AND c.relkind IN ('r', 'p', 'v') "
				 "AND c.relname ~ ('^[a-z]+_' || $3 || '($|_)')",
				 3, types, values, NULL, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		bool		is_view = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc,
														 2, &isnull));

		statements = lappend(statements,
							 psprintf("ALTER %s %s OWNER TO %s",
									  is_view ? "VIEW" : "TABLE",
									  SPI_getvalue(SPI_tuptable->vals[i],
												   SPI_tuptable->tupdesc, 1),
									  owner));
	}
	/* ALTER ... OWNER runs no code of the old or the new owner */
	act_as(extension_owner(), &saved);
	foreach(lc, statements)
		spi_run(lfirst(lc), SPI_OK_UTILITY);
	act_as_restore(&saved);
}

/* CREATE TABLE relid ... PARTITION OF, or ... INHERITS */
static void
table_created(List *aggregates, Oid relid, CreateStmt *stmt)
{
	ListCell   *lc;

	if (stmt->partbound)
	{
		foreach(lc, aggregates_over(aggregates, relid))
		{
			AggregateEntry *entry = lfirst(lc);

			if (!MODE_IS_STREAMING(entry->mode))
				continue;
			lock_aggregate(entry);
			partition_joined(entry, relid);
		}
		return;
	}
	foreach(lc, relation_parents(relid))
	{
		Oid			parent = lfirst_oid(lc);
		ListCell   *lc2;

		foreach(lc2, aggregates)
		{
			AggregateEntry *entry = lfirst(lc2);

			if (MODE_IS_STREAMING(entry->mode) && entry->base_relid == parent)
				refuse(entry, parent, "cannot have inheritance children",
					   "an UPDATE or DELETE of the parent reaches the children's rows, which the aggregate does not hold.",
					   "Use declarative partitioning, or mode => 'batch'.");
		}
	}
}

/* one subcommand of ALTER TABLE relid */
static void
table_altered(List *aggregates, Oid relid, AlterTableCmd *cmd)
{
	List	   *touched = aggregates_over(aggregates, relid);
	ListCell   *lc;

	switch (cmd->subtype)
	{
		case AT_AttachPartition:
			/* a streaming aggregate's base table may not become a partition */
			foreach(lc, aggregates)
			{
				AggregateEntry *entry = lfirst(lc);

				if (MODE_IS_STREAMING(entry->mode) &&
					get_rel_relispartition(entry->base_relid))
					refuse(entry, entry->base_relid,
						   "cannot become a partition",
						   "writes through the partitioned table would not be captured.",
						   "Aggregate the partitioned table instead, with a WHERE clause on the partition key.");
			}
			/* the tables of the tree that do not carry the triggers yet */
			foreach(lc, touched)
			{
				AggregateEntry *entry = lfirst(lc);
				ListCell   *lc2;

				if (!MODE_IS_STREAMING(entry->mode))
					continue;
				lock_aggregate(entry);
				foreach(lc2, find_all_inheritors(entry->base_relid, NoLock,
												 NULL))
				{
					if (!has_capture_triggers(entry->id, lfirst_oid(lc2)))
						partition_joined(entry, lfirst_oid(lc2));
				}
			}
			break;
		case AT_DetachPartition:
			/* the tables that carry the triggers but left the tree */
			foreach(lc, touched)
			{
				AggregateEntry *entry = lfirst(lc);
				List	   *tree;
				ListCell   *lc2;

				if (!MODE_IS_STREAMING(entry->mode))
					continue;
				lock_aggregate(entry);
				tree = find_all_inheritors(entry->base_relid, NoLock, NULL);
				foreach(lc2, tables_with_capture_triggers(entry->id))
				{
					if (!list_member_oid(tree, lfirst_oid(lc2)))
						partition_left(entry, lfirst_oid(lc2));
				}
			}
			break;
		case AT_AddInherit:
			foreach(lc, relation_parents(relid))
			{
				Oid			parent = lfirst_oid(lc);
				ListCell   *lc2;

				foreach(lc2, aggregates)
				{
					AggregateEntry *entry = lfirst(lc2);

					if (MODE_IS_STREAMING(entry->mode) &&
						entry->base_relid == parent)
						refuse(entry, parent,
							   "cannot have inheritance children",
							   "an UPDATE or DELETE of the parent reaches the children's rows, which the aggregate does not hold.",
							   "Use declarative partitioning, or mode => 'batch'.");
				}
			}
			break;
		case AT_EnableRowSecurity:
		case AT_ForceRowSecurity:
			foreach(lc, touched)
			{
				AggregateEntry *entry = lfirst(lc);

				if (entry->base_relid == relid)
					refuse(entry, relid, "cannot have row-level security",
						   "the aggregate would serve every reader totals of rows that its policies hide.",
						   "Drop the aggregate first, or aggregate a table that holds only rows all readers may see.");
			}
			break;
		case AT_SetUnLogged:
			foreach(lc, touched)
				refuse_unlogged(lfirst(lc), relid);
			break;
		case AT_EnableTrig:
		case AT_EnableAlwaysTrig:
		case AT_EnableReplicaTrig:
		case AT_EnableTrigAll:
		case AT_EnableTrigUser:
		case AT_DisableTrig:
		case AT_DisableTrigAll:
		case AT_DisableTrigUser:
			foreach(lc, touched)
			{
				AggregateEntry *entry = lfirst(lc);

				if (MODE_IS_STREAMING(entry->mode))
					check_capture_state(entry, relid);
			}
			break;
		case AT_ChangeOwner:
			foreach(lc, aggregates)
			{
				AggregateEntry *entry = lfirst(lc);

				if (entry->view_relid == relid)
					follow_view_owner(entry);
			}
			break;
		default:
			break;
	}
}

/* set while the guard runs DDL of its own, which it need not look at */
static bool guarding = false;

static void
guard_commands(List *commands)
{
	List	   *aggregates = NIL;
	ListCell   *lc;

	foreach(lc, commands)
	{
		CollectedCommand *command = lfirst(lc);

		if (command->type == SCT_Simple && IsA(command->parsetree, CreateStmt))
		{
			if (aggregates == NIL)
				aggregates = all_aggregates();
			table_created(aggregates, command->d.simple.address.objectId,
						  (CreateStmt *) command->parsetree);
		}
		else if (command->type == SCT_AlterTable)
		{
			ListCell   *lc2;

			/* hybridagg's own tables change as it works: nothing to look at */
			if (get_rel_namespace(command->d.alterTable.objectId) ==
				internal_schema_oid())
				continue;
			if (aggregates == NIL)
				aggregates = all_aggregates();
			foreach(lc2, command->d.alterTable.subcmds)
			{
				CollectedATSubcmd *sub = lfirst(lc2);

				if (IsA(sub->parsetree, AlterTableCmd))
					table_altered(aggregates, command->d.alterTable.objectId,
								  (AlterTableCmd *) sub->parsetree);
			}
		}
	}
}

Datum
hybridagg_base_table_ddl(PG_FUNCTION_ARGS)
{
	int			nestlevel;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hybridagg_internal.base_table_ddl() must be called as an event trigger")));
	if (guarding || changing_capture_triggers)
		PG_RETURN_NULL();

	nestlevel = fix_settings(SETTINGS_SQL);
	SPI_connect();
	guarding = true;
	PG_TRY();
	{
		guard_commands(collected_commands());
	}
	PG_FINALLY();
	{
		guarding = false;
	}
	PG_END_TRY();
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
			AggregateEntry *entry = lfirst(lc2);

			if (MODE_IS_STREAMING(entry->mode) &&
				list_member_oid(find_all_inheritors(entry->base_relid, NoLock,
													NULL),
								parent))
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
