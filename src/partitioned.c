/*-------------------------------------------------------------------------
 * partitioned.c
 *	  Capture triggers on a base table and on each of its partitions.
 *
 * Statement triggers fire for the table a statement names: an INSERT into
 * the partitioned table fires its triggers, an INSERT straight into a
 * partition fires the partition's.  So a streaming aggregate of a
 * partitioned table has capture triggers on every table of the partition
 * tree, and no write is missed or seen twice.  Each table gets
 *	 hybridagg_capture_<id>_insert, _update, _delete   AFTER, with transition tables
 * and the partitioned table also
 *	 hybridagg_capture_<id>_truncate         AFTER TRUNCATE: empty the aggregate
 *	 hybridagg_capture_<id>_before_truncate  BEFORE TRUNCATE: see capture.c
 * while the partitions get _before_truncate only (a TRUNCATE of one
 * partition subtracts its rows before they go).
 *
 * The partition tree changes with DDL.  An event trigger at the end of
 * CREATE TABLE and ALTER TABLE (hybridagg_internal.capture_partitions)
 * brings the triggers in line: a new or attached partition gets them and its
 * rows are added to the aggregate; a detached one loses them and its rows are
 * subtracted.  A partition dropped with DROP TABLE takes its rows away
 * unseen: the aggregate keeps their groups, as retention does (DESIGN.md
 * invariant 1), until a materialize() of their range.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "capture.h"
#include "partitioned.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_capture_partitions);

typedef struct CaptureTrigger
{
	const char *suffix;
	const char *timing_and_event;
	const char *referencing;
	const char *level;
	bool		on_partitioned;	/* on the partitioned (or plain) base table */
	bool		on_partition;	/* on each partition */
} CaptureTrigger;

static const CaptureTrigger capture_triggers[] = {
	{"insert", "AFTER INSERT", "REFERENCING NEW TABLE AS hybridagg_new", "STATEMENT", true, true},
	{"update", "AFTER UPDATE", "REFERENCING OLD TABLE AS hybridagg_old NEW TABLE AS hybridagg_new", "STATEMENT", true, true},
	{"delete", "AFTER DELETE", "REFERENCING OLD TABLE AS hybridagg_old", "STATEMENT", true, true},
	{"truncate", "AFTER TRUNCATE", "", "STATEMENT", true, false},
	{"before_truncate", "BEFORE TRUNCATE", "", "STATEMENT", true, true},
};

static char *
trigger_name(int32 id, const CaptureTrigger *trigger)
{
	return psprintf("hybridagg_capture_%d_%s", id, trigger->suffix);
}

bool
is_capture_trigger_name(const char *name, int32 id)
{
	for (int i = 0; i < lengthof(capture_triggers); i++)
		if (strcmp(name, trigger_name(id, &capture_triggers[i])) == 0)
			return true;
	return false;
}

static char *
qualified_table(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

static bool
has_capture_triggers(int32 id, Oid relid)
{
	return OidIsValid(get_trigger_oid(relid, trigger_name(id, &capture_triggers[0]), true));
}

/* the triggers of one table; as the extension's owner, who may */
static void
install_on(const AggregateEntry *entry, Oid relid)
{
	bool		base = (relid == entry->base_relid);
	bool		partitioned = get_rel_relkind(entry->base_relid) == RELKIND_PARTITIONED_TABLE;
	ActingAs	saved;

	act_as(extension_owner(), &saved);
	for (int i = 0; i < lengthof(capture_triggers); i++)
	{
		const CaptureTrigger *t = &capture_triggers[i];

		if (base ? !t->on_partitioned : !t->on_partition)
			continue;
		if (base && !partitioned && strcmp(t->suffix, "before_truncate") == 0)
			continue;			/* a plain table has no partition to tell apart */
		spi_run(psprintf("CREATE TRIGGER %s %s ON %s %s FOR EACH %s EXECUTE FUNCTION %s.capture('%d')",
						 quote_identifier(trigger_name(entry->id, t)), t->timing_and_event,
						 qualified_table(relid), t->referencing, t->level,
						 INTERNAL_SCHEMA, entry->id),
				SPI_OK_UTILITY);
	}
	act_as_restore(&saved);
}

/* set while hybridagg drops capture triggers itself: the guard lets it */
bool		dropping_capture_triggers = false;

static void
drop_from(const AggregateEntry *entry, Oid relid)
{
	ActingAs	saved;

	act_as(extension_owner(), &saved);
	dropping_capture_triggers = true;
	PG_TRY();
	{
		for (int i = 0; i < lengthof(capture_triggers); i++)
		{
			char	   *name = trigger_name(entry->id, &capture_triggers[i]);

			if (OidIsValid(get_trigger_oid(relid, name, true)))
				spi_run(psprintf("DROP TRIGGER %s ON %s", quote_identifier(name), qualified_table(relid)),
						SPI_OK_UTILITY);
		}
	}
	PG_FINALLY();
	{
		dropping_capture_triggers = false;
	}
	PG_END_TRY();
	act_as_restore(&saved);
}

/* the tables that carry the aggregate's triggers now */
static List *
tables_with_triggers(const AggregateEntry *entry)
{
	Oid			type = TEXTOID;
	Datum		name = CStringGetTextDatum(trigger_name(entry->id, &capture_triggers[0]));
	List	   *relids = NIL;

	spi_run_args("SELECT tgrelid FROM pg_trigger WHERE tgname = $1", 1, &type, &name, NULL,
				 SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		relids = lappend_oid(relids, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc, 1, &isnull)));
	}
	return relids;
}

void
install_capture_triggers(const AggregateEntry *entry)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(entry->base_relid, NoLock, NULL))
		install_on(entry, lfirst_oid(lc));
}

void
drop_capture_triggers(const AggregateEntry *entry)
{
	ListCell   *lc;

	foreach(lc, tables_with_triggers(entry))
		drop_from(entry, lfirst_oid(lc));
}

/*
 * The event trigger at the end of CREATE TABLE and ALTER TABLE: bring the
 * capture triggers of every streaming aggregate of a partitioned table in
 * line with its partition tree.  The DDL holds the locks that keep writers
 * out of the partitions it attaches or detaches, so their rows can be
 * replayed in this transaction.
 */
Datum
hybridagg_capture_partitions(PG_FUNCTION_ARGS)
{
	List	   *ids = NIL;
	ListCell   *lc;
	int			nestlevel;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hybridagg_internal.capture_partitions() must be called as an event trigger")));

	nestlevel = fix_settings(false);
	SPI_connect();
	spi_run("SELECT a.id FROM " INTERNAL_SCHEMA ".aggregate a JOIN pg_class c ON c.oid = a.base_table "
			" WHERE a.mode <> 'batch' AND c.relkind = 'p'", SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		ids = lappend_int(ids, DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull)));
	}
	foreach(lc, ids)
	{
		AggregateEntry *entry = catalog_get(lfirst_int(lc), false);
		List	   *tree = find_all_inheritors(entry->base_relid, NoLock, NULL);
		ListCell   *lc2;

		foreach(lc2, tree)
		{
			Oid			relid = lfirst_oid(lc2);

			if (has_capture_triggers(entry->id, relid))
				continue;
			/* new or attached: its rows join the base table */
			install_on(entry, relid);
			capture_replay_relation(entry->id, relid, 1);
		}
		foreach(lc2, tables_with_triggers(entry))
		{
			Oid			relid = lfirst_oid(lc2);

			if (list_member_oid(tree, relid))
				continue;
			/* detached: its rows leave the base table */
			drop_from(entry, relid);
			capture_replay_relation(entry->id, relid, -1);
		}
	}
	SPI_finish();
	restore_settings(nestlevel);
	PG_RETURN_NULL();
}
