/*-------------------------------------------------------------------------
 * layout.h
 *	  The columns of an aggregate's tables, and the SQL that reads, combines
 *	  and updates them.
 *
 * Every table of an aggregate (history, recent, delta) has the same columns:
 *	 g1..gN		the group key; g1 is the bucket
 *	 __rows		number of base rows in the group (what count(*) returns)
 *	 <kind>_vI	one partial state per (kind, source column vI): count_vI,
 *				sum_vI, min_vI, max_vI
 * and delta adds __dirty.  The source view maps base rows to __time, g1..gN
 * and v1..vM.  The names carry the meaning, so the layout is read back from
 * the catalogs at run time and never stored elsewhere.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_LAYOUT_H
#define HYBRIDAGG_LAYOUT_H

#include "lib/stringinfo.h"

#include "bucket.h"

typedef enum StateKind
{
	STATE_ROWS,					/* __rows */
	STATE_COUNT,				/* count(v) */
	STATE_SUM,					/* sum(v) */
	STATE_MIN,					/* min(v) */
	STATE_MAX					/* max(v) */
} StateKind;

typedef struct LayoutColumn
{
	char	   *name;
	Oid			type;
	int32		typmod;
	Oid			collation;
	bool		notnull;
	StateKind	kind;			/* states only */
	int			arg;			/* states only: source column v<arg>; 0 for
								 * __rows */
} LayoutColumn;

typedef struct AggLayout
{
	int			nkeys;
	LayoutColumn *keys;			/* keys[0] is the bucket */
	int			nargs;
	LayoutColumn *args;
	int			nstates;
	LayoutColumn *states;		/* states[0] is __rows */
	bool		has_extremes;	/* min or max: deleting a row makes its group
								 * dirty, to be recomputed from the base table */
} AggLayout;

extern char *state_column_name(StateKind kind, int arg);

/* the layout of aggregate id, read from its history table and source view */
extern AggLayout *layout_read(int32 id);

/* "a.g1, a.g2" / "a.__rows, a.sum_v1, ..." (alias may be NULL) */
extern void append_keys(StringInfo buf, const AggLayout *layout, const char *alias);
extern void append_states(StringInfo buf, const AggLayout *layout, const char *alias);

/* column definitions for CREATE TABLE; with_dirty adds delta's __dirty */
extern void append_column_defs(StringInfo buf, const AggLayout *layout, bool with_dirty);

/* states computed from source rows aliased src: count(*) AS __rows, ... */
extern void append_states_from_source(StringInfo buf, const AggLayout *layout, const char *src);

/* states of many partial rows aliased alias combined: sum(a.__rows)::int8 AS __rows, ... */
extern void append_states_combined(StringInfo buf, const AggLayout *layout, const char *alias);

/* ON CONFLICT DO UPDATE SET lists: add the new partial states, or replace */
extern void append_states_added(StringInfo buf, const AggLayout *layout, const char *target);
extern void append_states_replaced(StringInfo buf, const AggLayout *layout);

/* a.key = b.key for every key, NULLs equal */
extern void append_key_match(StringInfo buf, const AggLayout *layout,
							 const char *a, const char *b);

/*
 * A cheaper, coarser match for hash joins: the bucket (NULL read as
 * -infinity) and every key that cannot be NULL.  Groups that match exactly
 * also match coarsely, never the other way round missing.
 */
extern void append_coarse_key(StringInfo buf, const AggLayout *layout, const char *alias);

/*
 * The exact states of the dirty groups, recomputed from the base table: a
 * SELECT of g1..gN and the states, over the rows of every bucket that has a
 * dirty group, kept to the groups dirty in "dirty_from" (a FROM item aliased
 * d with a __dirty column: the delta table, or the fold's consumed deltas).
 * The rows are read a whole bucket at a time, through the time index, and
 * only groups with rows come out.
 */
extern void append_dirty_recompute(StringInfo buf, const AggLayout *layout,
								   const BucketSpec *spec, int32 id,
								   const char *dirty_from);

/* schema-qualified SQL type name with typmod */
extern char *type_sql(Oid type, int32 typmod);

#endif
