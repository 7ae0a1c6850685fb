/*-------------------------------------------------------------------------
 * drop.c
 *	  hybridagg.drop(), and the sql_drop event trigger that drops what is
 *	  left of an aggregate whose view or base table was dropped.
 *
 * Locks: the base table first, then the aggregate's lock, then the internal
 * tables, as everywhere.  No writer may run a capture trigger while its
 * aggregate is dropped, so the base table of a streaming aggregate is
 * locked against writers.  But a drop takes no stronger lock than its
 * caller could take itself: a caller that may lock the base table ACCESS
 * EXCLUSIVE (its owner, or a role with UPDATE, DELETE or TRUNCATE on it)
 * drops the capture triggers at once; any other caller (one with SELECT and
 * TRIGGER only) takes SHARE ROW EXCLUSIVE, the lock CREATE TRIGGER took,
 * disables them, and leaves the drop to the worker (capture_triggers.c).
 * Readers are never locked out of the base table by a drop.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_inherits.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "capture_triggers.h"
#include "catalog.h"
#include "costs.h"
#include "drop.h"
#include "export.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_drop);
PG_FUNCTION_INFO_V1(hybridagg_forget_dropped_views);

bool
may_lock_exclusively(Oid relid)
{
	return pg_class_ownercheck(relid, GetUserId()) ||
		pg_class_aclcheck(relid, GetUserId(),
						  ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE) ==
		ACLCHECK_OK;
}

void
drop_internal_object(const char *kind, int32 id)
{
	Oid			relid = get_relname_relid(internal_relname(kind, id),
										  internal_schema_oid());
	char		relkind;

	if (!OidIsValid(relid))
		return;
	relkind = get_rel_relkind(relid);
	spi_run(psprintf("DROP %s %s",
					 relkind == RELKIND_VIEW ? "VIEW" :
					 relkind == RELKIND_FOREIGN_TABLE ? "FOREIGN TABLE" :
					 "TABLE",
					 internal_qualname(kind, id)),
			SPI_OK_UTILITY);
}

/*
 * Drop whatever is left of aggregate entry.  The catalog row goes first, so
 * that the event trigger does not take the drops below for its own.  The
 * caller holds the locks (see the top of the file).
 */
static void
drop_aggregate_objects(const AggregateEntry *entry, bool drop_triggers_now)
{
	ActingAs	saved;
	char	   *view_name = get_rel_name(entry->view_relid);

	catalog_delete(entry->id);
	costs_forget(entry->id);

	if (MODE_IS_STREAMING(entry->mode))
		remove_capture_triggers(entry, drop_triggers_now);
	/* DROP runs no code of the objects' owner */
	act_as(extension_owner(), &saved);
	if (view_name)
	{
		Oid			schema = get_rel_namespace(entry->view_relid);

		spi_run(psprintf("DROP VIEW IF EXISTS %s",
						 quote_qualified_identifier(get_namespace_name(schema),
													view_name)),
				SPI_OK_UTILITY);
	}
	drop_internal_object(OBJ_GROUPS, entry->id);
	drop_internal_object(OBJ_VALUES, entry->id);
	drop_internal_object(OBJ_TOKEN, entry->id);
	drop_internal_object(OBJ_DELTA, entry->id);
	drop_internal_object(OBJ_RECENT, entry->id);
	drop_internal_object(OBJ_HISTORY, entry->id);
	drop_internal_object(OBJ_SOURCE, entry->id);
	act_as_restore(&saved);
}

/* lock the base table against writers, no more strongly than the caller may */
static bool
lock_base_table_for_drop(const AggregateEntry *entry)
{
	bool		exclusive;

	if (!MODE_IS_STREAMING(entry->mode) ||
		get_rel_name(entry->base_relid) == NULL)
		return false;
	exclusive = may_lock_exclusively(entry->base_relid);
	LockRelationOid(entry->base_relid,
					exclusive ? AccessExclusiveLock : ShareRowExclusiveLock);
	return exclusive;
}

Datum
hybridagg_drop(PG_FUNCTION_ARGS)
{
	AggregateEntry *entry;
	int			nestlevel;
	bool		drop_triggers_now;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name of the aggregate must not be NULL"),
				 errhint("SELECT hybridagg.drop('events_1m');")));
	require_primary("hybridagg.drop()");
	entry = catalog_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	check_aggregate_owner(entry);
	nestlevel = fix_settings(SETTINGS_SQL);

	drop_triggers_now = lock_base_table_for_drop(entry);
	lock_aggregate(entry);
	entry = catalog_reread(entry, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	SPI_connect();
	drop_aggregate_objects(entry, drop_triggers_now);
	SPI_finish();
	restore_settings(nestlevel);
	PG_RETURN_VOID();
}

/*
 * The event trigger on sql_drop.  An aggregate whose view, base table or
 * source view was dropped (DROP VIEW, DROP TABLE ... CASCADE, DROP OWNED)
 * loses the rest of its objects; dropping a capture trigger of a live
 * aggregate on its own is refused, since the aggregate would silently stop
 * seeing changes.
 */
Datum
hybridagg_forget_dropped_views(PG_FUNCTION_ARGS)
{
	List	   *orphaned = NIL;
	List	   *lost_triggers = NIL;
	ListCell   *lc;
	int			nestlevel;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hybridagg_internal.forget_dropped_views() must be called as an event trigger")));

	nestlevel = fix_settings(SETTINGS_SQL);
	SPI_connect();
	spi_run("WITH dropped AS "
			"(SELECT * FROM pg_event_trigger_dropped_objects()) "
			"SELECT DISTINCT a.id, bool_or(d.object_type = 'trigger') "
			"FROM " INTERNAL_SCHEMA ".aggregate a, dropped d "
			" WHERE (d.classid = 'pg_class'::regclass AND d.objsubid = 0 "
			"        AND d.objid IN (a.view::oid, a.base_table::oid)) "
			"    OR (d.object_type = 'view' AND d.schema_name = '"
			INTERNAL_SCHEMA "' "
			"        AND d.object_name = 'source_' || a.id) "
			"    OR (d.object_type = 'trigger' AND d.original "
			"AND a.mode <> 'batch') "
			" GROUP BY a.id",
			SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int32		id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
													 SPI_tuptable->tupdesc, 1,
													 &isnull));
		bool		trigger = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc,
														 2, &isnull));

		if (trigger)
			lost_triggers = lappend_int(lost_triggers, id);
		else
			orphaned = lappend_int(orphaned, id);
	}
	foreach(lc, orphaned)
	{
		AggregateEntry *entry = catalog_get(lfirst_int(lc), true);
		bool		intact;

		if (entry == NULL)
			continue;
		intact = get_rel_name(entry->view_relid) != NULL &&
			get_rel_name(entry->base_relid) != NULL &&
			OidIsValid(internal_relid(OBJ_SOURCE, entry->id, true));
		if (intact)
			continue;
		lock_aggregate(entry);
		/* a base table that is gone took its triggers along */
		drop_aggregate_objects(entry, get_rel_name(entry->base_relid) == NULL ||
							   lock_base_table_for_drop(entry));
		ereport(NOTICE,
				(errmsg("dropped hybridagg aggregate %d with its %s",
						entry->id,
						get_rel_name(entry->view_relid) ?
						"base table" : "view")));
	}

	/*
	 * an internal table or view of a live aggregate went (its values view,
	 * say): only hybridagg drops those, or a superuser; the aggregate's owner
	 * drops the aggregate, its view or its base table
	 */
	if (!running_own_ddl() && !superuser())
	{
		spi_run("SELECT d.object_identity "
				"FROM pg_event_trigger_dropped_objects() d, "
				INTERNAL_SCHEMA ".aggregate a "
				"WHERE d.object_type IN ('table', 'view') "
				"  AND d.schema_name = '" INTERNAL_SCHEMA "' "
				"  AND d.object_name ~ ('^[a-z]+_' || a.id || '(_|$)') "
				"  AND d.object_name <> 'source_' || a.id",
				SPI_OK_SELECT);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *name = SPI_getvalue(SPI_tuptable->vals[i],
											SPI_tuptable->tupdesc, 1);

			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("%s is an internal object of hybridagg and is dropped only with its aggregate",
							name),
					 errdetail("Without it the aggregate could serve no reader and capture no write."),
					 errhint("Drop the aggregate with hybridagg.drop(), or drop its view or its base table.")));
		}
	}

	/* a trigger went: is every table of a live aggregate still captured? */
	if (!changing_capture_triggers)
	{
		foreach(lc, lost_triggers)
		{
			AggregateEntry *entry = catalog_get(lfirst_int(lc), true);
			ListCell   *lc2;

			if (entry == NULL || list_member_int(orphaned, entry->id) ||
				get_rel_name(entry->base_relid) == NULL)
				continue;
			foreach(lc2, find_all_inheritors(entry->base_relid, NoLock, NULL))
			{
				if (capture_triggers_complete(entry, lfirst_oid(lc2)))
					continue;
				ereport(ERROR,
						(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
						 errmsg("cannot drop the capture triggers of hybridagg aggregate %s",
								get_rel_name(entry->view_relid)),
						 errdetail("Without them the aggregate would stop seeing the changes of %s.",
								   get_rel_name(lfirst_oid(lc2))),
						 errhint("Drop the aggregate with hybridagg.drop('%s'), which drops its triggers.",
								 get_rel_name(entry->view_relid))));
			}
		}
	}
	SPI_finish();
	restore_settings(nestlevel);
	PG_RETURN_NULL();
}
