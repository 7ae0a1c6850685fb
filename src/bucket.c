/*-------------------------------------------------------------------------
 * bucket.c
 *	  Time bucket arithmetic, done by calling the same functions the defining
 *	  query calls (date_bin, date_trunc), so that hybridagg and the query
 *	  always agree on where a bucket starts and ends.
 *
 * Bucket functions are monotonic and never move a time forward:
 * bucket_floor(t) <= t.  So for any boundary B, bucket(t) >= B exactly when
 * t >= B, which lets a range of buckets [lo, hi) be read from the base table
 * as the range of times [lo, hi), through an index on the time column.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "parser/scansup.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

#include "bucket.h"
#include "util.h"

typedef struct UnitInfo
{
	int			dtk;
	const char *name;
	int32		months;
	int32		days;
	int64		usecs;
} UnitInfo;

static const UnitInfo units[] = {
	{DTK_MICROSEC, "microseconds", 0, 0, 1},
	{DTK_MILLISEC, "milliseconds", 0, 0, 1000},
	{DTK_SECOND, "second", 0, 0, USECS_PER_SEC},
	{DTK_MINUTE, "minute", 0, 0, USECS_PER_MINUTE},
	{DTK_HOUR, "hour", 0, 0, USECS_PER_HOUR},
	{DTK_DAY, "day", 0, 1, 0},
	{DTK_WEEK, "week", 0, 7, 0},
	{DTK_MONTH, "month", 1, 0, 0},
	{DTK_QUARTER, "quarter", 3, 0, 0},
	{DTK_YEAR, "year", 12, 0, 0},
	{DTK_DECADE, "decade", 120, 0, 0},
	{DTK_CENTURY, "century", 1200, 0, 0},
	{DTK_MILLENNIUM, "millennium", 12000, 0, 0},
};

bool
bucket_set_unit(BucketSpec *spec, const char *unit)
{
	char	   *lowunits = downcase_truncate_identifier(unit, strlen(unit), false);
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

int64
bucket_floor(const BucketSpec *spec, int64 t)
{
	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	if (spec->is_date_bin)
	{
		Datum		stride = IntervalPGetDatum(interval_from_usecs(spec->stride));

		if (spec->time_type == TIMESTAMPTZOID)
			return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_bin, stride,
														   TimestampTzGetDatum(t),
														   TimestampTzGetDatum(spec->origin)));
		return DatumGetTimestamp(DirectFunctionCall3(timestamp_bin, stride,
													 TimestampGetDatum(t),
													 TimestampGetDatum(spec->origin)));
	}
	if (spec->zone)
		return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_trunc_zone,
													   CStringGetTextDatum(spec->unit),
													   TimestampTzGetDatum(t),
													   CStringGetTextDatum(spec->zone)));
	return DatumGetTimestamp(DirectFunctionCall2(timestamp_trunc,
												 CStringGetTextDatum(spec->unit),
												 TimestampGetDatum(t)));
}

int64
bucket_end(const BucketSpec *spec, int64 start)
{
	int64		end;

	if (TIMESTAMP_NOT_FINITE(start))
		return start;
	if (spec->is_date_bin)
	{
		if (pg_add_s64_overflow(start, spec->stride, &end) || !IS_VALID_TIMESTAMP(end))
			return DT_NOEND;
		return end;
	}
	if (spec->zone)
	{
		Datum		zone = CStringGetTextDatum(spec->zone);
		Datum		local;

		/* one unit later in the zone's wall-clock time */
		local = DirectFunctionCall2(timestamptz_zone, zone, TimestampTzGetDatum(start));
		local = DirectFunctionCall2(timestamp_pl_interval, local,
									IntervalPGetDatum(&spec->unit_interval));
		end = DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, zone, local));
	}
	else
		end = DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval,
													TimestampGetDatum(start),
													IntervalPGetDatum(&spec->unit_interval)));
	/* land on a boundary even where a zone's offset changes */
	return bucket_floor(spec, end);
}

int64
bucket_ceil(const BucketSpec *spec, int64 t)
{
	int64		start = bucket_floor(spec, t);

	return start == t ? t : bucket_end(spec, start);
}

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

	if (spec->is_date_bin)
		width->time = spec->stride;
	else
		*width = spec->unit_interval;
	return width;
}

const char *
time_type_sql(const BucketSpec *spec)
{
	return spec->time_type == TIMESTAMPTZOID ?
		"pg_catalog.timestamptz" : "pg_catalog.\"timestamp\"";
}

static void
append_interval_literal(StringInfo buf, const Interval *span)
{
	appendStringInfo(buf, "'%d mons %d days " INT64_FORMAT " microseconds'::pg_catalog.\"interval\"",
					 span->month, span->day, span->time);
}

void
append_bucket_end_sql(StringInfo buf, const BucketSpec *spec, const char *sql_start)
{
	if (spec->is_date_bin)
	{
		Interval	stride = {0};

		stride.time = spec->stride;
		appendStringInfo(buf, "(%s + ", sql_start);
		append_interval_literal(buf, &stride);
		appendStringInfoChar(buf, ')');
	}
	else if (spec->zone)
	{
		const char *zone = quote_literal_cstr(spec->zone);

		appendStringInfo(buf, "pg_catalog.date_trunc(%s, pg_catalog.timezone(%s, pg_catalog.timezone(%s, %s) + ",
						 quote_literal_cstr(spec->unit), zone, zone, sql_start);
		append_interval_literal(buf, &spec->unit_interval);
		appendStringInfo(buf, "), %s)", zone);
	}
	else
	{
		appendStringInfo(buf, "(%s + ", sql_start);
		append_interval_literal(buf, &spec->unit_interval);
		appendStringInfoChar(buf, ')');
	}
}
