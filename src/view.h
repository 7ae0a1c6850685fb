/*-------------------------------------------------------------------------
 * view.h
 *	  The views of an aggregate: source_<id> (base rows mapped to the
 *	  layout), values_<id> (the recomputed aggregates per group, if any),
 *	  groups_<id> (the final value of every group, combined from the tables
 *	  of the aggregate's mode) and the user's view on top.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_VIEW_H
#define HYBRIDAGG_VIEW_H

#include "catalog.h"
#include "definition.h"

extern void create_source_view(const Definition *def, int32 id);
extern void create_values_view(const Definition *def, int32 id);

/* the SQL of a final value (f<i> of groups_<id>) over states aliased alias */
extern void append_final_value(StringInfo buf, AggFunc func, int arg,
							   const AggLayout *layout, const char *alias);

/* with replace, CREATE OR REPLACE the view of entry's (new) mode */
extern void create_groups_view(const Definition *def,
							   const AggregateEntry *entry, bool replace);
extern void create_user_view(const Definition *def, int32 id, Oid namespace_oid,
							 const char *relname);

#endif
