/*-------------------------------------------------------------------------
 * bucket.h
 *	  The time bucket of an aggregate: which bucket a time falls in, where a
 *	  bucket ends, and the same as SQL.
 *
 * Bucket boundaries never depend on a session setting: date_bin works on
 * microseconds, date_trunc is either on timestamp (no zone at all) or on
 * timestamptz with a constant zone.  Times are int64 microseconds, the
 * representation shared by timestamp and timestamptz.  All ranges in
 * hybridagg are half-open, [start, end).
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_BUCKET_H
#define HYBRIDAGG_BUCKET_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

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

/* date_trunc unit, any spelling PostgreSQL accepts, to a BucketSpec */
extern bool bucket_set_unit(BucketSpec *spec, const char *unit);

/* the start of the bucket holding t */
extern int64 bucket_floor(const BucketSpec *spec, int64 t);

/* the end of the bucket that starts at start (the next bucket's start) */
extern int64 bucket_end(const BucketSpec *spec, int64 start);

/* the smallest bucket boundary at or after t */
extern int64 bucket_ceil(const BucketSpec *spec, int64 t);

/* t minus an interval, computed in UTC for timestamp and timestamptz alike */
extern int64 time_minus_interval(int64 t, const Interval *span);

/* now(), in the aggregate's time type (UTC wall clock for timestamp) */
extern int64 bucket_now(const BucketSpec *spec);

/* the width of one bucket as an interval, as the catalog shows it */
extern Interval *bucket_width(const BucketSpec *spec);

/* SQL for the end of the bucket that starts at sql_start */
extern void append_bucket_end_sql(StringInfo buf, const BucketSpec *spec,
								  const char *sql_start);

/* SQL type name of the time type, schema-qualified */
extern const char *time_type_sql(const BucketSpec *spec);

#endif
