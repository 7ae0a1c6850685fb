/*-------------------------------------------------------------------------
 * capture_groups.c
 *	  A statement's rows grouped into one delta row per group.
 *
 * Rows are accumulated into their group in a hash table: rows and counts
 * with a sign, sums added or subtracted, min and max of the new rows.  A
 * group that lost a row while the aggregate has min or max is marked dirty:
 * its extremes can only be recomputed from the base table.  So is a group
 * that lost a numeric value with decimals from the sum of an unconstrained
 * numeric: the sum shows the largest scale among the group's values, and
 * that may have been the lost value's.  A float or numeric sum adds its finite
 * values only and counts NaN, +Infinity and -Infinity apart, so that
 * deleting them gives the exact sum back.  Any change at all makes a group
 * dirty when the aggregate has a recomputed aggregate (one kept as its
 * value: DISTINCT, percentiles, string_agg, ...).  A combined aggregate's
 * state (stddev, corr, bit_or, ...) is its own transition function run
 * over the group's new rows; a group that lost a row is dirty.
 *
 * Grouping compares keys by their binary image: two delta rows for groups
 * that PostgreSQL would call equal (1.0 and 1.00) are merely folded together
 * later, by the fold's GROUP BY, so this is never wrong.
 *
 * Memory is bounded by work_mem: once the groups' memory context holds more
 * (checked every 64 rows), they are written to delta and forgotten (partial
 * states add up the same whether written at once or in parts), and states
 * that are replaced (a numeric sum, a new min) free the value they replace.
 * DEBUG1 reports what each statement's capture held at most.
 *
 * Writers only append to delta, an unindexed heap, with table_multi_insert:
 * no lock but RowExclusiveLock, no row lock, nothing any other writer waits
 * for.  The delta rows commit or roll back with the statement that made them.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "capture_internal.h"
#include "util.h"

#define DELTA_BATCH 1000
#define MEMORY_CHECK_ROWS 64

typedef struct StateValue
{
	bool		isnull;
	int64		i64;
	int128		i128;
	float8		f8;
	float4		f4;
	Datum		d;
	Size		capacity;		/* of the buffer d points to, by reference */
	CombinedState combined;		/* a combined aggregate's */
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

/* The statement's groups, in a simplehash keyed by their key values */
typedef struct GroupEntry
{
	CaptureGroup *group;
	uint32		hash;
	char		status;
} GroupEntry;

static bool groups_equal(CaptureTarget *target, const CaptureGroup *a,
						 const CaptureGroup *b);

#define SH_PREFIX grouptab
#define SH_ELEMENT_TYPE GroupEntry
#define SH_KEY_TYPE CaptureGroup *
#define SH_KEY group
#define SH_HASH_KEY(tb, key) ((key)->hash)
#define SH_EQUAL(tb, a, b) \
	groups_equal((CaptureTarget *) (tb)->private_data, a, b)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct GroupTable
{
	CaptureTarget *target;
	MemoryContext context;		/* the groups live here, until flushed */
	MemoryContext scratch;		/* one row's arithmetic, reset per row */
	grouptab_hash *groups;
	int			count;
	int			written;		/* delta rows written by the statement */
	int64		rows;			/* rows accumulated */
	int			flushes;		/* times the groups were written */
	Size		peak;			/* the most memory the groups held */
};

/* ----------------------------------------------------------------
 * The hash table
 * ----------------------------------------------------------------
 */

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
							 murmurhash32((uint32) (DatumGetUInt64(key) >>
													32)));
		else
			h = datum_image_hash(key, false, target->key_typlen[i]);

		hash = hash_combine(hash, h);
	}
	return hash;
}

static bool
groups_equal(CaptureTarget *target, const CaptureGroup *a,
			 const CaptureGroup *b)
{
	return same_datums(target->layout->nkeys, a->keys, a->key_nulls, b->keys,
					   b->key_nulls, target->key_typlen, target->key_typbyval);
}

GroupTable *
group_table_create(CaptureTarget *target, MemoryContext context)
{
	GroupTable *table = MemoryContextAllocZero(context, sizeof(GroupTable));

	table->target = target;
	table->context = AllocSetContextCreate(context, "hybridagg capture groups",
										   ALLOCSET_DEFAULT_SIZES);
	table->scratch = AllocSetContextCreate(context,
										   "hybridagg capture arithmetic",
										   ALLOCSET_SMALL_SIZES);
	table->groups = grouptab_create(table->context, 16, target);
	return table;
}

int
group_table_written(GroupTable *table)
{
	return table->written;
}

void
group_table_report(GroupTable *table, int32 id)
{
	ereport(DEBUG1,
			(errmsg_internal("hybridagg: aggregate %d captured " INT64_FORMAT " rows into %d delta rows in %d writes, with at most %zu kB of groups",
							 id, table->rows, table->written, table->flushes,
							 table->peak / 1024)));
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
			datumCopy(row->keys[i], target->key_typbyval[i],
					  target->key_typlen[i]);
	}
	group->values = palloc0(sizeof(StateValue) * layout->nstates);
	for (int i = 0; i < layout->nstates; i++)
		group->values[i].isnull = true;
	MemoryContextSwitchTo(old);
	entry->group = group;
	table->count++;
	return group;
}

/* ----------------------------------------------------------------
 * Accumulating a row
 * ----------------------------------------------------------------
 */

/*
 * a < b: negative, a = b: zero, a > b: positive, as the type's btree orders
 * them
 */
static inline int
compare_values(StateSpec *spec, Datum a, Datum b)
{
	switch (spec->compare_kind)
	{
		case CMP_INT16:
			return (int) DatumGetInt16(a) - (int) DatumGetInt16(b);
		case CMP_INT32:
			return DatumGetInt32(a) < DatumGetInt32(b) ? -1 :
				DatumGetInt32(a) > DatumGetInt32(b);
		case CMP_INT64:
			return DatumGetInt64(a) < DatumGetInt64(b) ? -1 :
				DatumGetInt64(a) > DatumGetInt64(b);
		case CMP_FLOAT4:
			return float4_lt(DatumGetFloat4(a), DatumGetFloat4(b)) ? -1 :
				float4_gt(DatumGetFloat4(a), DatumGetFloat4(b));
		case CMP_FLOAT8:
			return float8_lt(DatumGetFloat8(a), DatumGetFloat8(b)) ? -1 :
				float8_gt(DatumGetFloat8(a), DatumGetFloat8(b));
		default:
			return DatumGetInt32(FunctionCall2Coll(&spec->compare,
												   spec->collation, a, b));
	}
}

/* which of NaN (0), +Infinity (1), -Infinity (2) numeric n is, or -1 */
static int
numeric_nonfinite_class(Datum v)
{
	static Numeric zero = NULL;
	Numeric		n = DatumGetNumeric(v);

	if (numeric_is_nan(n))
		return 0;
	if (!numeric_is_inf(n))
		return -1;
	if (zero == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		zero = int64_to_numeric(0);
		MemoryContextSwitchTo(old);
	}
	return DatumGetBool(DirectFunctionCall2(numeric_gt, v,
											NumericGetDatum(zero))) ? 1 : 2;
}

/* which of NaN (0), +Infinity (1), -Infinity (2) v is, or -1 if finite */
static inline int
nonfinite_class(Oid type, Datum v)
{
	float8		f;

	if (type == NUMERICOID)
		return numeric_nonfinite_class(v);
	f = (type == FLOAT4OID ? DatumGetFloat4(v) : DatumGetFloat8(v));
	if (likely(isfinite(f)))
		return -1;
	if (isnan(f))
		return 0;
	return f > 0 ? 1 : 2;
}

/*
 * Set a state to d, computed in the scratch context.  A by-reference value
 * is copied into the group's buffer for it, which only ever grows (to twice
 * what it must hold): a state replaced on every row (a sum of numeric, the
 * max of rising text) neither leaks nor fragments the groups' memory.
 */
static void
replace_state(GroupTable *table, StateValue *value, Datum d, bool byval,
			  int16 typlen)
{
	Size		len;

	if (byval)
	{
		value->d = d;
		return;
	}
	/* an expanded object is flattened (in the scratch context) first */
	if (typlen == -1 && VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)))
		d = datumCopy(d, false, -1);
	len = datumGetSize(d, false, typlen);
	if (value->isnull || value->capacity < len)
	{
		if (!value->isnull && value->capacity > 0)
			pfree(DatumGetPointer(value->d));
		value->capacity = Max(len * 2, 32);
		value->d = PointerGetDatum(MemoryContextAlloc(table->context,
													  value->capacity));
	}
	memcpy(DatumGetPointer(value->d), DatumGetPointer(d), len);
}

/* a NaN or an infinity of a sum, counted in its own state */
static inline void
count_nonfinite(CaptureGroup *group, const StateSpec *sum, int nonfinite,
				int sign)
{
	StateValue *count = &group->values[sum->nonfinite[nonfinite]];

	count->isnull = false;
	count->i64 += sign;
}

/*
 * A row of a combined aggregate's group: fed to its transition function,
 * unless its FILTER drops it; a row taken away makes the group dirty (no
 * inverse transition is run)
 */
static void
accumulate_combined(GroupTable *table, CaptureGroup *group,
					const StateSpec *spec, StateValue *value,
					const RowValues *row, int sign)
{
	const CombinedAggregate *agg = spec->combined;
	Datum		args[FUNC_MAX_ARGS];
	bool		nulls[FUNC_MAX_ARGS];

	if (sign < 0)
	{
		group->dirty = true;
		return;
	}
	if (spec->combined_filter >= 0 &&
		(row->arg_nulls[spec->combined_filter] ||
		 !DatumGetBool(row->args[spec->combined_filter])))
		return;
	for (int i = 0; i < agg->nargs; i++)
	{
		args[i] = row->args[spec->combined_args[i]];
		nulls[i] = row->arg_nulls[spec->combined_args[i]];
	}
	combined_transition(agg, &value->combined, table->context, args, nulls,
						spec->combined_collation, NULL);
}

void
accumulate(GroupTable *table, const RowValues *row, int sign)
{
	CaptureTarget *target = table->target;
	const AggLayout *layout = target->layout;
	CaptureGroup *group;
	MemoryContext old = CurrentMemoryContext;

	if (!row->passes)
		return;
	/* checked every MEMORY_CHECK_ROWS rows, a few groups' worth apart */
	if (table->rows++ % MEMORY_CHECK_ROWS == 0 &&
		MemoryContextMemAllocated(table->context, true) >
		(Size) work_mem * 1024)
		flush_groups(table);
	group = find_group(table, row);
	/* a recomputed aggregate's value changes with any row of its group */
	if (layout->changes_dirty)
		group->dirty = true;
	/* what a row's arithmetic allocates lives until the next row */
	if (target->row_allocates)
	{
		MemoryContextReset(table->scratch);
		old = MemoryContextSwitchTo(table->scratch);
	}
	for (int s = 0; s < target->nrow_states; s++)
	{
		int			i = target->row_states[s];
		StateSpec  *spec = &target->states[i];
		StateValue *value = &group->values[i];
		Datum		arg = spec->arg >= 0 ? row->args[spec->arg] : (Datum) 0;
		bool		argnull = (spec->arg >= 0 ? row->arg_nulls[spec->arg] :
							   false);
		int			nonfinite;

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
		if (spec->how == ACC_COMBINED)
		{
			accumulate_combined(table, group, spec, value, row, sign);
			continue;
		}
		if (argnull)
			continue;
		switch (spec->how)
		{
			case ACC_SUM_INT64:
				{
					int64		v = (spec->argtype == INT2OID ?
									 DatumGetInt16(arg) :
									 spec->argtype == INT4OID ?
									 DatumGetInt32(arg) :
									 DatumGetInt64(arg));

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
				nonfinite = nonfinite_class(NUMERICOID, arg);
				if (nonfinite >= 0)
				{
					count_nonfinite(group, spec, nonfinite, sign);
					continue;
				}
				/* the scale the sum shows may have been this value's */
				if (sign < 0 && spec->decimals_dirty &&
					DatumGetInt32(DirectFunctionCall1(numeric_scale, arg)) > 0)
					group->dirty = true;
				replace_state(table, value,
							  value->isnull ?
							  (sign > 0 ? arg :
							   DirectFunctionCall1(numeric_uminus, arg)) :
							  DirectFunctionCall2(sign > 0 ? numeric_add :
												  numeric_sub,
												  value->d, arg),
							  false, -1);
				break;
			case ACC_SUM_FLOAT4:
				nonfinite = nonfinite_class(FLOAT4OID, arg);
				if (nonfinite >= 0)
				{
					count_nonfinite(group, spec, nonfinite, sign);
					continue;
				}
				value->f4 = sign > 0 ?
					float4_pl(value->f4, DatumGetFloat4(arg)) :
					float4_mi(value->f4, DatumGetFloat4(arg));
				break;
			case ACC_SUM_FLOAT8:
				nonfinite = nonfinite_class(FLOAT8OID, arg);
				if (nonfinite >= 0)
				{
					count_nonfinite(group, spec, nonfinite, sign);
					continue;
				}
				value->f8 = sign > 0 ?
					float8_pl(value->f8, DatumGetFloat8(arg)) :
					float8_mi(value->f8, DatumGetFloat8(arg));
				break;
			case ACC_SUM_INTERVAL:
				{
					Interval	zero = {0};
					Datum		current = (value->isnull ?
										   IntervalPGetDatum(&zero) : value->d);

					replace_state(table, value,
								  DirectFunctionCall2(sign > 0 ? interval_pl :
													  interval_mi,
													  current, arg),
								  false, sizeof(Interval));
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
				replace_state(table, value, arg, spec->typbyval, spec->typlen);
				break;
			default:
				break;
		}
		value->isnull = false;
	}
	if (target->row_allocates)
		MemoryContextSwitchTo(old);
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
	high = DirectFunctionCall2(numeric_mul, high,
							   NumericGetDatum(int64_to_numeric(scale)));
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
			case ACC_NAN:
			case ACC_POSINF:
			case ACC_NEGINF:
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
fill_delta_slot(GroupTable *table, CaptureGroup *group, TupleTableSlot *slot)
{
	CaptureTarget *target = table->target;
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
		Accumulate	how = target->states[i].how;
		Datum		d = (Datum) 0;

		if (how == ACC_COMBINED)
		{
			bytea	   *stored = combined_state_send(target->states[i].combined,
													 &value->combined);

			slot->tts_isnull[column] = stored == NULL;
			slot->tts_values[column] = PointerGetDatum(stored);
			continue;
		}
		slot->tts_isnull[column] = value->isnull;
		if (value->isnull)
		{
			/* rows and counts are never NULL, even when no row passed */
			if (how == ACC_ROWS || how == ACC_COUNT)
			{
				slot->tts_isnull[column] = false;
				d = Int64GetDatum(0);
			}
			slot->tts_values[column] = d;
			continue;
		}
		switch (how)
		{
			case ACC_ROWS:
			case ACC_COUNT:
			case ACC_SUM_INT64:
				d = Int64GetDatum(value->i64);
				break;
			case ACC_NAN:
			case ACC_POSINF:
			case ACC_NEGINF:
				/* none is NULL, as in every table of the aggregate */
				slot->tts_isnull[column] = value->i64 == 0;
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
 * statement ends, and whenever the groups outgrow work_mem.
 */
void
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
	MemoryContext old;

	if (table->count == 0)
		return;
	table->peak = Max(table->peak,
					  MemoryContextMemAllocated(table->context, true));
	table->flushes++;
	delta = open_internal_table(OBJ_DELTA, target->id, target->delta_relid,
								RowExclusiveLock);
	slots = palloc(sizeof(TupleTableSlot *) * Min(table->count, DELTA_BATCH));
	for (int i = 0; i < Min(table->count, DELTA_BATCH); i++)
		slots[i] = MakeSingleTupleTableSlot(target->delta_desc, &TTSOpsVirtual);
	bistate = table->count > 1 ? GetBulkInsertState() : NULL;

	grouptab_start_iterate(table->groups, &iterator);
	while ((entry = grouptab_iterate(table->groups, &iterator)) != NULL)
	{
		if (group_is_neutral(target, entry->group))
			continue;
		/* what filling allocates (combined states) goes with the groups */
		old = MemoryContextSwitchTo(table->context);
		fill_delta_slot(table, entry->group, slots[pending++]);
		MemoryContextSwitchTo(old);
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
	pfree(slots);
	table_close(delta, NoLock);

	table->written += written;
	MemoryContextReset(table->context);
	table->groups = grouptab_create(table->context, 16, target);
	table->count = 0;
}
