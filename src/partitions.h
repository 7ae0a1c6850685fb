/*-------------------------------------------------------------------------
 * partitions.h
 *	  The range partitions of history_<id>, created as buckets need them.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_PARTITIONS_H
#define HYBRIDAGG_PARTITIONS_H

#include "utils/snapshot.h"

#include "catalog.h"

/*
 * Create the partitions that will hold the buckets returned by sql (one
 * column of the bucket's type, any number of rows, NULLs ignored), run with
 * the given parameters in snapshot snap.
 */
extern void ensure_partitions_for(const AggregateEntry *entry, const char *sql,
								  int nargs, Oid *types, Datum *values,
								  Snapshot snap);

/* the same for the buckets of the base rows with times in [lo, hi) */
extern void ensure_partitions_for_source(const AggregateEntry *entry,
										 int64 lo, int64 hi, Snapshot snap);

#endif
