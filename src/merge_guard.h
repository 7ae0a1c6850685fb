/*-------------------------------------------------------------------------
 * merge_guard.h
 *	  A MERGE that could move rows between the partitions of a table that
 *	  hybridagg captures is refused before it runs.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_MERGE_GUARD_H
#define HYBRIDAGG_MERGE_GUARD_H

/* install the ExecutorStart hook; once, when the library loads */
extern void merge_guard_install(void);

#endif
