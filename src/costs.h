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

/* The counters of one aggregate; times in microseconds */
typedef struct AggregateCosts
{
	int64		capture_statements;
	int64		capture_rows;
	int64		capture_groups;
	int64		capture_us;
	/* for a fit of time against rows: a per-statement and a per-row part */
	double		capture_rows_squared;
	double		capture_rows_by_us;
	int64		folds;
	int64		fold_deltas;
	int64		fold_us;
	double		fold_deltas_squared;	/* for a fit, as the capture's */
	double		fold_deltas_by_us;
	int64		batch_runs;
	int64		batch_groups;
	int64		batch_us;
	TimestampTz caught_up_at;	/* 0: no fold looked since costs_since */
	TimestampTz since;
} AggregateCosts;

/* _PG_init of a preloaded library: ask for the shared memory */
extern void costs_shmem_init(void);

/*
 * a capture statement of aggregate id: rows read, delta rows written, and
 * its share of a pass that took duration for shared_by aggregates
 */
extern void costs_note_capture(int32 id, Oid view_relid, int64 rows,
							   int64 groups, instr_time duration,
							   int shared_by);

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

/*
 * A copy of the counters of one aggregate; false if it is not counted (the
 * library is not preloaded, or the table was full when it first counted).
 */
extern bool costs_read(int32 id, Oid view_relid, AggregateCosts *copy);

/*
 * While paused, this backend counts nothing: advise()'s sample runs are
 * rolled back and cost nobody anything.  Returns the previous state.
 */
extern bool costs_pause(bool paused);

/* the aggregate is gone: its counters go with it */
extern void costs_forget(int32 id);

#endif
