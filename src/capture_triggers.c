/*-------------------------------------------------------------------------
 * capture_triggers.c
 *	  Capture triggers on a base table and on each of its partitions.
 *
 * Statement triggers fire for the table a statement names: an INSERT into
 * the partitioned table fires its triggers, an INSERT straight into a
 * partition fires the partition's.  So a streaming aggregate of a
 * partitioned table has capture triggers on every table of the partition
 * tree, and no write is missed or seen twice.  Each table gets
 *	 hybridagg_capture_<id>_insert, _update, _delete
 *	                                         AFTER, with transition tables
 * and the partitioned table also
 *	 hybridagg_capture_<id>_truncate         AFTER TRUNCATE: empty the aggregate
 *	 hybridagg_capture_<id>_before_truncate  BEFORE TRUNCATE: see capture.c
 * while the partitions get _before_truncate only (a TRUNCATE of one
 * partition subtracts its rows before they go).  They fire ALWAYS, so that
 * writes applied by logical replication (session_replication_role =
 * replica) are captured too.
 *
 * A trigger is a capture trigger of aggregate <id> when it calls
 * hybridagg_internal.capture() with the argument '<id>': its name is for
 * people only.  No role but the extension's owner may execute capture(), so
 * no one else can create such a trigger, and capture() checks that the
 * table it fires on belongs to the aggregate's base table.
 *
 * The triggers are created and dropped as the extension's owner: creating a
 * trigger runs no code of the table's owner.  Dropping one takes ACCESS
 * EXCLUSIVE on the table; hybridagg.drop() does it only for a caller who
 * could take that lock itself, and otherwise disables the triggers (SHARE
 * ROW EXCLUSIVE, the lock of CREATE TRIGGER) and leaves them to the worker,
 * which drops triggers of aggregates that no longer exist whenever it can
 * lock their table without waiting.  hybridagg.alter() to batch mode drops
 * them only where that lock is free at once, and otherwise disables them:
 * the worker drops the disabled triggers of batch aggregates too, and an
 * alter back to a streaming mode enables them again.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "capture_triggers.h"
#include "util.h"

typedef struct CaptureTrigger
{
	const char *suffix;
	const char *timing_and_event;
	const char *referencing;
	bool		on_base;		/* on the partitioned (or plain) base table */
	bool		on_partition;	/* on each partition */
} CaptureTrigger;

static const CaptureTrigger capture_triggers[] = {
	{
		"insert", "AFTER INSERT", "REFERENCING NEW TABLE AS hybridagg_new",
		true, true
	},
	{
		"update", "AFTER UPDATE",
		"REFERENCING OLD TABLE AS hybridagg_old NEW TABLE AS hybridagg_new",
		true, true
	},
	{
		"delete", "AFTER DELETE", "REFERENCING OLD TABLE AS hybridagg_old",
		true, true
	},
	{"truncate", "AFTER TRUNCATE", "", true, false},
	{"before_truncate", "BEFORE TRUNCATE", "", true, true},
};

/* set while hybridagg changes capture triggers itself: the guards let it */
bool		changing_capture_triggers = false;

Oid
capture_function_oid(void)
{
	List	   *name = list_make2(makeString(INTERNAL_SCHEMA),
								  makeString("capture"));

	return LookupFuncName(name, 0, NULL, false);
}

static char *
qualified_table(Oid relid)
{
	char	   *name = get_rel_name(relid);
	Oid			schema = get_rel_namespace(relid);

	return quote_qualified_identifier(get_namespace_name(schema), name);
}

/* the triggers of relid that call capture('<id>') */
static List *
capture_triggers_of(int32 id, Oid relid)
{
	Oid			capture = capture_function_oid();
	char	   *arg = psprintf("%d", id);
	Relation	rel = table_open(relid, AccessShareLock);
	List	   *found = NIL;

	if (rel->trigdesc)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *trigger = &rel->trigdesc->triggers[i];

			if (trigger->tgfoid == capture && trigger->tgnargs == 1 &&
				strcmp(trigger->tgargs[0], arg) == 0)
			{
				Trigger    *copy = palloc(sizeof(Trigger));

				*copy = *trigger;
				copy->tgname = pstrdup(trigger->tgname);
				found = lappend(found, copy);
			}
		}
	}
	table_close(rel, AccessShareLock);
	return found;
}

bool
has_capture_triggers(int32 id, Oid relid)
{
	return capture_triggers_of(id, relid) != NIL;
}

static bool
has_capture_trigger_named(int32 id, Oid relid, const char *name)
{
	ListCell   *lc;

	foreach(lc, capture_triggers_of(id, relid))
	{
		if (strcmp(((Trigger *) lfirst(lc))->tgname, name) == 0)
			return true;
	}
	return false;
}

/* how many capture triggers relid should carry */
static int
expected_triggers(const AggregateEntry *entry, Oid relid)
{
	bool		base = (relid == entry->base_relid);
	bool		partitioned = (get_rel_relkind(entry->base_relid) ==
							   RELKIND_PARTITIONED_TABLE);
	int			n = 0;

	for (int i = 0; i < lengthof(capture_triggers); i++)
	{
		const CaptureTrigger *t = &capture_triggers[i];

		if (base ? !t->on_base : !t->on_partition)
			continue;
		if (base && !partitioned && strcmp(t->suffix, "before_truncate") == 0)
			continue;
		n++;
	}
	return n;
}

bool
capture_triggers_complete(const AggregateEntry *entry, Oid relid)
{
	return list_length(capture_triggers_of(entry->id, relid)) ==
		expected_triggers(entry, relid);
}

char
capture_trigger_state(int32 id, Oid relid)
{
	ListCell   *lc;

	foreach(lc, capture_triggers_of(id, relid))
	{
		Trigger    *trigger = lfirst(lc);

		if (trigger->tgenabled != TRIGGER_FIRES_ALWAYS)
			return trigger->tgenabled;
	}
	return TRIGGER_FIRES_ALWAYS;
}

/* run a DDL statement on capture triggers, as the extension's owner */
static void
run_trigger_ddl(const char *sql)
{
	ActingAs	saved;
	bool		was_changing = changing_capture_triggers;

	act_as(extension_owner(), &saved);
	changing_capture_triggers = true;
	PG_TRY();
	{
		spi_run(sql, SPI_OK_UTILITY);
	}
	PG_FINALLY();
	{
		changing_capture_triggers = was_changing;
	}
	PG_END_TRY();
	act_as_restore(&saved);
}

void
enable_capture_triggers_always(int32 id, Oid relid)
{
	ListCell   *lc;

	foreach(lc, capture_triggers_of(id, relid))
	{
		Trigger    *trigger = lfirst(lc);

		if (trigger->tgenabled != TRIGGER_FIRES_ALWAYS)
			run_trigger_ddl(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER %s",
									 qualified_table(relid),
									 quote_identifier(trigger->tgname)));
	}
}

void
install_capture_triggers_on(const AggregateEntry *entry, Oid relid)
{
	bool		base = (relid == entry->base_relid);
	bool		partitioned = (get_rel_relkind(entry->base_relid) ==
							   RELKIND_PARTITIONED_TABLE);

	for (int i = 0; i < lengthof(capture_triggers); i++)
	{
		const CaptureTrigger *t = &capture_triggers[i];
		char	   *name = psprintf("hybridagg_capture_%d_%s", entry->id,
									t->suffix);

		/* a plain table has no partition to tell apart at TRUNCATE */
		if (base ? !t->on_base : !t->on_partition)
			continue;
		if (base && !partitioned && strcmp(t->suffix, "before_truncate") == 0)
			continue;
		/* one left disabled by an alter to batch is enabled again */
		if (!has_capture_trigger_named(entry->id, relid, name))
			run_trigger_ddl(psprintf("CREATE TRIGGER %s %s ON %s %s "
									 "FOR EACH STATEMENT "
									 "EXECUTE FUNCTION %s.capture('%d')",
									 quote_identifier(name),
									 t->timing_and_event,
									 qualified_table(relid), t->referencing,
									 INTERNAL_SCHEMA, entry->id));
		run_trigger_ddl(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER %s",
								 qualified_table(relid),
								 quote_identifier(name)));
	}
}

void
install_capture_triggers(const AggregateEntry *entry)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(entry->base_relid, NoLock, NULL))
		install_capture_triggers_on(entry, lfirst_oid(lc));
}

static void
drop_or_disable(int32 id, Oid relid, bool drop_now)
{
	ListCell   *lc;

	foreach(lc, capture_triggers_of(id, relid))
	{
		Trigger    *trigger = lfirst(lc);

		if (drop_now)
			run_trigger_ddl(psprintf("DROP TRIGGER %s ON %s",
									 quote_identifier(trigger->tgname),
									 qualified_table(relid)));
		else if (trigger->tgenabled != TRIGGER_DISABLED)
			run_trigger_ddl(psprintf("ALTER TABLE %s DISABLE TRIGGER %s",
									 qualified_table(relid),
									 quote_identifier(trigger->tgname)));
	}
}

void
remove_capture_triggers_from(const AggregateEntry *entry, Oid relid)
{
	drop_or_disable(entry->id, relid, true);
}

void
remove_capture_triggers_if_free(const AggregateEntry *entry, bool may_drop)
{
	ListCell   *lc;

	foreach(lc, tables_with_capture_triggers(entry->id))
	{
		Oid			relid = lfirst_oid(lc);

		drop_or_disable(entry->id, relid, may_drop &&
						ConditionalLockRelationOid(relid,
												   AccessExclusiveLock));
	}
}

List *
tables_with_capture_triggers(int32 id)
{
	Oid			capture = capture_function_oid();
	char	   *arg = psprintf("%d", id);
	Relation	pg_trigger = table_open(TriggerRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(pg_trigger, InvalidOid, false,
										  NULL, 0, NULL);
	HeapTuple	tuple;
	List	   *relids = NIL;

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);
		bool		isnull;
		Datum		args;
		bytea	   *bytes;

		if (form->tgfoid != capture || form->tgnargs != 1)
			continue;
		args = heap_getattr(tuple, Anum_pg_trigger_tgargs,
							RelationGetDescr(pg_trigger), &isnull);
		if (isnull)
			continue;
		/* tgargs holds the arguments, each ended by a zero byte */
		bytes = DatumGetByteaPP(args);
		if (VARSIZE_ANY_EXHDR(bytes) == strlen(arg) + 1 &&
			memcmp(VARDATA_ANY(bytes), arg, strlen(arg) + 1) == 0 &&
			!list_member_oid(relids, form->tgrelid))
			relids = lappend_oid(relids, form->tgrelid);
	}
	systable_endscan(scan);
	table_close(pg_trigger, AccessShareLock);
	return relids;
}

void
remove_capture_triggers(const AggregateEntry *entry, bool drop_now)
{
	ListCell   *lc;

	foreach(lc, tables_with_capture_triggers(entry->id))
		drop_or_disable(entry->id, lfirst_oid(lc), drop_now);
}

typedef struct OrphanTrigger
{
	int32		id;
	Oid			relid;
	char	   *name;
} OrphanTrigger;

/* pg_trigger.tgenabled of the trigger trigger_oid, read now */
static char
trigger_enabled_state(Oid trigger_oid)
{
	Relation	pg_trigger = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char		enabled = TRIGGER_DISABLED;

	ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(trigger_oid));
	scan = systable_beginscan(pg_trigger, TriggerOidIndexId, true, NULL, 1,
							  &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		enabled = ((Form_pg_trigger) GETSTRUCT(tuple))->tgenabled;
	systable_endscan(scan);
	table_close(pg_trigger, AccessShareLock);
	return enabled;
}

/*
 * A capture trigger of aggregate id that nothing needs: its aggregate is gone
 * (a drop that could not lock the table left it disabled), or it is disabled
 * and the aggregate kept in batch mode (alter.c left it so).
 */
static bool
unneeded_capture_trigger(int32 id, char enabled)
{
	AggregateEntry *entry = catalog_get(id, true);

	return entry == NULL ||
		(entry->mode == MODE_BATCH && enabled == TRIGGER_DISABLED);
}

/*
 * In the worker: the unneeded capture triggers, dropped where the table can
 * be locked without waiting; the others wait for the next time.  Whether a
 * trigger is unneeded is asked again once the table is locked: an alter back
 * to a streaming mode, which locks the table too, may have enabled it.
 */
void
drop_orphan_capture_triggers(void)
{
	Oid			capture = capture_function_oid();
	Relation	pg_trigger = table_open(TriggerRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(pg_trigger, InvalidOid, false,
										  NULL, 0, NULL);
	HeapTuple	tuple;
	List	   *orphans = NIL;
	ListCell   *lc;

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);
		bool		isnull;
		bytea	   *bytes;
		int32		id;

		if (form->tgfoid != capture || form->tgnargs != 1)
			continue;
		bytes = DatumGetByteaPP(heap_getattr(tuple, Anum_pg_trigger_tgargs,
											 RelationGetDescr(pg_trigger),
											 &isnull));
		if (isnull)
			continue;
		id = (int32) strtol(VARDATA_ANY(bytes), NULL, 10);
		if (unneeded_capture_trigger(id, form->tgenabled))
		{
			OrphanTrigger *orphan = palloc(sizeof(OrphanTrigger));

			orphan->id = id;
			orphan->relid = form->tgrelid;
			orphan->name = pstrdup(NameStr(form->tgname));
			orphans = lappend(orphans, orphan);
		}
	}
	systable_endscan(scan);
	table_close(pg_trigger, AccessShareLock);

	foreach(lc, orphans)
	{
		OrphanTrigger *orphan = lfirst(lc);

		Oid			trigger_oid;

		if (!ConditionalLockRelationOid(orphan->relid, AccessExclusiveLock))
			continue;
		trigger_oid = get_trigger_oid(orphan->relid, orphan->name, true);
		if (OidIsValid(trigger_oid) &&
			unneeded_capture_trigger(orphan->id,
									 trigger_enabled_state(trigger_oid)))
			run_trigger_ddl(psprintf("DROP TRIGGER %s ON %s",
									 quote_identifier(orphan->name),
									 qualified_table(orphan->relid)));
	}
}
