/*-------------------------------------------------------------------------
 * capture_target.c
 *	  What a backend keeps of each aggregate it captures changes for: the
 *	  definition compiled from source_<id>, the layout, descriptors, and how
 *	  each state accumulates.
 *
 * Built on the first capture of a backend and kept until a relation or a
 * function it depends on changes (relcache and syscache callbacks).  The
 * definition's expressions are planned and compiled as the aggregate's
 * owner, whose EXECUTE privileges they need; the catalog is read under
 * fixed settings, so that nothing a writer's session sets (its search_path
 * above all) resolves a name here.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "capture_internal.h"
#include "catalog.h"
#include "util.h"

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

		/* a target not built (or whose build failed) is built before use */
		if (!target->valid)
			continue;
		if (!OidIsValid(relid) || list_member_oid(target->tree, relid) ||
			relid == target->source_relid || relid == target->delta_relid)
			target->valid = false;
		if (target->valid)
		{
			foreach(lc, target->partitions)
			{
				if (((PartitionFormat *) lfirst(lc))->relid == relid)
					target->valid = false;
			}
		}
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
			elog(ERROR, "hybridagg cannot sum type %s",
				 format_type_be(argtype));
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
ProjectionInfo *
capture_projection(CaptureTarget *target, int lane)
{
	if (target->projections[lane] == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(target->context);
		TupleDesc	desc = ExecTypeFromTL(target->projected);
		TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
		ActingAs	saved;

		/* EXECUTE privileges are checked here */
		act_as(target->owner, &saved);
		target->projections[lane] = ExecBuildProjectionInfo(target->projected,
															NULL, slot, NULL,
															NULL);
		act_as_restore(&saved);
		MemoryContextSwitchTo(old);
	}
	return target->projections[lane];
}

/* a function whose body reads names when it runs: not C or internal */
static bool
reads_names(Oid funcid, void *context)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Oid			language;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", funcid);
	language = ((Form_pg_proc) GETSTRUCT(tuple))->prolang;
	ReleaseSysCache(tuple);
	return language != INTERNALlanguageId && language != ClanguageId;
}

static bool
expression_reads_names(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, reads_names, context))
		return true;
	return expression_tree_walker(node, expression_reads_names, context);
}

/*
 * Which states a row updates, in order: all but recomputed values, and the
 * NaN and infinity counts of a float or numeric sum, which its sum updates
 * when it meets such a value (accumulate() reads each value's class once).
 */
static void
plan_accumulation(CaptureTarget *target)
{
	const AggLayout *layout = target->layout;

	target->row_states = palloc(sizeof(int) * layout->nstates);
	target->nrow_states = 0;
	target->row_allocates = false;
	for (int i = 0; i < layout->nstates; i++)
	{
		StateSpec  *spec = &target->states[i];

		for (int c = 0; c < 3; c++)
			spec->nonfinite[c] = -1;
		if (spec->how == ACC_SUM_NUMERIC || spec->how == ACC_SUM_FLOAT4 ||
			spec->how == ACC_SUM_FLOAT8)
		{
			for (int j = 0; j < layout->nstates; j++)
			{
				StateSpec  *count = &target->states[j];

				if (count->arg == spec->arg &&
					(count->how == ACC_NAN || count->how == ACC_POSINF ||
					 count->how == ACC_NEGINF))
					spec->nonfinite[count->how - ACC_NAN] = j;
			}
		}
	}
	for (int i = 0; i < layout->nstates; i++)
	{
		StateSpec  *spec = &target->states[i];
		bool		counted_by_sum = false;

		if (spec->how == ACC_VALUE)
			continue;			/* stays NULL: the fold recomputes it */
		if (spec->how == ACC_COMBINED)
		{
			/* the transition function may allocate */
			target->row_states[target->nrow_states++] = i;
			target->row_allocates = true;
			continue;
		}
		if (spec->how != ACC_NAN && spec->how != ACC_POSINF &&
			spec->how != ACC_NEGINF)
		{
			target->row_states[target->nrow_states++] = i;
			/* numeric and interval arithmetic, a comparison by function */
			target->row_allocates |=
				spec->how == ACC_SUM_NUMERIC ||
				spec->how == ACC_SUM_INTERVAL ||
				((spec->how == ACC_MIN || spec->how == ACC_MAX) &&
				 (spec->compare_kind == CMP_PROC || !spec->typbyval));
			continue;
		}
		for (int j = 0; j < layout->nstates; j++)
			if (target->states[j].nonfinite[spec->how - ACC_NAN] == i)
				counted_by_sum = true;
		if (!counted_by_sum)
			elog(ERROR, "state \"%s\" of aggregate %d counts values of no sum",
				 layout->states[i].name, target->id);
	}
}

/* the source column an argument of partial_state() reads, as an index */
static int
combined_input(const AggLayout *layout, Node *expr)
{
	while (IsA(expr, CollateExpr) || IsA(expr, RelabelType))
		expr = IsA(expr, CollateExpr) ? (Node *) ((CollateExpr *) expr)->arg :
			(Node *) ((RelabelType *) expr)->arg;
	if (!IsA(expr, Var) || ((Var *) expr)->varno != 1 ||
		((Var *) expr)->varattno < 2 + layout->nkeys)
		elog(ERROR, "an argument of partial_state() in values_<id> is not a source column");
	/* source_<id> is __time, g1..gN, v1..vM */
	return ((Var *) expr)->varattno - 2 - layout->nkeys;
}

/*
 * A combined aggregate's support functions, which the owner must be allowed
 * to run, and where its arguments and FILTER are among the source columns
 */
static void
plan_combined(CaptureTarget *target, LayoutColumn *col, StateSpec *spec)
{
	Aggref	   *partial = (Aggref *) col->value_expr;
	AclResult	aclresult;
	ListCell   *lc;
	int			i = 0;

	aclresult = pg_proc_aclcheck(col->aggfnoid, target->owner, ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_AGGREGATE,
					   get_func_name(col->aggfnoid));
	spec->combined = combined_aggregate_load(col->aggfnoid, target->context);
	if (list_length(partial->args) != spec->combined->nargs + 1)
		elog(ERROR, "partial_state() of %s in values_<id> has %d arguments",
			 format_procedure(col->aggfnoid), list_length(partial->args));
	spec->combined_args = palloc(sizeof(int) * spec->combined->nargs);
	for_each_from(lc, partial->args, 1)
	{
		Node	   *arg = (Node *) lfirst_node(TargetEntry, lc)->expr;

		spec->combined_args[i++] = combined_input(target->layout, arg);
	}
	spec->combined_filter = partial->aggfilter ?
		combined_input(target->layout, (Node *) partial->aggfilter) : -1;
	spec->combined_collation = partial->inputcollid;
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
	target->context = AllocSetContextCreate(CacheMemoryContext,
											"hybridagg capture",
											ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(target->context);

	target->owner = entry->owner;
	target->view_relid = entry->view_relid;
	target->base_relid = entry->base_relid;
	target->tree = find_all_inheritors(entry->base_relid, NoLock, NULL);
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
		get_typlenbyval(layout->keys[i].type, &target->key_typlen[i],
						&target->key_typbyval[i]);
	for (int i = 0; i < layout->nargs; i++)
		get_typlenbyval(layout->args[i].type, &target->arg_typlen[i],
						&target->arg_typbyval[i]);

	/* the definition, from source_<id>: g1..gN then v1..vM, and WHERE */
	act_as(target->owner, &saved);
	source = relation_open(target->source_relid, AccessShareLock);
	query = get_view_query(source);
	{
		Expr	  **exprs = palloc0(sizeof(Expr *) *
									(layout->nkeys + layout->nargs));

		foreach(lc, query->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);
			int			n;

			if (sscanf(tle->resname, "g%d", &n) == 1 && n >= 1 &&
				n <= layout->nkeys)
				exprs[n - 1] = tle->expr;
			else if (sscanf(tle->resname, "v%d", &n) == 1 && n >= 1 &&
					 n <= layout->nargs)
				exprs[layout->nkeys + n - 1] = tle->expr;
		}
		target->projected = NIL;
		for (int i = 0; i < layout->nkeys + layout->nargs; i++)
		{
			Expr	   *expr;

			expr = expression_planner((Expr *) copyObject(exprs[i]));
			target->projected = lappend(target->projected,
										makeTargetEntry(expr, i + 1, NULL,
														false));
		}
	}
	target->projections[0] = target->projections[1] = NULL;
	target->where = NULL;
	target->resolves_names = expression_reads_names((Node *) target->projected,
													NULL);
	if (query->jointree->quals)
	{
		Expr	   *quals = (Expr *) copyObject(query->jointree->quals);

		quals = (Expr *) expression_planner(quals);
		target->resolves_names |= expression_reads_names((Node *) quals, NULL);
		target->where = ExecInitQual(make_ands_implicit(quals), NULL);
	}
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

		/* value_K and state_K: K counts aggregates, not source columns */
		spec->arg = col->kind == STATE_VALUE || col->kind == STATE_COMBINED ?
			-1 : col->arg - 1;
		spec->argtype = spec->arg >= 0 ? layout->args[spec->arg].type :
			InvalidOid;
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
				spec->decimals_dirty = state_deletes_dirty(layout, col);
				break;
			case STATE_NAN:
				spec->how = ACC_NAN;
				break;
			case STATE_POSINF:
				spec->how = ACC_POSINF;
				break;
			case STATE_NEGINF:
				spec->how = ACC_NEGINF;
				break;
			case STATE_VALUE:
				spec->how = ACC_VALUE;
				break;
			case STATE_COMBINED:
				spec->how = ACC_COMBINED;
				plan_combined(target, col, spec);
				break;
			case STATE_MIN:
			case STATE_MAX:
				{
					TypeCacheEntry *tc;

					tc = lookup_type_cache(col->type, TYPECACHE_CMP_PROC_FINFO);

					if (!OidIsValid(tc->cmp_proc))
						elog(ERROR, "type %s has no comparison function",
							 format_type_be(col->type));
					fmgr_info_cxt(tc->cmp_proc, &spec->compare,
								  target->context);
					spec->compare_kind = compare_kind(col->type);
					spec->how = col->kind == STATE_MIN ? ACC_MIN : ACC_MAX;
				}
				break;
		}
	}
	plan_accumulation(target);
	MemoryContextSwitchTo(old);
	target->valid = true;
}

CaptureTarget *
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
		memset(target, 0, sizeof(CaptureTarget));
		target->id = id;
	}
	/* a new owner of the view (ALTER VIEW ... OWNER TO, REASSIGN OWNED) */
	if (target->valid && target->owner != aggregate_owner(target->view_relid))
		target->valid = false;
	if (!target->valid)
	{
		/* the catalog is read with SQL: under fixed settings */
		int			nestlevel = fix_settings(SETTINGS_SQL);

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
		restore_settings(nestlevel);
	}
	return target;
}

/* How rows of relid are laid out, relative to the base table's */
PartitionFormat *
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
