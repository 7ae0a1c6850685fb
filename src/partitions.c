/*-------------------------------------------------------------------------
 * partitions.c
 *	  Create the partitions of history_<id> that a write is about to need.
 *
 * history_<id> is range-partitioned on g1, the bucket, in spans of fixed
 * width counted from 2000-01-01 00:00 UTC: a week for buckets under an hour,
 * four weeks for buckets under a day, 52 weeks otherwise.  Every partition
 * a query does not prune costs planning time, so they are few and large.  Only spans that will
 * hold a bucket are created, so a stray row dated 1970 costs one partition,
 * not twenty thousand.
 *
 * A partition is created as a table of its own and then attached, which
 * takes ShareUpdateExclusiveLock on history_<id>, not AccessExclusiveLock as
 * CREATE TABLE ... PARTITION OF would: readers of the view are not blocked.
 * Callers hold the aggregate's lock, so no two sessions create the same
 * partition.  The DDL runs as the extension's owner (the aggregate's owner
 * may not create tables in hybridagg_internal); the partition is then given
 * to the aggregate's owner.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "layout.h"
#include "partitions.h"
#include "util.h"

static int64
partition_span(const BucketSpec *spec)
{
	Interval   *width = bucket_width(spec);
	int64		usecs = width->month * DAYS_PER_MONTH * USECS_PER_DAY +
		width->day * USECS_PER_DAY + width->time;

	if (usecs < USECS_PER_HOUR)
		return 7 * USECS_PER_DAY;
	if (usecs < USECS_PER_DAY)
		return 28 * USECS_PER_DAY;
	return 52 * 7 * USECS_PER_DAY;
}

static int64
span_start(int64 bucket, int64 span)
{
	int64		rem = bucket % span;

	return rem < 0 ? bucket - rem - span : bucket - rem;
}

/* create a partition named name for [lower, upper), unless it exists */
static void
create_partition(const AggregateEntry *entry, const char *name,
				 const char *lower, const char *upper)
{
	char	   *qualname = quote_qualified_identifier(INTERNAL_SCHEMA, name);
	char	   *parent = internal_qualname(OBJ_HISTORY, entry->id);
	ActingAs	saved;

	if (OidIsValid(get_relname_relid(name, internal_schema_oid())))
		return;

	act_as(extension_owner(), &saved);
	spi_run(psprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
					 qualname, parent), SPI_OK_UTILITY);
	spi_run(psprintf("ALTER TABLE %s OWNER TO %s", qualname,
					 quote_identifier(GetUserNameFromId(entry->owner, false))),
			SPI_OK_UTILITY);
	spi_run(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
					 parent, qualname, lower, upper), SPI_OK_UTILITY);
	act_as_restore(&saved);
}

/* the partition holding buckets of the span starting at start */
static void
create_span_partition(const AggregateEntry *entry, int64 start, int64 span)
{
	Oid			type = entry->bucket.time_type;
	struct pg_tm tm;
	fsec_t		fsec;

	if (start == DT_NOBEGIN)
	{
		/* the bucket of -infinity, below every finite time */
		create_partition(entry, psprintf("%s_%d_minus_infinity", OBJ_HISTORY, entry->id),
						 "MINVALUE",
						 quote_literal_cstr(time_literal(type, MIN_TIMESTAMP)));
		return;
	}
	if (timestamp2tm(start, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("bucket out of range for a history partition")));
	create_partition(entry,
					 psprintf("%s_%d_%s%04d%02d%02d", OBJ_HISTORY, entry->id,
							  tm.tm_year <= 0 ? "bc" : "",
							  tm.tm_year <= 0 ? -(tm.tm_year - 1) : tm.tm_year,
							  tm.tm_mon, tm.tm_mday),
					 quote_literal_cstr(time_literal(type, start)),
					 quote_literal_cstr(time_literal(type, start + span)));
}

static bool
span_listed(List *starts, int64 start)
{
	ListCell   *lc;

	foreach(lc, starts)
		if (*(int64 *) lfirst(lc) == start)
			return true;
	return false;
}

void
ensure_partitions_for(const AggregateEntry *entry, const char *sql,
					  int nargs, Oid *types, Datum *values, Snapshot snap)
{
	int64		span = partition_span(&entry->bucket);
	List	   *starts = NIL;
	ListCell   *lc;

	spi_run_snapshot(sql, nargs, types, values, NULL, snap, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		bucket = DatumGetTimestamp(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 1, &isnull));
		int64		start;

		if (isnull || TIMESTAMP_IS_NOEND(bucket))
			continue;			/* never below the watermark */
		start = TIMESTAMP_IS_NOBEGIN(bucket) ? DT_NOBEGIN : span_start(bucket, span);
		if (!span_listed(starts, start))
		{
			int64	   *copy = palloc(sizeof(int64));

			*copy = start;
			starts = lappend(starts, copy);
		}
	}

	foreach(lc, starts)
		create_span_partition(entry, *(int64 *) lfirst(lc), span);
}

void
ensure_partitions_for_source(const AggregateEntry *entry, int64 lo, int64 hi, Snapshot snap)
{
	char	   *source = internal_qualname(OBJ_SOURCE, entry->id);
	int64		span = partition_span(&entry->bucket);
	Oid			types[3] = {entry->bucket.time_type, entry->bucket.time_type, INTERVALOID};
	Datum		values[3] = {Int64GetDatum(lo), Int64GetDatum(hi),
	IntervalPGetDatum(interval_from_usecs(span))};
	char	   *origin = entry->bucket.time_type == TIMESTAMPTZOID ?
		"'2000-01-01 00:00:00+00'::timestamptz" : "'2000-01-01 00:00:00'::timestamp";
	char	   *sql;

	/*
	 * A skip scan over the time index: one probe per span that holds rows,
	 * each starting after the span of the previous row's bucket.
	 */
	sql = psprintf("WITH RECURSIVE step(t, b) AS ("
				   " (SELECT s.__time, s.g1 FROM %s s WHERE s.__time >= $1 AND s.__time < $2"
				   "  ORDER BY s.__time LIMIT 1)"
				   " UNION ALL"
				   " SELECT n.__time, n.g1 FROM step, LATERAL"
				   " (SELECT s.__time, s.g1 FROM %s s"
				   "   WHERE s.__time >= GREATEST(date_bin($3, step.b, %s) + $3, step.t)"
				   "     AND s.__time > step.t AND s.__time < $2"
				   "   ORDER BY s.__time LIMIT 1) n)"
				   " SELECT b FROM step",
				   source, source, origin);
	ensure_partitions_for(entry, sql, 3, types, values, snap);
}
