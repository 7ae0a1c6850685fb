/*-------------------------------------------------------------------------
 * drop.h
 *	  Dropping an aggregate's internal objects (drop.c), shared with
 *	  hybridagg.alter() (alter.c), which drops the tables and the capture
 *	  triggers of the streaming modes when an aggregate goes to batch mode.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_DROP_H
#define HYBRIDAGG_DROP_H

/*
 * Drop internal object kind of aggregate id, if it exists, whatever it
 * became (a table, a view, a foreign table).  The caller acts as the
 * extension's owner, so that DROP runs no code of the object's owner.
 */
extern void drop_internal_object(const char *kind, int32 id);

/* may the current user lock relid ACCESS EXCLUSIVE, as LOCK TABLE allows? */
extern bool may_lock_exclusively(Oid relid);

#endif
