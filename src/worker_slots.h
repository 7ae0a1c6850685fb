/*-------------------------------------------------------------------------
 * worker_slots.h
 *	  The shared memory through which the launcher, the per-database workers
 *	  and the writers of a preloaded hybridagg talk: one slot per database
 *	  that wants a worker now.  See worker_slots.c for what it keeps true
 *	  and for its locking.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_WORKER_SLOTS_H
#define HYBRIDAGG_WORKER_SLOTS_H

#include "postgres.h"

#include "datatype/timestamp.h"

/* What the last worker of a database found there */
typedef enum DatabaseFound
{
	FOUND_NOTHING_YET,			/* no worker has looked yet */
	FOUND_NO_EXTENSION,
	FOUND_NO_STREAMING,			/* the extension, but no streaming aggregate */
	FOUND_STREAMING				/* at least one streaming aggregate */
} DatabaseFound;

/* Where the worker of a database is */
typedef enum SlotWorker
{
	SLOT_NO_WORKER,
	SLOT_WORKER_STARTING,		/* registered by the launcher, not attached */
	SLOT_WORKER_RUNNING			/* attached to its slot */
} SlotWorker;

/* _PG_init of a preloaded library: ask for the shared memory */
extern void worker_slots_shmem_init(void);

/* ----------------------------------------------------------------
 * Writers
 * ----------------------------------------------------------------
 */

/* this transaction appended n delta rows (wakes the worker early at commit) */
extern void worker_note_deltas(int n);

/* this database now has a streaming aggregate: make sure a worker runs */
extern void worker_request(void);

/* ----------------------------------------------------------------
 * The launcher
 * ----------------------------------------------------------------
 */

/* A copy of one taken slot, for the launcher's decisions */
typedef struct SlotView
{
	Oid			dboid;
	bool		wanted;
	SlotWorker	worker;
} SlotView;

/* What slot_claim() did */
typedef enum SlotClaim
{
	/* the slot is the caller's worker's: start it */
	CLAIM_TAKEN,
	CLAIM_WORKER_EXISTS,		/* a worker is starting or running already */
	CLAIM_NO_BUDGET,			/* hybridagg.max_workers workers exist */
	CLAIM_NO_SLOT				/* every slot is taken by another database */
} SlotClaim;

/*
 * At the launcher's start: wake it through MyLatch from now on, and forget
 * the workers a previous launcher registered that never attached.
 */
extern void slots_launcher_start(void);

/* Copies of every taken slot, palloc'd; returns how many */
extern int	slots_read(SlotView **views);

/* Did a request find no free slot since the last call?  (Clears it.) */
extern bool slots_requests_lost(void);

/*
 * Free the slot of dboid if it holds no worker and is not wanted (or,
 * database_gone, whether wanted or not).  On true, *found says what its last
 * worker found there.
 */
extern bool slot_release(Oid dboid, bool database_gone, DatabaseFound *found);

/*
 * Take the slot of dboid (making one if needed) for a worker the caller is
 * about to register, if fewer than budget workers are starting or running.
 * On CLAIM_NO_BUDGET, *budget_settled says whether every one of them is a
 * worker that stays (its database has streaming aggregates), so that the
 * shortage will not pass by itself.
 */
extern SlotClaim slot_claim(Oid dboid, int budget, bool *budget_settled);

/* the postmaster refused to register the worker of a claimed slot */
extern void slot_launch_failed(Oid dboid);

/* the worker registered for dboid has stopped (it may never have attached) */
extern void slot_launch_stopped(Oid dboid);

/* ----------------------------------------------------------------
 * The worker
 * ----------------------------------------------------------------
 */

/*
 * Attach to the slot of dboid as its worker.  False if there is none, or
 * another worker has it: the caller exits.
 */
extern bool worker_slot_attach(Oid dboid);

/* a new cycle: the writers' pile of delta rows starts again from zero */
extern void worker_slot_reset_pending(void);

/*
 * Record what the worker found.  Returns true if it should go on; false
 * once it has left its slot because its database has had no streaming
 * aggregate since last_busy (0: never) for WORKER_LINGER_MS and no request
 * came in that time.
 */
extern bool worker_slot_stay(DatabaseFound found, TimestampTz last_busy);

/* How long a worker stays in a database without streaming aggregates */
#define WORKER_LINGER_MS	10000

#endif
