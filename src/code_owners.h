/*-------------------------------------------------------------------------
 * code_owners.h
 *	  Whose code a definition runs, and with whose rights.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_CODE_OWNERS_H
#define HYBRIDAGG_CODE_OWNERS_H

#include "definition.h"

/*
 * Refuse a definition that would run a role's code with another role's
 * rights: owner is the aggregate's owner; readers_aggregate_rows says that
 * readers of the view evaluate the per-row parts too (batch mode).
 */
extern void check_code_owners(const Definition *def, Oid owner,
							  bool readers_aggregate_rows);

#endif
