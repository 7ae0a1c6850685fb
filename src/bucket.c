/*-------------------------------------------------------------------------
 * bucket.c
 *	  Time bucket arithmetic, done with the very functions the defining query
 *	  calls (date_bin, date_trunc), so that hybridagg and the query agree on
 *	  the bucket of every instant.
 *
 * What the rest of hybridagg needs is the converse: which times fall in a
 * bucket, or in a range of buckets, so that it can read just those rows of
 * the base table through the time index.
 *
 * For date_bin and for date_trunc on timestamp the answer is arithmetic:
 * the buckets are consecutive intervals that start at their own bucket
 * value, so bucket b holds exactly [b, next bucket).  We call these buckets
 * "clean".
 *
 * date_trunc(unit, t, zone) is not clean.  PostgreSQL truncates the local
 * wall-clock time of t and reads the result back in the zone: under a day it
 * keeps t's UTC offset, from a day up it looks the offset up again for the
 * truncated local time.  Where the offset changes, a bucket's value need
 * not be its first instant (a fall-back by 30 minutes at 02:00 makes the
 * local hour 01:00 start half an hour after its bucket value), buckets can
 * hold a few minutes or 25 hours, and where the offset goes back across a
 * bucket boundary a bucket can even hold times on both sides of another.
 * So for a zone we cut the time line into pieces on which the bucket is
 * constant -- at every change of the zone's offset (from the zone database)
 * and at every local unit boundary in between -- and ask date_trunc itself
 * for each piece's bucket.  A piece whose two ends disagree is split where
 * the bucket changes, by bisection, so the pieces are right even if the
 * zone database held a change we did not expect.  The times of a bucket are
 * then the hull of its pieces.
 *
 * Offsets are bounded: no zone's offset moves by more than 26 hours, so a
 * bucket of a day or more holds no time more than two days before its value
 * or after its nominal end, and a bucket under a day holds times in
 * [b, b + unit) only (its offset is t's own).  The pieces are looked for in
 * those windows only.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "common/int.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bucket.h"
#include "catalog.h"
#include "export.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_bucket_times);

/* seconds from the Unix epoch (pg_time_t) to PostgreSQL's (timestamps) */
#define EPOCH_SHIFT_SECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* no zone's offset moves more than this (26 hours), with room to spare */
#define OFFSET_MARGIN	(2 * USECS_PER_DAY)

/* the last finite time */
#define LAST_TIMESTAMP	(END_TIMESTAMP - 1)

typedef struct UnitInfo
{
	int			dtk;
	const char *name;
	int32		months;
	int32		days;
	int64		usecs;
	int64		max_usecs;		/* the longest one can be, in local time */
} UnitInfo;

static const UnitInfo units[] = {
	{DTK_MICROSEC, "microseconds", 0, 0, 1, 1},
	{DTK_MILLISEC, "milliseconds", 0, 0, 1000, 1000},
	{DTK_SECOND, "second", 0, 0, USECS_PER_SEC, USECS_PER_SEC},
	{DTK_MINUTE, "minute", 0, 0, USECS_PER_MINUTE, USECS_PER_MINUTE},
	{DTK_HOUR, "hour", 0, 0, USECS_PER_HOUR, USECS_PER_HOUR},
	{DTK_DAY, "day", 0, 1, 0, USECS_PER_DAY},
	{DTK_WEEK, "week", 0, 7, 0, 7 * USECS_PER_DAY},
	{DTK_MONTH, "month", 1, 0, 0, 31 * USECS_PER_DAY},
	{DTK_QUARTER, "quarter", 3, 0, 0, 92 * USECS_PER_DAY},
	{DTK_YEAR, "year", 12, 0, 0, 366 * USECS_PER_DAY},
	{DTK_DECADE, "decade", 120, 0, 0, INT64CONST(3653) * USECS_PER_DAY},
	{DTK_CENTURY, "century", 1200, 0, 0, INT64CONST(36525) * USECS_PER_DAY},
	{
		DTK_MILLENNIUM, "millennium", 12000, 0, 0,
		INT64CONST(365250) * USECS_PER_DAY
	},
};

static const UnitInfo *
unit_info(const BucketSpec *spec)
{
	for (int i = 0; i < lengthof(units); i++)
		if (strcmp(units[i].name, spec->unit) == 0)
			return &units[i];
	elog(ERROR, "unknown date_trunc unit \"%s\"", spec->unit);
	return NULL;				/* keep compiler quiet */
}

bool
bucket_set_unit(BucketSpec *spec, const char *unit)
{
	char	   *lowunits = downcase_truncate_identifier(unit, strlen(unit),
														false);
	int			val;
	int			type = DecodeUnits(0, lowunits, &val);

	if (type != UNITS)
		return false;
	for (int i = 0; i < lengthof(units); i++)
	{
		if (units[i].dtk == val)
		{
			spec->unit = pstrdup(units[i].name);
			spec->unit_interval.month = units[i].months;
			spec->unit_interval.day = units[i].days;
			spec->unit_interval.time = units[i].usecs;
			return true;
		}
	}
	return false;
}

static bool
is_clean(const BucketSpec *spec)
{
	return spec->is_date_bin || spec->zone == NULL;
}

/* ----------------------------------------------------------------
 * Clamped arithmetic on times
 * ----------------------------------------------------------------
 */

static int64
add_clamped(int64 t, int64 usecs)
{
	int64		result;

	if (pg_add_s64_overflow(t, usecs, &result) || result > LAST_TIMESTAMP)
		return LAST_TIMESTAMP;
	if (result < MIN_TIMESTAMP)
		return MIN_TIMESTAMP;
	return result;
}

/*
 * fn(a, b) where PostgreSQL may find the result out of range, near the ends
 * of the timestamp range: false then.  Only for pure functions of datetime
 * values, which hold no resource an error would need to release.
 */
static bool
try_datetime_call(PGFunction fn, Datum a, Datum b, Datum *result)
{
	MemoryContext context = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		*result = DirectFunctionCall2(fn, a, b);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(context);
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* t plus an interval in naive (zone-less) time; false if out of range */
static bool
naive_plus(int64 t, const Interval *span, int64 *result)
{
	Datum		sum;

	if (!try_datetime_call(timestamp_pl_interval, TimestampGetDatum(t),
						   IntervalPGetDatum(span), &sum))
		return false;
	*result = DatumGetTimestamp(sum);
	return IS_VALID_TIMESTAMP(*result);
}

/* ----------------------------------------------------------------
 * The bucket of a time
 * ----------------------------------------------------------------
 */

int64
bucket_floor(const BucketSpec *spec, int64 t)
{
	Datum		bucket;

	if (spec->is_integer)
		return integer_bucket_floor(spec, t);
	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	if (spec->is_date_bin)
	{
		Datum		stride;

		stride = IntervalPGetDatum(interval_from_usecs(spec->stride));
		if (spec->time_type == TIMESTAMPTZOID)
		{
			bucket = DirectFunctionCall3(timestamptz_bin, stride,
										 TimestampTzGetDatum(t),
										 TimestampTzGetDatum(spec->origin));
			return DatumGetTimestampTz(bucket);
		}
		bucket = DirectFunctionCall3(timestamp_bin, stride,
									 TimestampGetDatum(t),
									 TimestampGetDatum(spec->origin));
		return DatumGetTimestamp(bucket);
	}
	if (spec->zone)
	{
		bucket = DirectFunctionCall3(timestamptz_trunc_zone,
									 CStringGetTextDatum(spec->unit),
									 TimestampTzGetDatum(t),
									 CStringGetTextDatum(spec->zone));
		return DatumGetTimestampTz(bucket);
	}
	bucket = DirectFunctionCall2(timestamp_trunc,
								 CStringGetTextDatum(spec->unit),
								 TimestampGetDatum(t));
	return DatumGetTimestamp(bucket);
}

/*
 * The bucket of t, or false where PostgreSQL cannot compute one (near the
 * ends of the timestamp range the local time may fall out of range).  No
 * row can have such a time, since the defining query would fail on it too.
 */
static bool
bucket_of(const BucketSpec *spec, int64 t, int64 *bucket)
{
	MemoryContext context = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		*bucket = bucket_floor(spec, t);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(context);
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* ----------------------------------------------------------------
 * Clean buckets: date_bin, and date_trunc on timestamp
 * ----------------------------------------------------------------
 */

/* the last time of clean bucket b */
static int64
clean_bucket_last(const BucketSpec *spec, int64 b)
{
	int64		next;

	if (TIMESTAMP_NOT_FINITE(b))
		return b;
	if (spec->is_date_bin)
		return add_clamped(b, spec->stride - 1);
	if (!naive_plus(b, &spec->unit_interval, &next))
		return LAST_TIMESTAMP;
	return next - 1;
}

/* ----------------------------------------------------------------
 * Zoned buckets: pieces of constant bucket
 * ----------------------------------------------------------------
 */

typedef struct Zone
{
	const BucketSpec *spec;
	const UnitInfo *unit;
	pg_tz	   *tz;
} Zone;

/* the zone as date_trunc(unit, t, zone) reads it */
static void
zone_init(Zone *zone, const BucketSpec *spec)
{
	char	   *lowzone = downcase_truncate_identifier(spec->zone,
													   strlen(spec->zone),
													   false);
	int			type;
	int			val;
	pg_tz	   *tz = NULL;

	zone->spec = spec;
	zone->unit = unit_info(spec);
	type = DecodeTimezoneAbbrev(0, lowzone, &val, &tz);
	if (type == TZ || type == DTZ)
		tz = pg_tzset_offset(-val);
	else if (type != DYNTZ)
		tz = pg_tzset(spec->zone);
	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", spec->zone)));
	zone->tz = tz;
}

bool
bucket_zone_offset_is_fixed(const BucketSpec *spec)
{
	Zone		zone;
	long int	gmtoff;

	zone_init(&zone, spec);
	return pg_get_timezone_offset(zone.tz, &gmtoff);
}

/* the UTC offset of the zone at t, in microseconds east of Greenwich */
static bool
zone_offset(const Zone *zone, int64 t, int64 *offset)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz_west;

	if (timestamp2tm(t, &tz_west, &tm, &fsec, NULL, zone->tz) != 0)
		return false;
	*offset = -(int64) tz_west * USECS_PER_SEC;
	return true;
}

/* the first instant after t at which the zone's offset may change */
static int64
zone_next_change(const Zone *zone, int64 t)
{
	pg_time_t	seconds = (t / USECS_PER_SEC -
						   (t % USECS_PER_SEC < 0 ? 1 : 0) + EPOCH_SHIFT_SECS);

	for (;;)
	{
		long int	before_offset;
		long int	after_offset;
		int			before_isdst;
		int			after_isdst;
		pg_time_t	boundary;
		int64		change;

		if (pg_next_dst_boundary(&seconds, &before_offset, &before_isdst,
								 &boundary, &after_offset, &after_isdst,
								 zone->tz) != 1)
			return DT_NOEND;
		if (pg_mul_s64_overflow(boundary - EPOCH_SHIFT_SECS, USECS_PER_SEC,
								&change) ||
			change > LAST_TIMESTAMP)
			return DT_NOEND;
		if (change > t)
			return change;
		seconds = boundary + 1;
	}
}

/*
 * The last time of the piece that starts at t: before the next change of
 * offset and before the next local unit boundary.  A guess, checked by the
 * caller.
 */
static int64
piece_guess_last(const Zone *zone, int64 t)
{
	int64		offset;
	int64		local_start;
	int64		local_next;
	int64		last;
	Datum		truncated;

	if (!zone_offset(zone, t, &offset) ||
		!try_datetime_call(timestamp_trunc,
						   CStringGetTextDatum(zone->spec->unit),
						   TimestampGetDatum(add_clamped(t, offset)),
						   &truncated))
		return t;
	local_start = DatumGetTimestamp(truncated);
	if (!naive_plus(local_start, &zone->spec->unit_interval, &local_next))
		last = LAST_TIMESTAMP;
	else
		last = add_clamped(local_next - offset, -1);
	return Min(last, zone_next_change(zone, t) - 1);
}

/* sees a piece; returns false to stop the walk */
typedef bool (*PieceVisitor) (int64 first, int64 last, int64 bucket, void *arg);

/*
 * The first time at or after t, and at most to + 1, whose bucket PostgreSQL
 * can compute.  The times it cannot lie at the two ends of the timestamp
 * range, so a doubling search and a bisection find the edge.
 */
static int64
first_computable(const BucketSpec *spec, int64 t, int64 to)
{
	int64		bucket;
	int64		failed = t;
	int64		step = USECS_PER_SEC;
	int64		ok;

	if (bucket_of(spec, t, &bucket))
		return t;
	for (;;)
	{
		ok = add_clamped(failed, step);
		if (ok > to)
			ok = add_clamped(to, 1);
		if (ok > to || bucket_of(spec, ok, &bucket))
			break;
		failed = ok;
		step *= 2;
	}
	if (ok > to)
		return ok;
	while (ok - failed > 1)
	{
		int64		mid = failed + (ok - failed) / 2;

		if (bucket_of(spec, mid, &bucket))
			ok = mid;
		else
			failed = mid;
	}
	return ok;
}

/*
 * Visit the pieces of constant bucket that cover [from, to], in order; a
 * piece whose times have no bucket is skipped.
 */
static void
walk_pieces(const Zone *zone, int64 from, int64 to, PieceVisitor visit,
			void *arg)
{
	int64		t = Max(from, MIN_TIMESTAMP);

	to = Min(to, LAST_TIMESTAMP);
	while (t <= to)
	{
		int64		last = Min(Max(piece_guess_last(zone, t), t), to);
		int64		bucket;
		int64		other;

		CHECK_FOR_INTERRUPTS();
		if (!bucket_of(zone->spec, t, &bucket))
		{
			t = first_computable(zone->spec, t, to);
			continue;
		}
		/* the guess holds a change of bucket: find where */
		if (!bucket_of(zone->spec, last, &other) || other != bucket)
		{
			int64		lo = t;
			int64		hi = last;

			while (hi - lo > 1)
			{
				int64		mid = lo + (hi - lo) / 2;

				if (bucket_of(zone->spec, mid, &other) && other == bucket)
					lo = mid;
				else
					hi = mid;
			}
			last = lo;
		}
		if (!visit(t, last, bucket, arg) || last >= to)
			break;
		t = last + 1;
	}
}

typedef struct HullOfBucket
{
	int64		bucket;
	bool		found;
	TimeRange	range;
} HullOfBucket;

static bool
hull_of_bucket(int64 first, int64 last, int64 bucket, void *arg)
{
	HullOfBucket *hull = arg;

	if (bucket == hull->bucket)
	{
		if (!hull->found)
			hull->range.first = first;
		hull->range.last = last;
		hull->found = true;
	}
	return true;
}

typedef struct FirstAtOrAbove
{
	int64		bound;
	bool		found;
	int64		first;
} FirstAtOrAbove;

static bool
first_at_or_above(int64 first, int64 last, int64 bucket, void *arg)
{
	FirstAtOrAbove *f = arg;

	if (bucket >= f->bound)
	{
		f->found = true;
		f->first = first;
		return false;
	}
	return true;
}

typedef struct LastBelow
{
	int64		bound;
	bool		found;
	int64		last;
} LastBelow;

static bool
last_below(int64 first, int64 last, int64 bucket, void *arg)
{
	LastBelow  *l = arg;

	if (bucket < l->bound)
	{
		l->found = true;
		l->last = last;
	}
	return true;
}

typedef struct SmallestAbove
{
	int64		bound;
	int64		stop_after;		/* once one is found, look this far only */
	bool		found;
	int64		bucket;
} SmallestAbove;

static bool
smallest_above(int64 first, int64 last, int64 bucket, void *arg)
{
	SmallestAbove *s = arg;

	if (s->found && first > s->stop_after)
		return false;
	if (bucket > s->bound && (!s->found || bucket < s->bucket))
	{
		s->found = true;
		s->bucket = bucket;
	}
	return true;
}

/*
 * Where the times of bucket b (a day or more) end, nominally: one local
 * unit after b's local start, at b's offset.  The true end lies within
 * OFFSET_MARGIN of it.
 */
static int64
nominal_end(const Zone *zone, int64 b)
{
	int64		offset;
	int64		local_next;
	Datum		local_start;

	if (!zone_offset(zone, b, &offset) ||
		!try_datetime_call(timestamp_trunc,
						   CStringGetTextDatum(zone->spec->unit),
						   TimestampGetDatum(add_clamped(b, offset)),
						   &local_start) ||
		!naive_plus(DatumGetTimestamp(local_start),
					&zone->spec->unit_interval, &local_next))
		return add_clamped(b, zone->unit->max_usecs);
	return add_clamped(local_next - offset, 0);
}

/* ----------------------------------------------------------------
 * The times of buckets
 * ----------------------------------------------------------------
 */

bool
bucket_times(const BucketSpec *spec, int64 b, TimeRange *range)
{
	Zone		zone;
	HullOfBucket hull = {b, false};
	int64		end;

	if (spec->is_integer)
		return integer_bucket_times(spec, b, range);
	if (TIMESTAMP_NOT_FINITE(b))
	{
		range->first = range->last = b;
		return true;
	}
	if (is_clean(spec))
	{
		range->first = b;
		range->last = clean_bucket_last(spec, b);
		return true;
	}
	zone_init(&zone, spec);
	if (zone.unit->usecs > 0)
	{
		/* under a day the offset is t's own: b <= t < b + unit */
		walk_pieces(&zone, b, add_clamped(b, zone.unit->usecs - 1),
					hull_of_bucket, &hull);
		*range = hull.range;
		return hull.found;
	}

	/*
	 * From a day up the bucket's times start within OFFSET_MARGIN of b and
	 * end within OFFSET_MARGIN of its nominal end: only the pieces there are
	 * looked at (a millennium holds thousands of offset changes).
	 */
	end = nominal_end(&zone, b);
	if (add_clamped(end, -OFFSET_MARGIN) <= add_clamped(b, OFFSET_MARGIN))
		walk_pieces(&zone, add_clamped(b, -OFFSET_MARGIN),
					add_clamped(end, OFFSET_MARGIN), hull_of_bucket, &hull);
	else
	{
		HullOfBucket tail = {b, false};

		walk_pieces(&zone, add_clamped(b, -OFFSET_MARGIN),
					add_clamped(b, OFFSET_MARGIN), hull_of_bucket, &hull);
		walk_pieces(&zone, add_clamped(end, -OFFSET_MARGIN),
					add_clamped(end, OFFSET_MARGIN), hull_of_bucket, &tail);
		if (hull.found && tail.found)
			hull.range.last = tail.range.last;
		else if (tail.found)
			hull = tail;
	}
	*range = hull.range;
	return hull.found;
}

/* the first time whose bucket is lo or later (lo finite) */
static int64
first_time_from(const BucketSpec *spec, int64 lo)
{
	Zone		zone;
	FirstAtOrAbove f = {lo, false, 0};
	int64		from;
	int64		to;

	if (is_clean(spec))
		return lo;
	zone_init(&zone, spec);
	if (zone.unit->usecs > 0)
	{
		/*
		 * bucket(t) <= t: nothing before lo; the bucket of lo starts by lo +
		 * unit
		 */
		from = lo;
		to = add_clamped(lo, zone.unit->usecs);
	}
	else
	{
		from = add_clamped(lo, -OFFSET_MARGIN);
		to = add_clamped(lo, OFFSET_MARGIN);
	}
	walk_pieces(&zone, from, to, first_at_or_above, &f);
	return f.found ? f.first : add_clamped(to, 1);
}

/* the last time whose bucket is before hi (hi finite) */
static int64
last_time_before(const BucketSpec *spec, int64 hi)
{
	Zone		zone;
	LastBelow	l = {hi, false, 0};
	int64		from;
	int64		to;

	if (is_clean(spec))
		return hi - 1;
	zone_init(&zone, spec);
	if (zone.unit->usecs > 0)
	{
		from = add_clamped(hi, -zone.unit->usecs);
		to = add_clamped(hi, zone.unit->usecs);
	}
	else
	{
		int64		bucket;

		/* a bucket's times end within OFFSET_MARGIN of the next bucket */
		from = add_clamped(hi, -OFFSET_MARGIN);
		to = add_clamped(hi, OFFSET_MARGIN);
		if (!bucket_of(spec, hi, &bucket) || bucket != hi)
			to = add_clamped(hi, zone.unit->max_usecs + OFFSET_MARGIN);
	}
	walk_pieces(&zone, from, to, last_below, &l);
	return l.found ? l.last : add_clamped(from, -1);
}

bool
bucket_range_times(const BucketSpec *spec, int64 lo, int64 hi, TimeRange *range)
{
	if (spec->is_integer)
		return integer_bucket_range_times(spec, lo, hi, range);
	/* [+infinity, +infinity): the bucket of +infinity (and no time) alone */
	if (lo >= hi && !(TIMESTAMP_IS_NOEND(lo) && TIMESTAMP_IS_NOEND(hi)))
		return false;
	/* the bucket of -infinity holds -infinity alone, +infinity's likewise */
	range->first = TIMESTAMP_NOT_FINITE(lo) ? lo : first_time_from(spec, lo);
	if (TIMESTAMP_IS_NOEND(hi))
		range->last = DT_NOEND;
	else if (TIMESTAMP_IS_NOBEGIN(hi))
		return false;
	else
	{
		range->last = last_time_before(spec, hi);
		/* buckets from -infinity up to hi: -infinity and every finite time */
		if (TIMESTAMP_IS_NOBEGIN(lo) && range->last < MIN_TIMESTAMP)
			range->last = DT_NOBEGIN;
	}
	return range->first <= range->last;
}

static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

static int
compare_ranges(const void *a, const void *b)
{
	return compare_int64(&((const TimeRange *) a)->first,
						 &((const TimeRange *) b)->first);
}

int
bucket_sort_unique(int64 *buckets, int n)
{
	int			unique = 0;

	qsort(buckets, n, sizeof(int64), compare_int64);
	for (int i = 0; i < n; i++)
	{
		if (unique == 0 || buckets[unique - 1] != buckets[i])
			buckets[unique++] = buckets[i];
	}
	return unique;
}

List *
bucket_list_times(const BucketSpec *spec, int64 *buckets, int n)
{
	TimeRange  *ranges = palloc(sizeof(TimeRange) * Max(n, 1));
	int			nranges = 0;
	List	   *merged = NIL;
	TimeRange  *current = NULL;

	n = bucket_sort_unique(buckets, n);
	for (int i = 0; i < n; i++)
	{
		if (bucket_times(spec, buckets[i], &ranges[nranges]))
			nranges++;
	}
	qsort(ranges, nranges, sizeof(TimeRange), compare_ranges);
	for (int i = 0; i < nranges; i++)
	{
		TimeRange  *r = &ranges[i];

		/* overlapping or adjacent: one range, each time read once */
		if (current &&
			(current->last == DT_NOEND || r->first <= current->last + 1))
		{
			current->last = Max(current->last, r->last);
			continue;
		}
		current = palloc(sizeof(TimeRange));
		*current = *r;
		merged = lappend(merged, current);
	}
	pfree(ranges);
	return merged;
}

int64
bucket_next(const BucketSpec *spec, int64 b)
{
	Zone		zone;
	SmallestAbove s = {b, 0, false, 0};
	TimeRange	range;
	int64		from;

	if (spec->is_integer)
		return integer_bucket_next(spec, b);
	if (TIMESTAMP_IS_NOEND(b))
		return DT_NOEND;
	if (TIMESTAMP_IS_NOBEGIN(b))
	{
		/*
		 * The first finite bucket: that of the first time whose bucket
		 * PostgreSQL can compute, which may start after the first time there
		 * is (date_bin's bucket of 4714-11-24 BC may start before it).
		 */
		int64		first = first_computable(spec, MIN_TIMESTAMP,
											 LAST_TIMESTAMP);

		return first <= LAST_TIMESTAMP && bucket_of(spec, first, &first) ?
			first : DT_NOEND;
	}
	if (is_clean(spec))
	{
		int64		last = clean_bucket_last(spec, b);

		return last >= LAST_TIMESTAMP ? DT_NOEND : last + 1;
	}
	zone_init(&zone, spec);
	from = bucket_times(spec, b, &range) ? range.last + 1 : b;
	s.stop_after = add_clamped(from, 2 * OFFSET_MARGIN);
	walk_pieces(&zone, from,
				add_clamped(from, zone.unit->max_usecs + 2 * OFFSET_MARGIN),
				smallest_above, &s);
	return s.found ? s.bucket : DT_NOEND;
}

int64
bucket_ceil(const BucketSpec *spec, int64 t)
{
	int64		b;

	if (spec->is_integer)
		return integer_bucket_ceil(spec, t);
	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	if (!bucket_of(spec, t, &b))
		return t < 0 ? DT_NOBEGIN : DT_NOEND;
	return b >= t ? b : bucket_next(spec, b);
}

/* ----------------------------------------------------------------
 * Other arithmetic
 * ----------------------------------------------------------------
 */

int64
time_minus_interval(int64 t, const Interval *span)
{
	Interval	neg;

	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	neg.month = -span->month;
	neg.day = -span->day;
	neg.time = -span->time;
	/* timestamp arithmetic has no zone: days are calendar days in UTC */
	return DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval,
												 TimestampGetDatum(t),
												 IntervalPGetDatum(&neg)));
}

int64
bucket_now(const BucketSpec *spec)
{
	/* timestamptz and a UTC timestamp share the same microseconds */
	return GetCurrentTimestamp();
}

Interval *
bucket_width(const BucketSpec *spec)
{
	Interval   *width = palloc0(sizeof(Interval));

	if (spec->is_integer)
		return NULL;
	if (spec->is_date_bin)
		width->time = spec->stride;
	else
		*width = spec->unit_interval;
	return width;
}

const char *
bucket_function_name(const BucketSpec *spec)
{
	if (spec->is_integer)
		return spec->floors ? "integer_floor" : "integer_truncate";
	return spec->is_date_bin ? "date_bin" : "date_trunc";
}

Oid
bucket_value_type(const BucketSpec *spec)
{
	return spec->is_integer ? INT8OID : spec->time_type;
}

Oid
bucket_array_type(const BucketSpec *spec)
{
	if (spec->is_integer)
		return INT8ARRAYOID;
	return spec->time_type == TIMESTAMPTZOID ? TIMESTAMPTZARRAYOID :
		TIMESTAMPARRAYOID;
}

int64
bucket_from_datum(const BucketSpec *spec, Datum bucket)
{
	switch (spec->time_type)
	{
		case INT2OID:
			return DatumGetInt16(bucket);
		case INT4OID:
			return DatumGetInt32(bucket);
		default:
			return DatumGetInt64(bucket);
	}
}

/* an int64 time or bucket as a Datum of an integer type, clamped to it */
static Datum
integer_datum(Oid type, int64 value)
{
	switch (type)
	{
		case INT2OID:
			return Int16GetDatum(Max(Min(value, PG_INT16_MAX), PG_INT16_MIN));
		case INT4OID:
			return Int32GetDatum(Max(Min(value, PG_INT32_MAX), PG_INT32_MIN));
		default:
			return Int64GetDatum(value);
	}
}

/* ----------------------------------------------------------------
 * hybridagg_internal.bucket_times(id, bucket): what hybridagg reads
 * ----------------------------------------------------------------
 */

/*
 * The times [first, last] hybridagg reads for a bucket of aggregate id (a
 * diagnostic, and what the tests check against PostgreSQL's own bucket
 * functions); NULLs if no time falls in the bucket.  The bucket and the
 * times are of the aggregate's time type.
 */
Datum
hybridagg_bucket_times(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	int64		bucket;
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {true, true};
	AggregateEntry *entry;
	TimeRange	range;
	int			nestlevel;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	nestlevel = fix_settings(SETTINGS_SQL);
	entry = catalog_get(id, false);
	restore_settings(nestlevel);
	if (get_fn_expr_argtype(fcinfo->flinfo, 1) != entry->bucket.time_type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the bucket must be of the aggregate's time type, %s",
						format_type_be(entry->bucket.time_type)),
				 errhint("Cast the bucket to %s.",
						 format_type_be(entry->bucket.time_type))));
	bucket = bucket_from_datum(&entry->bucket, PG_GETARG_DATUM(1));
	if (bucket_times(&entry->bucket, bucket, &range))
	{
		values[0] = integer_datum(entry->bucket.time_type, range.first);
		values[1] = integer_datum(entry->bucket.time_type, range.last);
		nulls[0] = nulls[1] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc),
													  values, nulls)));
}
