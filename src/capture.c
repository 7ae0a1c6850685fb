/*-------------------------------------------------------------------------
 * capture.c
 *	  The capture trigger of the streaming modes: every INSERT, UPDATE,
 *	  DELETE, COPY and TRUNCATE of the base table becomes delta rows.
 *
 * The trigger is statement-level with transition tables.  It evaluates the
 * definition (WHERE, group keys, aggregate arguments, taken from source_<id>)
 * over each old and new row, pre-aggregates the statement's rows by group in
 * a hash table, and appends one delta row per group: rows and counts with a
 * sign, sums added or subtracted, min and max of the new rows.  A group that
 * lost a row while the aggregate has min or max is marked dirty: its extremes
 * can only be recomputed from the base table.  A 10,000-row INSERT over ten
 * minutes of a hundred devices appends a thousand delta rows.
 *
 * Writers only append to delta, an unindexed heap, with table_multi_insert:
 * no lock but RowExclusiveLock, no row lock, nothing any other writer waits
 * for.  The delta rows commit or roll back with the statement that made them.
 * Expressions are evaluated as the aggregate's owner, in a security-restricted
 * context, and compiled once per backend (invalidated when the relations or
 * functions involved change).
 *
 * An UPDATE's old and new rows are read in step: a pair whose keys and
 * arguments did not change (an UPDATE of some other column) costs nothing.
 * Grouping compares keys by their binary image: two delta rows for groups
 * that PostgreSQL would call equal (1.0 and 1.00) are merely folded together
 * later, so this is never wrong.
 *
 * TRUNCATE empties the aggregate's tables, in the truncating transaction,
 * under the aggregate's lock.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/tupconvert.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/snapmgr.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "capture.h"

#include "catalog.h"
#include "layout.h"
#include "util.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(hybridagg_capture);

#define DELTA_BATCH 1000

/* how a state accumulates */
typedef enum Accumulate
{
	ACC_ROWS,
	ACC_COUNT,
	ACC_SUM_INT64,				/* sum of int2, int4 (into int8) and money */
	ACC_SUM_INT128,				/* sum of int8, into numeric */
	ACC_SUM_NUMERIC,
	ACC_SUM_FLOAT4,
	ACC_SUM_FLOAT8,
	ACC_SUM_INTERVAL,
	ACC_MIN,
	ACC_MAX
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
	int			arg;			/* index into the argument values; -1 for rows */
	Oid			argtype;
	Oid			collation;
	Compare		compare_kind;	/* min, max */
	FmgrInfo	compare;		/* min, max with CMP_PROC: the btree proc */
	int16		typlen;
	bool		typbyval;
} StateSpec;

/* What a backend keeps of one aggregate, built on first use */
typedef struct CaptureTarget
{
	int32		id;				/* hash key */
	bool		valid;
	MemoryContext context;
	Oid			owner;
	Oid			base_relid;
	Oid			source_relid;
	Oid			delta_relid;
	AggLayout  *layout;
	TupleDesc	base_desc;		/* unpinned copies of the relations' */
	TupleDesc	delta_desc;		/* descriptors, for slots */
	ExprState  *where;			/* NULL when the definition has none */
	List	   *projected;		/* group keys then arguments, planned */
	/* two lanes (an UPDATE reads old and new rows in step), built on use */
	ProjectionInfo *projections[2];
	int16	   *key_typlen;
	bool	   *key_typbyval;
	int16	   *arg_typlen;
	bool	   *arg_typbyval;
	StateSpec  *states;
	List	   *partitions;		/* PartitionFormat of partitions seen */
	/* the base table's own BEFORE TRUNCATE marks its statement here */
	LocalTransactionId truncating_lxid;
	CommandId	truncating_cid;
} CaptureTarget;

/* A partition whose rows are laid out unlike the base table's */
typedef struct PartitionFormat
{
	Oid			relid;
	TupleDesc	desc;			/* unpinned copy */
	AttrMap    *map;			/* to the base table's columns; NULL if same */
} PartitionFormat;

typedef struct StateValue
{
	bool		isnull;
	int64		i64;
	int128		i128;
	float8		f8;
	float4		f4;
	Datum		d;
} StateValue;

/* One group of one statement */
typedef struct CaptureGroup
{
	uint32		hash;
	Datum	   *keys;
	bool	   *key_nulls;
	bool		dirty;
	StateValue *values;			/* one per state; values[0] counts rows */
} CaptureGroup;

/* The definition evaluated over one base row */
typedef struct RowValues
{
	bool		passes;			/* the WHERE clause holds */
	Datum	   *keys;
	bool	   *key_nulls;
	Datum	   *args;
	bool	   *arg_nulls;
} RowValues;

/* The statement's groups, in a simplehash keyed by their key values */
typedef struct GroupEntry
{
	CaptureGroup *group;
	uint32		hash;
	char		status;
} GroupEntry;

static bool groups_equal(CaptureTarget *target, const CaptureGroup *a, const CaptureGroup *b);

#define SH_PREFIX grouptab
#define SH_ELEMENT_TYPE GroupEntry
#define SH_KEY_TYPE CaptureGroup *
#define SH_KEY group
#define SH_HASH_KEY(tb, key) ((key)->hash)
#define SH_EQUAL(tb, a, b) groups_equal((CaptureTarget *) (tb)->private_data, a, b)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef struct GroupTable
{
	CaptureTarget *target;
	MemoryContext context;		/* the groups live here, until flushed */
	grouptab_hash *groups;
	int			count;
	int			max_groups;		/* flush to delta beyond this many */
	int			written;		/* delta rows written by the statement */
} GroupTable;

static HTAB *capture_targets = NULL;

/* ----------------------------------------------------------------
 * The per-backend cache of compiled definitions
 * ----------------------------------------------------------------
 */

static void
invalidate_targets(Oid relid)
{
	HASH_SEQ_STATUS status;
	CaptureTarget *target;

	if (capture_targets == NULL)
		return;
	hash_seq_init(&status, capture_targets);
	while ((target = hash_seq_search(&status)) != NULL)
	{
		ListCell   *lc;

		if (!OidIsValid(relid) || relid == target->base_relid ||
			relid == target->source_relid || relid == target->delta_relid)
			target->valid = false;
		if (target->valid)
			foreach(lc, target->partitions)
				if (((PartitionFormat *) lfirst(lc))->relid == relid)
					target->valid = false;
	}
}

static void
relcache_callback(Datum arg, Oid relid)
{
	invalidate_targets(relid);
}

static void
syscache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	invalidate_targets(InvalidOid);
}

static Accumulate
sum_accumulation(Oid argtype)
{
	switch (argtype)
	{
		case INT2OID:
		case INT4OID:
		case CASHOID:
			return ACC_SUM_INT64;
		case INT8OID:
			return ACC_SUM_INT128;
		case NUMERICOID:
			return ACC_SUM_NUMERIC;
		case FLOAT4OID:
			return ACC_SUM_FLOAT4;
		case FLOAT8OID:
			return ACC_SUM_FLOAT8;
		case INTERVALOID:
			return ACC_SUM_INTERVAL;
		default:
			elog(ERROR, "hybridagg cannot sum type %s", format_type_be(argtype));
	}
	return ACC_SUM_FLOAT8;		/* keep compiler quiet */
}

static Compare
compare_kind(Oid type)
{
	switch (type)
	{
		case INT2OID:
			return CMP_INT16;
		case INT4OID:
		case DATEOID:
			return CMP_INT32;
		case INT8OID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case TIMEOID:
		case CASHOID:
			return CMP_INT64;
		case FLOAT4OID:
			return CMP_FLOAT4;
		case FLOAT8OID:
			return CMP_FLOAT8;
		default:
			return CMP_PROC;
	}
}

/* a lane's projection of the group keys and arguments, as the owner */
static ProjectionInfo *
projection(CaptureTarget *target, int lane)
{
	if (target->projections[lane] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(target->context);
		TupleTableSlot *slot = MakeSingleTupleTableSlot(ExecTypeFromTL(target->projected),
														&TTSOpsVirtual);
		ActingAs	saved;

		/* EXECUTE privileges are checked here */
		act_as(target->owner, &saved);
		target->projections[lane] = ExecBuildProjectionInfo(target->projected, NULL, slot,
															NULL, NULL);
		act_as_restore(&saved);
		MemoryContextSwitchTo(old);
	}
	return target->projections[lane];
}

static void
build_target(CaptureTarget *target)
{
	AggregateEntry *entry = catalog_get(target->id, false);
	MemoryContext old;
	Relation	source;
	Query	   *query;
	AggLayout  *layout;
	ListCell   *lc;
	ActingAs	saved;

	if (target->context)
		MemoryContextDelete(target->context);
	target->context = AllocSetContextCreate(CacheMemoryContext, "hybridagg capture",
											ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(target->context);

	target->owner = entry->owner;
	target->base_relid = entry->base_relid;
	target->partitions = NIL;
	target->truncating_lxid = InvalidLocalTransactionId;
	target->source_relid = internal_relid(OBJ_SOURCE, target->id, false);
	target->delta_relid = internal_relid(OBJ_DELTA, target->id, false);
	target->layout = layout = layout_read(target->id);

	target->key_typlen = palloc(sizeof(int16) * layout->nkeys);
	target->key_typbyval = palloc(sizeof(bool) * layout->nkeys);
	target->arg_typlen = palloc(sizeof(int16) * Max(layout->nargs, 1));
	target->arg_typbyval = palloc(sizeof(bool) * Max(layout->nargs, 1));
	for (int i = 0; i < layout->nkeys; i++)
		get_typlenbyval(layout->keys[i].type, &target->key_typlen[i], &target->key_typbyval[i]);
	for (int i = 0; i < layout->nargs; i++)
		get_typlenbyval(layout->args[i].type, &target->arg_typlen[i], &target->arg_typbyval[i]);

	/* the definition, from source_<id>: g1..gN then v1..vM, and WHERE */
	act_as(target->owner, &saved);
	source = relation_open(target->source_relid, AccessShareLock);
	query = get_view_query(source);
	{
		Expr	  **exprs = palloc0(sizeof(Expr *) * (layout->nkeys + layout->nargs));

		foreach(lc, query->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);
			int			n;

			if (sscanf(tle->resname, "g%d", &n) == 1 && n >= 1 && n <= layout->nkeys)
				exprs[n - 1] = tle->expr;
			else if (sscanf(tle->resname, "v%d", &n) == 1 && n >= 1 && n <= layout->nargs)
				exprs[layout->nkeys + n - 1] = tle->expr;
		}
		target->projected = NIL;
		for (int i = 0; i < layout->nkeys + layout->nargs; i++)
			target->projected = lappend(target->projected,
										makeTargetEntry(expression_planner((Expr *) copyObject(exprs[i])),
														i + 1, NULL, false));
	}
	target->projections[0] = target->projections[1] = NULL;
	target->where = NULL;
	if (query->jointree->quals)
		target->where = ExecInitQual(make_ands_implicit((Expr *) expression_planner((Expr *) copyObject(query->jointree->quals))),
									 NULL);
	relation_close(source, AccessShareLock);
	act_as_restore(&saved);

	{
		Relation	base = relation_open(target->base_relid, AccessShareLock);
		Relation	delta = relation_open(target->delta_relid, AccessShareLock);

		target->base_desc = CreateTupleDescCopy(RelationGetDescr(base));
		target->delta_desc = CreateTupleDescCopy(RelationGetDescr(delta));
		relation_close(delta, AccessShareLock);
		relation_close(base, AccessShareLock);
	}

	target->states = palloc0(sizeof(StateSpec) * layout->nstates);
	for (int i = 0; i < layout->nstates; i++)
	{
		LayoutColumn *col = &layout->states[i];
		StateSpec  *spec = &target->states[i];

		spec->arg = col->arg - 1;
		spec->argtype = spec->arg >= 0 ? layout->args[spec->arg].type : InvalidOid;
		spec->collation = col->collation;
		get_typlenbyval(col->type, &spec->typlen, &spec->typbyval);
		switch (col->kind)
		{
			case STATE_ROWS:
				spec->how = ACC_ROWS;
				break;
			case STATE_COUNT:
				spec->how = ACC_COUNT;
				break;
			case STATE_SUM:
				spec->how = sum_accumulation(layout->args[spec->arg].type);
				break;
			case STATE_MIN:
			case STATE_MAX:
				{
					TypeCacheEntry *tc = lookup_type_cache(col->type, TYPECACHE_CMP_PROC_FINFO);

					if (!OidIsValid(tc->cmp_proc))
						elog(ERROR, "type %s has no comparison function", format_type_be(col->type));
					fmgr_info_cxt(tc->cmp_proc, &spec->compare, target->context);
					spec->compare_kind = compare_kind(col->type);
					spec->how = col->kind == STATE_MIN ? ACC_MIN : ACC_MAX;
				}
				break;
		}
	}
	MemoryContextSwitchTo(old);
	target->valid = true;
}

static CaptureTarget *
capture_target(int32 id)
{
	CaptureTarget *target;
	bool		found;

	if (capture_targets == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(CaptureTarget);
		capture_targets = hash_create("hybridagg capture targets", 16, &ctl,
									  HASH_ELEM | HASH_BLOBS);
		CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, syscache_callback, (Datum) 0);
	}
	target = hash_search(capture_targets, &id, HASH_ENTER, &found);
	if (!found)
	{
		target->context = NULL;
		target->valid = false;
	}
	if (!target->valid)
	{
		PG_TRY();
		{
			build_target(target);
		}
		PG_CATCH();
		{
			target->valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return target;
}

/* ----------------------------------------------------------------
 * Evaluating rows and grouping them
 * ----------------------------------------------------------------
 */

/* How rows of relid are laid out, relative to the base table's */
static PartitionFormat *
partition_format(CaptureTarget *target, Oid relid)
{
	PartitionFormat *format;
	MemoryContext old;
	Relation	rel;
	ListCell   *lc;

	foreach(lc, target->partitions)
	{
		format = lfirst(lc);
		if (format->relid == relid)
			return format;
	}
	old = MemoryContextSwitchTo(target->context);
	rel = relation_open(relid, AccessShareLock);
	format = palloc(sizeof(PartitionFormat));
	format->relid = relid;
	format->desc = CreateTupleDescCopy(RelationGetDescr(rel));
	format->map = build_attrmap_by_name_if_req(format->desc, target->base_desc);
	relation_close(rel, AccessShareLock);
	target->partitions = lappend(target->partitions, format);
	MemoryContextSwitchTo(old);
	return format;
}

/* Reads rows of the base table or of one of its partitions */
typedef struct RowReader
{
	CaptureTarget *target;
	TupleTableSlot *slot;		/* a row as the relation stores it */
	TupleTableSlot *base_slot;	/* the row in the base table's layout */
	AttrMap    *map;			/* from the one to the other; NULL if same */
	ExprContext *econtext;
	ProjectionInfo *projection; /* group keys and arguments of the row */
	RowValues	row;			/* the definition evaluated over the row */
} RowReader;

static void
reader_init(RowReader *reader, CaptureTarget *target, Oid relid, TupleTableSlot *slot,
			int lane)
{
	const AggLayout *layout = target->layout;
	PartitionFormat *format = relid == target->base_relid ? NULL :
		partition_format(target, relid);

	reader->target = target;
	reader->map = format ? format->map : NULL;
	reader->slot = slot ? slot :
		MakeSingleTupleTableSlot(format ? format->desc : target->base_desc, &TTSOpsMinimalTuple);
	reader->base_slot = reader->map ?
		MakeSingleTupleTableSlot(target->base_desc, &TTSOpsVirtual) : reader->slot;
	reader->econtext = CreateStandaloneExprContext();
	reader->projection = projection(target, lane);
	reader->projection->pi_exprContext = reader->econtext;
	/* the row's values are read where the projection leaves them */
	reader->row.keys = reader->projection->pi_state.resultslot->tts_values;
	reader->row.key_nulls = reader->projection->pi_state.resultslot->tts_isnull;
	reader->row.args = reader->row.keys + layout->nkeys;
	reader->row.arg_nulls = reader->row.key_nulls + layout->nkeys;
}

static void
reader_free(RowReader *reader)
{
	FreeExprContext(reader->econtext, true);
	if (reader->base_slot != reader->slot)
		ExecDropSingleTupleTableSlot(reader->base_slot);
	ExecDropSingleTupleTableSlot(reader->slot);
}

/* the definition over the row in reader->slot, into reader->row */
static void
reader_evaluate(RowReader *reader)
{
	CaptureTarget *target = reader->target;
	ExprContext *econtext = reader->econtext;
	RowValues  *row = &reader->row;

	ResetExprContext(econtext);
	if (reader->map)
		execute_attr_map_slot(reader->map, reader->slot, reader->base_slot);
	econtext->ecxt_scantuple = reader->base_slot;
	row->passes = target->where == NULL || ExecQual(target->where, econtext);
	if (row->passes)
		(void) ExecProject(reader->projection);
}

static bool
same_datums(int n, const Datum *a, const bool *anull, const Datum *b, const bool *bnull,
			const int16 *typlen, const bool *typbyval)
{
	for (int i = 0; i < n; i++)
	{
		if (anull[i] != bnull[i])
			return false;
		if (anull[i])
			continue;
		if (typbyval[i] ? a[i] != b[i] : !datum_image_eq(a[i], b[i], false, typlen[i]))
			return false;
	}
	return true;
}

/* an UPDATE that changed nothing the aggregate reads */
static bool
same_row(CaptureTarget *target, const RowValues *a, const RowValues *b)
{
	const AggLayout *layout = target->layout;

	if (a->passes != b->passes)
		return false;
	if (!a->passes)
		return true;
	return same_datums(layout->nkeys, a->keys, a->key_nulls, b->keys, b->key_nulls,
					   target->key_typlen, target->key_typbyval) &&
		same_datums(layout->nargs, a->args, a->arg_nulls, b->args, b->arg_nulls,
					target->arg_typlen, target->arg_typbyval);
}

static uint32
hash_keys(CaptureTarget *target, const RowValues *row)
{
	uint32		hash = 0;

	for (int i = 0; i < target->layout->nkeys; i++)
	{
		Datum		key = row->keys[i];
		uint32		h;

		if (row->key_nulls[i])
			h = 0x9e3779b9;
		else if (target->key_typbyval[i])
			h = hash_combine(murmurhash32((uint32) DatumGetUInt64(key)),
							 murmurhash32((uint32) (DatumGetUInt64(key) >> 32)));
		else
			h = datum_image_hash(key, false, target->key_typlen[i]);

		hash = hash_combine(hash, h);
	}
	return hash;
}

static bool
groups_equal(CaptureTarget *target, const CaptureGroup *a, const CaptureGroup *b)
{
	return same_datums(target->layout->nkeys, a->keys, a->key_nulls, b->keys, b->key_nulls,
					   target->key_typlen, target->key_typbyval);
}

static CaptureGroup *
find_group(GroupTable *table, const RowValues *row)
{
	CaptureTarget *target = table->target;
	const AggLayout *layout = target->layout;
	CaptureGroup probe;
	CaptureGroup *group;
	GroupEntry *entry;
	bool		found;
	MemoryContext old;

	probe.hash = hash_keys(target, row);
	probe.keys = row->keys;
	probe.key_nulls = row->key_nulls;
	entry = grouptab_insert(table->groups, &probe, &found);
	if (found)
		return entry->group;

	old = MemoryContextSwitchTo(table->context);
	group = palloc0(sizeof(CaptureGroup));
	group->hash = probe.hash;
	group->keys = palloc(sizeof(Datum) * layout->nkeys);
	group->key_nulls = palloc(sizeof(bool) * layout->nkeys);
	for (int i = 0; i < layout->nkeys; i++)
	{
		group->key_nulls[i] = row->key_nulls[i];
		group->keys[i] = row->key_nulls[i] ? (Datum) 0 :
			datumCopy(row->keys[i], target->key_typbyval[i], target->key_typlen[i]);
	}
	group->values = palloc0(sizeof(StateValue) * layout->nstates);
	for (int i = 0; i < layout->nstates; i++)
		group->values[i].isnull = true;
	MemoryContextSwitchTo(old);
	entry->group = group;
	table->count++;
	return group;
}

static void flush_groups(GroupTable *table);

/* a < b: negative, a = b: zero, a > b: positive, as the type's btree orders them */
static inline int
compare_values(StateSpec *spec, Datum a, Datum b)
{
	switch (spec->compare_kind)
	{
		case CMP_INT16:
			return (int) DatumGetInt16(a) - (int) DatumGetInt16(b);
		case CMP_INT32:
			return DatumGetInt32(a) < DatumGetInt32(b) ? -1 : DatumGetInt32(a) > DatumGetInt32(b);
		case CMP_INT64:
			return DatumGetInt64(a) < DatumGetInt64(b) ? -1 : DatumGetInt64(a) > DatumGetInt64(b);
		case CMP_FLOAT4:
			return float4_lt(DatumGetFloat4(a), DatumGetFloat4(b)) ? -1 :
				float4_gt(DatumGetFloat4(a), DatumGetFloat4(b));
		case CMP_FLOAT8:
			return float8_lt(DatumGetFloat8(a), DatumGetFloat8(b)) ? -1 :
				float8_gt(DatumGetFloat8(a), DatumGetFloat8(b));
		default:
			return DatumGetInt32(FunctionCall2Coll(&spec->compare, spec->collation, a, b));
	}
}

static Datum
numeric_plus(Datum a, Datum b, int sign)
{
	return sign > 0 ? DirectFunctionCall2(numeric_add, a, b) :
		DirectFunctionCall2(numeric_sub, a, b);
}

static void
accumulate(GroupTable *table, const RowValues *row, int sign)
{
	CaptureTarget *target = table->target;
	const AggLayout *layout = target->layout;
	CaptureGroup *group;
	MemoryContext old;

	if (!row->passes)
		return;
	if (table->count >= table->max_groups)
		flush_groups(table);
	group = find_group(table, row);
	old = MemoryContextSwitchTo(table->context);
	for (int i = 0; i < layout->nstates; i++)
	{
		StateSpec  *spec = &target->states[i];
		StateValue *value = &group->values[i];
		Datum		arg = spec->arg >= 0 ? row->args[spec->arg] : (Datum) 0;
		bool		argnull = spec->arg >= 0 ? row->arg_nulls[spec->arg] : false;

		if (spec->how == ACC_ROWS)
		{
			value->isnull = false;
			value->i64 += sign;
			continue;
		}
		if (spec->how == ACC_COUNT)
		{
			value->isnull = false;
			if (!argnull)
				value->i64 += sign;
			continue;
		}
		if (argnull)
			continue;
		switch (spec->how)
		{
			case ACC_SUM_INT64:
				{
					int64		v = spec->argtype == INT2OID ? DatumGetInt16(arg) :
						spec->argtype == INT4OID ? DatumGetInt32(arg) : DatumGetInt64(arg);

					if (pg_add_s64_overflow(value->i64, sign * v, &value->i64))
						ereport(ERROR,
								(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
								 errmsg("bigint out of range")));
				}
				break;
			case ACC_SUM_INT128:
				value->i128 += (int128) sign * DatumGetInt64(arg);
				break;
			case ACC_SUM_NUMERIC:
				value->d = value->isnull ?
					(sign > 0 ? datumCopy(arg, false, -1) :
					 DirectFunctionCall1(numeric_uminus, arg)) :
					numeric_plus(value->d, arg, sign);
				break;
			case ACC_SUM_FLOAT4:
				value->f4 = sign > 0 ? float4_pl(value->f4, DatumGetFloat4(arg)) :
					float4_mi(value->f4, DatumGetFloat4(arg));
				break;
			case ACC_SUM_FLOAT8:
				value->f8 = sign > 0 ? float8_pl(value->f8, DatumGetFloat8(arg)) :
					float8_mi(value->f8, DatumGetFloat8(arg));
				break;
			case ACC_SUM_INTERVAL:
				{
					Interval	zero = {0};
					Datum		current = value->isnull ? IntervalPGetDatum(&zero) : value->d;

					value->d = DirectFunctionCall2(sign > 0 ? interval_pl : interval_mi,
												   current, arg);
				}
				break;
			case ACC_MIN:
			case ACC_MAX:
				if (sign < 0)
				{
					/* the deleted value may have been the extreme */
					group->dirty = true;
					continue;
				}
				if (!value->isnull)
				{
					int			cmp = compare_values(spec, arg, value->d);

					if (spec->how == ACC_MIN ? cmp >= 0 : cmp <= 0)
						continue;
				}
				value->d = datumCopy(arg, spec->typbyval, spec->typlen);
				break;
			default:
				break;
		}
		value->isnull = false;
	}
	MemoryContextSwitchTo(old);
}

/* ----------------------------------------------------------------
 * Reading the transition tables
 * ----------------------------------------------------------------
 */

static void
accumulate_table(GroupTable *table, Tuplestorestate *rows, RowReader *reader, int sign)
{
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, reader->slot))
	{
		reader_evaluate(reader);
		accumulate(table, &reader->row, sign);
		CHECK_FOR_INTERRUPTS();
	}
}

/* old and new rows of an UPDATE, in step; unchanged pairs are skipped */
static void
accumulate_update(GroupTable *table, Tuplestorestate *old_rows, Tuplestorestate *new_rows,
				  RowReader *old_reader, RowReader *new_reader)
{
	bool		have_old;
	bool		have_new;

	tuplestore_rescan(old_rows);
	tuplestore_rescan(new_rows);
	for (;;)
	{
		have_old = tuplestore_gettupleslot(old_rows, true, false, old_reader->slot);
		have_new = tuplestore_gettupleslot(new_rows, true, false, new_reader->slot);
		if (!have_old && !have_new)
			break;
		if (have_old)
			reader_evaluate(old_reader);
		if (have_new)
			reader_evaluate(new_reader);
		if (!(have_old && have_new &&
			  same_row(table->target, &old_reader->row, &new_reader->row)))
		{
			if (have_old)
				accumulate(table, &old_reader->row, -1);
			if (have_new)
				accumulate(table, &new_reader->row, 1);
		}
		CHECK_FOR_INTERRUPTS();
	}
}

/* ----------------------------------------------------------------
 * Writing delta rows
 * ----------------------------------------------------------------
 */

static Datum
int128_to_numeric_datum(int128 value)
{
	const int64 scale = INT64CONST(1000000000000000000);
	Datum		high;
	Datum		low;

	if (value >= PG_INT64_MIN && value <= PG_INT64_MAX)
		return NumericGetDatum(int64_to_numeric((int64) value));
	high = NumericGetDatum(int64_to_numeric((int64) (value / scale)));
	low = NumericGetDatum(int64_to_numeric((int64) (value % scale)));
	high = DirectFunctionCall2(numeric_mul, high, NumericGetDatum(int64_to_numeric(scale)));
	return DirectFunctionCall2(numeric_add, high, low);
}

/* a group whose changes cancel out: an update moved nothing */
static bool
group_is_neutral(CaptureTarget *target, CaptureGroup *group)
{
	const AggLayout *layout = target->layout;

	if (group->dirty)
		return false;
	for (int i = 0; i < layout->nstates; i++)
	{
		StateValue *value = &group->values[i];

		if (value->isnull)
			continue;
		switch (target->states[i].how)
		{
			case ACC_ROWS:
			case ACC_COUNT:
			case ACC_SUM_INT64:
				if (value->i64 != 0)
					return false;
				break;
			case ACC_SUM_INT128:
				if (value->i128 != 0)
					return false;
				break;
			case ACC_SUM_FLOAT4:
				if (value->f4 != 0)
					return false;
				break;
			case ACC_SUM_FLOAT8:
				if (value->f8 != 0)
					return false;
				break;
			default:
				return false;
		}
	}
	return true;
}

static void
fill_delta_slot(CaptureTarget *target, CaptureGroup *group, TupleTableSlot *slot)
{
	const AggLayout *layout = target->layout;
	int			column = 0;

	ExecClearTuple(slot);
	for (int i = 0; i < layout->nkeys; i++, column++)
	{
		slot->tts_values[column] = group->keys[i];
		slot->tts_isnull[column] = group->key_nulls[i];
	}
	for (int i = 0; i < layout->nstates; i++, column++)
	{
		StateValue *value = &group->values[i];
		Datum		d = (Datum) 0;

		slot->tts_isnull[column] = value->isnull;
		if (value->isnull)
		{
			/* rows and counts are never NULL, even when no row passed */
			if (target->states[i].how == ACC_ROWS || target->states[i].how == ACC_COUNT)
			{
				slot->tts_isnull[column] = false;
				d = Int64GetDatum(0);
			}
			slot->tts_values[column] = d;
			continue;
		}
		switch (target->states[i].how)
		{
			case ACC_ROWS:
			case ACC_COUNT:
			case ACC_SUM_INT64:
				d = Int64GetDatum(value->i64);
				break;
			case ACC_SUM_INT128:
				d = int128_to_numeric_datum(value->i128);
				break;
			case ACC_SUM_FLOAT4:
				d = Float4GetDatum(value->f4);
				break;
			case ACC_SUM_FLOAT8:
				d = Float8GetDatum(value->f8);
				break;
			default:
				d = value->d;
				break;
		}
		slot->tts_values[column] = d;
	}
	slot->tts_values[column] = BoolGetDatum(group->dirty);
	slot->tts_isnull[column] = false;
	ExecStoreVirtualTuple(slot);
}

/*
 * Append a delta row for each group and forget the groups.  Called when the
 * statement ends, and whenever the groups outgrow work_mem: partial sums
 * add up the same whether written at once or in parts.
 */
static void
flush_groups(GroupTable *table)
{
	CaptureTarget *target = table->target;
	Relation	delta;
	TupleTableSlot **slots;
	BulkInsertState bistate;
	grouptab_iterator iterator;
	GroupEntry *entry;
	CommandId	cid = GetCurrentCommandId(true);
	int			pending = 0;
	int			written = 0;

	if (table->count == 0)
		return;
	delta = table_open(target->delta_relid, RowExclusiveLock);
	slots = palloc(sizeof(TupleTableSlot *) * Min(table->count, DELTA_BATCH));
	for (int i = 0; i < Min(table->count, DELTA_BATCH); i++)
		slots[i] = MakeSingleTupleTableSlot(target->delta_desc, &TTSOpsVirtual);
	bistate = table->count > 1 ? GetBulkInsertState() : NULL;

	grouptab_start_iterate(table->groups, &iterator);
	while ((entry = grouptab_iterate(table->groups, &iterator)) != NULL)
	{
		if (group_is_neutral(target, entry->group))
			continue;
		fill_delta_slot(target, entry->group, slots[pending++]);
		if (pending == DELTA_BATCH)
		{
			table_multi_insert(delta, slots, pending, cid, 0, bistate);
			written += pending;
			pending = 0;
		}
	}
	if (pending == 1)
		table_tuple_insert(delta, slots[0], cid, 0, NULL);
	else if (pending > 1)
		table_multi_insert(delta, slots, pending, cid, 0, bistate);
	written += pending;

	if (bistate)
		FreeBulkInsertState(bistate);
	for (int i = 0; i < Min(table->count, DELTA_BATCH); i++)
		ExecDropSingleTupleTableSlot(slots[i]);
	table_close(delta, NoLock);

	table->written += written;
	MemoryContextReset(table->context);
	table->groups = grouptab_create(table->context, 16, target);
	table->count = 0;
}

/* what one group costs in memory, roughly, to stay within work_mem */
static Size
group_size(const AggLayout *layout)
{
	return sizeof(CaptureGroup) + sizeof(GroupEntry) * 2 +
		layout->nkeys * (sizeof(Datum) + sizeof(bool) + 16) +
		layout->nstates * (sizeof(StateValue) + 16) + 64;
}

/* ----------------------------------------------------------------
 * One statement's or one relation's rows into delta rows
 * ----------------------------------------------------------------
 */

typedef struct Capture
{
	MemoryContext context;		/* everything below lives here */
	MemoryContext caller;
	GroupTable	table;
	ActingAs	saved;
} Capture;

static void
capture_begin(Capture *capture, CaptureTarget *target)
{
	capture->context = AllocSetContextCreate(CurrentMemoryContext, "hybridagg capture",
											 ALLOCSET_DEFAULT_SIZES);
	capture->caller = MemoryContextSwitchTo(capture->context);
	capture->table.target = target;
	capture->table.context = AllocSetContextCreate(capture->context, "hybridagg capture groups",
												   ALLOCSET_DEFAULT_SIZES);
	capture->table.groups = grouptab_create(capture->table.context, 16, target);
	capture->table.count = 0;
	capture->table.written = 0;
	capture->table.max_groups = Max(64, (int) Min((Size) work_mem * 1024 / group_size(target->layout),
												  (Size) INT_MAX));
	/* the definition runs as the aggregate's owner */
	act_as(target->owner, &capture->saved);
}

static void
capture_end(Capture *capture)
{
	flush_groups(&capture->table);
	act_as_restore(&capture->saved);
	MemoryContextSwitchTo(capture->caller);
	MemoryContextDelete(capture->context);
	if (capture->table.written > 0)
		worker_note_deltas(capture->table.written);
}

/*
 * Every row of relation relid (the base table or a partition), added to the
 * aggregate (sign 1) or taken out of it (sign -1): a partition attached,
 * detached or about to be truncated.
 */
void
capture_replay_relation(int32 id, Oid relid, int sign)
{
	CaptureTarget *target;
	Capture		capture;
	RowReader	reader;
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;

	if (!RELKIND_HAS_STORAGE(get_rel_relkind(relid)))
		return;					/* its partitions are replayed one by one */
	target = capture_target(id);
	capture_begin(&capture, target);
	rel = table_open(relid, AccessShareLock);
	reader_init(&reader, target, relid, table_slot_create(rel, NULL), 0);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, reader.slot))
	{
		reader_evaluate(&reader);
		accumulate(&capture.table, &reader.row, sign);
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	reader_free(&reader);
	table_close(rel, NoLock);
	capture_end(&capture);
}

/* ----------------------------------------------------------------
 * TRUNCATE
 * ----------------------------------------------------------------
 */

/* AFTER TRUNCATE of the base table: the aggregate is empty */
static void
capture_truncate(int32 id)
{
	AggregateEntry *entry = catalog_get(id, false);
	int			nestlevel = fix_settings(false);
	ActingAs	saved;

	act_as(entry->owner, &saved);
	SPI_connect();
	/* TRUNCATE holds AccessExclusiveLock on the base table: lock order kept */
	lock_aggregate(entry);
	spi_run(psprintf("DELETE FROM %s", internal_qualname(OBJ_DELTA, id)), SPI_OK_DELETE);
	spi_run(psprintf("DELETE FROM %s", internal_qualname(OBJ_RECENT, id)), SPI_OK_DELETE);
	spi_run(psprintf("DELETE FROM %s", internal_qualname(OBJ_HISTORY, id)), SPI_OK_DELETE);
	SPI_finish();
	act_as_restore(&saved);
	restore_settings(nestlevel);
}

/*
 * BEFORE TRUNCATE.  A TRUNCATE of the partitioned base table fires this on
 * the base table first, then on each partition, then capture_truncate():
 * the partitions have nothing to do.  A TRUNCATE of a partition alone fires
 * it on that partition only, which subtracts the partition's rows while
 * they are still there.
 */
static void
capture_before_truncate(int32 id, Oid relid)
{
	CaptureTarget *target = capture_target(id);
	CommandId	cid = GetCurrentCommandId(false);

	if (relid == target->base_relid)
	{
		target->truncating_lxid = MyProc->lxid;
		target->truncating_cid = cid;
	}
	else if (target->truncating_lxid != MyProc->lxid || target->truncating_cid != cid)
		capture_replay_relation(id, relid, -1);
}

/* ----------------------------------------------------------------
 * The trigger
 * ----------------------------------------------------------------
 */

Datum
hybridagg_capture(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			relid;
	int32		id;
	CaptureTarget *target;
	Capture		capture;
	RowReader	reader;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hybridagg_internal.capture() must be called as a FOR EACH STATEMENT trigger"),
				 errdetail("It reads the statement's transition tables, which only statement-level triggers have."),
				 errhint("Do not create capture triggers by hand: hybridagg.create() makes them.")));
	if (trigdata->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" calls hybridagg_internal.capture() without an aggregate id",
						trigdata->tg_trigger->tgname),
				 errdetail("The capture function takes one argument: the id of the aggregate it feeds."),
				 errhint("Do not create capture triggers by hand: hybridagg.create() makes them. Drop trigger \"%s\".",
						 trigdata->tg_trigger->tgname)));
	id = pg_strtoint32(trigdata->tg_trigger->tgargs[0]);
	relid = RelationGetRelid(trigdata->tg_relation);

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
	{
		if (TRIGGER_FIRED_BEFORE(trigdata->tg_event))
			capture_before_truncate(id, relid);
		else
			capture_truncate(id);
		return PointerGetDatum(NULL);
	}
	if (trigdata->tg_newtable == NULL && trigdata->tg_oldtable == NULL)
		return PointerGetDatum(NULL);

	target = capture_target(id);
	capture_begin(&capture, target);
	reader_init(&reader, target, relid, NULL, 0);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		RowReader	new_reader;

		reader_init(&new_reader, target, relid, NULL, 1);
		accumulate_update(&capture.table, trigdata->tg_oldtable, trigdata->tg_newtable,
						  &reader, &new_reader);
		reader_free(&new_reader);
	}
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		accumulate_table(&capture.table, trigdata->tg_oldtable, &reader, -1);
	else
		accumulate_table(&capture.table, trigdata->tg_newtable, &reader, 1);
	reader_free(&reader);
	capture_end(&capture);
	return PointerGetDatum(NULL);
}
