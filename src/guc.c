/*-------------------------------------------------------------------------
 * guc.c
 *	  Every hybridagg.* setting: name, default, limits and context.
 *
 * The settings that shape shared memory and the launcher (hybridagg.worker,
 * hybridagg.max_workers, hybridagg.cost_entries) are only defined when the
 * library is preloaded: defined later, a PGC_POSTMASTER setting is FATAL.
 * The others may be changed per session or by reloading the configuration,
 * and the worker rereads them on SIGHUP.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "utils/guc.h"

#include "guc.h"

#define DEFAULT_FOLD_INTERVAL_MS	1000
#define DEFAULT_LAUNCHER_INTERVAL_S	10
#define DEFAULT_WAKE_THRESHOLD		10000
#define DEFAULT_MATERIALIZE_CHUNK_MIN	(24 * 60)
#define DEFAULT_MAX_WORKERS			8
#define MAX_MAX_WORKERS				MAX_BACKENDS
#define DEFAULT_COST_ENTRIES		1000
#define MAX_COST_ENTRIES			1000000

int			hybridagg_fold_interval = DEFAULT_FOLD_INTERVAL_MS;
int			hybridagg_launcher_interval = DEFAULT_LAUNCHER_INTERVAL_S;
int			hybridagg_wake_threshold = DEFAULT_WAKE_THRESHOLD;
int			hybridagg_materialize_chunk = DEFAULT_MATERIALIZE_CHUNK_MIN;
bool		hybridagg_worker_enabled = true;
int			hybridagg_max_workers = DEFAULT_MAX_WORKERS;
int			hybridagg_cost_entries = DEFAULT_COST_ENTRIES;

void
hybridagg_define_gucs(void)
{
	DefineCustomIntVariable("hybridagg.fold_interval",
							"Time the worker waits between two folds of the pending deltas.",
							NULL,
							&hybridagg_fold_interval,
							DEFAULT_FOLD_INTERVAL_MS, 10, 3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("hybridagg.launcher_interval",
							"Time the launcher waits between two scans for databases that need a worker.",
							NULL,
							&hybridagg_launcher_interval,
							DEFAULT_LAUNCHER_INTERVAL_S, 1, 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("hybridagg.wake_threshold",
							"Delta rows written since the last fold after which a writer wakes the worker early.",
							NULL,
							&hybridagg_wake_threshold,
							DEFAULT_WAKE_THRESHOLD, 1, INT_MAX,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("hybridagg.materialize_chunk",
							"Span of buckets hybridagg.materialize() recomputes in one transaction.",
							NULL,
							&hybridagg_materialize_chunk,
							DEFAULT_MATERIALIZE_CHUNK_MIN, 1, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomBoolVariable("hybridagg.worker",
								 "Starts the hybridagg launcher and its per-database workers.",
								 NULL,
								 &hybridagg_worker_enabled,
								 true,
								 PGC_POSTMASTER,
								 0,
								 NULL, NULL, NULL);
		DefineCustomIntVariable("hybridagg.max_workers",
								"Most hybridagg workers that run at once, one per database.",
								"They count against max_worker_processes, as does the launcher.",
								&hybridagg_max_workers,
								DEFAULT_MAX_WORKERS, 1, MAX_MAX_WORKERS,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);
		DefineCustomIntVariable("hybridagg.cost_entries",
								"Most aggregates whose costs are counted in shared memory, over all databases.",
								"An aggregate created once the table is full is not counted until the server restarts.",
								&hybridagg_cost_entries,
								DEFAULT_COST_ENTRIES, 10, MAX_COST_ENTRIES,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);
	}

	MarkGUCPrefixReserved("hybridagg");
}

int
hybridagg_worker_budget(void)
{
	/* the launcher takes one of max_worker_processes itself */
	return Max(1, Min(hybridagg_max_workers, max_worker_processes - 1));
}
