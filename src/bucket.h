/*-------------------------------------------------------------------------
 * bucket.h
 *	  The time bucket of an aggregate: which bucket a time falls in, and
 *	  which times fall in a bucket or in a range of buckets.
 *
 * Bucket assignment never depends on a session setting: date_bin works on
 * microseconds, date_trunc is either on timestamp (no zone at all) or on
 * timestamptz with a constant zone.  Times and buckets are int64
 * microseconds, the representation timestamp and timestamptz share.
 *
 * Ranges of buckets are half-open, [lo, hi).  Ranges of times are closed,
 * [first, last], so that the buckets of -infinity and +infinity, which hold
 * those instants alone, are ranges like any other.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_BUCKET_H
#define HYBRIDAGG_BUCKET_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

typedef struct BucketSpec
{
	Oid			time_type;		/* TIMESTAMPTZOID or TIMESTAMPOID */
	bool		is_date_bin;	/* date_bin(stride, t, origin), else
								 * date_trunc(unit, t [, zone]) */
	int64		stride;			/* date_bin: width in microseconds */
	int64		origin;			/* date_bin: origin */
	char	   *unit;			/* date_trunc: canonical unit, e.g. "hour" */
	char	   *zone;			/* date_trunc on timestamptz: the zone */
	Interval	unit_interval;	/* date_trunc: one unit, e.g. 1 hour */
} BucketSpec;

/* the times [first, last] of a bucket, or of a range of buckets */
typedef struct TimeRange
{
	int64		first;
	int64		last;
} TimeRange;

/* date_trunc unit, any spelling PostgreSQL accepts, to a BucketSpec */
extern bool bucket_set_unit(BucketSpec *spec, const char *unit);

/* the bucket of time t, computed by the function the definition calls */
extern int64 bucket_floor(const BucketSpec *spec, int64 t);

/*
 * The times whose bucket is b: every such time lies in the range returned.
 * The range is exact (its first and last times are in b, and so is every
 * time between them) wherever a zone's offset does not go back across the
 * bucket; where it does, the range also holds times of other buckets, so
 * whoever reads a range must keep only the groups of the buckets it wants.
 * False when no time falls in b.
 */
extern bool bucket_times(const BucketSpec *spec, int64 b, TimeRange *range);

/*
 * The times whose bucket lies in [lo, hi): a superset, under the same rule.
 * hi = +infinity takes the bucket of +infinity too (so [+infinity,
 * +infinity) is that bucket alone).  False when no time does.
 */
extern bool bucket_range_times(const BucketSpec *spec, int64 lo, int64 hi,
							   TimeRange *range);

/*
 * The sorted, disjoint ranges that together hold the times of the given
 * buckets (an int64 array of n finite or infinite buckets, any order,
 * duplicates allowed): what a recompute of those buckets reads, each time
 * once.  A List of TimeRange.
 */
extern List *bucket_list_times(const BucketSpec *spec, int64 *buckets, int n);

/* the smallest bucket greater than b, or DT_NOEND */
extern int64 bucket_next(const BucketSpec *spec, int64 b);

/* the smallest bucket at or after t (t if t is a bucket), or DT_NOEND */
extern int64 bucket_ceil(const BucketSpec *spec, int64 t);

/* t minus an interval, computed in UTC for timestamp and timestamptz alike */
extern int64 time_minus_interval(int64 t, const Interval *span);

/* now(), in the aggregate's time type (UTC wall clock for timestamp) */
extern int64 bucket_now(const BucketSpec *spec);

/* the width of one bucket as an interval, as the catalog shows it */
extern Interval *bucket_width(const BucketSpec *spec);

#endif
