/*-------------------------------------------------------------------------
 * guc.h
 *	  hybridagg's settings (hybridagg.*), with their defaults and limits.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_GUC_H
#define HYBRIDAGG_GUC_H

/* milliseconds the worker sleeps between folds */
extern int	hybridagg_fold_interval;

/* seconds the launcher waits between scans of pg_database */
extern int	hybridagg_launcher_interval;

/* pending delta rows after which a writer wakes the worker early */
extern int	hybridagg_wake_threshold;

/* minutes of buckets hybridagg.materialize() recomputes per transaction */
extern int	hybridagg_materialize_chunk;

/* whether the launcher starts workers at all */
extern bool hybridagg_worker_enabled;

/* hybridagg.max_workers: most workers at once (defined only when preloaded) */
extern int	hybridagg_max_workers;

/* hybridagg.cost_entries: aggregates whose costs shared memory counts */
extern int	hybridagg_cost_entries;

/*
 * the workers the launcher may run: hybridagg.max_workers, within
 * max_worker_processes
 */
extern int	hybridagg_worker_budget(void);

extern void hybridagg_define_gucs(void);

#endif
