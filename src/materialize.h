/*-------------------------------------------------------------------------
 * materialize.h
 *	  Batch: exact recompute of a range of buckets from the base table, and
 *	  sealing (moving the watermark).
 *
 * A range of buckets [lo, hi) with hi = +infinity also holds the bucket of
 * +infinity and the NULL bucket (rows with no time); [+infinity, +infinity)
 * is those two alone.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_MATERIALIZE_H
#define HYBRIDAGG_MATERIALIZE_H

#include "utils/snapshot.h"

#include "catalog.h"
#include "history_partitions.h"
#include "layout.h"

/*
 * SQL conditions: col holds a bucket of [$param, $param + 1), or a time of
 * the closed range [$param, $param + 1] (see bucket_range_times()); with hi
 * = +infinity, col is at or above $param, or NULL.
 */
extern char *bucket_range_condition(const char *col, int64 hi, int param);
extern char *time_range_condition(const char *col, int64 hi, int param);

/*
 * delete the groups of the buckets [lo, hi) from every table of the
 * aggregate
 */
extern void delete_buckets(const AggregateEntry *entry, int64 lo, int64 hi,
						   Snapshot snap);

/*
 * Replace the buckets [lo, hi) of every table of the aggregate by an exact
 * recompute from the base table, and consume their pending deltas, all in
 * snapshot snap.  Buckets below the watermark go to history, the others to
 * recent (batch mode: all to history).  The caller holds the aggregate's
 * lock and acts as its owner.  Returns the number of groups written.
 */
extern int64 recompute_range(const AggregateEntry *entry,
							 const AggLayout *layout, int64 lo, int64 hi,
							 Snapshot snap);

/* the same, a chunk at a time, skipping stretches without data */
extern int64 recompute_all(const AggregateEntry *entry, const AggLayout *layout,
						   int64 lo, int64 hi, Snapshot snap);

/*
 * Hybrid mode: move the groups of recent below new_watermark into history
 * and set the watermark, in snapshot snap, under the aggregate's lock.
 * Returns the number of groups moved.
 */
extern int64 seal_by_move(AggregateEntry *entry, const AggLayout *layout,
						  int64 new_watermark, Snapshot snap,
						  PartitionWait wait);

#endif
