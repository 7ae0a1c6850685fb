/*-------------------------------------------------------------------------
 * worker.h
 *	  hybridagg's background processes: one launcher per server, one worker
 *	  per database that has streaming aggregates, and the shared memory they
 *	  and the writers use to talk.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_WORKER_H
#define HYBRIDAGG_WORKER_H

#include "postgres.h"

#include "fmgr.h"

/* in _PG_init of a preloaded library */
extern void workers_shmem_init(void);
extern void launcher_register(void);

/* a writer appended n delta rows in this database (wakes the worker early) */
extern void worker_note_deltas(int n);

/* this database now has a streaming aggregate: make sure a worker runs */
extern void worker_request(void);

/* entry points of the background processes */
extern PGDLLEXPORT void hybridagg_launcher_main(Datum main_arg);
extern PGDLLEXPORT void hybridagg_worker_main(Datum main_arg);

/* used by the launcher */
extern void launcher_set_latch_owner(void);
extern bool launcher_should_start(Oid dboid);

#endif
