/*-------------------------------------------------------------------------
 * launcher.c
 *	  The launcher: one per server, it starts a hybridagg worker for each
 *	  database that needs one.
 *
 * Registered in _PG_init when the library is preloaded, it starts once
 * recovery has finished (never on a hot standby) and is restarted by the
 * postmaster if it dies.  Every hybridagg.launcher_interval, or when
 * hybridagg.create() of a streaming aggregate sets its latch, it scans
 * pg_database and starts a worker for each connectable database that it has
 * not probed yet, or that is known to want one and has none running.  A
 * worker that finds no extension in its database exits at once; one that
 * finds it stays.  One worker per database, so one database's aggregates
 * never wait for another's.
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
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "guc.h"
#include "worker.h"

typedef struct StartedWorker
{
	Oid			dboid;
	BackgroundWorkerHandle *handle;
} StartedWorker;

static List *started = NIL;		/* in TopMemoryContext */

void
launcher_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "hybridagg");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "hybridagg_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "hybridagg launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "hybridagg launcher");
	RegisterBackgroundWorker(&worker);
}

static bool
worker_running(Oid dboid)
{
	ListCell   *lc;

	foreach(lc, started)
	{
		StartedWorker *w = lfirst(lc);
		pid_t		pid;

		if (w->dboid != dboid)
			continue;
		if (GetBackgroundWorkerPid(w->handle, &pid) != BGWH_STOPPED)
			return true;
		started = foreach_delete_current(started, lc);
		pfree(w->handle);
		pfree(w);
		return false;
	}
	return false;
}

static void
start_worker(Oid dboid, const char *dbname)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	StartedWorker *w;
	MemoryContext old;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "hybridagg");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "hybridagg_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "hybridagg worker for database %s", dbname);
	snprintf(worker.bgw_type, BGW_MAXLEN, "hybridagg worker");
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	worker.bgw_notify_pid = MyProcPid;

	old = MemoryContextSwitchTo(TopMemoryContext);
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		MemoryContextSwitchTo(old);
		ereport(LOG,
				(errmsg("hybridagg: could not start a worker for database \"%s\"", dbname),
				 errhint("Raise max_worker_processes.")));
		return;
	}
	w = palloc(sizeof(StartedWorker));
	w->dboid = dboid;
	w->handle = handle;
	started = lappend(started, w);
	MemoryContextSwitchTo(old);
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

void
hybridagg_launcher_main(Datum main_arg)
{
	MemoryContext scan_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	launcher_set_latch_owner();

	scan_context = AllocSetContextCreate(TopMemoryContext, "hybridagg launcher scan",
										 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		List	   *databases;
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextSwitchTo(scan_context);
		databases = connectable_databases();
		foreach(lc, databases)
		{
			Database   *db = lfirst(lc);

			if (!worker_running(db->oid) && launcher_should_start(db->oid))
				start_worker(db->oid, db->name);
		}
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(scan_context);

		pgstat_report_activity(STATE_IDLE, NULL);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 hybridagg_launcher_interval * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
