/*-------------------------------------------------------------------------
 * partitioned.h
 *	  The capture triggers of a streaming aggregate, on its base table and,
 *	  when that table is partitioned, on every partition.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_PARTITIONED_H
#define HYBRIDAGG_PARTITIONED_H

#include "catalog.h"

/* install the capture triggers on the base table and all its partitions */
extern void install_capture_triggers(const AggregateEntry *entry);

/* drop them from every table that has them */
extern void drop_capture_triggers(const AggregateEntry *entry);

/* true while hybridagg itself drops capture triggers */
extern bool dropping_capture_triggers;

/* true if name is the name of a capture trigger of aggregate id */
extern bool is_capture_trigger_name(const char *name, int32 id);

#endif
