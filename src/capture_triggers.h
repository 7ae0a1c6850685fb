/*-------------------------------------------------------------------------
 * capture_triggers.h
 *	  The capture triggers of a streaming aggregate, on its base table and,
 *	  when that table is partitioned, on every partition.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_CAPTURE_TRIGGERS_H
#define HYBRIDAGG_CAPTURE_TRIGGERS_H

#include "catalog.h"

/* hybridagg_internal.capture(), the function every capture trigger calls */
extern Oid	capture_function_oid(void);

/*
 * install the capture triggers on the base table and all its partitions;
 * those left disabled by an alter to batch mode are enabled again
 */
extern void install_capture_triggers(const AggregateEntry *entry);
extern void install_capture_triggers_on(const AggregateEntry *entry, Oid relid);

/*
 * Remove them from every table that has them: drop them now, or, when the
 * caller could not lock the tables ACCESS EXCLUSIVE itself, disable them
 * (which takes SHARE ROW EXCLUSIVE only) and leave the drop to the worker
 * (drop_orphan_capture_triggers).
 */
extern void remove_capture_triggers(const AggregateEntry *entry, bool drop_now);
extern void remove_capture_triggers_from(const AggregateEntry *entry,
										 Oid relid);

/*
 * Remove them, dropping them from the tables that may_drop and that no
 * other session holds a lock on (ACCESS EXCLUSIVE without waiting), and
 * disabling them on the others (SHARE ROW EXCLUSIVE, which the caller holds).
 */
extern void remove_capture_triggers_if_free(const AggregateEntry *entry,
											bool may_drop);

/* does relid carry the capture triggers of aggregate id?  all of them? */
extern bool has_capture_triggers(int32 id, Oid relid);
extern bool capture_triggers_complete(const AggregateEntry *entry, Oid relid);

/* the tables that carry the capture triggers of aggregate id */
extern List *tables_with_capture_triggers(int32 id);

/*
 * The enabled state of the capture triggers of aggregate id on relid, as
 * pg_trigger.tgenabled: 'A' when all fire always, else the first other.
 */
extern char capture_trigger_state(int32 id, Oid relid);

/* make them fire always, also on a logical replication subscriber */
extern void enable_capture_triggers_always(int32 id, Oid relid);

/* drop the triggers of aggregates that no longer exist, where no one waits */
extern void drop_orphan_capture_triggers(void);

/* true while hybridagg itself changes capture triggers */
extern bool changing_capture_triggers;

#endif
