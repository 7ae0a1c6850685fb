/*-------------------------------------------------------------------------
 * worker.c
 *	  The per-database worker that folds streaming aggregates.
 *
 * The worker loops: wait on its latch for hybridagg.fold_interval (writers
 * wake it early, at commit, once hybridagg.wake_threshold delta rows have
 * piled up), then for each streaming aggregate, in a transaction of its own:
 * fold the pending deltas and, in hybrid mode, seal what is due.  What it
 * keeps true:
 *	 - one aggregate never stalls the others: the worker never waits for an
 *	   aggregate's lock (it takes it conditionally, skips an aggregate another
 *	   session holds and tries it again next cycle), and an aggregate that
 *	   fails has its error logged, stored in hybridagg_internal.aggregate_stats
 *	   for the status view (message, SQLSTATE, detail), and is retried after a
 *	   back-off that doubles up to a minute;
 *	 - it stays while its database has streaming aggregates, and leaves once it
 *	   has had none for WORKER_LINGER_MS (worker_slots.h), so that a database
 *	   without them can be renamed, copied as a template or dropped.
 *
 * SIGTERM stops the worker at the next CHECK_FOR_INTERRUPTS; SIGHUP rereads
 * the configuration.  Workers only start once recovery has finished, so a hot
 * standby runs none.  The slot protocol it follows is in worker_slots.c.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "capture_triggers.h"
#include "catalog.h"
#include "costs.h"
#include "fold.h"
#include "guc.h"
#include "materialize.h"
#include "util.h"
#include "worker.h"
#include "worker_slots.h"

#define MAX_BACKOFF_MS		60000
/* how often the worker looks for capture triggers left by a drop */
#define ORPHAN_TRIGGERS_MS	60000

typedef struct Backoff
{
	int32		id;
	int			failures;
	TimestampTz retry_at;
} Backoff;

static List *backoffs = NIL;	/* in TopMemoryContext */

static Backoff *
backoff_of(int32 id)
{
	ListCell   *lc;
	Backoff    *backoff;
	MemoryContext old;

	foreach(lc, backoffs)
	{
		backoff = lfirst(lc);
		if (backoff->id == id)
			return backoff;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	backoff = palloc0(sizeof(Backoff));
	backoff->id = id;
	backoffs = lappend(backoffs, backoff);
	MemoryContextSwitchTo(old);
	return backoff;
}

/* The streaming aggregates of this database; *found says what there was. */
static List *
streaming_aggregates(DatabaseFound *found)
{
	List	   *ids = NIL;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!OidIsValid(get_extension_oid("hybridagg", true)))
		*found = FOUND_NO_EXTENSION;
	else
	{
		int			nestlevel = fix_settings(false);
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		ids = catalog_streaming_ids();
		MemoryContextSwitchTo(old);
		restore_settings(nestlevel);
		*found = ids != NIL ? FOUND_STREAMING : FOUND_NO_STREAMING;
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	return ids;
}

/*
 * Fold one aggregate and seal what is due, in a transaction of its own.
 * Returns false if another session holds the aggregate's lock (or a lock on
 * its base table that conflicts): nothing was done, try again later.
 */
static bool
fold_in_transaction(int32 id)
{
	int			nestlevel;
	AggregateEntry *entry;
	ActingAs	saved;
	bool		locked = true;

	/* now() of the transaction: when this fold happened */
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	nestlevel = fix_settings(false);
	entry = catalog_get(id, true);
	if (entry != NULL && MODE_IS_STREAMING(entry->mode))
	{
		int64		consumed;

		act_as(entry->owner, &saved);
		locked = fold_aggregate_by_id(id, &consumed);

		/* the lock is still held: seal in a snapshot of its own */
		entry = locked ? catalog_get(id, true) : NULL;
		if (entry && entry->mode == MODE_HYBRID &&
			entry->watermark < seal_limit(entry))
		{
			int64		lo = entry->watermark;
			instr_time	start;
			instr_time	duration;
			Snapshot	snap;
			int64		moved;

			INSTR_TIME_SET_CURRENT(start);
			snap = mover_snapshot();
			moved = seal_by_move(entry, layout_read(id), seal_limit(entry),
								 snap, PARTITION_TRY);
			UnregisterSnapshot(snap);
			INSTR_TIME_SET_CURRENT(duration);
			INSTR_TIME_SUBTRACT(duration, start);
			stats_record_batch(id, moved, 0);
			costs_note_batch(id, entry->view_relid, moved, duration);
			elog(DEBUG1, "hybridagg: sealed aggregate %d from " INT64_FORMAT,
				 id, lo);
		}
		act_as_restore(&saved);
	}
	restore_settings(nestlevel);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return locked;
}

static void
record_failure(int32 id, ErrorData *edata)
{
	Backoff    *backoff = backoff_of(id);
	int			delay = Min(MAX_BACKOFF_MS,
							hybridagg_fold_interval <<
							Min(backoff->failures, 16));

	backoff->failures++;
	backoff->retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													delay);
	ereport(LOG,
			(errcode(edata->sqlerrcode),
			 errmsg("hybridagg: aggregate %d failed, retrying in %d ms: %s",
					id, delay, edata->message),
			 edata->detail ? errdetail_internal("%s", edata->detail) : 0));

	PG_TRY();
	{
		int			nestlevel;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_connect();
		nestlevel = fix_settings(false);
		if (catalog_get(id, true) != NULL)
			stats_record_error(id, edata);
		restore_settings(nestlevel);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		EmitErrorReport();
		AbortOutOfAnyTransaction();
		FlushErrorState();
	}
	PG_END_TRY();
}

/*
 * Drop the capture triggers that a drop left disabled (it could not lock
 * their table), where their table can be locked without waiting.
 */
static void
drop_orphans_in_transaction(void)
{
	static TimestampTz last_look = 0;
	MemoryContext context = CurrentMemoryContext;

	if (!TimestampDifferenceExceeds(last_look, GetCurrentTimestamp(),
									ORPHAN_TRIGGERS_MS))
		return;
	last_look = GetCurrentTimestamp();
	PG_TRY();
	{
		int			nestlevel;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_connect();
		nestlevel = fix_settings(SETTINGS_SQL);
		drop_orphan_capture_triggers();
		restore_settings(nestlevel);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(context);
		EmitErrorReport();
		AbortOutOfAnyTransaction();
		FlushErrorState();
	}
	PG_END_TRY();
}

static void
worker_cycle(List *ids)
{
	ListCell   *lc;

	drop_orphans_in_transaction();

	foreach(lc, ids)
	{
		int32		id = lfirst_int(lc);
		Backoff    *backoff = backoff_of(id);
		MemoryContext context = CurrentMemoryContext;

		if (backoff->retry_at > GetCurrentTimestamp())
			continue;
		pgstat_report_activity(STATE_RUNNING,
							   psprintf("folding hybridagg aggregate %d",
										id));
		PG_TRY();
		{
			if (fold_in_transaction(id))
			{
				backoff->failures = 0;
				backoff->retry_at = 0;
			}
			else
				elog(DEBUG1, "hybridagg: aggregate %d is locked by another session, trying again next cycle", id);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			HOLD_INTERRUPTS();
			MemoryContextSwitchTo(context);
			edata = CopyErrorData();
			FlushErrorState();
			AbortOutOfAnyTransaction();
			RESUME_INTERRUPTS();
			record_failure(id, edata);
			FreeErrorData(edata);
		}
		PG_END_TRY();
		CHECK_FOR_INTERRUPTS();
	}
	pgstat_report_activity(STATE_IDLE, NULL);
	pgstat_report_stat(true);
}

void
hybridagg_worker_main(Datum main_arg)
{
	Oid			dboid = DatumGetObjectId(main_arg);
	MemoryContext cycle_context;
	TimestampTz last_busy = 0;	/* when it last saw a streaming aggregate */

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);

	/*
	 * a fold is planned anew each time: compiling it would cost more than it
	 * saves
	 */
	SetConfigOption("jit", "off", PGC_SUSET, PGC_S_OVERRIDE);

	if (!worker_slot_attach(dboid))
		proc_exit(0);			/* no slot, or another worker already runs */

	cycle_context = AllocSetContextCreate(TopMemoryContext,
										  "hybridagg worker cycle",
										  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		DatabaseFound found;
		List	   *ids;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		worker_slot_reset_pending();

		MemoryContextSwitchTo(cycle_context);
		ids = streaming_aggregates(&found);
		if (found == FOUND_STREAMING)
			last_busy = GetCurrentTimestamp();
		if (!worker_slot_stay(found, last_busy))
		{
			elog(DEBUG1, "hybridagg: worker of database %u leaves: %s", dboid,
				 found == FOUND_NO_EXTENSION ? "no extension" :
				 "no streaming aggregate");
			proc_exit(0);
		}

		worker_cycle(ids);
		list_free(ids);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(cycle_context);

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 hybridagg_fold_interval, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
