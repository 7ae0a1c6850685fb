/*-------------------------------------------------------------------------
 * history_partitions.c
 *	  Create the partitions of history_<id> before any group goes into them.
 *
 * history_<id> is range-partitioned on g1, the bucket, in spans of fixed
 * width counted from 2000-01-01 00:00 UTC: a week for buckets under an hour,
 * four weeks for buckets under a day, 52 weeks otherwise.  Every partition a
 * query does not prune costs planning time, so they are few and large, and
 * only spans that will hold a bucket get one: a stray row dated 1970 costs
 * one partition, not twenty thousand.  The bucket of -infinity has a
 * partition of its own; that of +infinity never goes to history.
 *
 * What keeps readers exact: a reader plans its query under AccessShareLock
 * on history_<id> and reads the partitions that were attached then.  Had a
 * partition been attached after it planned, and groups moved into it by a
 * transaction that committed before the reader took its snapshot, the
 * reader would see those groups nowhere: gone from recent or from the
 * pending deltas, and in a partition its plan does not scan.  So partitions
 * are attached under AccessExclusiveLock on history_<id>, held to the end of
 * the transaction: it waits for every reader that planned without the new
 * partition, and every reader that plans later sees it.  A user's call
 * (materialize, fold, create) waits for it as DDL does; the worker makes
 * one short attempt (PARTITION_LOCK_ATTEMPT_MS, so that readers queue
 * behind it for a moment at most) and, if readers hold the table, keeps the
 * groups in recent, which the view reads too, until a later fold.
 *
 * Who runs what: the aggregate's owner owns history_<id> and may have added
 * constraints, indexes or triggers to it, which ATTACH checks or copies, and
 * some of which (index expressions) it evaluates.  So the partition is
 * created as the extension's owner (the aggregate's owner may not create
 * tables in hybridagg_internal) from the aggregate's layout alone -- never
 * LIKE history_<id> -- then given to the aggregate's owner, who attaches it:
 * whatever the owner added runs as the owner.  Callers hold the aggregate's
 * lock, so no two sessions create the same partition.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "history_partitions.h"
#include "util.h"

/* one attempt at the lock that keeps readers out, in milliseconds */
#define PARTITION_LOCK_ATTEMPT_MS	100

static int64
partition_span(const BucketSpec *spec)
{
	Interval   *width = bucket_width(spec);
	int64		usecs = (width->month * DAYS_PER_MONTH * USECS_PER_DAY +
						 width->day * USECS_PER_DAY + width->time);

	if (usecs < USECS_PER_HOUR)
		return 7 * USECS_PER_DAY;
	if (usecs < USECS_PER_DAY)
		return 28 * USECS_PER_DAY;
	return 52 * 7 * USECS_PER_DAY;
}

/* the start of the span holding bucket; DT_NOBEGIN for -infinity */
static int64
span_start(int64 bucket, int64 span)
{
	int64		rem;

	if (TIMESTAMP_IS_NOBEGIN(bucket))
		return DT_NOBEGIN;
	rem = bucket % span;
	return rem < 0 ? bucket - rem - span : bucket - rem;
}

static char *
partition_name(const AggregateEntry *entry, int64 start)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_IS_NOBEGIN(start))
		return psprintf("%s_%d_minus_infinity", OBJ_HISTORY, entry->id);
	if (timestamp2tm(start, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("bucket out of range for a history partition")));
	return psprintf("%s_%d_%s%04d%02d%02d", OBJ_HISTORY, entry->id,
					tm.tm_year <= 0 ? "bc" : "",
					tm.tm_year <= 0 ? -(tm.tm_year - 1) : tm.tm_year,
					tm.tm_mon, tm.tm_mday);
}

static bool
partition_exists(const AggregateEntry *entry, int64 start)
{
	return OidIsValid(get_relname_relid(partition_name(entry, start),
										internal_schema_oid()));
}

/*
 * AccessExclusiveLock on history_<id>: waited for as any DDL waits (a user
 * asked for the work), or, in the worker, tried for a moment only, so that
 * readers queue behind the attempt for PARTITION_LOCK_ATTEMPT_MS at most.
 * False if that attempt failed.
 */
static bool
lock_out_readers(Oid history, PartitionWait wait)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	int			nestlevel;
	volatile bool locked = false;

	if (wait == PARTITION_WAIT)
	{
		LockRelationOid(history, AccessExclusiveLock);
		return true;
	}
	if (ConditionalLockRelationOid(history, AccessExclusiveLock))
		return true;

	nestlevel = NewGUCNestLevel();
	(void) set_config_option("lock_timeout",
							 psprintf("%d", PARTITION_LOCK_ATTEMPT_MS),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		LockRelationOid(history, AccessExclusiveLock);
		/* the lock passes to the parent transaction */
		ReleaseCurrentSubTransaction();
		locked = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	AtEOXact_GUC(false, nestlevel);
	return locked;
}

/* a partition for [start, start + span), from the layout alone */
static void
create_partition(const AggregateEntry *entry, const AggLayout *layout,
				 int64 start, int64 span)
{
	Oid			type = entry->bucket.time_type;
	char	   *qualname = quote_qualified_identifier(INTERNAL_SCHEMA,
													  partition_name(entry,
																	 start));
	char	   *lower;
	char	   *upper;
	StringInfoData sql;
	ActingAs	saved;

	if (TIMESTAMP_IS_NOBEGIN(start))
	{
		/* the bucket of -infinity, below every finite time */
		lower = "MINVALUE";
		upper = quote_literal_cstr(time_literal(type, MIN_TIMESTAMP));
	}
	else
	{
		lower = quote_literal_cstr(time_literal(type, start));
		upper = quote_literal_cstr(time_literal(type, start + span));
	}

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (", qualname);
	append_column_defs(&sql, layout, false);
	appendStringInfoChar(&sql, ')');
	act_as(extension_owner(), &saved);
	spi_run(sql.data, SPI_OK_UTILITY);
	spi_run(psprintf("ALTER TABLE %s OWNER TO %s", qualname,
					 quote_identifier(GetUserNameFromId(entry->owner, false))),
			SPI_OK_UTILITY);
	act_as_restore(&saved);

	act_as(entry->owner, &saved);
	spi_run(psprintf("ALTER TABLE %s ATTACH PARTITION %s "
					 "FOR VALUES FROM (%s) TO (%s)",
					 internal_qualname(OBJ_HISTORY, entry->id), qualname,
					 lower, upper),
			SPI_OK_UTILITY);
	act_as_restore(&saved);
}

/* the distinct span starts of the buckets that have no partition yet */
static List *
missing_spans(const AggregateEntry *entry, int64 *buckets, int n)
{
	int64		span = partition_span(&entry->bucket);
	List	   *starts = NIL;

	for (int i = 0; i < n; i++)
	{
		int64		start;
		ListCell   *lc;
		bool		listed = false;

		if (TIMESTAMP_IS_NOEND(buckets[i]))
			continue;			/* never below the watermark */
		start = span_start(buckets[i], span);
		foreach(lc, starts)
			listed |= *(int64 *) lfirst(lc) == start;
		if (!listed && !partition_exists(entry, start))
		{
			int64	   *copy = palloc(sizeof(int64));

			*copy = start;
			starts = lappend(starts, copy);
		}
	}
	return starts;
}

List *
history_partitions_for(const AggregateEntry *entry, const AggLayout *layout,
					   int64 *buckets, int n, PartitionWait wait)
{
	int64		span = partition_span(&entry->bucket);
	List	   *starts = missing_spans(entry, buckets, n);
	List	   *unplaced = NIL;
	ListCell   *lc;

	if (starts == NIL)
		return NIL;
	if (!lock_out_readers(internal_relid(OBJ_HISTORY, entry->id, false), wait))
	{
		for (int i = 0; i < n; i++)
		{
			int64	   *copy;

			if (TIMESTAMP_IS_NOEND(buckets[i]) ||
				partition_exists(entry, span_start(buckets[i], span)))
				continue;
			copy = palloc(sizeof(int64));
			*copy = buckets[i];
			unplaced = lappend(unplaced, copy);
		}
		return unplaced;
	}
	foreach(lc, starts)
		create_partition(entry, layout, *(int64 *) lfirst(lc), span);
	return NIL;
}

/* the span starts of [lo, hi), finite lo */
static List *
range_spans(const AggregateEntry *entry, int64 lo, int64 hi)
{
	int64		span = partition_span(&entry->bucket);
	List	   *spans = NIL;
	int64		start = span_start(lo, span);

	if (TIMESTAMP_IS_NOBEGIN(lo))
	{
		int64	   *copy = palloc(sizeof(int64));

		*copy = DT_NOBEGIN;
		spans = lappend(spans, copy);
		lo = bucket_next(&entry->bucket, lo);
		if (lo >= hi)
			return spans;
		start = span_start(lo, span);
	}
	for (; start < hi && IS_VALID_TIMESTAMP(start); start += span)
	{
		int64	   *copy = palloc(sizeof(int64));

		*copy = start;
		spans = lappend(spans, copy);
	}
	return spans;
}

bool
history_partitions_missing(const AggregateEntry *entry, int64 lo, int64 hi)
{
	ListCell   *lc;

	foreach(lc, range_spans(entry, lo, Min(hi, END_TIMESTAMP)))
	{
		if (!partition_exists(entry, *(int64 *) lfirst(lc)))
			return true;
	}
	return false;
}

void
history_partitions_for_range(const AggregateEntry *entry,
							 const AggLayout *layout, int64 lo, int64 hi)
{
	List	   *spans = range_spans(entry, lo, Min(hi, END_TIMESTAMP));
	int64	   *starts = palloc(sizeof(int64) * Max(list_length(spans), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, spans)
		starts[n++] = *(int64 *) lfirst(lc);
	(void) history_partitions_for(entry, layout, starts, n, PARTITION_WAIT);
}
