/*-------------------------------------------------------------------------
 * capture.c
 *	  The capture trigger of the streaming modes: every INSERT, UPDATE,
 *	  DELETE, MERGE, COPY and TRUNCATE of the base table becomes delta rows.
 *
 * The trigger is statement-level with transition tables.  It evaluates the
 * definition over each old and new row (capture_rows.c, with the definition
 * compiled once per backend by capture_target.c) and groups the statement's
 * rows into one delta row per group (capture_groups.c).  A 10,000-row INSERT
 * over ten minutes of a hundred devices appends a thousand delta rows.  The
 * aggregates of one owner on one table share one pass over each statement's
 * rows: the first capture trigger to fire captures for those that fire
 * after it (capture_siblings.c), each aggregate a part of the pass, with its
 * own groups and readers over one slot per transition table.  Expressions
 * the parts have in common are evaluated once per row (capture_common.c).
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
 * written, time (a shared pass's, split evenly among its aggregates).
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
#include "capture_siblings.h"
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

/* What one aggregate makes of the rows: its groups, and its readers */
typedef struct CapturePart
{
	CaptureTarget *target;
	GroupTable *table;
	RowReader	old_reader;		/* old rows, or the only rows */
	RowReader	new_reader;		/* an UPDATE's new rows */
	int			written;		/* delta rows */
} CapturePart;

/* One pass over the rows, for an aggregate and its siblings */
typedef struct Capture
{
	MemoryContext context;		/* everything below lives here */
	MemoryContext caller;
	int			nparts;
	CapturePart *parts;
	CommonRow  *common[2];		/* shared by readers of old, new rows */
	int			nestlevel;
	ActingAs	saved;			/* the parts' owner acted as */
} Capture;

static void
capture_begin(Capture *capture, List *targets)
{
	ListCell   *lc;
	bool		resolves_names;

	capture->context = AllocSetContextCreate(CurrentMemoryContext,
											 "hybridagg capture",
											 ALLOCSET_DEFAULT_SIZES);
	capture->caller = MemoryContextSwitchTo(capture->context);
	capture->nparts = list_length(targets);
	capture->parts = palloc0(sizeof(CapturePart) * capture->nparts);
	capture->common[0] = capture->common[1] = NULL;
	foreach(lc, targets)
	{
		CapturePart *part = &capture->parts[foreach_current_index(lc)];

		part->target = lfirst(lc);
		part->table = group_table_create(part->target, capture->context);
	}

	/*
	 * The definitions run as their owner (one: capture_siblings.c), under
	 * fixed settings; with hybridagg's search_path too where a function of
	 * theirs reads names when it runs, which the writer's must not resolve.
	 */
	resolves_names = false;
	for (int i = 0; i < capture->nparts; i++)
		resolves_names |= capture->parts[i].target->resolves_names;
	capture->nestlevel = fix_settings(resolves_names ? SETTINGS_SQL :
									  SETTINGS_EVALUATION);
	act_as(capture->parts[0].target->owner, &capture->saved);
}

/* evaluate and accumulate a row */
static inline void
part_accumulate(CapturePart *part, RowReader *reader, int sign)
{
	reader_evaluate(reader);
	accumulate(part->table, &reader->row, sign);
}

static void
capture_end(Capture *capture)
{
	int			written = 0;

	for (int i = 0; i < capture->nparts; i++)
	{
		CapturePart *part = &capture->parts[i];

		flush_groups(part->table);
		part->written = group_table_written(part->table);
		group_table_report(part->table, part->target->id);
		written += part->written;
	}
	act_as_restore(&capture->saved);
	restore_settings(capture->nestlevel);
	MemoryContextSwitchTo(capture->caller);
	if (written > 0)
		worker_note_deltas(written);
}

/* the parts' readers of each lane share the expressions they have in common */
static void
share_expressions(Capture *capture, bool two_lanes)
{
	RowReader **readers = palloc(sizeof(RowReader *) * capture->nparts);

	for (int i = 0; i < capture->nparts; i++)
		readers[i] = &capture->parts[i].old_reader;
	capture->common[0] = common_row_share(readers, capture->nparts);
	if (two_lanes)
	{
		for (int i = 0; i < capture->nparts; i++)
			readers[i] = &capture->parts[i].new_reader;
		capture->common[1] = common_row_share(readers, capture->nparts);
	}
	pfree(readers);
}

/* the memory of a capture, once its counts are noted */
static void
capture_free(Capture *capture)
{
	MemoryContextDelete(capture->context);
}

/*
 * The rows of a transition table, read once and accumulated by every part:
 * the slot is shared, so each row is deformed once for all.
 */
static void
accumulate_table(Capture *capture, Tuplestorestate *rows,
				 TupleTableSlot *slot, int sign)
{
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		if (capture->common[0])
			common_row_evaluate(capture->common[0]);
		for (int i = 0; i < capture->nparts; i++)
			part_accumulate(&capture->parts[i], &capture->parts[i].old_reader,
							sign);
		CHECK_FOR_INTERRUPTS();
	}
}

/* old and new rows of an UPDATE, in step; unchanged pairs are skipped */
static void
accumulate_update(Capture *capture, Tuplestorestate *old_rows,
				  Tuplestorestate *new_rows, TupleTableSlot *old_slot,
				  TupleTableSlot *new_slot)
{
	bool		have_old;
	bool		have_new;

	tuplestore_rescan(old_rows);
	tuplestore_rescan(new_rows);
	for (;;)
	{
		have_old = tuplestore_gettupleslot(old_rows, true, false, old_slot);
		have_new = tuplestore_gettupleslot(new_rows, true, false, new_slot);
		if (!have_old && !have_new)
			break;
		if (have_old && capture->common[0])
			common_row_evaluate(capture->common[0]);
		if (have_new && capture->common[1])
			common_row_evaluate(capture->common[1]);
		for (int i = 0; i < capture->nparts; i++)
		{
			CapturePart *part = &capture->parts[i];

			if (have_old)
				reader_evaluate(&part->old_reader);
			if (have_new)
				reader_evaluate(&part->new_reader);
			if (!(have_old && have_new &&
				  same_row(part->target, &part->old_reader.row,
						   &part->new_reader.row)))
			{
				if (have_old)
					accumulate(part->table, &part->old_reader.row, -1);
				if (have_new)
					accumulate(part->table, &part->new_reader.row, 1);
			}
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
	CapturePart *part;
	Relation	rel;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	TableScanDesc scan;

	if (!RELKIND_HAS_STORAGE(get_rel_relkind(relid)))
		return;					/* its partitions are replayed one by one */
	target = capture_target(id);
	capture_begin(&capture, list_make1(target));
	part = &capture.parts[0];
	rel = table_open(relid, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	reader_init(&part->old_reader, target, relid, slot, 0);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		part_accumulate(part, &part->old_reader, sign);
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	reader_free(&part->old_reader);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	capture_end(&capture);
	capture_free(&capture);
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
	List	   *targets;
	Capture		capture;
	TupleDesc	desc;
	TupleTableSlot *old_slot;
	TupleTableSlot *new_slot;
	instr_time	start;
	instr_time	duration;
	int64		rows;

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

	targets = capture_siblings(trigdata, target);
	if (targets == NIL)
		return PointerGetDatum(NULL);	/* a sibling captured the rows */
	INSTR_TIME_SET_CURRENT(start);
	rows = tuplestore_tuple_count(trigdata->tg_newtable ?
								  trigdata->tg_newtable :
								  trigdata->tg_oldtable);
	capture_begin(&capture, targets);
	/* the rows as the table stores them, shared by all parts */
	desc = RelationGetDescr(trigdata->tg_relation);
	old_slot = new_slot = NULL;
	if (trigdata->tg_oldtable)
		old_slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	if (trigdata->tg_newtable)
		new_slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	for (int i = 0; i < capture.nparts; i++)
	{
		CapturePart *part = &capture.parts[i];

		reader_init(&part->old_reader, part->target, relid,
					old_slot ? old_slot : new_slot, 0);
		if (old_slot && new_slot)
			reader_init(&part->new_reader, part->target, relid, new_slot, 1);
	}
	if (capture.nparts > 1 && rows >= COMMON_MIN_ROWS)
		share_expressions(&capture, old_slot && new_slot);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		accumulate_update(&capture, trigdata->tg_oldtable,
						  trigdata->tg_newtable, old_slot, new_slot);
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		accumulate_table(&capture, trigdata->tg_oldtable, old_slot, -1);
	else
		accumulate_table(&capture, trigdata->tg_newtable, new_slot, 1);
	capture_end(&capture);
	capture_siblings_noted(trigdata, targets);
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	for (int lane = 0; lane < 2; lane++)
	{
		if (capture.common[lane])
			common_row_free(capture.common[lane]);
	}
	for (int i = 0; i < capture.nparts; i++)
	{
		CapturePart *part = &capture.parts[i];

		reader_free(&part->old_reader);
		if (old_slot && new_slot)
			reader_free(&part->new_reader);
		/* the pass's time is shared evenly by its aggregates */
		costs_note_capture(part->target->id, part->target->view_relid, rows,
						   part->written, duration, capture.nparts);
	}
	if (old_slot)
		ExecDropSingleTupleTableSlot(old_slot);
	if (new_slot)
		ExecDropSingleTupleTableSlot(new_slot);
	capture_free(&capture);
	return PointerGetDatum(NULL);
}
