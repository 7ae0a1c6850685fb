/*-------------------------------------------------------------------------
 * worker_slots.c
 *	  The database slots in shared memory: how the launcher, the
 *	  per-database workers and the writers of a preloaded hybridagg talk.
 *
 * There are max_worker_processes + 1 slots.  A slot belongs to one database
 * (dboid) while that database wants a worker now: it has streaming
 * aggregates, or a request or a probe of the launcher is under way.  What
 * this file keeps true:
 *	 - a database has at most one slot; a slot is free when dboid is
 *	   InvalidOid;
 *	 - a slot is freed only by the launcher (slot_release), only when no
 *	   worker is starting or running in it, and only when it is no longer
 *	   wanted or its database is gone; so slots do not leak, and a dropped
 *	   database gives its slot back;
 *	 - at most one worker is attached to a slot: worker_pid is set exactly
 *	   when worker is SLOT_WORKER_RUNNING;
 *	 - the slots whose worker is starting or running are the hybridagg
 *	   workers; slot_claim() never makes them more than the budget
 *	   (hybridagg.max_workers);
 *	 - a slot stops being wanted only when its worker leaves (no streaming
 *	   aggregate for WORKER_LINGER_MS, no request in that time), in the same
 *	   critical section in which it detaches, so a request never falls
 *	   between a leaving worker and the launcher.
 *
 * Locking: one LWLock (shared->lock, tranche "hybridagg") protects every
 * field of every slot but pending, and shared->launcher_latch,
 * shared->requests_lost.  Who writes what:
 *	 dboid			taken by slot_claim (launcher) or by a request (any
 *					backend, at commit); freed by slot_release (launcher)
 *	 worker			STARTING: slot_claim; RUNNING: the worker attaching;
 *					NO_WORKER: the worker leaving or exiting, or the launcher
 *					for a worker that never attached
 *	 worker_pid, worker_latch	the worker, when it attaches and when it goes
 *	 wanted			set by requests, slot_claim and a worker that finds
 *					streaming aggregates; cleared by a worker leaving
 *	 requested_at	requests
 *	 found			the worker
 *	 shortage		the launcher
 * pending is a pg_atomic_uint32: writers add to it at commit without the
 * lock, the worker resets it at each cycle, and taking a slot resets it
 * under the exclusive lock.  Writers also read dboid and worker_latch
 * without the lock, to find their database's slot and wake its worker: an
 * Oid and a pointer are read whole, and a stale read only counts delta rows
 * towards, or wakes, the wrong worker or none; a worker folds every
 * hybridagg.fold_interval anyway.  A latch pointer always points into a
 * PGPROC, which shared memory keeps for the server's life.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "export.h"
#include "guc.h"
#include "worker_slots.h"

/* a writer that found no slot asks again at most this often */
#define WRITER_REQUEST_INTERVAL_MS	1000

/* Why a database that wants a worker has none */
typedef enum SlotShortage
{
	SHORTAGE_NONE,
	SHORTAGE_BUDGET,			/* hybridagg.max_workers workers exist */
	SHORTAGE_BGWORKER			/* the postmaster had no worker to give */
} SlotShortage;

typedef struct DatabaseSlot
{
	Oid			dboid;			/* InvalidOid when free */
	SlotWorker	worker;
	pid_t		worker_pid;		/* 0 unless worker is SLOT_WORKER_RUNNING */
	Latch	   *worker_latch;	/* NULL unless worker is SLOT_WORKER_RUNNING */
	bool		wanted;			/* the database wants a worker now */
	TimestampTz requested_at;	/* last request; 0 never */
	DatabaseFound found;		/* what its worker found last */
	SlotShortage shortage;		/* why it has no worker, if it wants one */
	pg_atomic_uint32 pending;	/* delta rows since the worker last woke */
} DatabaseSlot;

typedef struct WorkersShared
{
	LWLock	   *lock;
	Latch	   *launcher_latch;
	bool		requests_lost;	/* a request found no free slot */
	int			nslots;
	DatabaseSlot slots[FLEXIBLE_ARRAY_MEMBER];
} WorkersShared;

static WorkersShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* the worker's own slot */
static DatabaseSlot *my_slot = NULL;

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
worker_slots_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
	RequestNamedLWLockTranche("hybridagg", 1);
}

static void
worker_slots_shmem_startup(void)
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
worker_slots_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_slots_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_slots_shmem_startup;
}

/*
 * The slot of a database, or with create a free slot taken for it (NULL if
 * none is free).  The caller holds shared->lock, exclusively if create.
 */
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
	free_slot->worker = SLOT_NO_WORKER;
	free_slot->worker_pid = 0;
	free_slot->worker_latch = NULL;
	free_slot->wanted = false;
	free_slot->requested_at = 0;
	free_slot->found = FOUND_NOTHING_YET;
	free_slot->shortage = SHORTAGE_NONE;
	pg_atomic_write_u32(&free_slot->pending, 0);
	return free_slot;
}

/* ----------------------------------------------------------------
 * Writers: requests and the pile of delta rows
 * ----------------------------------------------------------------
 */

/*
 * Ask for a worker in this database now.  Returns false if no slot was
 * free: the launcher then probes again the databases it thought needed
 * none, as slots free up.
 */
static bool
request_now(void)
{
	DatabaseSlot *slot;
	Latch	   *launcher_latch;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = database_slot(MyDatabaseId, true);
	if (slot)
	{
		slot->wanted = true;
		slot->requested_at = GetCurrentTimestamp();
	}
	else
		shared->requests_lost = true;
	launcher_latch = shared->launcher_latch;
	LWLockRelease(shared->lock);
	if (launcher_latch)
		SetLatch(launcher_latch);
	return slot != NULL;
}

/*
 * Per transaction: delta rows appended, and whether a worker was asked for.
 * Both take effect at commit, when the worker can see what the transaction
 * did (waking it earlier would only make it look at a snapshot without it
 * and sleep again).
 */
static int	deltas_this_transaction = 0;
static bool request_at_commit = false;
static bool xact_callback_registered = false;
static TimestampTz writer_request_after = 0;

static void
add_to_pile(int n)
{
	/* unlocked: see the header */
	DatabaseSlot *slot = database_slot(MyDatabaseId, false);
	uint32		after;

	if (slot == NULL)
	{
		/*
		 * no worker is wanted here: this database's worker left, or none came
		 */
		TimestampTz now = GetCurrentTimestamp();

		if (now >= writer_request_after && !request_now())
			writer_request_after =
				TimestampTzPlusMilliseconds(now, WRITER_REQUEST_INTERVAL_MS);
		return;
	}
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

static void
act_at_commit(XactEvent event, void *arg)
{
	int			n = deltas_this_transaction;
	bool		request = request_at_commit;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PREPARE &&
		event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT)
		return;
	deltas_this_transaction = 0;
	request_at_commit = false;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_PREPARE)
		return;
	/* a prepared transaction may commit later: its worker lingers meanwhile */
	if (request)
		(void) request_now();
	if (n > 0 && event == XACT_EVENT_COMMIT)
		add_to_pile(n);
}

static void
register_xact_callback(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(act_at_commit, NULL);
		xact_callback_registered = true;
	}
}

void
worker_note_deltas(int n)
{
	if (shared == NULL || !hybridagg_worker_enabled)
		return;
	register_xact_callback();
	deltas_this_transaction += n;
}

void
worker_request(void)
{
	if (shared == NULL || !hybridagg_worker_enabled)
		return;
	register_xact_callback();
	request_at_commit = true;
}

PG_FUNCTION_INFO_V1(hybridagg_request_worker);

/*
 * SQL: called by CREATE EXTENSION, so that a restored database gets its
 * worker
 */
Datum
hybridagg_request_worker(PG_FUNCTION_ARGS)
{
	worker_request();
	PG_RETURN_VOID();
}

/* ----------------------------------------------------------------
 * The launcher
 * ----------------------------------------------------------------
 */

void
slots_launcher_start(void)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->launcher_latch = MyLatch;
	for (int i = 0; i < shared->nslots; i++)
	{
		/* registered by a launcher that is gone: it will not attach now */
		if (shared->slots[i].worker == SLOT_WORKER_STARTING)
			shared->slots[i].worker = SLOT_NO_WORKER;
	}
	LWLockRelease(shared->lock);
}

int
slots_read(SlotView **views)
{
	int			n = 0;

	*views = palloc(sizeof(SlotView) * shared->nslots);
	LWLockAcquire(shared->lock, LW_SHARED);
	for (int i = 0; i < shared->nslots; i++)
	{
		DatabaseSlot *slot = &shared->slots[i];

		if (slot->dboid == InvalidOid)
			continue;
		(*views)[n].dboid = slot->dboid;
		(*views)[n].wanted = slot->wanted;
		(*views)[n].worker = slot->worker;
		n++;
	}
	LWLockRelease(shared->lock);
	return n;
}

bool
slots_requests_lost(void)
{
	bool		lost;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	lost = shared->requests_lost;
	shared->requests_lost = false;
	LWLockRelease(shared->lock);
	return lost;
}

bool
slot_release(Oid dboid, bool database_gone, DatabaseFound *found)
{
	DatabaseSlot *slot;
	bool		released = false;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = database_slot(dboid, false);
	if (slot && slot->worker == SLOT_NO_WORKER &&
		(database_gone || !slot->wanted))
	{
		*found = slot->found;
		slot->dboid = InvalidOid;
		released = true;
	}
	LWLockRelease(shared->lock);
	return released;
}

SlotClaim
slot_claim(Oid dboid, int budget, bool *budget_settled)
{
	DatabaseSlot *slot;
	int			workers = 0;
	int			settled = 0;
	SlotClaim	claim;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < shared->nslots; i++)
	{
		DatabaseSlot *other = &shared->slots[i];

		if (other->dboid == InvalidOid || other->worker == SLOT_NO_WORKER)
			continue;
		workers++;
		if (other->worker == SLOT_WORKER_RUNNING &&
			other->found == FOUND_STREAMING)
			settled++;
	}
	*budget_settled = settled >= budget;
	slot = database_slot(dboid, true);
	if (slot == NULL)
		claim = CLAIM_NO_SLOT;
	else if (slot->worker != SLOT_NO_WORKER)
		claim = CLAIM_WORKER_EXISTS;
	else if (workers >= budget)
	{
		/* kept while it waits, so that the status view can say so */
		slot->wanted = true;
		slot->shortage = SHORTAGE_BUDGET;
		claim = CLAIM_NO_BUDGET;
	}
	else
	{
		slot->worker = SLOT_WORKER_STARTING;
		slot->wanted = true;
		slot->shortage = SHORTAGE_NONE;
		claim = CLAIM_TAKEN;
	}
	LWLockRelease(shared->lock);
	return claim;
}

void
slot_launch_failed(Oid dboid)
{
	DatabaseSlot *slot;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = database_slot(dboid, false);
	if (slot && slot->worker == SLOT_WORKER_STARTING)
	{
		slot->worker = SLOT_NO_WORKER;
		slot->shortage = SHORTAGE_BGWORKER;
	}
	LWLockRelease(shared->lock);
}

void
slot_launch_stopped(Oid dboid)
{
	DatabaseSlot *slot;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = database_slot(dboid, false);
	/* a worker that attached set NO_WORKER itself when it went */
	if (slot && slot->worker == SLOT_WORKER_STARTING)
		slot->worker = SLOT_NO_WORKER;
	LWLockRelease(shared->lock);
}

/* ----------------------------------------------------------------
 * The worker
 * ----------------------------------------------------------------
 */

/* the caller holds shared->lock exclusively */
static void
detach(void)
{
	my_slot->worker = SLOT_NO_WORKER;
	my_slot->worker_pid = 0;
	my_slot->worker_latch = NULL;
	my_slot = NULL;
}

static void
detach_at_exit(int code, Datum arg)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (my_slot != NULL && my_slot->worker_pid == MyProcPid)
		detach();
	LWLockRelease(shared->lock);
}

bool
worker_slot_attach(Oid dboid)
{
	DatabaseSlot *slot;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot = database_slot(dboid, false);
	if (slot == NULL || slot->worker_pid != 0)
	{
		LWLockRelease(shared->lock);
		return false;
	}
	slot->worker = SLOT_WORKER_RUNNING;
	slot->worker_pid = MyProcPid;
	slot->worker_latch = MyLatch;
	my_slot = slot;
	LWLockRelease(shared->lock);
	before_shmem_exit(detach_at_exit, (Datum) 0);
	return true;
}

void
worker_slot_reset_pending(void)
{
	pg_atomic_write_u32(&my_slot->pending, 0);
}

bool
worker_slot_stay(DatabaseFound found, TimestampTz last_busy)
{
	bool		stay = true;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	my_slot->found = found;
	if (found == FOUND_STREAMING)
		my_slot->wanted = true;
	else if (TimestampDifferenceExceeds(Max(last_busy, my_slot->requested_at),
										GetCurrentTimestamp(),
										WORKER_LINGER_MS))
	{
		my_slot->wanted = false;
		detach();
		stay = false;
	}
	LWLockRelease(shared->lock);
	return stay;
}

/* ----------------------------------------------------------------
 * Status
 * ----------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(hybridagg_worker_state);

/*
 * SQL: what the worker of this database is doing, for the status view.
 * Reads shared memory only.
 */
Datum
hybridagg_worker_state(PG_FUNCTION_ARGS)
{
	DatabaseSlot *slot;
	const char *state;

	if (shared == NULL)
		PG_RETURN_TEXT_P(cstring_to_text("not preloaded"));
	if (!hybridagg_worker_enabled)
		PG_RETURN_TEXT_P(cstring_to_text("disabled"));
	if (RecoveryInProgress())
		PG_RETURN_TEXT_P(cstring_to_text("none on a standby"));

	LWLockAcquire(shared->lock, LW_SHARED);
	slot = database_slot(MyDatabaseId, false);
	if (slot == NULL)
	{
		state = "not started yet";
		if (database_slot(InvalidOid, false) == NULL)
			state = "waiting for a worker slot";	/* none is free */
	}
	else if (slot->worker == SLOT_WORKER_RUNNING)
		state = "running";
	else if (slot->worker == SLOT_WORKER_STARTING ||
			 slot->shortage == SHORTAGE_NONE)
		state = "starting";
	else
		state = "waiting for a worker slot";
	LWLockRelease(shared->lock);
	PG_RETURN_TEXT_P(cstring_to_text(state));
}
