/*-------------------------------------------------------------------------
 * layout.h
 *	  The columns of an aggregate's tables, and the SQL that reads, combines
 *	  and updates them.
 *
 * Every table of an aggregate (history, recent, delta) has the same columns:
 *	 g1..gN		the group key; g1 is the bucket
 *	 __rows		number of base rows in the group (what count(*) returns)
 *	 <kind>_vI	one partial state per (kind, source column vI): count_vI,
 *				sum_vI, min_vI, max_vI, and next to the sum of a float or
 *				numeric column the counts of its NaN, +Infinity and -Infinity
 *				values (nan_vI, posinf_vI, neginf_vI; NULL for none);
 *				value_K, the value of the K-th recomputed aggregate (any
 *				other aggregate), as values_<id> computes it; state_K, the
 *				transition state of the K-th combined aggregate, in its
 *				stored form (combined_states.c)
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
	STATE_SUM,					/* sum(v) of the finite values */
	STATE_MIN,					/* min(v) */
	STATE_MAX,					/* max(v) */
	STATE_NAN,					/* how many v are NaN */
	STATE_POSINF,				/* how many v are +Infinity */
	STATE_NEGINF,				/* how many v are -Infinity */
	STATE_VALUE,				/* the value of a recomputed aggregate */
	STATE_COMBINED				/* the state of a combined aggregate */
} StateKind;

#define STATE_IS_NONFINITE_COUNT(k) \
	((k) == STATE_NAN || (k) == STATE_POSINF || (k) == STATE_NEGINF)

typedef struct LayoutColumn
{
	char	   *name;
	Oid			type;
	int32		typmod;
	Oid			collation;
	bool		notnull;
	StateKind	kind;			/* states only */
	int			arg;			/* states only: source column v<arg>; 0 for
								 * __rows; value_K: K */
	Node	   *value_expr;		/* value_K: the aggregate, over source_<id> as
								 * range table entry 1; state_K: its
								 * partial_state() */
	Oid			aggfnoid;		/* state_K: the aggregate */
	Oid			inputcollid;	/* state_K: its input collation */
} LayoutColumn;

typedef struct AggLayout
{
	int			nkeys;
	LayoutColumn *keys;			/* keys[0] is the bucket */
	int			nargs;
	LayoutColumn *args;
	int			nstates;
	LayoutColumn *states;		/* states[0] is __rows */
	bool		deletes_dirty;	/* deleting a row can make its group dirty, to
								 * be recomputed from the base table (see
								 * state_deletes_dirty) */
	bool		changes_dirty;	/* any change does: a recomputed aggregate */
	bool		has_values;		/* values_<id> exists: a recomputed or
								 * combined aggregate */
	Oid			source_relid;	/* source_<id>, once it exists */
} AggLayout;

extern char *state_column_name(StateKind kind, int arg);

/* 'OID'::regcollation, or NULL::regcollation for none */
extern char *collation_sql(Oid collation);

/* a sum of this type keeps its NaN and infinities apart */
extern bool sum_counts_nonfinite(Oid type);

/*
 * A state that a deleted row can leave wrong, to be recomputed: min and max
 * (the row may have held the extreme), and the sum of an unconstrained
 * numeric (shown with the largest scale among the values, which may have
 * been the row's).
 */
extern bool state_deletes_dirty(const AggLayout *layout,
								const LayoutColumn *state);

/* a sum of numerics of this typmod shows the largest scale among them */
extern bool sum_shows_largest_scale(Oid type, int32 typmod);

/* the layout of aggregate id, read from its history table and source view */
extern AggLayout *layout_read(int32 id);

/* the recomputed aggregates' expressions, read from values_<id> */
extern void layout_read_values(AggLayout *layout, int32 id);

/* "a.g1, a.g2" / "a.__rows, a.sum_v1, ..." (alias may be NULL) */
extern void append_keys(StringInfo buf, const AggLayout *layout,
						const char *alias);
extern void append_states(StringInfo buf, const AggLayout *layout,
						  const char *alias);

/* column definitions for CREATE TABLE; with_dirty adds delta's __dirty */
extern void append_column_defs(StringInfo buf, const AggLayout *layout,
							   bool with_dirty);

/* states computed from source rows aliased src: count(*) AS __rows, ... */
extern void append_states_from_source(StringInfo buf,
									  const AggLayout *layout,
									  const char *src);

/*
 * states of many partial rows aliased alias combined:
 * sum(a.__rows)::int8 AS __rows, ...
 */
extern void append_states_combined(StringInfo buf, const AggLayout *layout,
								   const char *alias);

/* the states of a group with no rows: 0 AS __rows, NULL AS sum_v1, ... */
extern void append_states_empty(StringInfo buf, const AggLayout *layout);

/* ON CONFLICT DO UPDATE SET lists: add the new partial states, or replace */
extern void append_states_added(StringInfo buf, const AggLayout *layout,
								const char *target);
extern void append_states_replaced(StringInfo buf, const AggLayout *layout);

/*
 * a.key = b.key for every key, NULLs equal, with the equality operator of
 * each key type's default operator class (the one GROUP BY uses), named by
 * schema: never an operator found through a search_path.
 */
extern void append_key_match(StringInfo buf, const AggLayout *layout,
							 const char *a, const char *b);

/*
 * A cheaper, coarser match that a hash join can use: the bucket (NULL read
 * as -infinity) and every key that cannot be NULL, compared the same way.
 * Groups that match exactly also match coarsely, never the other way round
 * missing.
 */
/*
 * The lowest (or highest) value of a bucket type as SQL: -infinity for a
 * time, the type's least value for an integer bucket.  What stands for the
 * bucket of NULL times where buckets are compared.
 */
extern char *bucket_extreme_sql(Oid type, bool highest);

extern void append_coarse_match(StringInfo buf, const AggLayout *layout,
								const char *a, const char *b);

/* schema-qualified SQL type name with typmod */
extern char *type_sql(Oid type, int32 typmod);

#endif
