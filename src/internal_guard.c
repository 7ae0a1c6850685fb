/*-------------------------------------------------------------------------
 * internal_guard.c
 *	  The internal objects of an aggregate change only as hybridagg changes
 *	  them.
 *
 * An aggregate's owner owns its internal tables and views (create.c), so
 * PostgreSQL lets it attach code to them: a trigger, a rule (which may even
 * turn a table into a view), a row-level security policy, a CHECK
 * constraint or a default, a partition of its own, a new definition of the
 * source view.  hybridagg writes these objects as the owner, but the
 * readers of the view read them with their own rights, and so would run
 * that code: a policy's function, read by a superuser, is a superuser's
 * function.  An event trigger at the end of every command that can attach
 * code refuses the command when it touches an object of hybridagg_internal,
 * unless
 *	 - hybridagg runs it (spi_run of a utility statement: util.c counts
 *	   them; its own DDL runs no user code), or
 *	 - the extension's script runs it (CREATE or ALTER EXTENSION), or
 *	 - a superuser does (a pg_restore, say: a superuser may run any code).
 * Tuning that runs no code stays open to the owner: ALTER TABLE ... SET and
 * RESET of a table's storage parameters, and SET STATISTICS.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_trigger.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/deparse_utility.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "export.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_internal_objects_ddl);

/* the relation a row of catalog (a trigger, a rule, a policy) belongs to */
static Oid
owning_relation(Oid catalog, Oid index, AttrNumber oid_column,
				AttrNumber rel_column, Oid object)
{
	Relation	rel = table_open(catalog, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			relid = InvalidOid;

	ScanKeyInit(&key, oid_column, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(object));
	scan = systable_beginscan(rel, index, true, NULL, 1, &key);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		value = heap_getattr(tuple, rel_column,
										 RelationGetDescr(rel), &isnull);

		if (!isnull)
			relid = DatumGetObjectId(value);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return relid;
}

static bool
is_internal(Oid relid)
{
	return OidIsValid(relid) &&
		get_rel_namespace(relid) == internal_schema_oid();
}

/* the relation an object of a collected command belongs to, and its parents */
static List *
relations_of(const ObjectAddress *address)
{
	List	   *relids = NIL;
	Oid			relid = InvalidOid;

	switch (address->classId)
	{
		case RelationRelationId:
			relid = address->objectId;
			if (get_rel_relkind(relid) == RELKIND_INDEX ||
				get_rel_relkind(relid) == RELKIND_PARTITIONED_INDEX)
				relids = lappend_oid(relids, IndexGetRelation(relid, false));
			break;
		case TriggerRelationId:
			relid = owning_relation(TriggerRelationId, TriggerOidIndexId,
									Anum_pg_trigger_oid,
									Anum_pg_trigger_tgrelid,
									address->objectId);
			break;
		case RewriteRelationId:
			relid = owning_relation(RewriteRelationId, RewriteOidIndexId,
									Anum_pg_rewrite_oid,
									Anum_pg_rewrite_ev_class,
									address->objectId);
			break;
		case PolicyRelationId:
			relid = owning_relation(PolicyRelationId, PolicyOidIndexId,
									Anum_pg_policy_oid,
									Anum_pg_policy_polrelid,
									address->objectId);
			break;
			break;
		default:
			return NIL;
	}
	if (!OidIsValid(relid))
		return relids;
	relids = lappend_oid(relids, relid);
	/* a table of the user's made a partition or a child of an internal one */
	return list_concat(relids, relation_parents(relid));
}

/* ALTER TABLE subcommands that attach no code and change no meaning */
static bool
harmless_subcommand(AlterTableType type)
{
	return type == AT_SetRelOptions || type == AT_ResetRelOptions ||
		type == AT_SetStatistics;
}

static void
refuse(Oid relid)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s.%s is an internal object of hybridagg and changes only as hybridagg changes it",
					INTERNAL_SCHEMA, get_rel_name(relid)),
			 errdetail("Readers of an aggregate's view read its internal tables with their own rights, so a trigger, rule, policy, constraint, default or view definition added there would run with theirs."),
			 errhint("Change the aggregate with hybridagg's functions, or drop it with hybridagg.drop() and create it again. Storage parameters (ALTER TABLE ... SET) may be changed.")));
}

static void
guard_internal_objects(List *commands)
{
	ListCell   *lc;

	foreach(lc, commands)
	{
		CollectedCommand *command = lfirst(lc);
		ListCell   *lc2;

		if (command->type == SCT_AlterTable)
		{
			Oid			relid = command->d.alterTable.objectId;
			bool		harmless = true;

			/* ... or a table of the user's that INHERIT made a child of one */
			if (!is_internal(relid))
			{
				foreach(lc2, relation_parents(relid))
				{
					if (is_internal(lfirst_oid(lc2)))
						relid = lfirst_oid(lc2);
				}
				if (!is_internal(relid))
					continue;
			}
			foreach(lc2, command->d.alterTable.subcmds)
			{
				CollectedATSubcmd *sub = lfirst(lc2);

				if (!IsA(sub->parsetree, AlterTableCmd) ||
					!harmless_subcommand(((AlterTableCmd *)
										  sub->parsetree)->subtype))
					harmless = false;
			}

			/*
			 * a view's options (security_invoker) change whose rights it
			 * reads with
			 */
			if (!harmless || get_rel_relkind(relid) == RELKIND_VIEW)
				refuse(relid);
		}
		else if (command->type == SCT_Simple)
		{
			foreach(lc2, relations_of(&command->d.simple.address))
			{
				if (is_internal(lfirst_oid(lc2)))
					refuse(lfirst_oid(lc2));
			}
		}
	}
}

Datum
hybridagg_internal_objects_ddl(PG_FUNCTION_ARGS)
{
	int			nestlevel;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hybridagg_internal.internal_objects_ddl() must be called as an event trigger")));
	if (running_own_ddl() || creating_extension || superuser())
		PG_RETURN_NULL();

	nestlevel = fix_settings(SETTINGS_SQL);
	SPI_connect();
	guard_internal_objects(collected_commands());
	SPI_finish();
	restore_settings(nestlevel);
	PG_RETURN_NULL();
}
