/*-------------------------------------------------------------------------
 * fold.h
 *	  Streaming: fold the pending deltas of an aggregate into its tables,
 *	  and move the groups of recent below the watermark into history.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_FOLD_H
#define HYBRIDAGG_FOLD_H

#include "utils/snapshot.h"

#include "catalog.h"
#include "history_partitions.h"
#include "layout.h"

/*
 * Consume every delta visible in snap and fold it into recent (buckets at or
 * above the watermark) or history (below it, once the bucket's partition is
 * there: wait says how long to wait for readers to make it), recomputing
 * dirty groups from the base table, in snapshot snap.  The caller holds the
 * aggregate's lock, took snap after taking it, and acts as the aggregate's
 * owner under fix_settings().  Returns the number of delta rows consumed.
 */
extern int64 fold_aggregate(const AggregateEntry *entry,
							const AggLayout *layout, Snapshot snap,
							PartitionWait wait);

/*
 * Move the groups of recent below the bucket below into history, but those
 * whose partition could not be made now.  Returns the groups moved.
 */
extern int64 move_recent_to_history(const AggregateEntry *entry,
									const AggLayout *layout, int64 below,
									Snapshot snap, PartitionWait wait);

/*
 * One fold of aggregate id in the caller's transaction, as the worker runs
 * it: lock without waiting, snapshot, fold, counters; *consumed is the
 * number of deltas consumed.  Returns false, having done nothing, if another
 * session holds the aggregate's lock; true otherwise, still holding it.
 */
extern bool fold_aggregate_by_id(int32 id, int64 *consumed);

#endif
