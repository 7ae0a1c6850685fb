/*-------------------------------------------------------------------------
 * layout.c
 *	  The columns of an aggregate's tables and the SQL over them.
 *
 * Partial states combine the way the aggregates themselves do: counts and
 * sums add (a deleted row adds a negative count and sum), min and max take
 * the least and greatest.  A sum or an average is NULL when its count of
 * non-null inputs is zero, so every sum_vI is kept next to count_vI.
 *
 * All SQL built here runs under fix_settings(): search_path is pg_catalog,
 * so built-in functions and operators need no schema, and every other name
 * is schema-qualified and quoted.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "layout.h"
#include "util.h"

static const char *const state_prefix[] = {"__rows", "count", "sum", "min", "max"};

char *
state_column_name(StateKind kind, int arg)
{
	if (kind == STATE_ROWS)
		return pstrdup("__rows");
	return psprintf("%s_v%d", state_prefix[kind], arg);
}

char *
type_sql(Oid type, int32 typmod)
{
	return format_type_extended(type, typmod,
								FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);
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
	for (int k = STATE_COUNT; k <= STATE_MAX; k++)
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

AggLayout *
layout_read(int32 id)
{
	AggLayout  *layout = palloc0(sizeof(AggLayout));
	Relation	history = table_open(internal_relid(OBJ_HISTORY, id, false), AccessShareLock);
	Relation	source = relation_open(internal_relid(OBJ_SOURCE, id, false), AccessShareLock);
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
			elog(ERROR, "unexpected column \"%s\" in %s",
				 NameStr(att->attname), internal_qualname(OBJ_HISTORY, id));
		col = &layout->states[layout->nstates++];
		read_column(col, att);
		col->kind = kind;
		col->arg = arg;
		if (kind == STATE_MIN || kind == STATE_MAX)
			layout->has_extremes = true;
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
		elog(ERROR, "%s does not have the layout of a hybridagg aggregate",
			 internal_qualname(OBJ_HISTORY, id));
	return layout;
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
		appendStringInfo(buf, " COLLATE %s", generate_collation_name(col->collation));
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

void
append_states_from_source(StringInfo buf, const AggLayout *layout, const char *src)
{
	for (int i = 0; i < layout->nstates; i++)
	{
		const LayoutColumn *col = &layout->states[i];

		if (i > 0)
			appendStringInfoString(buf, ", ");
		if (col->kind == STATE_ROWS)
			appendStringInfoString(buf, "count(*)");
		else
			appendStringInfo(buf, "%s(%s.v%d)", state_prefix[col->kind], src, col->arg);
		appendStringInfo(buf, " AS %s", quote_identifier(col->name));
	}
}

void
append_states_combined(StringInfo buf, const AggLayout *layout, const char *alias)
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
				appendStringInfo(buf, "min(%s.%s)", alias, name);
				break;
			case STATE_MAX:
				appendStringInfo(buf, "max(%s.%s)", alias, name);
				break;
		}
		appendStringInfo(buf, " AS %s", name);
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
				appendStringInfo(buf, "%s = LEAST(%s.%s, excluded.%s)", n, t, n, n);
				break;
			case STATE_MAX:
				appendStringInfo(buf, "%s = GREATEST(%s.%s, excluded.%s)", n, t, n, n);
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

void
append_key_match(StringInfo buf, const AggLayout *layout, const char *a, const char *b)
{
	for (int i = 0; i < layout->nkeys; i++)
	{
		const char *n = quote_identifier(layout->keys[i].name);

		if (i > 0)
			appendStringInfoString(buf, " AND ");
		appendStringInfo(buf, layout->keys[i].notnull ? "%s.%s = %s.%s" :
						 "%s.%s IS NOT DISTINCT FROM %s.%s", a, n, b, n);
	}
}

void
append_coarse_key(StringInfo buf, const AggLayout *layout, const char *alias)
{
	const LayoutColumn *bucket = &layout->keys[0];

	if (bucket->notnull)
		appendStringInfo(buf, "%s.%s", alias, quote_identifier(bucket->name));
	else
		appendStringInfo(buf, "COALESCE(%s.%s, '-infinity'::%s)", alias,
						 quote_identifier(bucket->name),
						 type_sql(bucket->type, -1));
	for (int i = 1; i < layout->nkeys; i++)
		if (layout->keys[i].notnull)
			appendStringInfo(buf, ", %s.%s", alias, quote_identifier(layout->keys[i].name));
}

void
append_dirty_recompute(StringInfo buf, const AggLayout *layout,
						const BucketSpec *spec, int32 id, const char *dirty_from)
{
	char	   *source = internal_qualname(OBJ_SOURCE, id);

	/*
	 * Every group of the dirty buckets, fenced (OFFSET 0) from the filter
	 * that keeps the dirty ones: each bucket's rows come through the time
	 * index, never from a scan of the whole table joined on the key.
	 */
	appendStringInfoString(buf, "SELECT r.* FROM (SELECT ");
	append_keys(buf, layout, "s");
	appendStringInfoString(buf, ", ");
	append_states_from_source(buf, layout, "s");
	appendStringInfo(buf, " FROM (SELECT s.* FROM (SELECT DISTINCT d.g1 FROM %s AND d.g1 IS NOT NULL) b"
					 " CROSS JOIN LATERAL (SELECT s.* FROM %s s WHERE s.__time >= b.g1 AND s.__time < ",
					 dirty_from, source);
	append_bucket_end_sql(buf, spec, "b.g1");
	appendStringInfoString(buf, ") s");
	if (!layout->keys[0].notnull)
		appendStringInfo(buf, " UNION ALL SELECT s.* FROM %s s WHERE s.__time IS NULL"
						 " AND EXISTS (SELECT FROM %s AND d.g1 IS NULL)",
						 source, dirty_from);
	appendStringInfoString(buf, ") s GROUP BY ");
	append_keys(buf, layout, "s");
	appendStringInfo(buf, " OFFSET 0) r WHERE EXISTS (SELECT FROM %s AND ", dirty_from);
	append_key_match(buf, layout, "d", "r");
	appendStringInfoChar(buf, ')');
}
