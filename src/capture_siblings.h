/*-------------------------------------------------------------------------
 * capture_siblings.h
 *	  One pass over a statement's rows for every aggregate of the table
 *	  (capture_siblings.c).
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_CAPTURE_SIBLINGS_H
#define HYBRIDAGG_CAPTURE_SIBLINGS_H

#include "commands/trigger.h"
#include "nodes/pg_list.h"

#include "capture_internal.h"

extern List *capture_siblings(TriggerData *trigdata, CaptureTarget *target);
extern void capture_siblings_noted(TriggerData *trigdata, List *targets);

#endif
