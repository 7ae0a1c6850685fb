/*-------------------------------------------------------------------------
 * capture_internal.h
 *	  What the parts of the capture share: the compiled definition of an
 *	  aggregate (capture_target.c), the definition evaluated over a row
 *	  (capture_rows.c), and a statement's groups on their way to delta rows
 *	  (capture_groups.c).  capture.c has the trigger entry points.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_CAPTURE_INTERNAL_H
#define HYBRIDAGG_CAPTURE_INTERNAL_H

#include "access/attmap.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "storage/lock.h"
#include "utils/datum.h"

#include "combined_states.h"
#include "layout.h"

/* how a state accumulates */
typedef enum Accumulate
{
	ACC_ROWS,
	ACC_COUNT,
	ACC_SUM_INT64,				/* sum of int2, int4 (into int8) and money */
	ACC_SUM_INT128,				/* sum of int8, into numeric */
	ACC_SUM_NUMERIC,			/* finite values only */
	ACC_SUM_FLOAT4,				/* finite values only */
	ACC_SUM_FLOAT8,				/* finite values only */
	ACC_SUM_INTERVAL,
	ACC_MIN,
	ACC_MAX,
	ACC_NAN,					/* counts of a float or numeric column's NaN */
	ACC_POSINF,					/* ... +Infinity */
	ACC_NEGINF,					/* ... and -Infinity values */
	ACC_VALUE,					/* none: a recomputed aggregate's value */
	ACC_COMBINED				/* the aggregate's own transition function */
} Accumulate;

/* how min and max compare: inline for the common types, else the btree proc */
typedef enum Compare
{
	CMP_INT16,
	CMP_INT32,					/* int4, date */
	CMP_INT64,					/* int8, timestamp, timestamptz, time, money */
	CMP_FLOAT4,
	CMP_FLOAT8,
	CMP_PROC
} Compare;

typedef struct StateSpec
{
	Accumulate	how;
	/* index into the argument values; -1 for rows */
	int			arg;
	Oid			argtype;
	Oid			collation;
	bool		decimals_dirty; /* numeric sum: a deleted value with decimals
								 * makes its group dirty */
	/* a float or numeric sum: its NaN, +Infinity, -Infinity counts, or -1 */
	int			nonfinite[3];
	Compare		compare_kind;	/* min, max */
	FmgrInfo	compare;		/* min, max with CMP_PROC: the btree proc */
	int16		typlen;
	bool		typbyval;
	/* a combined aggregate: its support functions, arguments and FILTER */
	CombinedAggregate *combined;
	int		   *combined_args;	/* indexes into the argument values */
	int			combined_filter;	/* index of the FILTER's value, or -1 */
	Oid			combined_collation;
} StateSpec;

/* A partition whose rows are laid out unlike the base table's */
typedef struct PartitionFormat
{
	Oid			relid;
	TupleDesc	desc;			/* unpinned copy */
	AttrMap    *map;			/* to the base table's columns; NULL if same */
} PartitionFormat;

/* What a backend keeps of one aggregate, built on first use */
typedef struct CaptureTarget
{
	int32		id;				/* hash key */
	bool		valid;
	MemoryContext context;
	Oid			owner;
	Oid			base_relid;
	Oid			view_relid;
	Oid			source_relid;
	Oid			delta_relid;
	List	   *tree;			/* the base table and its partitions */
	AggLayout  *layout;
	TupleDesc	base_desc;		/* unpinned copies of the relations' */
	TupleDesc	delta_desc;		/* descriptors, for slots */
	ExprState  *where;			/* NULL when the definition has none */
	bool		resolves_names; /* calls a function in a language that reads
								 * names at run time (SQL, PL/pgSQL, ...) */
	List	   *projected;		/* group keys then arguments, planned */
	/* two lanes (an UPDATE reads old and new rows in step), built on use */
	ProjectionInfo *projections[2];
	int16	   *key_typlen;
	bool	   *key_typbyval;
	int16	   *arg_typlen;
	bool	   *arg_typbyval;
	StateSpec  *states;
	int		   *row_states;		/* the states a row updates itself */
	int			nrow_states;
	bool		row_allocates;	/* a row state's arithmetic may allocate */
	List	   *partitions;		/* PartitionFormat of partitions seen */
	/* the base table's own BEFORE TRUNCATE marks its statement here */
	LocalTransactionId truncating_lxid;
	CommandId	truncating_cid;
} CaptureTarget;

/* capture_target.c */
extern CaptureTarget *capture_target(int32 id);
extern PartitionFormat *partition_format(CaptureTarget *target, Oid relid);
extern ProjectionInfo *capture_projection(CaptureTarget *target, int lane);

/* The definition evaluated over one base row */
typedef struct RowValues
{
	bool		passes;			/* the WHERE clause holds */
	Datum	   *keys;
	bool	   *key_nulls;
	Datum	   *args;
	bool	   *arg_nulls;
} RowValues;

typedef struct CommonRow CommonRow;

/* Reads rows of the base table or of one of its partitions */
typedef struct RowReader
{
	CaptureTarget *target;
	TupleTableSlot *slot;		/* a row as the relation stores it: the
								 * caller's */
	TupleTableSlot *base_slot;	/* the row in the base table's layout */
	AttrMap    *map;			/* from the one to the other; NULL if same */
	ExprContext *econtext;
	ProjectionInfo *projection; /* group keys and arguments of the row */
	RowValues	row;			/* the definition evaluated over the row */
	/* or the keys and arguments are taken from a projection shared with */
	/* other readers: columns of its result, in projected order */
	CommonRow  *common;
	int		   *common_columns;
} RowReader;

/* capture_rows.c: readers share the caller's slot, which they read from */
extern void reader_init(RowReader *reader, CaptureTarget *target, Oid relid,
						TupleTableSlot *slot, int lane);
extern void reader_free(RowReader *reader);
extern void reader_evaluate(RowReader *reader);
extern bool same_row(CaptureTarget *target, const RowValues *a,
					 const RowValues *b);

/* equal binary images, value by value (inline: every row's group lookup) */
static inline bool
same_datums(int n, const Datum *a, const bool *anull, const Datum *b,
			const bool *bnull, const int16 *typlen, const bool *typbyval)
{
	for (int i = 0; i < n; i++)
	{
		if (anull[i] != bnull[i])
			return false;
		if (anull[i])
			continue;
		if (typbyval[i] ? a[i] != b[i] :
			!datum_image_eq(a[i], b[i], false, typlen[i]))
			return false;
	}
	return true;
}
extern bool same_row(CaptureTarget *target, const RowValues *a,
					 const RowValues *b);

/* capture_common.c: expressions shared by the readers of one pass */
struct CommonRow
{
	TupleTableSlot *slot;		/* the members' slot */
	TupleTableSlot *base_slot;	/* the row in the base table's layout */
	AttrMap    *map;			/* from the one to the other; NULL if same */
	ExprContext *econtext;
	ProjectionInfo *projection; /* each distinct expression once */
};

/* a statement of fewer rows does not pay for compiling a shared projection */
#define COMMON_MIN_ROWS 64

extern CommonRow *common_row_share(RowReader **readers, int nreaders);
extern void common_row_evaluate(CommonRow *common);
extern void common_row_free(CommonRow *common);

/* capture_groups.c: a statement's groups, flushed to delta rows */
typedef struct GroupTable GroupTable;

extern GroupTable *group_table_create(CaptureTarget *target,
									  MemoryContext context);
extern void accumulate(GroupTable *table, const RowValues *row, int sign);
extern void flush_groups(GroupTable *table);
extern int	group_table_written(GroupTable *table);
extern void group_table_report(GroupTable *table, int32 id);

#endif
