/*-------------------------------------------------------------------------
 * worker.h
 *	  hybridagg's background processes: one launcher per server (launcher.c)
 *	  and one worker per database that has streaming aggregates (worker.c).
 *	  The shared memory they and the writers use to talk is in
 *	  worker_slots.h, included here for the writers (worker_note_deltas,
 *	  worker_request).
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_WORKER_H
#define HYBRIDAGG_WORKER_H

#include "postgres.h"

#include "fmgr.h"

#include "worker_slots.h"

/* in _PG_init of a preloaded library */
extern void launcher_register(void);

/* entry points of the background processes */
extern PGDLLEXPORT void hybridagg_launcher_main(Datum main_arg);
extern PGDLLEXPORT void hybridagg_worker_main(Datum main_arg);

#endif
