/*-------------------------------------------------------------------------
 * capture.h
 *	  The capture trigger (capture.c), and replaying a relation's rows as
 *	  delta rows for partitions that join or leave the base table.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_CAPTURE_H
#define HYBRIDAGG_CAPTURE_H

/* every row of relid, added (sign 1) or subtracted (sign -1) as deltas */
extern void capture_replay_relation(int32 id, Oid relid, int sign);

#endif
