/*-------------------------------------------------------------------------
 * materialize.h
 *	  Batch: exact recompute of a range of buckets from the base table, and
 *	  sealing (moving the watermark).
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_MATERIALIZE_H
#define HYBRIDAGG_MATERIALIZE_H

#include "utils/snapshot.h"

#include "catalog.h"
#include "layout.h"

/*
 * Replace the buckets [lo, hi) of every table of the aggregate by an exact
 * recompute from the base table, and consume their pending deltas, all in
 * snapshot snap.  hi = +infinity also takes the NULL bucket.  Buckets below
 * the watermark go to history, the others to recent (batch mode: all to
 * history).  The caller holds the aggregate's lock.  Returns the number of
 * groups written.
 */
extern int64 recompute_range(const AggregateEntry *entry, const AggLayout *layout,
							 int64 lo, int64 hi, Snapshot snap);

/*
 * Hybrid mode: move the groups of recent below new_watermark into history
 * and set the watermark, in snapshot snap, under the aggregate's lock.
 * Returns the number of groups moved.
 */
extern int64 seal_by_move(AggregateEntry *entry, const AggLayout *layout,
						  int64 new_watermark, Snapshot snap);

#endif
