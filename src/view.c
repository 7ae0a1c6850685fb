/*-------------------------------------------------------------------------
 * view.c
 *	  Generate the views of an aggregate: source_<id>, values_<id>,
 *	  groups_<id> and the user's view.
 *
 * source_<id> maps base rows to the layout:
 *	   SELECT b.<time> AS __time, <bucket> AS g1, <key> AS g2, ..,
 *			  <arg> AS v1, ..
 *		 FROM <base> b WHERE <definition's WHERE>
 * PostgreSQL stores it as a parse tree, so renaming a base column changes
 * nothing and dropping one used by the aggregate is refused.  Everything
 * that reads base rows (capture, fold, recompute, the view) reads them
 * through it.
 *
 * values_<id>, made only if the definition has a recomputed aggregate (one
 * kept as its value), holds each such aggregate per group over source_<id>;
 * layout.c reads the aggregates back from it, so that every recompute runs
 * them as PostgreSQL keeps them.
 *
 * groups_<id> holds the final value of each group as g1..gN, f1..fM.  In
 * batch mode it is history below the watermark W plus the raw rows of the
 * buckets at or above W aggregated at query time (read from watermark_time
 * on, the first time whose bucket is W or later: see bucket.c).  In the
 * streaming modes it combines, in one snapshot:
 *	 C  groups with a dirty delta (a deleted min or max, a changed recomputed
 *		value: see dirty_groups.c), recomputed from the base table, through
 *		the time index, by
 *		hybridagg_internal.dirty_groups(id, token) in the query's snapshot
 *		(dirty_groups.c);
 *	 A  stored groups (history and recent) of the buckets that hold no
 *		pending delta, as stored: those outside the range of pending
 *		buckets, and those inside it that bucket_pending() says no pending
 *		delta holds;
 *	 B  the groups of the pending buckets, their stored states and their
 *		deltas combined, by hybridagg_internal.pending_groups(id, token)
 *		(pending_groups.c).
 * A, B and C partition the groups: A and B split the stored groups by the
 * bucket, from the same delta rows (both read them in the query's
 * snapshot), and B drops the groups C recomputes.  History and recent never
 * hold the same group, never a group with no rows (src/README.md,
 * invariant 6), and every delta is either pending or folded (invariant 4),
 * so the view is exact in every snapshot (invariant 1).
 *
 * Speed: A reads almost every row a query reads, and the planner plans
 * every branch for every query: B and C are function scans, which cost
 * nothing to plan (merging deltas in SQL, with unions, groupings and joins
 * on the keys, cost more to plan than the final-rows table costs to read),
 * and nothing to run while nothing is pending.  Every branch is a plain
 * scan (no LATERAL, no InitPlan inside a branch), so that the whole view
 * can run in parallel, like a plain table.  Its branches have no WHERE
 * clause of their own, so the planner flattens them into plain scans of
 * history and recent (a UNION ALL leaf with a WHERE clause would stay a
 * subquery, a layer that costs more than the scan).  Their filter is the
 * outer WHERE, which the planner pushes into each branch and folds away,
 * through the constant __branch, for the others.  The same holds for batch
 * mode's history branch.
 *
 * The user's view applies the defining query's select list and HAVING to
 * groups_<id>: the columns have exactly the names and types of the query.  A
 * bucket the query writes as a label of a bucket (ts::date, a window's end:
 * definition.c) is computed there from g1, which holds the bucket itself.
 * groups_<id> has the same columns in every mode, so hybridagg.alter()
 * replaces it (CREATE OR REPLACE VIEW) and the user's view stays as it is,
 * with its OID, its grants and whatever depends on it.
 *
 * Expressions of the definition are printed back with PostgreSQL's own
 * deparser (ruleutils) under fix_settings(deparsing = true), and the views
 * are created under the same settings.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"

#include "util.h"
#include "view.h"

/* ----------------------------------------------------------------
 * source_<id>
 * ----------------------------------------------------------------
 */

void
create_source_view(const Definition *def, int32 id)
{
	List	   *context = deparse_context_for("b", def->base_relid);
	StringInfoData sql;
	ListCell   *lc;
	int			i;
	char	   *base_schema;
	char	   *base_name;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW %s AS SELECT %s AS __time",
					 internal_qualname(OBJ_SOURCE, id),
					 deparse_expression(def->time_expr, context, true, false));
	i = 0;
	foreach(lc, def->key_exprs)
		appendStringInfo(&sql, ", %s AS g%d",
						 deparse_expression(lfirst(lc), context, true, false),
						 ++i);
	i = 0;
	foreach(lc, def->arg_exprs)
		appendStringInfo(&sql, ", %s AS v%d",
						 deparse_expression(lfirst(lc), context, true, false),
						 ++i);
	base_name = get_rel_name(def->base_relid);
	base_schema = get_namespace_name(get_rel_namespace(def->base_relid));
	appendStringInfo(&sql, " FROM %s%s b", def->base_inh ? "" : "ONLY ",
					 quote_qualified_identifier(base_schema, base_name));
	if (def->where)
		appendStringInfo(&sql, " WHERE %s",
						 deparse_expression(def->where, context, true, false));
	spi_run(sql.data, SPI_OK_UTILITY);
}

/* ----------------------------------------------------------------
 * values_<id>
 * ----------------------------------------------------------------
 */

/* a column v<position> of source_<id>, as range table entry 1 */
static Expr *
source_column(const Definition *def, int position)
{
	Node	   *expr = list_nth(def->arg_exprs, position - 1);

	return (Expr *) makeVar(1, 1 + list_length(def->key_exprs) + position,
							exprType(expr), exprTypmod(expr),
							exprCollation(expr), 0);
}

/*
 * column, which replaces the argument original of an aggregate, with the
 * aggregate's input collation made explicit where the argument had it: the
 * view's text is parsed again, and a source column carries only an implicit
 * collation, which would lose to another argument's (a COLLATE "default"
 * over a column with an ICU collation).
 */
static Expr *
with_input_collation(Expr *original, Expr *column, Oid inputcollid)
{
	CollateExpr *collate;

	if (!OidIsValid(inputcollid) ||
		exprCollation((Node *) original) != inputcollid)
		return column;
	collate = makeNode(CollateExpr);
	collate->arg = column;
	collate->collOid = inputcollid;
	collate->location = -1;
	return (Expr *) collate;
}

/*
 * values_<id>: each recomputed aggregate of the definition over the source
 * rows, per group, and each combined aggregate's partial_state().
 * PostgreSQL keeps it as a parse tree, so the aggregates
 * follow renames and cannot be dropped under the aggregate; layout.c reads
 * them back from it, and everything that recomputes a group runs them.
 */
void
create_values_view(const Definition *def, int32 id)
{
	Oid			source_relid = internal_relid(OBJ_SOURCE, id, false);
	List	   *context = deparse_context_for("s", source_relid);
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW %s AS SELECT ",
					 internal_qualname(OBJ_VALUES, id));
	append_keys(&sql, def->layout, "s");
	foreach(lc, def->aggregates)
	{
		DefinedAggregate *agg = lfirst(lc);
		Aggref	   *over_source;
		ListCell   *arg;
		ListCell   *column;

		if (agg->func != AGG_RECOMPUTED && agg->func != AGG_COMBINED)
			continue;
		over_source = copyObject(agg->aggref);
		forboth(arg, over_source->args, column, agg->arg_columns)
			lfirst_node(TargetEntry, arg)->expr =
			with_input_collation(lfirst_node(TargetEntry, arg)->expr,
								 source_column(def, lfirst_int(column)),
								 over_source->inputcollid);
		if (agg->filter_column)
			over_source->aggfilter = source_column(def, agg->filter_column);
		if (agg->func == AGG_RECOMPUTED)
		{
			appendStringInfo(&sql, ", %s AS value_%d",
							 deparse_expression((Node *) over_source, context,
												true, false),
							 agg->arg);
			continue;
		}
		/* partial_state(aggregate, its arguments) FILTER (WHERE ...) */
		appendStringInfo(&sql, ", %s.partial_state('%u'::regprocedure",
						 INTERNAL_SCHEMA, over_source->aggfnoid);
		foreach(arg, over_source->args)
		{
			Node	   *expr = (Node *) lfirst_node(TargetEntry, arg)->expr;

			appendStringInfo(&sql, ", %s",
							 deparse_expression(expr, context, true, false));
		}
		appendStringInfoChar(&sql, ')');
		if (over_source->aggfilter)
			appendStringInfo(&sql, " FILTER (WHERE %s)",
							 deparse_expression((Node *) over_source->aggfilter,
												context, true, false));
		appendStringInfo(&sql, " AS state_%d", agg->arg);
	}
	appendStringInfo(&sql, " FROM %s s GROUP BY ",
					 internal_qualname(OBJ_SOURCE, id));
	append_keys(&sql, def->layout, "s");
	spi_run(sql.data, SPI_OK_UTILITY);
}

/* ----------------------------------------------------------------
 * groups_<id>
 * ----------------------------------------------------------------
 */

static bool
has_state(const AggLayout *layout, StateKind kind, int arg, Oid *type)
{
	for (int i = 0; i < layout->nstates; i++)
	{
		if (layout->states[i].kind == kind && layout->states[i].arg == arg)
		{
			if (type)
				*type = layout->states[i].type;
			return true;
		}
	}
	return false;
}

/*
 * A float or numeric sum or average of a group that holds NaN or an
 * infinity is that, as PostgreSQL's own aggregates make it (nonfinite.c);
 * finite is the SQL of the value otherwise.
 */
static void
append_nonfinite_or(StringInfo buf, const AggLayout *layout, int a,
					const char *x, const char *finite)
{
	if (!has_state(layout, STATE_NAN, a, NULL))
	{
		appendStringInfoString(buf, finite);
		return;
	}
	appendStringInfo(buf, "%s.nonfinite_or(%s, %s.nan_v%d, %s.posinf_v%d, "
					 "%s.neginf_v%d)",
					 INTERNAL_SCHEMA, finite, x, a, x, a, x, a);
}

void
append_final_value(StringInfo buf, AggFunc func, int a, const AggLayout *layout,
				   const char *alias)
{
	const char *x = alias;
	Oid			sum_type = InvalidOid;

	(void) has_state(layout, STATE_SUM, a, &sum_type);
	switch (func)
	{
		case AGG_COUNT_STAR:
			appendStringInfo(buf, "%s.__rows", x);
			break;
		case AGG_COUNT:
			appendStringInfo(buf, "%s.count_v%d", x, a);
			break;
		case AGG_SUM:
			appendStringInfo(buf, "CASE WHEN %s.count_v%d > 0 THEN ", x, a);
			append_nonfinite_or(buf, layout, a, x,
								psprintf("%s.sum_v%d", x, a));
			appendStringInfoString(buf, " END");
			break;
		case AGG_AVG:
			/* the division PostgreSQL's own avg() final functions make */
			appendStringInfo(buf, "CASE WHEN %s.count_v%d > 0 THEN ", x, a);
			if (sum_type == INT8OID || sum_type == NUMERICOID)
				append_nonfinite_or(buf, layout, a, x,
									psprintf("%s.sum_v%d::numeric / "
											 "%s.count_v%d::numeric",
											 x, a, x, a));
			else
				append_nonfinite_or(buf, layout, a, x,
									psprintf("%s.sum_v%d / "
											 "%s.count_v%d::float8",
											 x, a, x, a));
			appendStringInfoString(buf, " END");
			break;
		case AGG_MIN:
			appendStringInfo(buf, "%s.min_v%d", x, a);
			break;
		case AGG_MAX:
			appendStringInfo(buf, "%s.max_v%d", x, a);
			break;
		case AGG_RECOMPUTED:
			appendStringInfo(buf, "%s.value_%d", x, a);
			break;
		case AGG_COMBINED:
			for (int i = 0; i < layout->nstates; i++)
			{
				const LayoutColumn *col = &layout->states[i];

				if (col->kind != STATE_COMBINED || col->arg != a)
					continue;
				appendStringInfo(buf, "%s.final_value('%u'::regprocedure, "
								 "%s, %s.state_%d, NULL::%s)",
								 INTERNAL_SCHEMA, col->aggfnoid,
								 collation_sql(col->inputcollid), x, a,
								 type_sql(get_func_rettype(col->aggfnoid),
										  -1));
			}
			break;
	}
}

/*
 * "x.g1, .., (final value)::type AS f1, .., N AS __branch": a branch of
 * groups_<id> over partial states in alias x.  Each branch finalizes its own
 * rows, so that a plain scan computes them, with no projection above the
 * UNION ALL.
 */
static void
append_final_columns(StringInfo sql, const Definition *def, const char *alias,
					 int branch)
{
	ListCell   *lc;
	int			i = 0;

	append_keys(sql, def->layout, alias);
	foreach(lc, def->aggregates)
	{
		DefinedAggregate *agg = lfirst(lc);

		appendStringInfoString(sql, ", (");
		append_final_value(sql, agg->func, agg->arg, def->layout, alias);
		appendStringInfo(sql, ")::%s AS f%d",
						 type_sql(agg->aggref->aggtype, -1), ++i);
	}
	appendStringInfo(sql, ", %d AS __branch", branch);
}

/*
 * batch: the raw rows at or above W aggregated now (branch 1), history below
 * W (branch 0, filtered by the outer WHERE so that it stays a plain scan).
 */
static void
append_batch_groups(StringInfo sql, const Definition *def,
					const AggregateEntry *entry)
{
	const AggLayout *layout = def->layout;
	int32		id = entry->id;
	const char *utc = (entry->bucket.time_type == TIMESTAMPTZOID ? "%s" :
					   "timezone('UTC', %s)");
	char	   *watermark;
	char	   *watermark_time;

	/* the buckets at or above W, whose rows start at watermark_time */
	watermark = psprintf("(SELECT %s FROM %s.aggregate a WHERE a.id = %d)",
						 psprintf(utc, "a.watermark"), INTERNAL_SCHEMA, id);
	watermark_time = psprintf("(SELECT %s FROM %s.aggregate a WHERE a.id = %d)",
							  psprintf(utc, "a.watermark_time"),
							  INTERNAL_SCHEMA, id);
	/* an integer bucket is never sealed: W is -infinity, the first bigint */
	if (entry->bucket.is_integer)
		watermark = watermark_time = "(-9223372036854775808)::pg_catalog.int8";

	appendStringInfoString(sql, "SELECT ");
	append_final_columns(sql, def, "x", 1);
	appendStringInfoString(sql, " FROM (SELECT ");
	append_keys(sql, layout, "s");
	appendStringInfoString(sql, ", ");
	append_states_from_source(sql, layout, "s");
	appendStringInfo(sql, " FROM %s s "
					 "WHERE (s.__time >= %s AND s.g1 >= %s)%s GROUP BY ",
					 internal_qualname(OBJ_SOURCE, id), watermark_time,
					 watermark,
					 layout->keys[0].notnull ? "" : " OR s.__time IS NULL");
	append_keys(sql, layout, "s");
	appendStringInfoString(sql, ") x UNION ALL SELECT ");
	append_final_columns(sql, def, "h", 0);
	appendStringInfo(sql, " FROM %s h) st WHERE st.__branch = 1 OR st.g1 < %s",
					 internal_qualname(OBJ_HISTORY, id), watermark);
}

/* streaming modes: branches C, A1, A2 and B described at the top */
/*
 * A branch read from one of the view's functions, function(id, token), which
 * returns the keys and states of groups: their final values, __branch 1
 */
static void
append_function_branch(StringInfo sql, const Definition *def, int32 id,
					   const char *function, const char *alias)
{
	const AggLayout *layout = def->layout;

	appendStringInfoString(sql, "SELECT ");
	append_final_columns(sql, def, alias, 1);
	appendStringInfo(sql, " FROM %s.%s(%d, (SELECT k.token FROM %s k)) AS %s(",
					 INTERNAL_SCHEMA, function, id,
					 internal_qualname(OBJ_TOKEN, id), alias);
	for (int i = 0; i < layout->nkeys + layout->nstates; i++)
	{
		const LayoutColumn *col = (i < layout->nkeys ? &layout->keys[i] :
								   &layout->states[i - layout->nkeys]);

		appendStringInfo(sql, "%s%s %s", i > 0 ? ", " : "",
						 quote_identifier(col->name),
						 type_sql(col->type, col->typmod));
		if (OidIsValid(col->collation) &&
			col->collation != get_typcollation(col->type))
			appendStringInfo(sql, " COLLATE %s",
							 generate_collation_name(col->collation));
	}
	appendStringInfoChar(sql, ')');
}

static void
append_streaming_groups(StringInfo sql, const Definition *def,
						const AggregateEntry *entry)
{
	const AggLayout *layout = def->layout;
	int32		id = entry->id;
	char	   *delta = internal_qualname(OBJ_DELTA, id);
	const char *stored[] = {
		internal_qualname(OBJ_HISTORY, id), internal_qualname(OBJ_RECENT, id)
	};
	char	   *bucket_d;
	char	   *bucket_st;
	const char *lowest = bucket_extreme_sql(layout->keys[0].type, false);
	const char *highest = bucket_extreme_sql(layout->keys[0].type, true);

	bucket_d = layout->keys[0].notnull ? "d.g1" :
		psprintf("COALESCE(d.g1, %s)", lowest);
	bucket_st = layout->keys[0].notnull ? "st.g1" :
		psprintf("COALESCE(st.g1, %s)", lowest);

	/*
	 * C: dirty groups, recomputed from the base table by dirty_groups(),
	 * whose fixed row estimate keeps the plan of the whole view from
	 * depending on how many deltas the statistics of delta_<id> guess.  The
	 * token, which only the aggregate's owner may read, is what lets this
	 * view (and views on it) call it: see view_calls.c.
	 */
	if (layout->deletes_dirty)
	{
		append_function_branch(sql, def, id, "dirty_groups", "c");
		appendStringInfoString(sql, " UNION ALL ");
	}

	/* A: every stored group, filtered by the outer WHERE */
	for (int i = 0; i < lengthof(stored); i++)
	{
		appendStringInfoString(sql, "SELECT ");
		append_final_columns(sql, def, "t", 0);
		appendStringInfo(sql, " FROM %s t UNION ALL ", stored[i]);
	}

	/* B: the groups of the pending buckets, stored states and deltas */
	append_function_branch(sql, def, id, "pending_groups", "p");

	/*
	 * A's filter: not a pending bucket, as bucket_pending() says, and first
	 * as the range of pending buckets says, which spares most groups the call
	 */
	appendStringInfo(sql, ") st WHERE st.__branch = 1"
					 " OR %s < COALESCE((SELECT min(%s) FROM %s d), %s)"
					 " OR %s > COALESCE((SELECT max(%s) FROM %s d), %s)"
					 " OR NOT %s.bucket_pending(%d, (SELECT k.token FROM %s k),"
					 " st.g1)",
					 bucket_st, bucket_d, delta, highest, bucket_st, bucket_d,
					 delta, lowest, INTERNAL_SCHEMA, id,
					 internal_qualname(OBJ_TOKEN, id));
}

void
create_groups_view(const Definition *def, const AggregateEntry *entry,
				   bool replace)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE %sVIEW %s AS SELECT ",
					 replace ? "OR REPLACE " : "",
					 internal_qualname(OBJ_GROUPS, entry->id));
	append_keys(&sql, def->layout, "st");
	for (int i = 1; i <= list_length(def->aggregates); i++)
		appendStringInfo(&sql, ", st.f%d", i);
	appendStringInfoString(&sql, " FROM (");
	if (MODE_IS_STREAMING(entry->mode))
		append_streaming_groups(&sql, def, entry);
	else
		append_batch_groups(&sql, def, entry);
	spi_run(sql.data, SPI_OK_UTILITY);
}

/* ----------------------------------------------------------------
 * The user's view
 * ----------------------------------------------------------------
 */

typedef struct GroupColumns
{
	const Definition *def;
} GroupColumns;

/*
 * Rewrite a select-list or HAVING expression of the definition over
 * groups_<id>: group keys become g<i> (a bucket written as a label of g1,
 * the label computed from g1), aggregate calls become f<j>.
 */
static Node *
over_group_columns(Node *node, GroupColumns *context)
{
	const Definition *def = context->def;
	ListCell   *lc;
	int			i;

	if (node == NULL)
		return NULL;

	/* a bucket written as a label of g1 (ts::date): the label over g1 */
	if (def->bucket_written && equal(node, def->bucket_written))
		return copyObject(def->bucket_label);
	i = 0;
	foreach(lc, def->key_exprs)
	{
		i++;
		if (equal(node, lfirst(lc)))
			return (Node *) makeVar(1, i, exprType(node), exprTypmod(node),
									exprCollation(node), 0);
	}
	if (IsA(node, Aggref))
	{
		i = list_length(def->key_exprs);
		foreach(lc, def->aggregates)
		{
			DefinedAggregate *agg = lfirst(lc);

			i++;
			if (equal(node, agg->aggref))
				return (Node *) makeVar(1, i, agg->aggref->aggtype, -1,
										agg->aggref->aggcollid, 0);
		}
		elog(ERROR, "aggregate of the defining query was not collected");
	}
	if (IsA(node, Var))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" must appear in the GROUP BY clause",
						get_attname(def->base_relid, ((Var *) node)->varattno,
									false)),
				 errdetail("The select list uses a column that is neither grouped nor aggregated."),
				 errhint("Add the column to GROUP BY, or aggregate it.")));
	return expression_tree_mutator(node, over_group_columns, (void *) context);
}

void
create_user_view(const Definition *def, int32 id, Oid namespace_oid,
				 const char *relname)
{
	GroupColumns context = {def};
	List	   *dpcontext;
	char	   *schema;
	StringInfoData sql;
	ListCell   *lc;
	List	   *names = NIL;
	bool		first = true;

	dpcontext = deparse_context_for("c", internal_relid(OBJ_GROUPS, id, false));
	initStringInfo(&sql);
	schema = get_namespace_name(namespace_oid);
	appendStringInfo(&sql, "CREATE VIEW %s AS SELECT ",
					 quote_qualified_identifier(schema, relname));
	foreach(lc, def->query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Node	   *expr;

		if (tle->resjunk)
			continue;
		if (list_member(names, makeString(tle->resname)))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column name \"%s\" appears more than once in the defining query",
							tle->resname),
					 errdetail("A view needs a distinct name for each column."),
					 errhint("Give each column its own alias, as in count(*) AS n.")));
		names = lappend(names, makeString(tle->resname));

		expr = over_group_columns((Node *) tle->expr, &context);
		appendStringInfo(&sql, "%s%s AS %s", first ? "" : ", ",
						 deparse_expression(expr, dpcontext, true, false),
						 quote_identifier(tle->resname));
		first = false;
	}
	appendStringInfo(&sql, " FROM %s c", internal_qualname(OBJ_GROUPS, id));
	if (def->query->havingQual)
	{
		Node	   *having = over_group_columns(def->query->havingQual,
												&context);

		appendStringInfo(&sql, " WHERE %s",
						 deparse_expression(having, dpcontext, true, false));
	}
	spi_run(sql.data, SPI_OK_UTILITY);
}
