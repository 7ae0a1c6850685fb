/*-------------------------------------------------------------------------
 * worker.c
 *	  The per-database worker that folds streaming aggregates, and the shared
 *	  memory it shares with the launcher and the writers.
 *
 * The worker loops: wait on its latch for hybridagg.fold_interval (writers
 * wake it early, at commit, once hybridagg.wake_threshold delta rows have
 * piled up),
 * then for each streaming aggregate, in a transaction of its own: fold the
 * pending deltas and, in hybrid mode, seal what is due.  An aggregate that
 * fails does not stop the others: the error is logged, stored in
 * hybridagg_internal.aggregate_stats for the status view (message, SQLSTATE,
 * detail), and the aggregate
 * is retried after a back-off that doubles up to a minute.  The worker never
 * waits for an aggregate's lock: it takes it conditionally, skips an
 * aggregate another session holds, and tries it again next cycle, so that
 * one blocked aggregate does not stall the others.
 *
 * SIGTERM stops the worker at the next CHECK_FOR_INTERRUPTS; SIGHUP rereads
 * the configuration.  A worker stays while its database has the extension,
 * and leaves when it is dropped.  Workers only start once recovery has
 * finished, so a hot standby runs none.
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
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "fold.h"
#include "guc.h"
#include "hybridagg.h"
#include "materialize.h"
#include "util.h"
#include "worker.h"

/* a request for a worker keeps it wanted this long even without extension */
#define REQUEST_GRACE_MS	60000
#define MAX_BACKOFF_MS		60000
/* how often a database without a worker is looked at again */
#define REPROBE_MS			300000

typedef struct DatabaseSlot
{
	Oid			dboid;			/* InvalidOid when free */
	TimestampTz probed_at;		/* when a worker last looked at it; 0 never */
	bool		wanted;			/* the database has (or may have) the
								 * extension */
	TimestampTz requested_at;	/* last worker_request() */
	pid_t		worker_pid;		/* 0 when no worker runs */
	Latch	   *worker_latch;
	pg_atomic_uint32 pending;	/* delta rows since the worker last woke */
} DatabaseSlot;

typedef struct WorkersShared
{
	LWLock	   *lock;
	Latch	   *launcher_latch;
	int			nslots;
	DatabaseSlot slots[FLEXIBLE_ARRAY_MEMBER];
} WorkersShared;

static WorkersShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* ----------------------------------------------------------------
 * Shared memory
 * ----------------------------------------------------------------
 */

static int
slot_count(void)
{
	return max_worker_processes + 1;
}

static Size
shared_size(void)
{
	return add_size(offsetof(WorkersShared, slots),
					mul_size(slot_count(), sizeof(DatabaseSlot)));
}

static void
workers_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
	RequestNamedLWLockTranche("hybridagg", 1);
}

static void
workers_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("hybridagg workers", shared_size(), &found);
	if (!found)
	{
		memset(shared, 0, shared_size());
		shared->lock = &(GetNamedLWLockTranche("hybridagg"))->lock;
		shared->nslots = slot_count();
		for (int i = 0; i < shared->nslots; i++)
			pg_atomic_init_u32(&shared->slots[i].pending, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
workers_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = workers_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = workers_shmem_startup;
}

/* The slot of a database; the caller holds shared->lock if create. */
static DatabaseSlot *
database_slot(Oid dboid, bool create)
{
	DatabaseSlot *free_slot = NULL;

	if (shared == NULL)
		return NULL;
	for (int i = 0; i < shared->nslots; i++)
	{
		if (shared->slots[i].dboid == dboid)
			return &shared->slots[i];
		if (free_slot == NULL && shared->slots[i].dboid == InvalidOid)
			free_slot = &shared->slots[i];
	}
	if (!create || free_slot == NULL)
		return NULL;
	free_slot->dboid = dboid;
	free_slot->probed_at = 0;
	free_slot->wanted = false;
	free_slot->requested_at = 0;
	free_slot->worker_pid = 0;
	free_slot->worker_latch = NULL;
	pg_atomic_write_u32(&free_slot->pending, 0);
	return free_slot;
}

/*
 * Should the launcher start a worker for this database now?  Yes if it has
 * none running and wants one, or if no worker has looked at it for
 * REPROBE_MS (the extension may have come with a restore or a template).
 */
bool
launcher_should_start(Oid dboid)
{
	DatabaseSlot *slot;
	bool		start = false;
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = database_slot(dboid, true);
	if (slot && slot->worker_pid == 0 &&
		(slot->wanted || TimestampDifferenceExceeds(slot->probed_at, now, REPROBE_MS)))
	{
		slot->probed_at = now;
		start = true;
	}
	LWLockRelease(shared->lock);
	return start;
}

void
launcher_set_latch_owner(void)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->launcher_latch = MyLatch;
	LWLockRelease(shared->lock);
}

/*
 * Delta rows this transaction appended; counted into the shared pile at
 * commit, when the worker can see them (waking it earlier would only make it
 * fold a snapshot without them and sleep again).
 */
static int	deltas_this_transaction = 0;
static bool xact_callback_registered = false;

static void
count_deltas_at_commit(XactEvent event, void *arg)
{
	DatabaseSlot *slot;
	uint32		after;
	int			n = deltas_this_transaction;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	deltas_this_transaction = 0;
	if (event != XACT_EVENT_COMMIT || n == 0 || shared == NULL)
		return;
	slot = database_slot(MyDatabaseId, false);
	if (slot == NULL)
		return;
	after = pg_atomic_add_fetch_u32(&slot->pending, n);
	/* wake the worker once, when the pile crosses the threshold */
	if (after >= (uint32) hybridagg_wake_threshold &&
		after - n < (uint32) hybridagg_wake_threshold)
	{
		Latch	   *latch = slot->worker_latch;

		if (latch)
			SetLatch(latch);
	}
}

void
worker_note_deltas(int n)
{
	if (shared == NULL)
		return;
	if (!xact_callback_registered)
	{
		RegisterXactCallback(count_deltas_at_commit, NULL);
		xact_callback_registered = true;
	}
	deltas_this_transaction += n;
}

PG_FUNCTION_INFO_V1(hybridagg_request_worker);

/* SQL: called by CREATE EXTENSION, so that a restored database gets its worker */
Datum
hybridagg_request_worker(PG_FUNCTION_ARGS)
{
	worker_request();
	PG_RETURN_VOID();
}

void
worker_request(void)
{
	DatabaseSlot *slot;
	Latch	   *launcher_latch;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = database_slot(MyDatabaseId, true);
	if (slot)
	{
		slot->wanted = true;
		slot->requested_at = GetCurrentTimestamp();
	}
	launcher_latch = shared->launcher_latch;
	LWLockRelease(shared->lock);
	if (launcher_latch)
		SetLatch(launcher_latch);
}

/* ----------------------------------------------------------------
 * The worker
 * ----------------------------------------------------------------
 */

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

static void
detach_from_slot(int code, Datum arg)
{
	DatabaseSlot *slot = (DatabaseSlot *) DatumGetPointer(arg);

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (slot->worker_pid == MyProcPid)
	{
		slot->worker_pid = 0;
		slot->worker_latch = NULL;
	}
	LWLockRelease(shared->lock);
}

/* The streaming aggregates of this database, or NIL without the extension. */
static List *
streaming_aggregates(bool *has_extension)
{
	List	   *ids = NIL;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	*has_extension = OidIsValid(get_extension_oid("hybridagg", true));
	if (*has_extension)
	{
		int			nestlevel = fix_settings(false);
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		ids = catalog_streaming_ids();
		MemoryContextSwitchTo(old);
		restore_settings(nestlevel);
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
		if (entry && entry->mode == MODE_HYBRID && entry->watermark < seal_limit(entry))
		{
			int64		lo = entry->watermark;
			Snapshot	snap = mover_snapshot();
			int64		moved = seal_by_move(entry, layout_read(id), seal_limit(entry), snap);

			UnregisterSnapshot(snap);
			stats_record_batch(id, moved, 0);
			elog(DEBUG1, "hybridagg: sealed aggregate %d from " INT64_FORMAT, id, lo);
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
	int			delay = Min(MAX_BACKOFF_MS, hybridagg_fold_interval << Min(backoff->failures, 16));

	backoff->failures++;
	backoff->retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), delay);
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

static void
worker_cycle(List *ids)
{
	ListCell   *lc;

	foreach(lc, ids)
	{
		int32		id = lfirst_int(lc);
		Backoff    *backoff = backoff_of(id);
		MemoryContext context = CurrentMemoryContext;

		if (backoff->retry_at > GetCurrentTimestamp())
			continue;
		pgstat_report_activity(STATE_RUNNING, psprintf("folding hybridagg aggregate %d", id));
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
	DatabaseSlot *slot;
	MemoryContext cycle_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	/* a fold is planned anew each time: compiling it would cost more than it saves */
	SetConfigOption("jit", "off", PGC_SUSET, PGC_S_OVERRIDE);

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = database_slot(dboid, true);
	if (slot == NULL || slot->worker_pid != 0)
	{
		LWLockRelease(shared->lock);
		proc_exit(0);			/* no room, or another worker already runs */
	}
	slot->worker_pid = MyProcPid;
	slot->worker_latch = MyLatch;
	LWLockRelease(shared->lock);
	before_shmem_exit(detach_from_slot, PointerGetDatum(slot));

	cycle_context = AllocSetContextCreate(TopMemoryContext, "hybridagg worker cycle",
										  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		bool		has_extension;
		List	   *ids;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		pg_atomic_write_u32(&slot->pending, 0);

		MemoryContextSwitchTo(cycle_context);
		ids = streaming_aggregates(&has_extension);
		if (!has_extension)
		{
			LWLockAcquire(shared->lock, LW_EXCLUSIVE);
			if (TimestampDifferenceExceeds(slot->requested_at, GetCurrentTimestamp(),
										   REQUEST_GRACE_MS))
				slot->wanted = false;
			LWLockRelease(shared->lock);
			proc_exit(0);
		}
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		slot->wanted = true;
		LWLockRelease(shared->lock);

		worker_cycle(ids);
		list_free(ids);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(cycle_context);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 hybridagg_fold_interval, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
