/*-------------------------------------------------------------------------
 * hybridagg.c
 *	  Entry point of the hybridagg library: settings, the guard against
 *	  MERGE statements it could not capture, and, when the server preloads
 *	  it (shared_preload_libraries), the shared memory (worker slots, cost
 *	  counters) and the launcher of the background workers.
 *
 * Without preloading, only batch aggregates can be created: create() of a
 * streaming mode refuses with a hint (see create.c).  Under pg_upgrade
 * (binary upgrade mode) the library does nothing at all, so that the
 * upgrade never starts a launcher or a worker.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "costs.h"
#include "guc.h"
#include "hybridagg.h"
#include "merge_guard.h"
#include "worker.h"

PG_MODULE_MAGIC;

bool		hybridagg_preloaded = false;

extern PGDLLEXPORT void _PG_init(void);

void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;
	hybridagg_define_gucs();
	merge_guard_install();
	if (!process_shared_preload_libraries_in_progress)
		return;
	hybridagg_preloaded = true;
	worker_slots_shmem_init();
	costs_shmem_init();
	if (hybridagg_worker_enabled)
		launcher_register();
}
