/*-------------------------------------------------------------------------
 * view.c
 *	  Generate the three views of an aggregate.
 *
 * source_<id> maps base rows to the layout:
 *	   SELECT b.<time> AS __time, <bucket> AS g1, <key> AS g2, .., <arg> AS v1, ..
 *		 FROM <base> b WHERE <definition's WHERE>
 * PostgreSQL stores it as a parse tree, so renaming a base column changes
 * nothing and dropping one used by the aggregate is refused.  Everything
 * that reads base rows (capture, fold, recompute, the view) reads them
 * through it.
 *
 * groups_<id> holds the final value of each group as g1..gN, f1..fM.  In
 * batch mode it is history below the watermark W plus the raw rows at or
 * above W aggregated at query time.  In the streaming modes it combines, in
 * one snapshot:
 *	 C  groups with a dirty delta (a deleted min or max), recomputed from the
 *		base table, through the time index, one group at a time;
 *	 A  stored groups (history and recent) with no pending delta, as stored:
 *		A1 those whose bucket lies outside the range of pending buckets, and
 *		A2 those inside it, by an anti-join;
 *	 B  stored groups with a pending delta, plus the deltas, combined.
 * A, B and C partition the groups: B and A2 use the same (coarse, hashable)
 * match, and B drops the groups C recomputes.  History and recent never hold
 * the same group, never a group with no rows, and every delta is either
 * pending or folded, so the view is exact in every snapshot (DESIGN.md
 * invariant 1).
 *
 * Speed: A1 reads almost every row a query reads.  Its branches have no
 * WHERE clause of their own, so the planner flattens them into plain scans
 * of history and recent (a UNION ALL leaf with a WHERE clause would stay a
 * subquery, a layer that costs more than the scan).  Their filter is the
 * outer WHERE, which the planner pushes into each branch and folds away,
 * through the constant __branch, for the others.  The same holds for batch
 * mode's history branch.
 *
 * The user's view applies the defining query's select list and HAVING to
 * groups_<id>: the columns have exactly the names and types of the query.
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

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW %s AS SELECT b.%s AS __time",
					 internal_qualname(OBJ_SOURCE, id),
					 quote_identifier(get_attname(def->base_relid, def->time_attno, false)));
	i = 0;
	foreach(lc, def->key_exprs)
		appendStringInfo(&sql, ", %s AS g%d",
						 deparse_expression(lfirst(lc), context, true, false), ++i);
	i = 0;
	foreach(lc, def->arg_exprs)
		appendStringInfo(&sql, ", %s AS v%d",
						 deparse_expression(lfirst(lc), context, true, false), ++i);
	appendStringInfo(&sql, " FROM %s%s b",
					 def->base_inh ? "" : "ONLY ",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(def->base_relid)),
												get_rel_name(def->base_relid)));
	if (def->where)
		appendStringInfo(&sql, " WHERE %s",
						 deparse_expression(def->where, context, true, false));
	spi_run(sql.data, SPI_OK_UTILITY);
}

/* ----------------------------------------------------------------
 * groups_<id>
 * ----------------------------------------------------------------
 */

static void
append_finalized(StringInfo buf, const DefinedAggregate *agg, const AggLayout *layout)
{
	int			a = agg->arg;
	Oid			sum_type = InvalidOid;

	for (int i = 0; i < layout->nstates; i++)
		if (layout->states[i].kind == STATE_SUM && layout->states[i].arg == a)
			sum_type = layout->states[i].type;

	switch (agg->func)
	{
		case AGG_COUNT_STAR:
			appendStringInfoString(buf, "st.__rows");
			break;
		case AGG_COUNT:
			appendStringInfo(buf, "st.count_v%d", a);
			break;
		case AGG_SUM:
			appendStringInfo(buf, "CASE WHEN st.count_v%d > 0 THEN st.sum_v%d END", a, a);
			break;
		case AGG_AVG:
			/* the division PostgreSQL's own avg() final functions make */
			if (sum_type == INT8OID || sum_type == NUMERICOID)
				appendStringInfo(buf, "CASE WHEN st.count_v%d > 0 THEN st.sum_v%d::numeric / st.count_v%d::numeric END",
								 a, a, a);
			else
				appendStringInfo(buf, "CASE WHEN st.count_v%d > 0 THEN st.sum_v%d / st.count_v%d::float8 END",
								 a, a, a);
			break;
		case AGG_MIN:
			appendStringInfo(buf, "st.min_v%d", a);
			break;
		case AGG_MAX:
			appendStringInfo(buf, "st.max_v%d", a);
			break;
	}
}

/* "alias.g1, .., alias.__rows, .., N AS __branch" */
static void
append_branch_columns(StringInfo sql, const AggLayout *layout, const char *alias, int branch)
{
	append_keys(sql, layout, alias);
	appendStringInfoString(sql, ", ");
	append_states(sql, layout, alias);
	appendStringInfo(sql, ", %d AS __branch", branch);
}

/*
 * batch: the raw rows at or above W aggregated now (branch 1), history below
 * W (branch 0, filtered by the outer WHERE so that it stays a plain scan).
 */
static void
append_batch_groups(StringInfo sql, const AggLayout *layout, const AggregateEntry *entry)
{
	int32		id = entry->id;
	char	   *watermark;

	watermark = psprintf(entry->bucket.time_type == TIMESTAMPTZOID ?
						 "(SELECT a.watermark FROM %s.aggregate a WHERE a.id = %d)" :
						 "(SELECT timezone('UTC', a.watermark) FROM %s.aggregate a WHERE a.id = %d)",
						 INTERNAL_SCHEMA, id);

	appendStringInfoString(sql, "SELECT ");
	append_keys(sql, layout, "s");
	appendStringInfoString(sql, ", ");
	append_states_from_source(sql, layout, "s");
	appendStringInfo(sql, ", 1 AS __branch FROM %s s WHERE s.__time >= %s%s GROUP BY ",
					 internal_qualname(OBJ_SOURCE, id), watermark,
					 layout->keys[0].notnull ? "" : " OR s.__time IS NULL");
	append_keys(sql, layout, "s");
	appendStringInfoString(sql, " UNION ALL SELECT ");
	append_branch_columns(sql, layout, "h", 0);
	appendStringInfo(sql, " FROM %s h) st WHERE st.__branch = 1 OR st.g1 < %s",
					 internal_qualname(OBJ_HISTORY, id), watermark);
}

/* streaming modes: branches C, A1, A2 and B described at the top */
static void
append_streaming_groups(StringInfo sql, const AggLayout *layout, const AggregateEntry *entry)
{
	int32		id = entry->id;
	char	   *delta = internal_qualname(OBJ_DELTA, id);
	const char *stored[] = {internal_qualname(OBJ_HISTORY, id), internal_qualname(OBJ_RECENT, id)};
	StringInfoData coarse_t;
	StringInfoData coarse_d;
	StringInfoData match;
	char	   *bucket_t;
	char	   *bucket_d;
	char	   *bucket_st;
	const char *type = type_sql(layout->keys[0].type, -1);

	/* the coarse keys of a stored row t and of a delta d, and their bucket */
	initStringInfo(&coarse_t);
	append_coarse_key(&coarse_t, layout, "t");
	initStringInfo(&coarse_d);
	append_coarse_key(&coarse_d, layout, "d");
	initStringInfo(&match);
	appendStringInfo(&match, "ROW(%s) = ROW(%s)", coarse_d.data, coarse_t.data);
	bucket_t = layout->keys[0].notnull ? "t.g1" : psprintf("COALESCE(t.g1, '-infinity'::%s)", type);
	bucket_d = layout->keys[0].notnull ? "d.g1" : psprintf("COALESCE(d.g1, '-infinity'::%s)", type);
	bucket_st = layout->keys[0].notnull ? "st.g1" : psprintf("COALESCE(st.g1, '-infinity'::%s)", type);

	/* C: dirty groups, recomputed from the base table (first: lock order) */
	if (layout->has_extremes)
	{
		appendStringInfoString(sql, "SELECT ");
		append_keys(sql, layout, "g");
		appendStringInfoString(sql, ", ");
		append_states(sql, layout, "r");
		appendStringInfoString(sql, ", 1 AS __branch FROM (SELECT DISTINCT ");
		append_keys(sql, layout, "d");
		appendStringInfo(sql, " FROM %s d WHERE d.__dirty) g CROSS JOIN LATERAL (SELECT ", delta);
		append_states_from_source(sql, layout, "s");
		appendStringInfoString(sql, " FROM ");
		append_group_source(sql, layout, &entry->bucket, id, "g");
		appendStringInfoString(sql, ") r WHERE r.__rows > 0 UNION ALL ");
	}

	/* A1: every stored group, filtered by the outer WHERE */
	for (int i = 0; i < lengthof(stored); i++)
	{
		appendStringInfoString(sql, "SELECT ");
		append_branch_columns(sql, layout, "t", 0);
		appendStringInfo(sql, " FROM %s t UNION ALL ", stored[i]);
	}

	/* A2: stored groups inside the range of pending buckets, with no delta */
	for (int i = 0; i < lengthof(stored); i++)
	{
		appendStringInfoString(sql, "SELECT ");
		append_branch_columns(sql, layout, "t", 1);
		appendStringInfo(sql, " FROM %s t WHERE %s >= (SELECT min(%s) FROM %s d)"
						 " AND %s <= (SELECT max(%s) FROM %s d)"
						 " AND NOT EXISTS (SELECT FROM %s d WHERE %s) UNION ALL ",
						 stored[i], bucket_t, bucket_d, delta,
						 bucket_t, bucket_d, delta, delta, match.data);
	}

	/* B: stored groups with pending deltas, and the deltas, combined */
	appendStringInfoString(sql, "SELECT ");
	append_keys(sql, layout, "u");
	appendStringInfoString(sql, ", ");
	append_states_combined(sql, layout, "u");
	appendStringInfoString(sql, ", 1 AS __branch FROM (");
	for (int i = 0; i < lengthof(stored); i++)
	{
		appendStringInfoString(sql, "SELECT ");
		append_keys(sql, layout, "t");
		appendStringInfoString(sql, ", ");
		append_states(sql, layout, "t");
		appendStringInfo(sql, ", false AS __dirty FROM %s t WHERE EXISTS (SELECT FROM %s d WHERE %s) UNION ALL ",
						 stored[i], delta, match.data);
	}
	appendStringInfoString(sql, "SELECT ");
	append_keys(sql, layout, "d");
	appendStringInfoString(sql, ", ");
	append_states(sql, layout, "d");
	appendStringInfo(sql, ", d.__dirty FROM %s d) u GROUP BY ", delta);
	append_keys(sql, layout, "u");
	appendStringInfoString(sql, " HAVING sum(u.__rows) > 0");
	if (layout->has_extremes)
		appendStringInfoString(sql, " AND NOT bool_or(u.__dirty)");

	/* A1's filter: outside the range of pending buckets */
	appendStringInfo(sql, ") st WHERE st.__branch = 1"
					 " OR %s < COALESCE((SELECT min(%s) FROM %s d), 'infinity'::%s)"
					 " OR %s > COALESCE((SELECT max(%s) FROM %s d), '-infinity'::%s)",
					 bucket_st, bucket_d, delta, type, bucket_st, bucket_d, delta, type);
}

void
create_groups_view(const Definition *def, const AggregateEntry *entry)
{
	const AggLayout *layout = def->layout;
	StringInfoData sql;
	ListCell   *lc;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW %s AS SELECT ",
					 internal_qualname(OBJ_GROUPS, entry->id));
	append_keys(&sql, layout, "st");
	i = 0;
	foreach(lc, def->aggregates)
	{
		DefinedAggregate *agg = lfirst(lc);

		appendStringInfoString(&sql, ", (");
		append_finalized(&sql, agg, layout);
		appendStringInfo(&sql, ")::%s AS f%d", type_sql(agg->aggref->aggtype, -1), ++i);
	}
	appendStringInfoString(&sql, " FROM (");
	if (MODE_IS_STREAMING(entry->mode))
		append_streaming_groups(&sql, layout, entry);
	else
		append_batch_groups(&sql, layout, entry);
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
 * groups_<id>: group keys become g<i>, aggregate calls become f<j>.
 */
static Node *
over_group_columns(Node *node, GroupColumns *context)
{
	const Definition *def = context->def;
	ListCell   *lc;
	int			i;

	if (node == NULL)
		return NULL;

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
						get_attname(def->base_relid, ((Var *) node)->varattno, false)),
				 errdetail("The select list uses a column that is neither grouped nor aggregated."),
				 errhint("Add the column to GROUP BY, or aggregate it.")));
	return expression_tree_mutator(node, over_group_columns, (void *) context);
}

void
create_user_view(const Definition *def, int32 id, Oid namespace_oid, const char *relname)
{
	GroupColumns context = {def};
	List	   *dpcontext = deparse_context_for("c", internal_relid(OBJ_GROUPS, id, false));
	StringInfoData sql;
	ListCell   *lc;
	List	   *names = NIL;
	bool		first = true;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE VIEW %s AS SELECT ",
					 quote_qualified_identifier(get_namespace_name(namespace_oid), relname));
	foreach(lc, def->query->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Node	   *expr;

		if (tle->resjunk)
			continue;
		if (list_member(names, makeString(tle->resname)))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("column name \"%s\" appears more than once in the defining query", tle->resname),
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
		appendStringInfo(&sql, " WHERE %s",
						 deparse_expression(over_group_columns(def->query->havingQual, &context),
											dpcontext, true, false));
	spi_run(sql.data, SPI_OK_UTILITY);
}
