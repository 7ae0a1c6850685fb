/*-------------------------------------------------------------------------
 * capture.c
 *	  The capture trigger of the streaming modes: every INSERT, UPDATE,
 *	  DELETE, MERGE, COPY and TRUNCATE of the base table becomes delta rows.
 *
 * The trigger is statement-level with transition tables.  It evaluates the
 * definition over each old and new row (capture_rows.c, with the definition
 * compiled once per backend by capture_target.c) and groups the statement's
 * rows into one delta row per group (capture_groups.c).  A 10,000-row INSERT
 * over ten minutes of a hundred devices appends a thousand delta rows.
 *
 * Who runs what: the trigger fires in the writer's session, as the writer.
 * It runs nothing the writer wrote: it checks that it fires on the
 * aggregate's base table or one of its partitions, evaluates the definition
 * as the aggregate's owner in a security-restricted context, and under
 * fixed settings (the text form of a value never depends on the writer's
 * DateStyle, extra_float_digits or bytea_output).  Writers need no rights
 * on the internal tables.
 *
 * Each statement's capture is timed once and counted in shared memory
 * (costs.c): rows of its transition table (an UPDATE's new rows), delta rows
 * written, time.
 *
 * An UPDATE's old and new rows are read in step: a pair whose keys and
 * arguments did not change (an UPDATE of some other column) costs nothing.
 *
 * TRUNCATE empties the aggregate's tables, in the truncating transaction,
 * under the aggregate's lock, in a snapshot taken after the lock: whatever
 * its isolation level, the truncating transaction removes every delta a
 * writer committed before the TRUNCATE (which waits for all of them).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "capture.h"
#include "capture_internal.h"
#include "catalog.h"
#include "costs.h"
#include "export.h"
#include "materialize.h"
#include "util.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(hybridagg_capture);

/* ----------------------------------------------------------------
 * One statement's or one relation's rows into delta rows
 * ----------------------------------------------------------------
 */

typedef struct Capture
{
	MemoryContext context;		/* everything below lives here */
	MemoryContext caller;
	GroupTable *table;
	int32		id;
	ActingAs	saved;
	int			nestlevel;
} Capture;

static void
capture_begin(Capture *capture, CaptureTarget *target)
{
	capture->context = AllocSetContextCreate(CurrentMemoryContext,
											 "hybridagg capture",
											 ALLOCSET_DEFAULT_SIZES);
	capture->caller = MemoryContextSwitchTo(capture->context);
	capture->table = group_table_create(target, capture->context);
	capture->id = target->id;
	/* the definition runs as the aggregate's owner, under fixed settings */
	capture->nestlevel = fix_settings(SETTINGS_EVALUATION);
	act_as(target->owner, &capture->saved);
}

/* returns the delta rows written */
static int
capture_end(Capture *capture)
{
	int			written;

	flush_groups(capture->table);
	written = group_table_written(capture->table);
	group_table_report(capture->table, capture->id);
	act_as_restore(&capture->saved);
	restore_settings(capture->nestlevel);
	MemoryContextSwitchTo(capture->caller);
	MemoryContextDelete(capture->context);
	if (written > 0)
		worker_note_deltas(written);
	return written;
}

static void
accumulate_table(GroupTable *table, Tuplestorestate *rows, RowReader *reader,
				 int sign)
{
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, reader->slot))
	{
		reader_evaluate(reader);
		accumulate(table, &reader->row, sign);
		CHECK_FOR_INTERRUPTS();
	}
}

/* old and new rows of an UPDATE, in step; unchanged pairs are skipped */
static void
accumulate_update(GroupTable *table, CaptureTarget *target,
				  Tuplestorestate *old_rows, Tuplestorestate *new_rows,
				  RowReader *old_reader, RowReader *new_reader)
{
	bool		have_old;
	bool		have_new;

	tuplestore_rescan(old_rows);
	tuplestore_rescan(new_rows);
	for (;;)
	{
		have_old = tuplestore_gettupleslot(old_rows, true, false,
										   old_reader->slot);
		have_new = tuplestore_gettupleslot(new_rows, true, false,
										   new_reader->slot);
		if (!have_old && !have_new)
			break;
		if (have_old)
			reader_evaluate(old_reader);
		if (have_new)
			reader_evaluate(new_reader);
		if (!(have_old && have_new &&
			  same_row(target, &old_reader->row, &new_reader->row)))
		{
			if (have_old)
				accumulate(table, &old_reader->row, -1);
			if (have_new)
				accumulate(table, &new_reader->row, 1);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Every row of relation relid (the base table or a partition), added to the
 * aggregate (sign 1) or taken out of it (sign -1): a partition attached,
 * detached or about to be truncated.
 */
void
capture_replay_relation(int32 id, Oid relid, int sign)
{
	CaptureTarget *target;
	Capture		capture;
	RowReader	reader;
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;

	if (!RELKIND_HAS_STORAGE(get_rel_relkind(relid)))
		return;					/* its partitions are replayed one by one */
	target = capture_target(id);
	capture_begin(&capture, target);
	rel = table_open(relid, AccessShareLock);
	reader_init(&reader, target, relid, table_slot_create(rel, NULL), 0);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, reader.slot))
	{
		reader_evaluate(&reader);
		accumulate(capture.table, &reader.row, sign);
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	reader_free(&reader);
	table_close(rel, NoLock);
	capture_end(&capture);
}

/* ----------------------------------------------------------------
 * TRUNCATE
 * ----------------------------------------------------------------
 */

/* AFTER TRUNCATE of the base table: the aggregate is empty */
static void
capture_truncate(int32 id)
{
	AggregateEntry *entry = catalog_get(id, false);
	ActingAs	saved;
	Snapshot	snap;

	SPI_connect();
	/* TRUNCATE holds AccessExclusiveLock on the base table: lock order kept */
	lock_aggregate(entry);
	act_as(entry->owner, &saved);
	snap = mover_snapshot();
	delete_buckets(entry, DT_NOBEGIN, DT_NOEND, snap);
	UnregisterSnapshot(snap);
	act_as_restore(&saved);
	SPI_finish();
}

/*
 * BEFORE TRUNCATE.  A TRUNCATE of the partitioned base table fires this on
 * the base table first, then on each partition, then capture_truncate():
 * the partitions have nothing to do.  A TRUNCATE of a partition alone fires
 * it on that partition only, which subtracts the partition's rows while
 * they are still there.
 */
static void
capture_before_truncate(CaptureTarget *target, Oid relid)
{
	CommandId	cid = GetCurrentCommandId(false);

	if (relid == target->base_relid)
	{
		target->truncating_lxid = MyProc->lxid;
		target->truncating_cid = cid;
	}
	else if (target->truncating_lxid != MyProc->lxid ||
			 target->truncating_cid != cid)
		capture_replay_relation(target->id, relid, -1);
}

/* ----------------------------------------------------------------
 * The trigger
 * ----------------------------------------------------------------
 */

/* the trigger must be one hybridagg made, on a table of the aggregate */
static void
check_trigger(TriggerData *trigdata, CaptureTarget *target, Oid relid)
{
	Trigger    *trigger = trigdata->tg_trigger;
	bool		truncate = TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event);

	if (!list_member_oid(target->tree, relid))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on \"%s\" calls hybridagg_internal.capture() for aggregate %d, whose base table it is not",
						trigger->tgname, get_rel_name(relid), target->id),
				 errdetail("The capture of an aggregate fires only on its base table and that table's partitions."),
				 errhint("Do not create capture triggers by hand: hybridagg.create() makes them. Drop trigger \"%s\".",
						 trigger->tgname)));
	if (!truncate && TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" calls hybridagg_internal.capture() before the statement's rows are written",
						trigger->tgname),
				 errhint("Do not create capture triggers by hand: hybridagg.create() makes them. Drop trigger \"%s\".",
						 trigger->tgname)));
}

Datum
hybridagg_capture(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			relid;
	int32		id;
	CaptureTarget *target;
	Capture		capture;
	RowReader	reader;
	instr_time	start;
	instr_time	duration;
	int64		rows;
	int			groups;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hybridagg_internal.capture() must be called as a FOR EACH STATEMENT trigger"),
				 errdetail("It reads the statement's transition tables, which only statement-level triggers have."),
				 errhint("Do not create capture triggers by hand: hybridagg.create() makes them.")));
	if (trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" calls hybridagg_internal.capture() without an aggregate id",
						trigdata->tg_trigger->tgname),
				 errdetail("The capture function takes one argument: the id of the aggregate it feeds."),
				 errhint("Do not create capture triggers by hand: hybridagg.create() makes them. Drop trigger \"%s\".",
						 trigdata->tg_trigger->tgname)));
	id = pg_strtoint32(trigdata->tg_trigger->tgargs[0]);
	relid = RelationGetRelid(trigdata->tg_relation);

	target = capture_target(id);
	check_trigger(trigdata, target, relid);
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
	{
		if (TRIGGER_FIRED_BEFORE(trigdata->tg_event))
			capture_before_truncate(target, relid);
		else
		{
			int			nestlevel = fix_settings(SETTINGS_SQL);

			capture_truncate(id);
			restore_settings(nestlevel);
		}
		return PointerGetDatum(NULL);
	}
	if (trigdata->tg_newtable == NULL && trigdata->tg_oldtable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" calls hybridagg_internal.capture() without transition tables",
						trigdata->tg_trigger->tgname),
				 errhint("Do not create capture triggers by hand: hybridagg.create() makes them. Drop trigger \"%s\".",
						 trigdata->tg_trigger->tgname)));

	INSTR_TIME_SET_CURRENT(start);
	rows = tuplestore_tuple_count(trigdata->tg_newtable ?
								  trigdata->tg_newtable :
								  trigdata->tg_oldtable);
	capture_begin(&capture, target);
	reader_init(&reader, target, relid, NULL, 0);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		RowReader	new_reader;

		reader_init(&new_reader, target, relid, NULL, 1);
		accumulate_update(capture.table, target, trigdata->tg_oldtable,
						  trigdata->tg_newtable, &reader, &new_reader);
		reader_free(&new_reader);
	}
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		accumulate_table(capture.table, trigdata->tg_oldtable, &reader, -1);
	else
		accumulate_table(capture.table, trigdata->tg_newtable, &reader, 1);
	reader_free(&reader);
	groups = capture_end(&capture);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	costs_note_capture(id, target->view_relid, rows, groups, duration);
	return PointerGetDatum(NULL);
}
