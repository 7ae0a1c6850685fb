/*-------------------------------------------------------------------------
 * history_partitions.h
 *	  The range partitions of history_<id>, created before any group goes
 *	  into them.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_HISTORY_PARTITIONS_H
#define HYBRIDAGG_HISTORY_PARTITIONS_H

#include "catalog.h"
#include "layout.h"

/* how long to wait for the readers of the view */
typedef enum PartitionWait
{
	PARTITION_WAIT,				/* until the lock is had, as DDL waits */
	PARTITION_TRY				/* try for a moment; give up if readers hold
								 * the table */
} PartitionWait;

/*
 * Make sure history_<id> has a partition for each of the n buckets (finite
 * or -infinity; +infinity and duplicates are ignored), creating the missing
 * ones in the current transaction.  Returns the buckets that still have
 * none (possible with PARTITION_TRY only), as a List of int64 pointers:
 * groups of those buckets must not go to history in this transaction.
 */
extern List *history_partitions_for(const AggregateEntry *entry,
									const AggLayout *layout, int64 *buckets,
									int n, PartitionWait wait);

/* the same for every bucket in [lo, hi) */
extern void history_partitions_for_range(const AggregateEntry *entry,
										 const AggLayout *layout,
										 int64 lo, int64 hi);

/* would history_partitions_for_range() create a partition? */
extern bool history_partitions_missing(const AggregateEntry *entry, int64 lo,
									   int64 hi);

#endif
