/*-------------------------------------------------------------------------
 * costs.c
 *	  What each aggregate costs, counted in shared memory where it is paid:
 *	  capture statements in the writers' sessions, folds, batch runs.
 *
 * As pg_stat_statements keeps its entries: a fixed-size shared hash table
 * of hybridagg.cost_entries entries, keyed by (database, aggregate id),
 * asked for in _PG_init through shmem_request_hook.  What it keeps true:
 *	 - the write path pays one hash lookup under a shared LWLock and one
 *	   spinlock per capture statement, and one instr_time pair (taken by
 *	   the caller) per statement, never per row; no counter is ever written
 *	   to a catalog;
 *	 - a statement is counted when its capture ends, whether its
 *	   transaction then commits or rolls back: the cost was paid either way;
 *	 - an entry holds the view's OID: a new aggregate that reuses an id (the
 *	   extension dropped and created again) starts from zero;
 *	 - the counters outlive a clean restart: as pg_stat_statements does, the
 *	   postmaster writes them to pg_stat/hybridagg_costs.stat when it shuts
 *	   down cleanly and reads them back (and removes the file) at start.
 *	   A crash, an immediate stop's recovery or a file that does not read
 *	   back whole loses them; costs_since says from when each entry counts;
 *	 - advise()'s sample runs, rolled back, are not counted (costs_pause);
 *	 - when the table is full, a new aggregate is not counted (its counters
 *	   read as NULL); drop frees its aggregate's entry.
 *
 * Locking: shared->lock (tranche "hybridagg costs") exclusively to add or
 * remove entries, shared to find one; each entry's counters under its
 * spinlock.  Without preloading nothing is counted and every counter reads
 * as NULL.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "costs.h"
#include "export.h"
#include "guc.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_aggregate_costs);
PG_FUNCTION_INFO_V1(hybridagg_reset_costs);

#define COSTS_COLUMNS 12
#define COSTS_FILE PGSTAT_STAT_PERMANENT_DIRECTORY "/hybridagg_costs.stat"
#define COSTS_FILE_MAGIC 0x48414331 /* "HAC1": this layout of the entries */

typedef struct CostKey
{
	Oid			dboid;
	int32		id;
} CostKey;

typedef struct CostEntry
{
	CostKey		key;			/* hash key: first */
	Oid			view_relid;
	slock_t		mutex;			/* protects counters */
	AggregateCosts counters;
} CostEntry;

typedef struct CostsShared
{
	LWLock	   *lock;
	TimestampTz started_at;
	bool		overflowed;		/* an aggregate found no free entry */
} CostsShared;

static CostsShared *shared = NULL;
static bool paused = false;
static HTAB *entries = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* ----------------------------------------------------------------
 * Shared memory
 * ----------------------------------------------------------------
 */

static void
costs_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(CostsShared)),
									hash_estimate_size(hybridagg_cost_entries,
													   sizeof(CostEntry))));
	RequestNamedLWLockTranche("hybridagg costs", 1);
}

/* the counters a clean shutdown saved, if they read back whole */
static void
costs_load(void)
{
	FILE	   *file = AllocateFile(COSTS_FILE, PG_BINARY_R);
	uint32		magic;
	int32		count;
	CostEntry	saved;

	if (file == NULL)
		return;
	if (fread(&magic, sizeof(magic), 1, file) == 1 &&
		magic == COSTS_FILE_MAGIC &&
		fread(&count, sizeof(count), 1, file) == 1)
	{
		for (int i = 0; i < count; i++)
		{
			CostEntry  *entry;
			bool		found;

			if (fread(&saved, sizeof(saved), 1, file) != 1)
				break;
			entry = hash_search(entries, &saved.key, HASH_ENTER_NULL,
								&found);
			if (entry == NULL)
				break;
			SpinLockInit(&entry->mutex);
			entry->view_relid = saved.view_relid;
			entry->counters = saved.counters;
		}
	}
	FreeFile(file);
	unlink(COSTS_FILE);
}

/* on_shmem_exit of the postmaster: save the counters, unless it crashed */
static void
costs_save(int code, Datum arg)
{
	FILE	   *file;
	HASH_SEQ_STATUS scan;
	CostEntry  *entry;
	uint32		magic = COSTS_FILE_MAGIC;
	int32		count;
	bool		written;

	if (code != 0 || shared == NULL || entries == NULL)
		return;
	file = AllocateFile(COSTS_FILE ".tmp", PG_BINARY_W);
	if (file == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", COSTS_FILE ".tmp")));
		return;
	}
	count = hash_get_num_entries(entries);
	written = fwrite(&magic, sizeof(magic), 1, file) == 1 &&
		fwrite(&count, sizeof(count), 1, file) == 1;
	hash_seq_init(&scan, entries);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (written)
			written = fwrite(entry, sizeof(CostEntry), 1, file) == 1;
	}
	if (FreeFile(file) != 0)
		written = false;
	if (written)
		(void) durable_rename(COSTS_FILE ".tmp", COSTS_FILE, LOG);
	else
		unlink(COSTS_FILE ".tmp");
}

static void
costs_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("hybridagg costs", sizeof(CostsShared), &found);
	if (!found)
	{
		shared->lock = &(GetNamedLWLockTranche("hybridagg costs"))->lock;
		shared->started_at = GetCurrentTimestamp();
		shared->overflowed = false;
	}
	info.keysize = sizeof(CostKey);
	info.entrysize = sizeof(CostEntry);
	entries = ShmemInitHash("hybridagg costs hash",
							hybridagg_cost_entries, hybridagg_cost_entries,
							&info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);

	/* the postmaster: read what the last clean shutdown wrote, write at exit */
	if (!IsUnderPostmaster)
	{
		if (!found)
			costs_load();
		on_shmem_exit(costs_save, (Datum) 0);
	}
}

void
costs_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = costs_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = costs_shmem_startup;
}

/* ----------------------------------------------------------------
 * Counting
 * ----------------------------------------------------------------
 */

static void
counters_zero(AggregateCosts *counters)
{
	memset(counters, 0, sizeof(AggregateCosts));
	counters->since = GetCurrentTimestamp();
}

/*
 * The entry of aggregate id, made if missing (NULL if the table is full);
 * returns with shared->lock held in shared mode.  An entry left by another
 * aggregate with the same id starts again from zero.
 */
static CostEntry *
entry_for_update(int32 id, Oid view_relid)
{
	CostKey		key = {MyDatabaseId, id};
	CostEntry  *entry;
	bool		found;

	LWLockAcquire(shared->lock, LW_SHARED);
	entry = hash_search(entries, &key, HASH_FIND, NULL);
	if (entry != NULL && entry->view_relid == view_relid)
		return entry;
	LWLockRelease(shared->lock);

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	entry = hash_search(entries, &key, HASH_ENTER_NULL, &found);
	if (entry == NULL)
		shared->overflowed = true;
	else if (!found || entry->view_relid != view_relid)
	{
		if (!found)
			SpinLockInit(&entry->mutex);
		entry->view_relid = view_relid;
		counters_zero(&entry->counters);
	}
	LWLockRelease(shared->lock);
	/* found again in shared mode: NULL if a drop removed it meanwhile */
	LWLockAcquire(shared->lock, LW_SHARED);
	return hash_search(entries, &key, HASH_FIND, NULL);
}

typedef enum CostKind
{
	COST_CAPTURE,
	COST_FOLD,
	COST_BATCH
} CostKind;

static void
note(CostKind kind, int32 id, Oid view_relid, int64 rows, int64 groups,
	 int64 us)
{
	CostEntry  *entry;

	if (shared == NULL || paused)
		return;
	entry = entry_for_update(id, view_relid);
	if (entry != NULL)
	{
		AggregateCosts *c = &entry->counters;

		SpinLockAcquire(&entry->mutex);
		switch (kind)
		{
			case COST_CAPTURE:
				c->capture_statements++;
				c->capture_rows += rows;
				c->capture_groups += groups;
				c->capture_us += us;
				c->capture_rows_squared += (double) rows * rows;
				c->capture_rows_by_us += (double) rows * us;
				break;
			case COST_FOLD:
				c->folds++;
				c->fold_deltas += groups;
				c->fold_us += us;
				c->fold_deltas_squared += (double) groups * groups;
				c->fold_deltas_by_us += (double) groups * us;
				break;
			case COST_BATCH:
				c->batch_runs++;
				c->batch_groups += groups;
				c->batch_us += us;
				break;
		}
		SpinLockRelease(&entry->mutex);
	}
	LWLockRelease(shared->lock);
}

void
costs_note_capture(int32 id, Oid view_relid, int64 rows, int64 groups,
				   instr_time duration, int shared_by)
{
	note(COST_CAPTURE, id, view_relid, rows, groups,
		 INSTR_TIME_GET_MICROSEC(duration) / shared_by);
}

void
costs_note_fold(int32 id, Oid view_relid, int64 deltas, instr_time duration)
{
	note(COST_FOLD, id, view_relid, 0, deltas,
		 INSTR_TIME_GET_MICROSEC(duration));
}

void
costs_note_batch(int32 id, Oid view_relid, int64 groups, instr_time duration)
{
	note(COST_BATCH, id, view_relid, 0, groups,
		 INSTR_TIME_GET_MICROSEC(duration));
}

void
costs_note_caught_up(int32 id, Oid view_relid, TimestampTz since)
{
	CostEntry  *entry;

	if (shared == NULL || paused)
		return;
	entry = entry_for_update(id, view_relid);
	if (entry != NULL)
	{
		SpinLockAcquire(&entry->mutex);
		if (entry->counters.caught_up_at < since)
			entry->counters.caught_up_at = since;
		SpinLockRelease(&entry->mutex);
	}
	LWLockRelease(shared->lock);
}

bool
costs_pause(bool pause)
{
	bool		was = paused;

	paused = pause;
	return was;
}

void
costs_forget(int32 id)
{
	CostKey		key = {MyDatabaseId, id};

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	hash_search(entries, &key, HASH_REMOVE, NULL);
	LWLockRelease(shared->lock);
}

/* ----------------------------------------------------------------
 * Reading and resetting
 * ----------------------------------------------------------------
 */

bool
costs_read(int32 id, Oid view_relid, AggregateCosts *copy)
{
	CostKey		key = {MyDatabaseId, id};
	CostEntry  *entry;
	bool		counted;

	if (shared == NULL)
		return false;
	LWLockAcquire(shared->lock, LW_SHARED);
	entry = hash_search(entries, &key, HASH_FIND, NULL);
	if (entry != NULL && entry->view_relid == view_relid)
	{
		SpinLockAcquire(&entry->mutex);
		*copy = entry->counters;
		SpinLockRelease(&entry->mutex);
		counted = true;
	}
	else
	{
		/* nothing was counted since the server started, unless it was full */
		memset(copy, 0, sizeof(AggregateCosts));
		copy->since = shared->started_at;
		counted = !shared->overflowed;
	}
	LWLockRelease(shared->lock);
	return counted;
}

/*
 * hybridagg_internal.aggregate_costs(id): the counters of one aggregate,
 * for those who may read its view; NULLs otherwise, and when nothing is
 * counted (not preloaded, or the table was full).
 */
Datum
hybridagg_aggregate_costs(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	TupleDesc	desc;
	Datum		values[COSTS_COLUMNS];
	bool		nulls[COSTS_COLUMNS];
	AggregateEntry *entry;
	AggregateCosts c;
	int			nestlevel;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	memset(nulls, true, sizeof(nulls));

	nestlevel = fix_settings(SETTINGS_SQL);
	entry = catalog_get(id, true);
	restore_settings(nestlevel);
	if (entry != NULL && OidIsValid(entry->owner) &&
		pg_class_aclcheck(entry->view_relid, GetUserId(),
						  ACL_SELECT) == ACLCHECK_OK &&
		costs_read(id, entry->view_relid, &c))
	{
		values[0] = Int64GetDatum(c.capture_statements);
		values[1] = Int64GetDatum(c.capture_rows);
		values[2] = Int64GetDatum(c.capture_groups);
		values[3] = Float8GetDatum(c.capture_us / 1e6);
		values[4] = Int64GetDatum(c.folds);
		values[5] = Int64GetDatum(c.fold_deltas);
		values[6] = Float8GetDatum(c.fold_us / 1e6);
		values[7] = Int64GetDatum(c.batch_runs);
		values[8] = Int64GetDatum(c.batch_groups);
		values[9] = Float8GetDatum(c.batch_us / 1e6);
		values[10] = TimestampTzGetDatum(c.caught_up_at);
		values[11] = TimestampTzGetDatum(c.since);
		memset(nulls, false, sizeof(nulls));
		nulls[10] = c.caught_up_at == 0;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * hybridagg.reset_costs(name DEFAULT NULL): the counters of one aggregate
 * (its owner), or of every aggregate of this database (a superuser), start
 * again from zero now.
 */
Datum
hybridagg_reset_costs(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS scan;
	CostEntry  *cost;
	AggregateEntry *entry = NULL;

	if (PG_ARGISNULL(0))
	{
		if (!superuser())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to reset the costs of every hybridagg aggregate"),
					 errdetail("Only a superuser may reset the counters of aggregates of other roles."),
					 errhint("Name the aggregate: SELECT hybridagg.reset_costs('events_1m');")));
	}
	else
	{
		entry = catalog_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
		check_aggregate_owner(entry);
	}
	if (shared == NULL)
		PG_RETURN_VOID();
	if (entry != NULL)
	{
		/* counted from now on, even if nothing was counted yet */
		cost = entry_for_update(entry->id, entry->view_relid);
		if (cost != NULL)
		{
			SpinLockAcquire(&cost->mutex);
			counters_zero(&cost->counters);
			SpinLockRelease(&cost->mutex);
		}
		LWLockRelease(shared->lock);
		PG_RETURN_VOID();
	}

	LWLockAcquire(shared->lock, LW_SHARED);
	hash_seq_init(&scan, entries);
	while ((cost = hash_seq_search(&scan)) != NULL)
	{
		if (cost->key.dboid != MyDatabaseId)
			continue;
		SpinLockAcquire(&cost->mutex);
		counters_zero(&cost->counters);
		SpinLockRelease(&cost->mutex);
	}
	LWLockRelease(shared->lock);
	PG_RETURN_VOID();
}
