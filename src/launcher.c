/*-------------------------------------------------------------------------
 * launcher.c
 *	  The launcher: one per server, it starts a hybridagg worker for each
 *	  database that needs one, within the budget of hybridagg.max_workers.
 *
 * Registered in _PG_init when the library is preloaded, it starts once
 * recovery has finished (never on a hot standby) and is restarted by the
 * postmaster if it dies.  It scans pg_database every
 * hybridagg.launcher_interval, and at once when a request sets its latch
 * (hybridagg.create() of a streaming aggregate, CREATE EXTENSION, a writer
 * whose database has no worker) or when one of its workers exits.  What it
 * keeps true:
 *	 - a connectable database gets a worker when its slot is wanted (a request,
 *	   or a worker that had streaming aggregates and was stopped), when it is
 *	   known to have streaming aggregates, and once, to be probed, the first
 *	   time this launcher sees it;
 *	 - it probes again, every REPROBE_MS, a database where a probe found the
 *	   extension but no streaming aggregate (pg_restore brings the catalog
 *	   after CREATE EXTENSION has asked for a worker); never one without the
 *	   extension, since CREATE EXTENSION asks for a worker itself;
 *	 - hybridagg workers, starting or running, never number more than
 *	   hybridagg_worker_budget(); a database that gets none for that reason,
 *	   or for lack of a database slot or of a background worker, is logged
 *	   once with a hint, until it gets one;
 *	 - it frees the slots no longer wanted, and those of databases that are
 *	   gone (dropped, made templates, closed to connections).
 * One worker per database, so one database's aggregates never wait for
 * another's.  The slots themselves are in worker_slots.c.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "worker.h"
#include "worker_slots.h"

/*
 * how often a database with the extension but no streaming aggregate is
 * probed
 */
#define REPROBE_MS			300000

/* What the launcher knows of a database */
typedef struct KnownDatabase
{
	Oid			dboid;			/* hash key */
	char		name[NAMEDATALEN];
	bool		connectable;	/* in the latest scan of pg_database */
	DatabaseFound found;		/* what its last worker found */
	TimestampTz started_at;		/* when this launcher last started its worker */
	BackgroundWorkerHandle *handle; /* that worker, until it stops; or NULL */
	bool		shortage_logged;	/* since it last got a worker */
} KnownDatabase;

/* KnownDatabase by dboid, in TopMemoryContext */
static HTAB *known = NULL;

void
launcher_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "hybridagg");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "hybridagg_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "hybridagg launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "hybridagg launcher");
	RegisterBackgroundWorker(&worker);
}

typedef struct Database
{
	Oid			oid;
	char		name[NAMEDATALEN];
} Database;

static List *
connectable_databases(void)
{
	List	   *databases = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	MemoryContext caller = CurrentMemoryContext;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);
		MemoryContext old;
		Database   *entry;

		if (!db->datallowconn || db->datistemplate)
			continue;
		old = MemoryContextSwitchTo(caller);
		entry = palloc(sizeof(Database));
		entry->oid = db->oid;
		strlcpy(entry->name, NameStr(db->datname), NAMEDATALEN);
		databases = lappend(databases, entry);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return databases;
}

/* What a database that should have a worker has none for */
typedef enum Shortage
{
	SHORT_OF_BUDGET,			/* hybridagg.max_workers workers exist */
	SHORT_OF_SLOTS,				/* every database slot is taken */
	SHORT_OF_BGWORKERS			/* the postmaster would not start one */
} Shortage;

static void
log_shortage(KnownDatabase *db, Shortage shortage)
{
	if (db->shortage_logged)
		return;
	db->shortage_logged = true;
	if (shortage == SHORT_OF_BUDGET)
		ereport(LOG,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("hybridagg: database \"%s\" is waiting for a worker: all %d hybridagg workers are busy",
						db->name, hybridagg_worker_budget()),
				 errdetail("Its streaming aggregates are not folded until a worker is free; hybridagg.max_workers is %d, max_worker_processes is %d.",
						   hybridagg_max_workers, max_worker_processes),
				 errhint("Raise hybridagg.max_workers (and max_worker_processes, which must leave room for the launcher too) and restart the server.")));
	else if (shortage == SHORT_OF_SLOTS)
		ereport(LOG,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("hybridagg: database \"%s\" is waiting for a worker: all %d hybridagg database slots are taken",
						db->name, max_worker_processes + 1),
				 errdetail("Its streaming aggregates are not folded until a slot is free; hybridagg keeps max_worker_processes + 1 database slots."),
				 errhint("Raise max_worker_processes and restart the server.")));
	else
		ereport(LOG,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("hybridagg: could not start a worker for database \"%s\": no background worker slot is free",
						db->name),
				 errdetail("Other extensions or parallel queries use the max_worker_processes = %d background workers.",
						   max_worker_processes),
				 errhint("Raise max_worker_processes (or lower hybridagg.max_workers) and restart the server.")));
}

/* Start a worker for db if the budget and the slots allow. */
static void
start_worker(KnownDatabase *db)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	MemoryContext old;
	bool		budget_settled;
	SlotClaim	claim = slot_claim(db->dboid, hybridagg_worker_budget(),
								   &budget_settled);

	if (claim == CLAIM_WORKER_EXISTS)
		return;
	if (claim != CLAIM_TAKEN)
	{
		/*
		 * A shortage that passes by itself (probes that leave at once) is not
		 * worth a line; one of a database that needs a worker, or of a budget
		 * held by workers that stay, is.
		 */
		if (db->found == FOUND_STREAMING ||
			(claim == CLAIM_NO_BUDGET && budget_settled))
			log_shortage(db, claim == CLAIM_NO_BUDGET ? SHORT_OF_BUDGET :
						 SHORT_OF_SLOTS);
		return;
	}

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "hybridagg");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "hybridagg_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "hybridagg worker for database %s",
			 db->name);
	snprintf(worker.bgw_type, BGW_MAXLEN, "hybridagg worker");
	worker.bgw_main_arg = ObjectIdGetDatum(db->dboid);
	worker.bgw_notify_pid = MyProcPid;

	old = MemoryContextSwitchTo(TopMemoryContext);
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		MemoryContextSwitchTo(old);
		slot_launch_failed(db->dboid);
		log_shortage(db, SHORT_OF_BGWORKERS);
		return;
	}
	MemoryContextSwitchTo(old);
	db->handle = handle;
	db->started_at = GetCurrentTimestamp();
	db->shortage_logged = false;
}

/* Should db have a worker now?  wanted: its slot says so. */
static bool
needs_worker(const KnownDatabase *db, bool wanted)
{
	if (wanted || db->found == FOUND_NOTHING_YET ||
		db->found == FOUND_STREAMING)
		return true;
	return db->found == FOUND_NO_STREAMING &&
		TimestampDifferenceExceeds(db->started_at, GetCurrentTimestamp(),
								   REPROBE_MS);
}

static void
launcher_scan(void)
{
	List	   *databases = connectable_databases();
	ListCell   *lc;
	HASH_SEQ_STATUS seq;
	KnownDatabase *db;
	SlotView   *views;
	int			nviews;
	bool		requests_lost = slots_requests_lost();

	hash_seq_init(&seq, known);
	while ((db = hash_seq_search(&seq)) != NULL)
		db->connectable = false;
	foreach(lc, databases)
	{
		Database   *d = lfirst(lc);
		bool		found;

		db = hash_search(known, &d->oid, HASH_ENTER, &found);
		if (!found)
		{
			db->found = FOUND_NOTHING_YET;
			db->started_at = 0;
			db->handle = NULL;
			db->shortage_logged = false;
		}
		strlcpy(db->name, d->name, NAMEDATALEN);
		db->connectable = true;
	}

	/* the workers that stopped; forget the databases that are gone */
	hash_seq_init(&seq, known);
	while ((db = hash_seq_search(&seq)) != NULL)
	{
		pid_t		pid;

		if (db->handle &&
			GetBackgroundWorkerPid(db->handle, &pid) == BGWH_STOPPED)
		{
			slot_launch_stopped(db->dboid);
			pfree(db->handle);
			db->handle = NULL;
		}
		/* a request found no slot: look again where no worker seemed needed */
		if (requests_lost && db->found != FOUND_STREAMING)
			db->found = FOUND_NOTHING_YET;
	}

	/* free the slots no longer wanted, and those of databases gone */
	nviews = slots_read(&views);
	for (int i = 0; i < nviews; i++)
	{
		DatabaseFound found;

		if (views[i].worker != SLOT_NO_WORKER)
			continue;
		db = hash_search(known, &views[i].dboid, HASH_FIND, NULL);
		if (db != NULL && db->connectable && views[i].wanted)
			continue;
		if (slot_release(views[i].dboid, db == NULL || !db->connectable,
						 &found) &&
			db != NULL && found != FOUND_NOTHING_YET)
			db->found = found;
		views[i].dboid = InvalidOid;	/* freed, or wanted again since */
	}

	hash_seq_init(&seq, known);
	while ((db = hash_seq_search(&seq)) != NULL)
	{
		bool		wanted = false;
		bool		has_worker = db->handle != NULL;

		if (!db->connectable)
		{
			if (db->handle == NULL)
				(void) hash_search(known, &db->dboid, HASH_REMOVE, NULL);
			continue;
		}
		for (int i = 0; i < nviews; i++)
		{
			if (views[i].dboid != db->dboid)
				continue;
			wanted = views[i].wanted;
			has_worker |= views[i].worker != SLOT_NO_WORKER;
		}
		if (!has_worker && needs_worker(db, wanted))
			start_worker(db);
	}
	pfree(views);
}

void
hybridagg_launcher_main(Datum main_arg)
{
	HASHCTL		info;
	MemoryContext scan_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	slots_launcher_start();

	if (hybridagg_max_workers > hybridagg_worker_budget())
		ereport(LOG,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("hybridagg: at most %d workers run, not hybridagg.max_workers = %d",
						hybridagg_worker_budget(), hybridagg_max_workers),
				 errdetail("max_worker_processes is %d, and the launcher takes one of them.",
						   max_worker_processes),
				 errhint("Raise max_worker_processes, or lower hybridagg.max_workers.")));

	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(Oid);
	info.entrysize = sizeof(KnownDatabase);
	known = hash_create("hybridagg launcher databases", 64, &info,
						HASH_ELEM | HASH_BLOBS);
	scan_context = AllocSetContextCreate(TopMemoryContext,
										 "hybridagg launcher scan",
										 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(scan_context);
		launcher_scan();
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(scan_context);

		pgstat_report_activity(STATE_IDLE, NULL);
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 hybridagg_launcher_interval * 1000L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
