/*-------------------------------------------------------------------------
 * catalog.h
 *	  hybridagg's catalog (hybridagg_internal.aggregate), its counters
 *	  (hybridagg_internal.aggregate_stats), the per-aggregate lock, name
 *	  resolution, and the checks the SQL-callable functions share.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_CATALOG_H
#define HYBRIDAGG_CATALOG_H

#include "datatype/timestamp.h"

#include "bucket.h"

typedef enum AggregateMode
{
	MODE_BATCH,
	MODE_STREAMING,
	MODE_LAMBDA,
	MODE_KAPPA,
	MODE_HYBRID
} AggregateMode;

typedef struct AggregateEntry
{
	int32		id;
	Oid			view_relid;
	Oid			base_relid;
	Oid			owner;			/* the view's owner */
	AggregateMode mode;
	Interval	seal_after;
	BucketSpec	bucket;
	int64		watermark;		/* in the time type; DT_NOBEGIN when none */
	char	   *definition;
} AggregateEntry;

extern const char *mode_name(AggregateMode mode);
extern bool mode_from_name(const char *name, AggregateMode *mode);

/* capture and worker fold (every mode but batch) */
#define MODE_IS_STREAMING(m) ((m) != MODE_BATCH)
/* modes with a history below a moving watermark */
#define MODE_HAS_HISTORY(m) \
	((m) == MODE_BATCH || (m) == MODE_LAMBDA || (m) == MODE_HYBRID)

extern AggregateEntry *catalog_get(int32 id, bool missing_ok);

/* the owner of the aggregate whose view is view_relid: the view's owner now */
extern Oid	aggregate_owner(Oid view_relid);
extern AggregateEntry *catalog_get_by_view(Oid view_relid, bool missing_ok);

/*
 * The aggregate a user names: an SQL name ("events_1m", "s.\"My agg\"")
 * resolved like a regclass, or, if the text is not a valid SQL name, the
 * whole text as one name.
 */
extern AggregateEntry *catalog_resolve(const char *name);

/* the catalog row again, under the aggregate's lock; error if it is gone */
extern AggregateEntry *catalog_reread(const AggregateEntry *entry,
									  const char *name);
extern RangeVar *name_to_rangevar(const char *name);

extern int32 catalog_next_id(void);
extern void catalog_insert(const AggregateEntry *entry);
extern void catalog_delete(int32 id);

/* how each final column comes from the states: "sum:2", "value:1", ... */
extern void catalog_set_finals(int32 id, List *finals);

/* set the watermark (and entry->watermark), and where batch mode reads from */
extern void catalog_set_watermark(AggregateEntry *entry, int64 watermark);

/* set the mode and seal_after (and entry's) */
extern void catalog_set_mode(AggregateEntry *entry, AggregateMode mode,
							 const Interval *seal_after);

/*
 * Writes may have been missed since the capture triggers were found
 * disabled (true), or a full recompute made the aggregate whole (false).
 */
extern void catalog_set_capture_interrupted(int32 id, bool interrupted);

/*
 * capture interrupted before that time is forgotten: everything was
 * recomputed since
 */
extern void catalog_clear_capture_interrupted(int32 id, TimestampTz before);
extern List *catalog_streaming_ids(void);

extern void stats_record_batch(int32 id, int64 groups, double seconds);
extern void stats_record_fold(int32 id, int64 deltas, double seconds);
extern void stats_record_verify(int32 id, int64 groups, int64 wrong,
								double seconds);

/* the error of a failed fold: its message, SQLSTATE and detail */
extern void stats_record_error(int32 id, const ErrorData *edata);

/*
 * The lock every mover (fold, seal, materialize, reprocess, truncate, drop)
 * takes before it reads: the base table first (AccessShareLock unless the
 * caller holds more), then the aggregate.  Writers never take it.
 */
extern void lock_aggregate(const AggregateEntry *entry);

/*
 * The same locks, in the same order, without waiting: false, holding
 * neither, if another session holds a conflicting one (the worker then tries
 * the aggregate again later, instead of stalling every other one).
 */
extern bool lock_aggregate_conditional(const AggregateEntry *entry);

/*
 * The buckets that a user's [range_start, range_end) covers, widened to
 * whole buckets: [*lo, *hi).  A timestamp aggregate reads the range in the
 * session's TimeZone, as the timestamptz arguments were written.
 */
extern void aggregate_range(const AggregateEntry *entry,
							TimestampTz range_start, TimestampTz range_end,
							int64 *lo, int64 *hi);

/* the newest bucket boundary at or below now() - seal_after */
extern int64 seal_limit(const AggregateEntry *entry);

/* error unless the current user may manage the aggregate */
extern void check_aggregate_owner(const AggregateEntry *entry);

/* error on a hot standby: what changes an aggregate runs on the primary */
extern void require_primary(const char *what);

/* error unless running in READ COMMITTED (movers need fresh snapshots) */
extern void require_read_committed(const char *what);

#endif
