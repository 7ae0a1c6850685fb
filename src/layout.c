/*-------------------------------------------------------------------------
 * layout.c
 *	  The columns of an aggregate's tables and the SQL over them.
 *
 * Partial states combine the way the aggregates themselves do: counts and
 * sums add (a deleted row adds a negative count and sum), min and max take
 * the least and greatest in the order of the type's default btree operator
 * class, as min() and max() do (hybridagg_internal.least_of and
 * greatest_of, and LEAST and GREATEST).  A sum or an average is NULL when
 * its count of non-null inputs is zero, so every sum_vI is kept next to
 * count_vI.  A float or numeric sum adds up its finite values only and
 * counts NaN, +Infinity and -Infinity apart, as PostgreSQL's own numeric
 * aggregates do: a sum cannot subtract an infinity back, a count can.  Any
 * aggregate that PostgreSQL can combine is kept as its own transition state
 * (state_K, combined_states.c): a statement's rows are fed to its
 * transition function, states are combined with its combine function, and
 * a deleted row makes its group dirty.  Any other aggregate is kept as its
 * value (value_K), which no partial result can update: every change makes
 * its group dirty, and the group is recomputed with the aggregate itself.
 * Both read the aggregate from values_<id>.
 *
 * All SQL built here runs under fix_settings(): search_path is pg_catalog,
 * so built-in functions and operators of built-in types need no schema.
 * Keys of any other type are compared with the equality operator of their
 * type's default operator class, named by schema; every other name is
 * schema-qualified and quoted.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/typcache.h"

#include "layout.h"
#include "util.h"

static const char *const state_prefix[] = {
	"__rows", "count", "sum", "min", "max", "nan", "posinf", "neginf", "value",
	"state"
};

char *
state_column_name(StateKind kind, int arg)
{
	if (kind == STATE_ROWS)
		return pstrdup("__rows");
	if (kind == STATE_VALUE || kind == STATE_COMBINED)
		return psprintf("%s_%d", state_prefix[kind], arg);
	return psprintf("%s_v%d", state_prefix[kind], arg);
}

bool
sum_counts_nonfinite(Oid type)
{
	return type == FLOAT4OID || type == FLOAT8OID || type == NUMERICOID;
}

/*
 * numeric(p, s) gives every value the scale s; any other numeric keeps the
 * scale each value was written with, and sum() shows the largest.
 */
bool
sum_shows_largest_scale(Oid type, int32 typmod)
{
	return type == NUMERICOID && typmod < 0;
}

bool
state_deletes_dirty(const AggLayout *layout, const LayoutColumn *state)
{
	const LayoutColumn *arg;

	if (state->kind == STATE_MIN || state->kind == STATE_MAX ||
		state->kind == STATE_VALUE || state->kind == STATE_COMBINED)
		return true;
	if (state->kind != STATE_SUM)
		return false;
	arg = &layout->args[state->arg - 1];
	return sum_shows_largest_scale(arg->type, arg->typmod);
}

char *
type_sql(Oid type, int32 typmod)
{
	return format_type_extended(type, typmod,
								FORMAT_TYPE_TYPEMOD_GIVEN |
								FORMAT_TYPE_FORCE_QUALIFY);
}

static void
read_column(LayoutColumn *col, Form_pg_attribute att)
{
	col->name = pstrdup(NameStr(att->attname));
	col->type = att->atttypid;
	col->typmod = att->atttypmod;
	col->collation = att->attcollation;
	col->notnull = att->attnotnull;
}

static bool
parse_state_name(const char *name, StateKind *kind, int *arg)
{
	if (strcmp(name, "__rows") == 0)
	{
		*kind = STATE_ROWS;
		*arg = 0;
		return true;
	}
	if (sscanf(name, "value_%d", arg) == 1)
	{
		*kind = STATE_VALUE;
		return true;
	}
	if (sscanf(name, "state_%d", arg) == 1)
	{
		*kind = STATE_COMBINED;
		return true;
	}
	for (int k = STATE_COUNT; k < STATE_VALUE; k++)
	{
		size_t		len = strlen(state_prefix[k]);

		if (strncmp(name, state_prefix[k], len) == 0 &&
			strncmp(name + len, "_v", 2) == 0 &&
			sscanf(name + len + 2, "%d", arg) == 1)
		{
			*kind = (StateKind) k;
			return true;
		}
	}
	return false;
}

/* a collation as a regcollation, by OID, or NULL for none */
char *
collation_sql(Oid collation)
{
	if (!OidIsValid(collation))
		return pstrdup("NULL::regcollation");
	return psprintf("'%u'::regcollation", collation);
}

/* the aggregate of hybridagg_internal.partial_state(aggregate, ...) */
static Oid
partial_state_aggregate(Node *expr)
{
	Aggref	   *partial = (Aggref *) expr;
	Const	   *aggregate;

	if (!IsA(expr, Aggref) || partial->args == NIL ||
		!IsA(linitial_node(TargetEntry, partial->args)->expr, Const))
		elog(ERROR, "a combined state of values_<id> is not a partial_state() of a constant aggregate");
	aggregate = (Const *) linitial_node(TargetEntry, partial->args)->expr;
	if (aggregate->consttype != REGPROCEDUREOID || aggregate->constisnull)
		elog(ERROR, "a combined state of values_<id> names no aggregate");
	return DatumGetObjectId(aggregate->constvalue);
}

AggLayout *
layout_read(int32 id)
{
	AggLayout  *layout = palloc0(sizeof(AggLayout));
	Relation	history = table_open(internal_relid(OBJ_HISTORY, id, false),
									 AccessShareLock);
	Relation	source = relation_open(internal_relid(OBJ_SOURCE, id, false),
									   AccessShareLock);
	TupleDesc	hdesc = RelationGetDescr(history);
	TupleDesc	sdesc = RelationGetDescr(source);

	layout->keys = palloc0(sizeof(LayoutColumn) * hdesc->natts);
	layout->states = palloc0(sizeof(LayoutColumn) * hdesc->natts);
	layout->args = palloc0(sizeof(LayoutColumn) * sdesc->natts);

	for (int i = 0; i < hdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(hdesc, i);
		LayoutColumn *col;
		StateKind	kind;
		int			arg;

		if (att->attisdropped)
			continue;
		if (NameStr(att->attname)[0] == 'g')
		{
			read_column(&layout->keys[layout->nkeys++], att);
			continue;
		}
		if (!parse_state_name(NameStr(att->attname), &kind, &arg))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("unexpected column \"%s\" in %s",
							NameStr(att->attname),
							internal_qualname(OBJ_HISTORY, id)),
					 errdetail("The internal tables of a hybridagg aggregate have the columns hybridagg gave them."),
					 errhint("Drop the column, or drop the aggregate and create it again.")));
		col = &layout->states[layout->nstates++];
		read_column(col, att);
		col->kind = kind;
		col->arg = arg;
	}
	for (int i = 0; i < sdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(sdesc, i);

		if (!att->attisdropped && NameStr(att->attname)[0] == 'v')
			read_column(&layout->args[layout->nargs++], att);
	}
	relation_close(source, AccessShareLock);
	table_close(history, AccessShareLock);

	if (layout->nkeys == 0 || layout->nstates == 0 ||
		layout->states[0].kind != STATE_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s does not have the layout of a hybridagg aggregate",
						internal_qualname(OBJ_HISTORY, id)),
				 errhint("Drop the aggregate and create it again.")));
	for (int i = 0; i < layout->nstates; i++)
	{
		if (state_deletes_dirty(layout, &layout->states[i]))
			layout->deletes_dirty = true;
		if (layout->states[i].kind == STATE_VALUE)
			layout->changes_dirty = true;
		if (layout->states[i].kind == STATE_VALUE ||
			layout->states[i].kind == STATE_COMBINED)
			layout->has_values = true;
	}
	layout_read_values(layout, id);
	return layout;
}

void
layout_read_values(AggLayout *layout, int32 id)
{
	Relation	values;
	Query	   *query;
	int			rtindex;

	layout->source_relid = internal_relid(OBJ_SOURCE, id, false);
	if (!layout->has_values)
		return;
	values = relation_open(internal_relid(OBJ_VALUES, id, false),
						   AccessShareLock);
	query = get_view_query(values);

	/*
	 * a view's query has *OLD* and *NEW* first: source_<id> is FROM's one
	 * entry
	 */
	rtindex = linitial_node(RangeTblRef, query->jointree->fromlist)->rtindex;
	for (int i = 0; i < layout->nstates; i++)
	{
		LayoutColumn *col = &layout->states[i];
		TargetEntry *tle;

		if (col->kind != STATE_VALUE && col->kind != STATE_COMBINED)
			continue;
		tle = list_nth_node(TargetEntry, query->targetList,
							layout->nkeys + col->arg - 1);
		col->value_expr = copyObject((Node *) tle->expr);
		if (rtindex != 1)
			ChangeVarNodes(col->value_expr, rtindex, 1, 0);
		if (col->kind == STATE_COMBINED)
		{
			col->aggfnoid = partial_state_aggregate(col->value_expr);
			col->inputcollid = ((Aggref *) col->value_expr)->inputcollid;
		}
	}
	relation_close(values, AccessShareLock);
}

static void
append_prefixed(StringInfo buf, const char *alias, const char *name)
{
	if (alias)
		appendStringInfo(buf, "%s.", alias);
	appendStringInfoString(buf, quote_identifier(name));
}

void
append_keys(StringInfo buf, const AggLayout *layout, const char *alias)
{
	for (int i = 0; i < layout->nkeys; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		append_prefixed(buf, alias, layout->keys[i].name);
	}
}

void
append_states(StringInfo buf, const AggLayout *layout, const char *alias)
{
	for (int i = 0; i < layout->nstates; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		append_prefixed(buf, alias, layout->states[i].name);
	}
}

static void
append_column_def(StringInfo buf, const LayoutColumn *col)
{
	appendStringInfo(buf, "%s %s", quote_identifier(col->name),
					 type_sql(col->type, col->typmod));
	if (OidIsValid(col->collation) &&
		col->collation != get_typcollation(col->type))
		appendStringInfo(buf, " COLLATE %s",
						 generate_collation_name(col->collation));
	if (col->notnull)
		appendStringInfoString(buf, " NOT NULL");
}

void
append_column_defs(StringInfo buf, const AggLayout *layout, bool with_dirty)
{
	for (int i = 0; i < layout->nkeys; i++)
	{
		append_column_def(buf, &layout->keys[i]);
		appendStringInfoString(buf, ", ");
	}
	for (int i = 0; i < layout->nstates; i++)
	{
		if (i > 0)
			appendStringInfoString(buf, ", ");
		append_column_def(buf, &layout->states[i]);
	}
	if (with_dirty)
		appendStringInfoString(buf, ", __dirty pg_catalog.bool NOT NULL");
}

/* the condition that value v (SQL) of a float or numeric column is ... */
static const char *
nonfinite_test(StateKind kind)
{
	switch (kind)
	{
		case STATE_NAN:
			return "= 'NaN'";
		case STATE_POSINF:
			return "= 'Infinity'";
		case STATE_NEGINF:
			return "= '-Infinity'";
		default:
			return NULL;
	}
}

void
append_states_from_source(StringInfo buf, const AggLayout *layout,
						  const char *src)
{
	for (int i = 0; i < layout->nstates; i++)
	{
		const LayoutColumn *col = &layout->states[i];
		char	   *v = psprintf("%s.v%d", src, col->arg);
		const char *argtype = col->arg > 0 && col->kind != STATE_VALUE &&
		col->kind != STATE_COMBINED ?
		type_sql(layout->args[col->arg - 1].type, -1) : NULL;
		List	   *context;

		if (i > 0)
			appendStringInfoString(buf, ", ");
		switch (col->kind)
		{
			case STATE_ROWS:
				appendStringInfoString(buf, "count(*)");
				break;
			case STATE_COUNT:
				appendStringInfo(buf, "count(%s)", v);
				break;
			case STATE_SUM:
				if (sum_counts_nonfinite(layout->args[col->arg - 1].type))
					appendStringInfo(buf,
									 "sum(%s) FILTER (WHERE %s <> 'NaN'::%s "
									 "AND abs(%s) <> 'Infinity'::%s)",
									 v, v, argtype, v, argtype);
				else
					appendStringInfo(buf, "sum(%s)", v);
				break;
			case STATE_MIN:
				appendStringInfo(buf, "%s.least_of(%s)", INTERNAL_SCHEMA, v);
				break;
			case STATE_MAX:
				appendStringInfo(buf, "%s.greatest_of(%s)", INTERNAL_SCHEMA, v);
				break;
			case STATE_NAN:
			case STATE_POSINF:
			case STATE_NEGINF:
				appendStringInfo(buf,
								 "nullif(count(*) FILTER "
								 "(WHERE %s %s::%s), 0)",
								 v, nonfinite_test(col->kind), argtype);
				break;
			case STATE_VALUE:
			case STATE_COMBINED:
				/* the aggregate itself, or its partial_state(), over src */
				context = deparse_context_for(src, layout->source_relid);
				appendStringInfoString(buf,
									   deparse_expression(col->value_expr,
														  context, true,
														  false));
				break;
		}
		appendStringInfo(buf, " AS %s", quote_identifier(col->name));
	}
}

void
append_states_combined(StringInfo buf, const AggLayout *layout,
					   const char *alias)
{
	for (int i = 0; i < layout->nstates; i++)
	{
		const LayoutColumn *col = &layout->states[i];
		const char *name = quote_identifier(col->name);

		if (i > 0)
			appendStringInfoString(buf, ", ");
		switch (col->kind)
		{
			case STATE_ROWS:
			case STATE_COUNT:
			case STATE_SUM:
				/* sum() of bigint is numeric: cast back to the state's type */
				appendStringInfo(buf, "sum(%s.%s)::%s", alias, name,
								 type_sql(col->type, col->typmod));
				break;
			case STATE_MIN:
				appendStringInfo(buf, "%s.least_of(%s.%s)", INTERNAL_SCHEMA,
								 alias, name);
				break;
			case STATE_MAX:
				appendStringInfo(buf, "%s.greatest_of(%s.%s)",
								 INTERNAL_SCHEMA, alias, name);
				break;
			case STATE_NAN:
			case STATE_POSINF:
			case STATE_NEGINF:
				/* counts of a group that cancel out read as none */
				appendStringInfo(buf, "nullif(sum(%s.%s), 0)::int8",
								 alias, name);
				break;
			case STATE_VALUE:

				/*
				 * a recomputed group's value, beside the empty rows of its
				 * key
				 */
				appendStringInfo(buf, "%s.any_value(%s.%s)",
								 INTERNAL_SCHEMA, alias, name);
				break;
			case STATE_COMBINED:
				appendStringInfo(buf, "%s.combine_states('%u'::regprocedure, "
								 "%s, %s.%s)", INTERNAL_SCHEMA, col->aggfnoid,
								 collation_sql(col->inputcollid), alias, name);
				break;
		}
		appendStringInfo(buf, " AS %s", name);
	}
}

void
append_states_empty(StringInfo buf, const AggLayout *layout)
{
	for (int i = 0; i < layout->nstates; i++)
	{
		const LayoutColumn *col = &layout->states[i];

		if (i > 0)
			appendStringInfoString(buf, ", ");
		if (col->kind == STATE_ROWS || col->kind == STATE_COUNT)
			appendStringInfoString(buf, "0::int8");
		else
			appendStringInfo(buf, "NULL::%s", type_sql(col->type, col->typmod));
		appendStringInfo(buf, " AS %s", quote_identifier(col->name));
	}
}

void
append_states_added(StringInfo buf, const AggLayout *layout, const char *t)
{
	for (int i = 0; i < layout->nstates; i++)
	{
		const LayoutColumn *col = &layout->states[i];
		const char *n = quote_identifier(col->name);

		if (i > 0)
			appendStringInfoString(buf, ", ");
		switch (col->kind)
		{
			case STATE_ROWS:
			case STATE_COUNT:
				appendStringInfo(buf, "%s = %s.%s + excluded.%s", n, t, n, n);
				break;
			case STATE_SUM:
				appendStringInfo(buf,
								 "%s = CASE WHEN %s.%s IS NULL THEN excluded.%s"
								 " WHEN excluded.%s IS NULL THEN %s.%s"
								 " ELSE %s.%s + excluded.%s END",
								 n, t, n, n, n, t, n, t, n, n);
				break;
			case STATE_MIN:
				/* LEAST and GREATEST order by the type's default btree class */
				appendStringInfo(buf, "%s = LEAST(%s.%s, excluded.%s)",
								 n, t, n, n);
				break;
			case STATE_MAX:
				appendStringInfo(buf, "%s = GREATEST(%s.%s, excluded.%s)",
								 n, t, n, n);
				break;
			case STATE_VALUE:
				/* never added to: every change of its group makes it dirty */
				appendStringInfo(buf, "%s = excluded.%s", n, n);
				break;
			case STATE_COMBINED:
				appendStringInfo(buf, "%s = %s.combine_two('%u'::regprocedure, "
								 "%s, %s.%s, excluded.%s)", n, INTERNAL_SCHEMA,
								 col->aggfnoid, collation_sql(col->inputcollid),
								 t, n, n);
				break;
			case STATE_NAN:
			case STATE_POSINF:
			case STATE_NEGINF:
				appendStringInfo(buf,
								 "%s = nullif(coalesce(%s.%s, 0) + "
								 "coalesce(excluded.%s, 0), 0)",
								 n, t, n, n);
				break;
		}
	}
}

void
append_states_replaced(StringInfo buf, const AggLayout *layout)
{
	for (int i = 0; i < layout->nstates; i++)
	{
		const char *n = quote_identifier(layout->states[i].name);

		if (i > 0)
			appendStringInfoString(buf, ", ");
		appendStringInfo(buf, "%s = excluded.%s", n, n);
	}
}

/* "a.col OPERATOR(schema.=) b.col", with the equality of col's type */
static void
append_equal(StringInfo buf, const LayoutColumn *col, const char *a,
			 const char *b)
{
	TypeCacheEntry *tc = lookup_type_cache(col->type, TYPECACHE_EQ_OPR);

	if (!OidIsValid(tc->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("could not identify an equality operator for type %s",
						format_type_be(col->type)),
				 errhint("Group by a type with a default btree or hash operator class.")));
	generate_operator_clause(buf, a, col->type, tc->eq_opr, b, col->type);
}

void
append_key_match(StringInfo buf, const AggLayout *layout, const char *a,
				 const char *b)
{
	for (int i = 0; i < layout->nkeys; i++)
	{
		const LayoutColumn *col = &layout->keys[i];
		char	   *x = psprintf("%s.%s", a, quote_identifier(col->name));
		char	   *y = psprintf("%s.%s", b, quote_identifier(col->name));

		if (i > 0)
			appendStringInfoString(buf, " AND ");
		if (col->notnull)
			append_equal(buf, col, x, y);
		else
		{
			appendStringInfoString(buf, "(");
			append_equal(buf, col, x, y);
			appendStringInfo(buf, " OR (%s IS NULL AND %s IS NULL))", x, y);
		}
	}
}

char *
bucket_extreme_sql(Oid type, bool highest)
{
	switch (type)
	{
		case INT2OID:
			return highest ? "'32767'::pg_catalog.int2" :
				"'-32768'::pg_catalog.int2";
		case INT4OID:
			return highest ? "'2147483647'::pg_catalog.int4" :
				"'-2147483648'::pg_catalog.int4";
		case INT8OID:
			return highest ? "'9223372036854775807'::pg_catalog.int8" :
				"'-9223372036854775808'::pg_catalog.int8";
		default:
			return psprintf("'%sinfinity'::%s", highest ? "" : "-",
							type_sql(type, -1));
	}
}

void
append_coarse_match(StringInfo buf, const AggLayout *layout, const char *a,
					const char *b)
{
	const LayoutColumn *bucket = &layout->keys[0];

	if (bucket->notnull)
		append_equal(buf, bucket, psprintf("%s.g1", a), psprintf("%s.g1", b));
	else
	{
		const char *lowest = bucket_extreme_sql(bucket->type, false);

		append_equal(buf, bucket,
					 psprintf("COALESCE(%s.g1, %s)", a, lowest),
					 psprintf("COALESCE(%s.g1, %s)", b, lowest));
	}
	for (int i = 1; i < layout->nkeys; i++)
	{
		const LayoutColumn *col = &layout->keys[i];

		if (!col->notnull)
			continue;
		appendStringInfoString(buf, " AND ");
		append_equal(buf, col,
					 psprintf("%s.%s", a, quote_identifier(col->name)),
					 psprintf("%s.%s", b, quote_identifier(col->name)));
	}
}
