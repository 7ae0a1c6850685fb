/*-------------------------------------------------------------------------
 * dirty_groups.h
 *	  Dirty groups: groups whose states no delta can bring up to date (a
 *	  deleted min or max, a changed recomputed value; see dirty_groups.c),
 *	  recomputed from the base table.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_DIRTY_GROUPS_H
#define HYBRIDAGG_DIRTY_GROUPS_H

#include "utils/snapshot.h"

#include "catalog.h"
#include "layout.h"

/* the size of the secret in token_<id> that lets a view call dirty_groups() */
#define TOKEN_BYTES 32

/* the buckets of the dirty deltas a snapshot sees */
typedef struct DirtyBuckets
{
	int64	   *buckets;		/* finite or infinite, with repeats */
	int			n;
	bool		null_bucket;	/* a dirty group has no bucket (NULL time) */
} DirtyBuckets;

/*
 * The buckets of the delta rows of aggregate id visible in snapshot, all of
 * them or only the dirty ones; a plain scan, no plan.  False if there are
 * none.
 */
extern bool delta_buckets(const AggregateEntry *entry, Snapshot snapshot,
						  bool dirty_only, DirtyBuckets *result);

/*
 * SQL for the exact states of dirty groups, recomputed from the base table:
 * a SELECT of g1..gN and the states.  dirty_keys is a FROM item aliased d
 * with the key columns, filtered to the dirty groups ("delta_5 d WHERE
 * d.__dirty").  The base rows are read once each, through the time index,
 * from the ranges in parameters $first_param (first times, an array of the
 * time type) and $first_param + 1 (last times), and the rows with no time if
 * $first_param + 2 is true: see dirty_ranges_params().  With include_empty,
 * a dirty group left with no rows comes out with zero states; else it does
 * not come out.
 */
extern void append_dirty_recompute(StringInfo buf, const AggLayout *layout,
								   int32 id, const char *dirty_keys,
								   bool include_empty, int first_param);

/* the three parameters of append_dirty_recompute() for these buckets */
extern void dirty_ranges_params(const AggregateEntry *entry,
								DirtyBuckets *dirty, Oid *types,
								Datum *values);

/* how many distinct groups are dirty, for the status view */
extern int64 dirty_group_count(int32 id, const AggLayout *layout);

#endif
