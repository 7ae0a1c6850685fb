/*-------------------------------------------------------------------------
 * create.h
 *	  What hybridagg.create() (create.c) shares with hybridagg.alter()
 *	  (alter.c): the checks of a mode and of the base table, and the tables
 *	  of the streaming modes.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_CREATE_H
#define HYBRIDAGG_CREATE_H

#include "catalog.h"
#include "definition.h"
#include "layout.h"

/* a mode's name, or an error listing the valid ones */
extern AggregateMode parse_mode(const char *text);

/* error unless seal_after is a duration of 0 or more */
extern void check_seal_after(const Interval *seal_after);

/* error unless a streaming mode can run here; what names the caller */
extern void check_streaming_possible(AggregateMode mode, const char *what);

/* error unless the caller may keep an aggregate of def's table in mode */
extern void check_base_table(const Definition *def, AggregateMode mode,
							 bool with_data);

/* recent_<id>, delta_<id> and token_<id>, given to entry's owner */
extern void create_streaming_tables(const AggLayout *layout,
									const AggregateEntry *entry);

/* the comment hybridagg puts on an aggregate's view */
extern char *view_comment(AggregateMode mode, const char *query);

#endif
