/*-------------------------------------------------------------------------
 * costs.h
 *	  What each aggregate costs, counted in shared memory where it is paid:
 *	  by the writers' capture, the folds and the batch runs.  See costs.c.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_COSTS_H
#define HYBRIDAGG_COSTS_H

#include "datatype/timestamp.h"
#include "portability/instr_time.h"

/* _PG_init of a preloaded library: ask for the shared memory */
extern void costs_shmem_init(void);

/* a capture statement of aggregate id: rows read, delta rows written */
extern void costs_note_capture(int32 id, Oid view_relid, int64 rows,
							   int64 groups, instr_time duration);

/* a fold that consumed deltas delta rows */
extern void costs_note_fold(int32 id, Oid view_relid, int64 deltas,
							instr_time duration);

/* a batch run (a materialize() call, a seal by the worker): groups written */
extern void costs_note_batch(int32 id, Oid view_relid, int64 groups,
							 instr_time duration);

/*
 * Nothing older than since is pending any more: a fold's (or a look for
 * deltas that found none) snapshot was taken after since.
 */
extern void costs_note_caught_up(int32 id, Oid view_relid,
								 TimestampTz since);

/* the aggregate is gone: its counters go with it */
extern void costs_forget(int32 id);

#endif
