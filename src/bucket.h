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
#include "nodes/primnodes.h"

typedef struct BucketSpec
{
	Oid			time_type;		/* TIMESTAMPTZOID or TIMESTAMPOID; for an
								 * integer bucket the bucket's type: INT2OID,
								 * INT4OID or INT8OID */
	bool		is_date_bin;	/* date_bin(stride, t, origin), else
								 * date_trunc(unit, t [, zone]) */
	bool		is_integer;		/* an integer bucket (integer_bucket.c) */
	bool		floors;			/* integer: t - (t % w + w) % w, else one that
								 * truncates toward zero */
	int64		stride;			/* date_bin: width in microseconds; integer:
								 * the width w */
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

/*
 * Does date_trunc(unit, t, zone)'s zone keep one UTC offset at all times (UTC,
 * an abbreviation such as EST, a POSIX offset), so that its local days are
 * its buckets shifted by that offset?
 */
extern bool bucket_zone_offset_is_fixed(const BucketSpec *spec);

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

/* buckets sorted in place, repeats removed: how many are left */
extern int	bucket_sort_unique(int64 *buckets, int n);

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

/* the catalog's bucket_function: date_bin, date_trunc, integer_truncate... */
extern const char *bucket_function_name(const BucketSpec *spec);

/*
 * The type of the values hybridagg passes to the statements it runs for the
 * buckets and times of the aggregate (time_type, or bigint for an integer
 * bucket, which compares with any integer column through the index), and
 * of an array of them.
 */
extern Oid	bucket_value_type(const BucketSpec *spec);
extern Oid	bucket_array_type(const BucketSpec *spec);

/* a bucket (a g1 value of the aggregate's tables) as int64 */
extern int64 bucket_from_datum(const BucketSpec *spec, Datum bucket);

/* integer buckets (integer_bucket.c), behind the functions above */
extern int64 integer_bucket_floor(const BucketSpec *spec, int64 t);
extern bool integer_bucket_times(const BucketSpec *spec, int64 b,
								 TimeRange *range);
extern bool integer_bucket_range_times(const BucketSpec *spec, int64 lo,
									   int64 hi, TimeRange *range);
extern int64 integer_bucket_ceil(const BucketSpec *spec, int64 t);
extern int64 integer_bucket_next(const BucketSpec *spec, int64 b);

/* an integer bucket as a definition writes it */
typedef struct IntegerBucketForm
{
	Var		   *column;			/* the time column */
	int64		width;			/* w, as written (not checked) */
	bool		floors;			/* t - (t % w + w) % w */
} IntegerBucketForm;

/*
 * Is expr one of the forms integer_bucket.c lists (t / w * w, t - t % w,
 * t - (t % w + w) % w, ...) over an integer column with a constant w?
 */
extern bool integer_bucket_form(Node *expr, IntegerBucketForm *form);

/* does expr divide an integer column, or take its remainder? */
extern bool integer_bucket_near_miss(Node *expr);

#endif
