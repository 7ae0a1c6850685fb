/*-------------------------------------------------------------------------
 * definition.c
 *	  Parse, analyse and check the defining query of an aggregate.
 *
 * What is accepted (README.md, "Accepted queries", says it for users):
 *	 SELECT <group keys and aggregates> FROM <one table> [WHERE <immutable>]
 *	 GROUP BY <one time bucket>, <other keys> [HAVING ...] [ORDER BY: ignored]
 * where the time bucket is date_bin(interval, t, origin),
 * date_trunc(unit, timestamp t) or date_trunc(unit, timestamptz t, zone) on a
 * column t, a timestamp or timestamptz column itself, an integer bucket, or
 * a label of a bucket (t::date, a bucket plus a constant interval: "Buckets
 * written as a label of a bucket" below), and the aggregates any
 * deterministic ones: count(*), count, sum,
 * avg, min and max (also with FILTER) kept in partial states, every other one
 * (DISTINCT, ORDER BY inside, WITHIN GROUP, FILTER) as its value, recomputed
 * from the base table whenever its group changes.
 *
 * Everything else is refused here, before any object exists, with an
 * errcode, a one-line message, a detail naming the offending part and a hint
 * saying what to write instead.  Where the offending part has a position in
 * the query, the error points at it.
 *
 * The query is analysed in the caller's session: its search_path resolves
 * names and its TimeZone reads literals such as a date_bin origin.  From then
 * on the definition is a tree of resolved objects and constants, and no
 * session setting can change what it means.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/dependency.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parse_coerce.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "combined_states.h"
#include "definition.h"
#include "util.h"

/* the hint of an error about the defining query's shape */
static int
errhint_shape(void)
{
	return errhint("Define the aggregate as SELECT <bucket>, <keys>, <aggregates> FROM <table> [WHERE ...] GROUP BY <bucket>, <keys>.");
}

/* ----------------------------------------------------------------
 * Error positions: point into the defining query, not the CALL
 * ----------------------------------------------------------------
 */

static void
definition_error_callback(void *arg)
{
	const char *query_text = (const char *) arg;
	int			position = geterrposition();

	if (position > 0)
	{
		errposition(0);
		internalerrposition(position);
		internalerrquery(query_text);
	}
	errcontext("defining query of a hybridagg aggregate");
}

static int
query_position(const Definition *def, int location)
{
	if (location < 0)
		return 0;
	internalerrquery(def->query_text);
	return internalerrposition(location + 1);
}

/* ----------------------------------------------------------------
 * Parsing
 * ----------------------------------------------------------------
 */

static RawStmt *
parse_one_statement(const char *query_text)
{
	List	   *statements = NIL;
	MemoryContext context = CurrentMemoryContext;
	RawStmt    *raw;

	PG_TRY();
	{
		statements = raw_parser(query_text, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("the defining query is not valid SQL"),
				 errdetail("%s", edata->message),
				 errhint("Pass the query as text, for example $$SELECT date_bin('1 minute', ts, '2000-01-01') AS bucket, count(*) FROM events GROUP BY 1$$."),
				 edata->cursorpos > 0 ?
				 internalerrposition(edata->cursorpos) : 0,
				 edata->cursorpos > 0 ? internalerrquery(query_text) : 0));
	}
	PG_END_TRY();

	if (list_length(statements) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the defining query must be exactly one statement"),
				 errdetail("The text holds %d statements.",
						   list_length(statements)),
				 errhint("Pass one SELECT ... GROUP BY query, without a trailing statement.")));

	raw = linitial_node(RawStmt, statements);
	if (!IsA(raw->stmt, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("the defining query must be a SELECT"),
				 errdetail("The text is a %s statement.",
						   CreateCommandName(raw->stmt)),
				 errhint_shape()));
	if (((SelectStmt *) raw->stmt)->intoClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("SELECT INTO is not supported in the defining query"),
				 errdetail("The query creates a table."),
				 errhint("Remove the INTO clause: the aggregate is kept in its own tables.")));
	return raw;
}

static Query *
analyze_statement(RawStmt *raw, const char *query_text)
{
	ErrorContextCallback callback;
	Query	   *query;

	callback.callback = definition_error_callback;
	callback.arg = (void *) query_text;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	query = parse_analyze_fixedparams(raw, query_text, NULL, 0, NULL);

	error_context_stack = callback.previous;
	return query;
}

/* ----------------------------------------------------------------
 * Shape of the query
 * ----------------------------------------------------------------
 */

static void
refuse_construct(const char *construct, const char *detail, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s are not supported in the defining query", construct),
			 errdetail("%s", detail),
			 errhint("%s", hint)));
}

static void
check_query_shape(Definition *def)
{
	Query	   *q = def->query;

	if (q->commandType != CMD_SELECT || q->utilityStmt != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("the defining query must be a SELECT"),
				 errdetail("The text is not a plain SELECT."),
				 errhint_shape()));
	if (q->setOperations != NULL)
		refuse_construct("UNION, INTERSECT and EXCEPT",
						 "The query combines several SELECTs.",
						 "Create one aggregate per SELECT, and combine their views in a query of your own.");
	if (q->cteList != NIL)
		refuse_construct("WITH queries",
						 "The query has a WITH clause.",
						 "Aggregate the table directly; move the WITH query into a view over the aggregate.");
	if (q->hasSubLinks)
		refuse_construct("subqueries",
						 "The query contains a subquery (a sub-SELECT, EXISTS, IN or ANY over a SELECT).",
						 "Filter the table with plain expressions over its own columns.");
	if (q->hasWindowFuncs)
		refuse_construct("window functions",
						 "The query calls a window function (OVER ...).",
						 "Apply the window function in a query over the aggregate's view.");
	if (q->hasTargetSRFs)
		refuse_construct("set-returning functions",
						 "The select list calls a function that returns a set.",
						 "Call it in a query over the aggregate's view.");
	if (q->rowMarks != NIL || q->hasForUpdate)
		refuse_construct("FOR UPDATE and FOR SHARE clauses",
						 "The query locks rows.",
						 "Remove the locking clause.");
	if (q->distinctClause != NIL)
		refuse_construct("SELECT DISTINCT and DISTINCT ON",
						 "The query removes duplicate rows.",
						 "Remove DISTINCT: GROUP BY already returns one row per group.");
	if (q->groupingSets != NIL)
		refuse_construct("GROUPING SETS, ROLLUP and CUBE",
						 "The query groups by several sets of keys.",
						 "Create one aggregate at the finest grouping and roll it up in queries over its view.");
	if (q->limitCount != NULL || q->limitOffset != NULL)
		refuse_construct("LIMIT and OFFSET",
						 "The query keeps only some of its groups.",
						 "Remove LIMIT and OFFSET; use them in queries over the aggregate's view.");
	if (q->sortClause != NIL)
		ereport(NOTICE,
				(errmsg("ORDER BY of the defining query is ignored"),
				 errhint("Add ORDER BY to the queries that read the aggregate's view.")));
}

/* "events and devices": the relations of a FROM clause, for messages */
static char *
from_items(Query *q)
{
	StringInfoData names;
	List	   *relations = NIL;
	ListCell   *lc;

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_RELATION)
			relations = lappend(relations, get_rel_name(rte->relid));
		else if (rte->rtekind != RTE_JOIN)
			relations = lappend(relations, rte->eref->aliasname);
	}
	initStringInfo(&names);
	foreach(lc, relations)
	{
		int			i = foreach_current_index(lc);

		if (i > 0)
			appendStringInfoString(&names,
								   i == list_length(relations) - 1 ?
								   " and " : ", ");
		appendStringInfo(&names, "\"%s\"", (char *) lfirst(lc));
	}
	return names.data;
}

static void
check_from_clause(Definition *def)
{
	Query	   *q = def->query;
	RangeTblEntry *rte;
	RangeTblRef *ref;
	Relation	rel;
	char		relkind;

	if (q->jointree == NULL || q->jointree->fromlist == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the defining query must read a table"),
				 errdetail("The query has no FROM clause."),
				 errhint_shape()));
	if (list_length(q->jointree->fromlist) > 1 ||
		!IsA(linitial(q->jointree->fromlist), RangeTblRef))
		refuse_construct("joins",
						 psprintf("The FROM clause reads %s.", from_items(q)),
						 "Aggregate one table; join the aggregate's view with the other tables at query time, or copy the needed column into the table.");

	ref = linitial_node(RangeTblRef, q->jointree->fromlist);
	rte = rt_fetch(ref->rtindex, q->rtable);
	if (rte->rtekind != RTE_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the defining query must read a table"),
				 errdetail("The FROM clause reads a %s.",
						   rte->rtekind == RTE_SUBQUERY ? "subquery" :
						   rte->rtekind == RTE_FUNCTION ? "function" :
						   rte->rtekind == RTE_VALUES ? "VALUES list" :
						   "non-table source"),
				 errhint_shape()));

	rel = relation_open(rte->relid, AccessShareLock);
	relkind = rel->rd_rel->relkind;
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel)),
				 errdetail("hybridagg captures changes of plain and partitioned tables; \"%s\" is a %s.",
						   RelationGetRelationName(rel),
						   relkind == RELKIND_VIEW ? "view" :
						   relkind == RELKIND_MATVIEW ? "materialized view" :
						   relkind == RELKIND_FOREIGN_TABLE ? "foreign table" :
						   "relation of another kind"),
				 errhint("Aggregate the table that the %s reads.",
						 relkind == RELKIND_FOREIGN_TABLE ?
						 "foreign server" : "view")));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"%s\" is a temporary table",
						RelationGetRelationName(rel)),
				 errdetail("An aggregate outlives the session, a temporary table does not."),
				 errhint("Aggregate a permanent table.")));
	if (rel->rd_rel->relrowsecurity)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"%s\" has row-level security enabled",
						RelationGetRelationName(rel)),
				 errdetail("An aggregate would sum rows across policies, and show every reader totals of rows they may not see."),
				 errhint("Aggregate a table without row-level security, or a table that holds only rows all readers may see.")));
	relation_close(rel, NoLock);

	def->base_relid = rte->relid;
	def->base_inh = rte->inh;
	def->where = q->jointree->quals;
}

/* ----------------------------------------------------------------
 * The time bucket
 * ----------------------------------------------------------------
 */

static bool
is_bucket_function(Oid funcid)
{
	switch (funcid)
	{
		case F_DATE_BIN_INTERVAL_TIMESTAMPTZ_TIMESTAMPTZ:
		case F_DATE_BIN_INTERVAL_TIMESTAMP_TIMESTAMP:
		case F_DATE_TRUNC_TEXT_TIMESTAMP:
		case F_DATE_TRUNC_TEXT_TIMESTAMPTZ:
		case F_DATE_TRUNC_TEXT_TIMESTAMPTZ_TEXT:
			return true;
		default:
			return false;
	}
}

/*
 * timestamptz plus or minus a constant interval of hours, minutes and
 * seconds only: PostgreSQL marks it stable, since a day or a month added
 * depends on the TimeZone, but a fixed span does not.
 */
static bool
zone_free_interval_arithmetic(Node *node)
{
	Oid			funcid;
	List	   *args;
	ListCell   *lc;

	if (!function_call(node, &funcid, &args))
		return false;
	if (funcid != F_TIMESTAMPTZ_PL_INTERVAL &&
		funcid != F_TIMESTAMPTZ_MI_INTERVAL &&
		funcid != F_INTERVAL_PL_TIMESTAMPTZ)
		return false;
	foreach(lc, args)
	{
		Node	   *arg = lfirst(lc);

		if (exprType(arg) != INTERVALOID)
			continue;
		if (!IsA(arg, Const) || ((Const *) arg)->constisnull)
			return false;
		if (DatumGetIntervalP(((Const *) arg)->constvalue)->month != 0 ||
			DatumGetIntervalP(((Const *) arg)->constvalue)->day != 0)
			return false;
	}
	return true;
}

static Const *
constant_argument(Definition *def, FuncExpr *call, int n, const char *what)
{
	Node	   *arg = eval_const_expressions(NULL, list_nth(call->args, n));

	/*
	 * an origin such as '2000-01-01 00:00+00'::timestamptz - interval '2.5
	 * minutes'
	 */
	if (zone_free_interval_arithmetic(arg))
	{
		List	   *args;
		Oid			funcid;
		Const	   *left;
		Const	   *right;

		if (IsA(arg, OpExpr))
		{
			args = ((OpExpr *) arg)->args;
			funcid = get_opcode(((OpExpr *) arg)->opno);
		}
		else
		{
			args = ((FuncExpr *) arg)->args;
			funcid = ((FuncExpr *) arg)->funcid;
		}
		left = (Const *) linitial(args);
		right = (Const *) lsecond(args);
		if (IsA(left, Const) && IsA(right, Const) &&
			!left->constisnull && !right->constisnull)
			arg = (Node *) makeConst(TIMESTAMPTZOID, -1, InvalidOid,
									 sizeof(TimestampTz),
									 OidFunctionCall2(funcid, left->constvalue,
													  right->constvalue),
									 false, FLOAT8PASSBYVAL);
	}

	if (!IsA(arg, Const) || ((Const *) arg)->constisnull)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the %s of the time bucket must be a constant", what),
				 errdetail("Argument %d of %s() is %s.", n + 1,
						   get_func_name(call->funcid),
						   IsA(arg, Const) ? "NULL" :
						   "an expression that changes from row to row"),
				 errhint("Write it as a literal, for example date_bin('1 minute', ts, '2000-01-01 00:00+00')."),
				 query_position(def, exprLocation((Node *) call))));
	return (Const *) arg;
}

/* the zone of date_trunc(unit, ts, zone) must exist */
static void
check_zone(Definition *def, BucketSpec *spec, FuncExpr *call)
{
	MemoryContext context = CurrentMemoryContext;

	PG_TRY();
	{
		(void) bucket_floor(spec, 0);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(ERROR,
				(errcode(edata->sqlerrcode),
				 errmsg("%s", edata->message),
				 errdetail("The time bucket date_trunc('%s', ..., '%s') names a zone PostgreSQL does not know.",
						   spec->unit, spec->zone),
				 errhint("Use a name from pg_timezone_names, such as 'UTC' or 'Europe/Paris'."),
				 query_position(def, call->location)));
	}
	PG_END_TRY();
}

static void
analyze_bucket(Definition *def, FuncExpr *call)
{
	BucketSpec *spec = &def->bucket;
	bool		is_date_bin;
	Node	   *time_arg = lsecond(call->args);
	Var		   *var;

	is_date_bin =
		call->funcid == F_DATE_BIN_INTERVAL_TIMESTAMPTZ_TIMESTAMPTZ ||
		call->funcid == F_DATE_BIN_INTERVAL_TIMESTAMP_TIMESTAMP;
	if (IsA(time_arg, FuncExpr) &&
		((FuncExpr *) time_arg)->funcid == F_TIMESTAMPTZ_DATE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a date becomes a timestamp with time zone at midnight of the session's TimeZone"),
				 errdetail("The time argument of %s() casts a date to timestamp with time zone, which two sessions would do differently.",
						   get_func_name(call->funcid)),
				 errhint("Bucket the date as a timestamp: date_trunc('month', d::timestamp), or date_bin('7 days', d::timestamp, timestamp '2000-01-03')."),
				 query_position(def, exprLocation(time_arg))));
	if (call->funcid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("date_trunc(text, timestamp with time zone) depends on the session's TimeZone"),
				 errdetail("Its buckets start at midnight, or at the top of the hour, of whatever TimeZone each session sets, so two sessions would disagree on them."),
				 errhint("Name the zone, as in date_trunc('day', ts, 'UTC'), or use date_bin('1 day', ts, '2000-01-01 00:00+00')."),
				 query_position(def, call->location)));

	/* a date column, through its immutable cast to timestamp */
	if (IsA(time_arg, FuncExpr) &&
		((FuncExpr *) time_arg)->funcid == F_TIMESTAMP_DATE &&
		IsA(linitial(((FuncExpr *) time_arg)->args), Var))
	{
		def->time_expr = time_arg;
		time_arg = linitial(((FuncExpr *) time_arg)->args);
	}
	if (!IsA(time_arg, Var) || ((Var *) time_arg)->varattno <= 0 ||
		((Var *) time_arg)->varlevelsup != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the time bucket must be computed from a column of the table"),
				 errdetail("The time argument of %s() is an expression, not a column.",
						   get_func_name(call->funcid)),
				 errhint("Pass the timestamp or timestamptz column itself; a cast such as ts::timestamp depends on the session's TimeZone."),
				 query_position(def, exprLocation(time_arg))));
	var = (Var *) time_arg;
	if (def->time_expr == NULL)
		def->time_expr = time_arg;
	if (var->vartype != TIMESTAMPTZOID && var->vartype != TIMESTAMPOID &&
		var->vartype != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the time column of the bucket must be timestamp, timestamptz or date"),
				 errdetail("Column \"%s\" is of type %s.",
						   get_attname(def->base_relid, var->varattno, false),
						   format_type_be(var->vartype)),
				 errhint("Bucket a timestamp, timestamptz or date column.")));

	spec->time_type = exprType(def->time_expr);
	spec->is_date_bin = is_date_bin;

	if (is_date_bin)
	{
		Const	   *width = constant_argument(def, call, 0, "width");
		Interval   *stride = DatumGetIntervalP(width->constvalue);
		Const	   *origin;

		if (stride->month != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("date_bin() cannot bin into months or years"),
					 errdetail("The bucket width has a month part."),
					 errhint("Use date_trunc('month', ts, 'UTC') for calendar months."),
					 query_position(def, call->location)));
		spec->stride = stride->day * USECS_PER_DAY + stride->time;
		if (spec->stride <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the bucket width must be greater than zero"),
					 errdetail("date_bin() was given a width of zero or less."),
					 errhint("Pass a positive interval, such as '1 minute'."),
					 query_position(def, call->location)));
		origin = constant_argument(def, call, 2, "origin");
		spec->origin = DatumGetTimestamp(origin->constvalue);
	}
	else
	{
		Const	   *unit_arg = constant_argument(def, call, 0, "unit");
		char	   *unit = TextDatumGetCString(unit_arg->constvalue);

		if (!bucket_set_unit(spec, unit))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("date_trunc unit \"%s\" is not a unit of time",
							unit),
					 errdetail("date_trunc() can only bucket by a calendar or clock unit."),
					 errhint("Use one of microseconds, milliseconds, second, minute, hour, day, week, month, quarter, year, decade, century, millennium."),
					 query_position(def, call->location)));
		if (list_length(call->args) == 3)
		{
			Const	   *zone = constant_argument(def, call, 2, "time zone");

			spec->zone = TextDatumGetCString(zone->constvalue);
			check_zone(def, spec, call);
		}
	}
}

/*
 * A timestamp or timestamptz column grouped by itself, whose rows already
 * hold bucketed times (an hour column, say): each distinct time is its own
 * bucket, which is date_bin() with a width of one microsecond, the
 * resolution of PostgreSQL's timestamps.  Every part of hybridagg that
 * reasons about buckets (floor, ranges, sealing, partitions) treats it so.
 */
static void
analyze_time_column_bucket(Definition *def, Var *column)
{
	BucketSpec *spec = &def->bucket;

	def->time_expr = (Node *) column;
	spec->time_type = column->vartype;
	spec->is_date_bin = true;
	spec->stride = 1;
	spec->origin = 0;			/* 2000-01-01 00:00, PostgreSQL's epoch */
}

/* an integer bucket (integer_bucket.c): its column and its width */
static void
analyze_integer_bucket(Definition *def, Node *bucket, IntegerBucketForm *form)
{
	BucketSpec *spec = &def->bucket;

	if (form->width < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the width of an integer time bucket must be 2 or more"),
				 errdetail("The bucket's width is " INT64_FORMAT ".", form->width),
				 errhint("Pass a positive width of 2 or more, as in ts / 60 * 60; a width of 1 is the time itself: group by a bucket of it."),
				 query_position(def, exprLocation(bucket))));
	def->time_expr = (Node *) form->column;
	spec->time_type = exprType(bucket);
	spec->is_integer = true;
	spec->floors = form->floors;
	spec->stride = form->width;
}

/* ----------------------------------------------------------------
 * Buckets written as a label of a bucket
 * ----------------------------------------------------------------
 */

/*
 * The query may group by a value computed from a bucket rather than by the
 * bucket itself:
 *	 t::date (also date(t), CAST(t AS date)) of a timestamp column t: the
 *		day, which is date_trunc('day', t) cast to date;
 *	 (t AT TIME ZONE 'zone')::date of a timestamptz column t, for a zone of
 *		one fixed UTC offset: date_trunc('day', t, 'zone') read in the zone;
 *	 b::date, b a bucket on timestamp whose every value is a midnight
 *		(date_trunc by a day or more, date_bin by whole days from a midnight);
 *	 a date column d itself: date_trunc('day', d::timestamp) cast to date;
 *	 b + s, s + b, b - s (also nested): a bucket b (a bucket function, or a
 *		timestamp or timestamptz column itself) shifted by a constant
 *		interval s, as a window's end.
 * The aggregate keeps the underlying bucket as g1 (date_trunc('day', t) for
 * t::date, b for b + s), so that whatever reasons about buckets (floor,
 * times, sealing, W, history partitions, verify, the catalog) sees a bucket
 * of a kind bucket.c knows; the user's view computes the written value from
 * g1 (def->bucket_label) with the very operators the query writes.  A label
 * must tell buckets apart, since the query groups by the label: two buckets
 * with one label would be one group of the query and two of the aggregate.
 * A cast to date of midnights does, and so does a shift by a fixed number of
 * microseconds (a day is 24 hours on timestamp).  Refused: a shift by months,
 * which does not (January 30 and 31 plus a month are both the end of
 * February); a shift of a timestamptz by days, a day of the session's
 * TimeZone; a cast to date of a timestamptz, likewise; and the days of a
 * zone whose offset changes, whose local midnight need not be an instant of
 * that day.
 */

typedef struct Replacement
{
	Node	   *target;
	Node	   *replacement;
} Replacement;

/* node with every subtree equal to r->target replaced by r->replacement */
static Node *
replace_subtree(Node *node, Replacement *r)
{
	if (node == NULL)
		return NULL;
	if (equal(node, r->target))
		return copyObject(r->replacement);
	return expression_tree_mutator(node, replace_subtree, (void *) r);
}

/* written, computed from g1 (of type g1_type) where it reads part */
static Node *
label_from_g1(Node *written, Node *part, Oid g1_type)
{
	Replacement r = {part, (Node *) makeVar(1, 1, g1_type, -1, InvalidOid, 0)};

	return replace_subtree(written, &r);
}

static bool
is_column(Node *expr)
{
	return IsA(expr, Var) && ((Var *) expr)->varattno > 0 &&
		((Var *) expr)->varlevelsup == 0;
}

static bool
is_time_column(Node *expr)
{
	return is_column(expr) && (exprType(expr) == TIMESTAMPTZOID ||
							   exprType(expr) == TIMESTAMPOID);
}

/* date_trunc('day', time [, zone]), located where the query wrote at */
static FuncExpr *
day_bucket(Node *time, Const *zone, int location)
{
	List	   *args = list_make2(makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID,
											-1, CStringGetTextDatum("day"),
											false, false),
								  time);
	FuncExpr   *call;

	if (zone)
		args = lappend(args, zone);
	call = makeFuncExpr(zone ? F_DATE_TRUNC_TEXT_TIMESTAMPTZ_TEXT :
						F_DATE_TRUNC_TEXT_TIMESTAMP,
						zone ? TIMESTAMPTZOID : TIMESTAMPOID, args,
						InvalidOid, DEFAULT_COLLATION_OID,
						COERCE_EXPLICIT_CALL);
	call->location = location;
	return call;
}

/* are all the buckets of def midnights, so that a cast to date keeps them? */
static bool
buckets_are_midnights(const BucketSpec *spec)
{
	if (spec->time_type != TIMESTAMPOID)
		return false;
	if (spec->is_date_bin)
		return spec->stride % USECS_PER_DAY == 0 &&
			spec->origin % USECS_PER_DAY == 0;
	return spec->unit_interval.time == 0;
}

/* the bucket of cast, a timestamp cast to date, or NULL if it is none */
static Node *
analyze_date_cast(Definition *def, FuncExpr *cast)
{
	Node	   *arg = linitial(cast->args);
	Oid			funcid;
	List	   *args;

	if (is_column(arg) && exprType(arg) == TIMESTAMPOID)
	{
		FuncExpr   *bucket = day_bucket(arg, NULL, cast->location);

		analyze_bucket(def, bucket);
		def->bucket_label = label_from_g1((Node *) cast, arg, TIMESTAMPOID);
		return (Node *) bucket;
	}
	if (function_call(arg, &funcid, &args) &&
		funcid == F_TIMEZONE_TEXT_TIMESTAMPTZ && IsA(linitial(args), Const) &&
		!((Const *) linitial(args))->constisnull && is_column(lsecond(args)))
	{
		Node	   *column = lsecond(args);
		FuncExpr   *bucket = day_bucket(column, linitial(args), cast->location);

		analyze_bucket(def, bucket);
		if (!bucket_zone_offset_is_fixed(&def->bucket))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the days of time zone \"%s\" as dates are not supported as a time bucket",
							def->bucket.zone),
					 errdetail("GROUP BY casts a time at zone \"%s\" to date; that zone changes its UTC offset, and hybridagg keeps only the days of a zone of one fixed offset as dates.",
							   def->bucket.zone),
					 errhint("Group by date_trunc('day', ts, '%s'), a timestamp with time zone at each local midnight, or by (ts AT TIME ZONE 'UTC')::date.",
							 def->bucket.zone),
					 query_position(def, cast->location)));
		def->bucket_label = label_from_g1((Node *) cast, column,
										  TIMESTAMPTZOID);
		return (Node *) bucket;
	}
	if (IsA(arg, FuncExpr) && is_bucket_function(((FuncExpr *) arg)->funcid))
	{
		analyze_bucket(def, (FuncExpr *) arg);
		if (!buckets_are_midnights(&def->bucket))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a time bucket cast to date must be of whole days from a midnight"),
					 errdetail("GROUP BY casts %s() to date, whose buckets do not all start at midnight, so that several of them would be one date.",
							   get_func_name(((FuncExpr *) arg)->funcid)),
					 errhint("Group by ts::date for days, or by the bucket itself."),
					 query_position(def, cast->location)));
		def->bucket_label = label_from_g1((Node *) cast, arg, TIMESTAMPOID);
		return arg;
	}
	return NULL;
}

/* b + s, s + b or b - s, of a timestamp or timestamptz b: b and s */
static bool
shift_form(Node *expr, Node **bucket, Node **span)
{
	Oid			funcid;
	List	   *args;

	if (!function_call(expr, &funcid, &args))
		return false;
	switch (funcid)
	{
		case F_TIMESTAMP_PL_INTERVAL:
		case F_TIMESTAMP_MI_INTERVAL:
		case F_TIMESTAMPTZ_PL_INTERVAL:
		case F_TIMESTAMPTZ_MI_INTERVAL:
			*bucket = linitial(args);
			*span = lsecond(args);
			return true;
		case F_INTERVAL_PL_TIMESTAMP:
		case F_INTERVAL_PL_TIMESTAMPTZ:
			*bucket = lsecond(args);
			*span = linitial(args);
			return true;
		default:
			return false;
	}
}

/* the span shift adds to a bucket of type type must keep buckets apart */
static void
check_shift(Definition *def, Node *shift, Node *span, Oid type)
{
	Node	   *value = eval_const_expressions(NULL, span);
	Interval   *interval;

	if (!IsA(value, Const) || ((Const *) value)->constisnull)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the interval added to the time bucket must be a constant"),
				 errdetail("GROUP BY shifts the bucket by %s.",
						   IsA(value, Const) ? "NULL" :
						   "an expression that changes from row to row"),
				 errhint("Write it as a literal, for example date_bin('1 minute', ts, '2000-01-01 00:00+00') + interval '1 minute'."),
				 query_position(def, exprLocation(shift))));
	interval = DatumGetIntervalP(((Const *) value)->constvalue);
	if (interval->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a time bucket shifted by months is not supported"),
				 errdetail("A month added to two buckets can give both one value (January 30 and 31 plus a month are both the end of February), and the query would group them as one."),
				 errhint("Shift by days, hours, minutes and seconds, or group by the bucket itself and add the months in a query over the view."),
				 query_position(def, exprLocation(shift))));
	if (type == TIMESTAMPTZOID && interval->day != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a timestamp with time zone shifted by days depends on the session's TimeZone"),
				 errdetail("A day added to a timestamp with time zone is a calendar day of whatever TimeZone each session sets, 23 to 25 hours long, so two sessions would disagree on the shifted buckets."),
				 errhint("Shift by a span of hours, minutes and seconds, such as interval '24 hours'."),
				 query_position(def, exprLocation(shift))));
}

/* the bucket of expr, a bucket shifted by constant intervals, or NULL */
static Node *
analyze_shifted_bucket(Definition *def, Node *expr)
{
	Node	   *bucket = expr;
	Node	   *inner;
	Node	   *span;
	List	   *shifts = NIL;
	List	   *spans = NIL;
	ListCell   *lc1;
	ListCell   *lc2;

	while (shift_form(bucket, &inner, &span))
	{
		shifts = lappend(shifts, bucket);
		spans = lappend(spans, span);
		bucket = inner;
	}
	if (shifts == NIL)
		return NULL;
	if (IsA(bucket, FuncExpr) &&
		is_bucket_function(((FuncExpr *) bucket)->funcid))
		analyze_bucket(def, (FuncExpr *) bucket);
	else if (is_time_column(bucket))
		analyze_time_column_bucket(def, (Var *) bucket);
	else
		return NULL;
	forboth(lc1, shifts, lc2, spans)
		check_shift(def, lfirst(lc1), lfirst(lc2), exprType(bucket));
	def->bucket_label = label_from_g1(expr, bucket, exprType(bucket));
	return bucket;
}

/*
 * If expr is a bucket written as a label of a bucket, analyse that bucket,
 * set def->bucket_written and def->bucket_label, and return the bucket g1
 * keeps; else NULL.
 */
static Node *
analyze_labelled_bucket(Definition *def, Node *expr)
{
	Node	   *bucket = NULL;

	if (IsA(expr, FuncExpr) && ((FuncExpr *) expr)->funcid == F_DATE_TIMESTAMP)
		bucket = analyze_date_cast(def, (FuncExpr *) expr);
	else if (is_column(expr) && exprType(expr) == DATEOID)
	{
		/* a date column: the day of its cast to timestamp */
		Node	   *time = (Node *) makeFuncExpr(F_TIMESTAMP_DATE, TIMESTAMPOID,
												 list_make1(expr), InvalidOid,
												 InvalidOid,
												 COERCE_EXPLICIT_CAST);

		bucket = (Node *) day_bucket(time, NULL, exprLocation(expr));
		analyze_bucket(def, (FuncExpr *) bucket);
		def->bucket_label =
			(Node *) makeFuncExpr(F_DATE_TIMESTAMP, DATEOID,
								  list_make1(makeVar(1, 1, TIMESTAMPOID, -1,
													 InvalidOid, 0)),
								  InvalidOid, InvalidOid,
								  COERCE_EXPLICIT_CAST);
	}
	else
		bucket = analyze_shifted_bucket(def, expr);
	if (bucket != NULL)
		def->bucket_written = expr;
	return bucket;
}

/* ----------------------------------------------------------------
 * Group keys
 * ----------------------------------------------------------------
 */

/* Provably never NULL: a NOT NULL column, a constant, a bucket of those. */
static bool
expr_never_null(Node *expr, TupleDesc base_desc)
{
	switch (nodeTag(expr))
	{
		case T_Var:
			{
				Var		   *var = (Var *) expr;

				return var->varattno > 0 &&
					TupleDescAttr(base_desc, var->varattno - 1)->attnotnull;
			}
		case T_Const:
			return !((Const *) expr)->constisnull;
		case T_RelabelType:
			return expr_never_null((Node *) ((RelabelType *) expr)->arg,
								   base_desc);
		case T_OpExpr:
			{
				IntegerBucketForm form;

				/* an integer bucket is NULL only where its column is */
				return integer_bucket_form(expr, &form) &&
					expr_never_null((Node *) form.column, base_desc);
			}
		case T_FuncExpr:
			{
				FuncExpr   *call = (FuncExpr *) expr;
				ListCell   *lc;

				if (!is_bucket_function(call->funcid))
					return false;
				foreach(lc, call->args)
				{
					if (!expr_never_null(lfirst(lc), base_desc))
						return false;
				}
				return true;
			}
		default:
			return false;
	}
}

static void
analyze_group_keys(Definition *def)
{
	Query	   *q = def->query;
	FuncExpr   *bucket = NULL;
	List	   *others = NIL;
	ListCell   *lc;

	if (q->groupClause == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the defining query has no GROUP BY"),
				 errdetail("hybridagg keeps one row per time bucket and key; the query returns a single row."),
				 errhint("Group by a time bucket, for example GROUP BY date_bin('1 minute', ts, '2000-01-01 00:00+00').")));

	foreach(lc, q->groupClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		Expr	   *expr = get_sortgroupclause_tle(sgc, q->targetList)->expr;

		if (IsA(expr, FuncExpr) &&
			is_bucket_function(((FuncExpr *) expr)->funcid))
		{
			if (bucket != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("GROUP BY has more than one time bucket"),
						 errdetail("Both %s() and %s() bucket time.",
								   get_func_name(bucket->funcid),
								   get_func_name(((FuncExpr *) expr)->funcid)),
						 errhint("Group by one bucket; derive coarser buckets in queries over the view."),
						 query_position(def, exprLocation((Node *) expr))));
			bucket = (FuncExpr *) expr;
		}
		else
			others = lappend(others, expr);
	}
	if (bucket == NULL)
	{
		/* else an integer bucket, the first GROUP BY expression that is one */
		foreach(lc, others)
		{
			IntegerBucketForm form;

			if (integer_bucket_form(lfirst(lc), &form))
			{
				Node	   *bucket_expr = lfirst(lc);

				analyze_integer_bucket(def, bucket_expr, &form);
				def->key_exprs = lcons(bucket_expr,
									   list_delete_cell(others, lc));
				return;
			}
		}
		/* else a time column itself: each distinct time is its bucket */
		foreach(lc, others)
		{
			Node	   *expr = lfirst(lc);

			if (is_time_column(expr))
			{
				analyze_time_column_bucket(def, (Var *) expr);
				def->key_exprs = lcons(expr, list_delete_cell(others, lc));
				return;
			}
		}
		/* else a bucket written as a label of one (ts::date, b + interval) */
		foreach(lc, others)
		{
			Node	   *bucket_expr = analyze_labelled_bucket(def, lfirst(lc));

			if (bucket_expr != NULL)
			{
				def->key_exprs = lcons(bucket_expr,
									   list_delete_cell(others, lc));
				return;
			}
		}
		foreach(lc, others)
		{
			Node	   *expr = lfirst(lc);

			if (IsA(expr, FuncExpr) &&
				((FuncExpr *) expr)->funcid == F_DATE_TIMESTAMPTZ)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("a timestamp with time zone cast to date depends on the session's TimeZone"),
						 errdetail("GROUP BY casts a timestamp with time zone to date: the day of whatever TimeZone each session sets, so two sessions would disagree on it."),
						 errhint("Name the zone: group by (ts AT TIME ZONE 'UTC')::date, or by date_trunc('day', ts, 'Europe/Paris') for the days of a zone with daylight saving time."),
						 query_position(def, exprLocation(expr))));
		}
		foreach(lc, others)
		{
			if (integer_bucket_near_miss(lfirst(lc)))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("GROUP BY divides an integer column, but not in a form hybridagg keeps as a time bucket"),
						 errdetail("An integer time bucket is t / w * w, t - t %% w (both truncate toward zero) or t - (t %% w + w) %% w (floor), for a column t and one constant width w."),
						 errhint("Write the bucket in one of those forms, for example GROUP BY ts / 60 * 60."),
						 query_position(def, exprLocation(lfirst(lc)))));
		}
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("GROUP BY has no time bucket"),
				 errdetail("None of the GROUP BY expressions is date_bin() or date_trunc() over a time column, a timestamp, timestamptz or date column itself, a timestamp cast to date, a bucket plus a constant interval, or an integer bucket such as ts / 60 * 60."),
				 errhint("Group by date_bin('1 minute', ts, '2000-01-01 00:00+00'), date_trunc('hour', ts) on a timestamp column, date_trunc('hour', ts, 'UTC') on a timestamptz column, or ts / 60 * 60 on an integer column.")));
	}

	analyze_bucket(def, bucket);
	def->key_exprs = lcons(bucket, others);
}

/* ----------------------------------------------------------------
 * Aggregates
 * ----------------------------------------------------------------
 */

typedef struct AggregateWalk
{
	Definition *def;
	List	   *found;			/* distinct Aggrefs */
} AggregateWalk;

static bool
collect_aggregates(Node *node, AggregateWalk *walk)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, Aggref))
	{
		if (!list_member(walk->found, node))
			walk->found = lappend(walk->found, node);
		return false;			/* arguments were checked with the aggregate */
	}
	return expression_tree_walker(node, collect_aggregates, (void *) walk);
}

static const char *const agg_func_names[] = {
	"count_star", "count", "sum", "avg", "min", "max", "value", "combined"
};

const char *
agg_func_name(AggFunc func)
{
	return agg_func_names[func];
}

bool
agg_func_from_name(const char *name, AggFunc *func)
{
	for (int i = 0; i < lengthof(agg_func_names); i++)
	{
		if (strcmp(name, agg_func_names[i]) == 0)
		{
			*func = (AggFunc) i;
			return true;
		}
	}
	return false;
}

/* the aggregates whose partial states hybridagg keeps itself */
static AggFunc
typed_aggregate(Aggref *agg, bool *typed)
{
	Oid			fn = agg->aggfnoid;

	*typed = true;
	switch (fn)
	{
		case F_COUNT_:
			return AGG_COUNT_STAR;
		case F_COUNT_ANY:
			return AGG_COUNT;
		case F_SUM_INT2:
		case F_SUM_INT4:
		case F_SUM_INT8:
		case F_SUM_FLOAT4:
		case F_SUM_FLOAT8:
		case F_SUM_NUMERIC:
		case F_SUM_INTERVAL:
		case F_SUM_MONEY:
			return AGG_SUM;
		case F_AVG_INT2:
		case F_AVG_INT4:
		case F_AVG_INT8:
		case F_AVG_FLOAT4:
		case F_AVG_FLOAT8:
		case F_AVG_NUMERIC:
		case F_AVG_INTERVAL:
			return AGG_AVG;
		default:
			break;
	}
	if (list_length(agg->args) == 1)
	{
		/*
		 * min and max of any type, built-in or not: an aggregate whose sort
		 * operator is the < (or >) of its type's default btree class returns
		 * the first value in that order, as the planner too relies on
		 * (planagg.c), and least_of (greatest_of) computes just that.
		 */
		HeapTuple	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(fn));
		Oid			sortop;
		Node	   *arg = (Node *) linitial_node(TargetEntry, agg->args)->expr;
		Oid			argtype = exprType(arg);
		TypeCacheEntry *tc;

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for aggregate %u", fn);
		sortop = ((Form_pg_aggregate) GETSTRUCT(tuple))->aggsortop;
		ReleaseSysCache(tuple);
		tc = lookup_type_cache(argtype, TYPECACHE_LT_OPR | TYPECACHE_GT_OPR);
		if (OidIsValid(sortop) && agg->aggtype == argtype)
		{
			if (sortop == tc->lt_opr)
				return AGG_MIN;
			if (sortop == tc->gt_opr)
				return AGG_MAX;
		}
	}
	*typed = false;
	return AGG_RECOMPUTED;
}

/*
 * Whether some argument of agg has a type whose text a setting changes
 * (TimeZone, DateStyle's field order aside: json and xml write dates and
 * timestamps in ISO; IntervalStyle; extra_float_digits; bytea_output), or a
 * type hybridagg cannot see into (a composite, an array of one, a domain
 * over one): what turns it into text reads the session's settings.
 */
static bool
type_has_setting_dependent_text(Oid type)
{
	Oid			base = getBaseType(type);
	Oid			element = get_element_type(base);

	if (OidIsValid(element))
		return type_has_setting_dependent_text(element);
	switch (base)
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case CHAROID:
		case DATEOID:
		case TIMESTAMPOID:
		case UUIDOID:
		case JSONOID:
		case JSONBOID:
			return false;
		default:
			return true;
	}
}

static bool
args_have_setting_dependent_text(Aggref *agg)
{
	ListCell   *lc;

	foreach(lc, agg->args)
	{
		TargetEntry *arg = lfirst_node(TargetEntry, lc);

		/* what ORDER BY sorts on is compared, never turned into text */
		if (!arg->resjunk &&
			type_has_setting_dependent_text(exprType((Node *) arg->expr)))
			return true;
	}
	return false;
}

/*
 * A recomputed aggregate must give the same value whenever it is computed:
 * it must be IMMUTABLE (json_agg, for one, is stable: its text follows the
 * session's DateStyle and TimeZone).  CREATE AGGREGATE marks every
 * aggregate immutable, whatever its functions are, so the transition and
 * final functions must be immutable too, with two exceptions: an
 * extension's aggregate goes by its own marking, as the planner does (hll
 * and tdigest mark their support functions volatile), and a built-in one
 * whose functions are only stable because they turn values into text
 * (json_agg, jsonb_object_agg) is accepted over arguments whose text no
 * setting changes.
 */
static void
check_aggregate_immutable(Definition *def, Aggref *agg)
{
	char		volatility = func_volatile(agg->aggfnoid);
	HeapTuple	tuple;
	Form_pg_aggregate form;
	Oid			support = InvalidOid;

	if (volatility != PROVOLATILE_IMMUTABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s is %s", format_procedure(agg->aggfnoid),
						volatility == PROVOLATILE_VOLATILE ?
						"volatile" : "stable"),
				 errdetail("hybridagg recomputes the aggregate whenever a group changes and keeps its value, so it must give the same value every time: it must be IMMUTABLE."),
				 errhint("Use an immutable aggregate, or call this one in a query over the base table."),
				 query_position(def, agg->location)));
	if (OidIsValid(getExtensionOfObject(ProcedureRelationId, agg->aggfnoid)))
		return;
	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(agg->aggfnoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for aggregate %u", agg->aggfnoid);
	form = (Form_pg_aggregate) GETSTRUCT(tuple);
	if (func_volatile(form->aggtransfn) != PROVOLATILE_IMMUTABLE)
		support = form->aggtransfn;
	else if (OidIsValid(form->aggfinalfn) &&
			 func_volatile(form->aggfinalfn) != PROVOLATILE_IMMUTABLE)
		support = form->aggfinalfn;
	ReleaseSysCache(tuple);
	if (!OidIsValid(support))
		return;
	if (func_volatile(support) == PROVOLATILE_STABLE &&
		get_func_namespace(agg->aggfnoid) == PG_CATALOG_NAMESPACE &&
		!args_have_setting_dependent_text(agg))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("aggregate %s calls %s, which is %s",
					format_procedure(agg->aggfnoid),
					format_procedure(support),
					func_volatile(support) == PROVOLATILE_VOLATILE ?
					"volatile" : "stable"),
			 errdetail("hybridagg recomputes the aggregate whenever a group changes and keeps its value, so its transition and final functions must give the same value every time: a volatile one may not, and a stable one may read the session's settings (TimeZone, when a timestamptz becomes JSON)."),
			 errhint("Use an aggregate whose transition and final functions are IMMUTABLE; to a built-in one that turns values into text, pass values whose text no setting changes (text, numbers, dates)."),
			 query_position(def, agg->location)));
}

static void check_immutable(Definition *def, Node *node, const char *where);

/*
 * The built-in aggregates whose value lists their input in the order it
 * came (array_agg, string_agg, json_agg, jsonb_agg, xmlagg) or keeps the
 * last of equal keys (json_object_agg, jsonb_object_agg): without ORDER BY
 * inside, that order is whatever the plan reads the rows in, so no
 * recompute could give the defining query's value.  DISTINCT sorts.
 */
static void
check_input_order(Definition *def, Aggref *agg)
{
	static const char *const order_sensitive[] = {
		"array_agg", "string_agg", "json_agg", "jsonb_agg", "xmlagg",
		"json_object_agg", "jsonb_object_agg"
	};
	char	   *name = get_func_name(agg->aggfnoid);

	if (agg->aggorder != NIL || agg->aggdistinct != NIL ||
		get_func_namespace(agg->aggfnoid) != PG_CATALOG_NAMESPACE)
		return;
	for (int i = 0; i < lengthof(order_sensitive); i++)
	{
		if (strcmp(name, order_sensitive[i]) != 0)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s() without ORDER BY depends on the order rows are read in",
						name),
				 errdetail("Its value lists its input in the order the plan reads it, which differs between the defining query and hybridagg's recompute, and between two runs of the query."),
				 errhint("Write the order inside the aggregate, as in %s(... ORDER BY ts, value).",
						 name),
				 query_position(def, agg->location)));
	}
}

/*
 * How hybridagg keeps an aggregate, the cheapest way that is exact for it:
 * in partial states of its own (count, sum, avg, min, max, also with
 * FILTER); as the aggregate's own transition states, combined with its
 * combine function (combined_states.c: stddev and variance of floats,
 * corr, regr_*, bool_and, bit_or, ...); or as the value of the group,
 * recomputed from the base table whenever the group changes (any other
 * deterministic aggregate: DISTINCT, ORDER BY inside, WITHIN GROUP,
 * aggregates whose state is internal).
 */
static AggFunc
classify_aggregate(Definition *def, Aggref *agg)
{
	Oid			fn = agg->aggfnoid;
	bool		typed;
	AggFunc		func = typed_aggregate(agg, &typed);

	if (typed && agg->aggkind == AGGKIND_NORMAL && agg->aggdistinct == NIL &&
		agg->aggorder == NIL)
		return func;
	check_aggregate_immutable(def, agg);
	check_input_order(def, agg);
	/* its own states, combined, if PostgreSQL can combine them */
	if (agg->aggkind == AGGKIND_NORMAL && agg->aggdistinct == NIL &&
		agg->aggorder == NIL && combined_states_refusal(fn) == NULL)
		return AGG_COMBINED;
	check_immutable(def, (Node *) agg->aggdirectargs,
					"A direct argument of an aggregate");
	if (contain_var_clause((Node *) agg->aggdirectargs))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the direct arguments of %s() must not read columns",
						get_func_name(fn)),
				 errdetail("hybridagg evaluates them once per group, where no row is at hand."),
				 errhint("Write a constant, as in percentile_cont(0.5) WITHIN GROUP (ORDER BY x)."),
				 query_position(def, agg->location)));
	return AGG_RECOMPUTED;
}

/*
 * CASE WHEN filter THEN expr END: an aggregate's FILTER moved into its
 * argument
 */
static Expr *
filtered(Expr *expr, Expr *filter)
{
	CaseExpr   *c = makeNode(CaseExpr);
	CaseWhen   *w = makeNode(CaseWhen);

	w->expr = filter;
	w->result = expr;
	w->location = -1;
	c->casetype = exprType((Node *) expr);
	c->casecollid = exprCollation((Node *) expr);
	c->args = list_make1(w);
	c->defresult = (Expr *) makeNullConst(exprType((Node *) expr),
										  exprTypmod((Node *) expr),
										  exprCollation((Node *) expr));
	c->location = -1;
	return (Expr *) c;
}

/*
 * expr with its outermost coercion shown as an explicit cast.  An implicit
 * one (real to double precision for corr()) is left out when the source
 * view's text is written, and that column would then be of the argument's
 * own type: an aggregate called through partial_state() would get values
 * of another type than it takes.
 */
static Expr *
with_explicit_cast(Expr *expr)
{
	expr = copyObject(expr);
	switch (nodeTag(expr))
	{
		case T_CollateExpr:
			/* the parser puts the cast under an explicit COLLATE */
			((CollateExpr *) expr)->arg =
				with_explicit_cast(((CollateExpr *) expr)->arg);
			break;
		case T_CoerceToDomain:
			((CoerceToDomain *) expr)->coercionformat = COERCE_EXPLICIT_CAST;
			break;
		case T_FuncExpr:
			if (((FuncExpr *) expr)->funcformat == COERCE_IMPLICIT_CAST)
				((FuncExpr *) expr)->funcformat = COERCE_EXPLICIT_CAST;
			break;
		case T_RelabelType:
			((RelabelType *) expr)->relabelformat = COERCE_EXPLICIT_CAST;
			break;
		case T_CoerceViaIO:
			((CoerceViaIO *) expr)->coerceformat = COERCE_EXPLICIT_CAST;
			break;
		case T_ArrayCoerceExpr:
			((ArrayCoerceExpr *) expr)->coerceformat = COERCE_EXPLICIT_CAST;
			break;
		case T_ConvertRowtypeExpr:
			((ConvertRowtypeExpr *) expr)->convertformat =
				COERCE_EXPLICIT_CAST;
			break;
		default:
			break;
	}
	return expr;
}

/* the type sum(x) returns for an argument of type argtype */
static Oid
sum_state_type(Oid argtype)
{
	switch (argtype)
	{
		case INT2OID:
		case INT4OID:
			return INT8OID;
		case INT8OID:
		case NUMERICOID:
			return NUMERICOID;
		default:
			return argtype;		/* float4, float8, interval, money */
	}
}

static int
add_argument(Definition *def, Expr *expr)
{
	int			position = 1;
	ListCell   *lc;

	foreach(lc, def->arg_exprs)
	{
		if (equal(lfirst(lc), expr))
			return position;
		position++;
	}
	def->arg_exprs = lappend(def->arg_exprs, expr);
	return position;
}

static void
add_state(List **states, StateKind kind, int arg, Oid type, Oid collation)
{
	LayoutColumn *col;
	ListCell   *lc;

	foreach(lc, *states)
	{
		col = lfirst(lc);
		if (col->kind == kind && col->arg == arg)
			return;
	}
	col = palloc0(sizeof(LayoutColumn));
	col->name = state_column_name(kind, arg);
	col->kind = kind;
	col->arg = arg;
	col->type = type;
	col->typmod = -1;
	col->collation = collation;
	col->notnull = (kind == STATE_ROWS || kind == STATE_COUNT);
	*states = lappend(*states, col);
}

static void
analyze_aggregates(Definition *def, List **states)
{
	AggregateWalk walk = {def, NIL};
	ListCell   *lc;
	int			recomputed = 0;

	(void) collect_aggregates((Node *) def->query->targetList, &walk);
	(void) collect_aggregates(def->query->havingQual, &walk);

	add_state(states, STATE_ROWS, 0, INT8OID, InvalidOid);
	foreach(lc, walk.found)
	{
		Aggref	   *agg = lfirst_node(Aggref, lc);
		DefinedAggregate *defined = palloc0(sizeof(DefinedAggregate));
		Expr	   *arg = NULL;

		defined->aggref = agg;
		defined->func = classify_aggregate(def, agg);
		if (defined->func == AGG_RECOMPUTED || defined->func == AGG_COMBINED)
		{
			/* its arguments and FILTER become source columns */
			ListCell   *lc2;

			foreach(lc2, agg->args)
			{
				Expr	   *expr = lfirst_node(TargetEntry, lc2)->expr;

				/*
				 * evaluated, as by PostgreSQL, only for the rows its FILTER
				 * keeps (1.0 / x FILTER (WHERE x <> 0))
				 */
				if (get_typtype(exprType((Node *) expr)) == TYPTYPE_PSEUDO)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("an argument of %s() is of type %s",
									get_func_name(agg->aggfnoid),
									format_type_be(exprType((Node *) expr))),
							 errdetail("hybridagg keeps the arguments of the aggregate in a view of the base rows, whose columns cannot be of a pseudo-type such as an anonymous record."),
							 errhint("Cast the row to a composite type, as in ROW(a, b)::my_type, or to a table's row type."),
							 query_position(def, exprLocation((Node *) expr))));
				if (defined->func == AGG_COMBINED)
					expr = with_explicit_cast(expr);
				if (agg->aggfilter)
					expr = filtered(expr, agg->aggfilter);
				defined->arg_columns = lappend_int(defined->arg_columns,
												   add_argument(def, expr));
			}
			if (agg->aggfilter)
				defined->filter_column = add_argument(def, agg->aggfilter);
			defined->arg = ++recomputed;
			if (defined->func == AGG_COMBINED)
			{
				add_state(states, STATE_COMBINED, defined->arg, BYTEAOID,
						  InvalidOid);
				((LayoutColumn *) llast(*states))->aggfnoid = agg->aggfnoid;
			}
			else
				add_state(states, STATE_VALUE, defined->arg, agg->aggtype,
						  agg->aggcollid);
			def->aggregates = lappend(def->aggregates, defined);
			continue;
		}
		if (defined->func == AGG_COUNT_STAR && agg->aggfilter)
		{
			Expr	   *one = (Expr *) makeConst(INT4OID, -1, InvalidOid,
												 sizeof(int32),
												 Int32GetDatum(1), false, true);

			/* count(*) FILTER (WHERE f) is count(CASE WHEN f THEN 1 END) */
			defined->func = AGG_COUNT;
			arg = filtered(one, agg->aggfilter);
			defined->arg = add_argument(def, arg);
		}
		else if (defined->func != AGG_COUNT_STAR)
		{
			arg = linitial_node(TargetEntry, agg->args)->expr;
			/* agg(x) FILTER (WHERE f) is agg(CASE WHEN f THEN x END) */
			if (agg->aggfilter)
				arg = filtered(arg, agg->aggfilter);
			/* avg(real) sums in double precision, as PostgreSQL does */
			if (defined->func == AGG_AVG && exprType((Node *) arg) == FLOAT4OID)
				arg = (Expr *) coerce_to_target_type(NULL, (Node *) arg,
													 FLOAT4OID, FLOAT8OID, -1,
													 COERCION_EXPLICIT,
													 COERCE_EXPLICIT_CAST, -1);
			defined->arg = add_argument(def, arg);
		}

		switch (defined->func)
		{
			case AGG_COUNT_STAR:
				break;
			case AGG_COUNT:
				add_state(states, STATE_COUNT, defined->arg, INT8OID,
						  InvalidOid);
				break;
			case AGG_SUM:
			case AGG_AVG:
				add_state(states, STATE_SUM, defined->arg,
						  sum_state_type(exprType((Node *) arg)), InvalidOid);
				add_state(states, STATE_COUNT, defined->arg, INT8OID,
						  InvalidOid);
				/* NaN and infinities are counted apart, to be taken back */
				if (sum_counts_nonfinite(exprType((Node *) arg)))
				{
					add_state(states, STATE_NAN, defined->arg, INT8OID,
							  InvalidOid);
					add_state(states, STATE_POSINF, defined->arg, INT8OID,
							  InvalidOid);
					add_state(states, STATE_NEGINF, defined->arg, INT8OID,
							  InvalidOid);
				}
				break;
			case AGG_MIN:
				add_state(states, STATE_MIN, defined->arg, agg->aggtype,
						  agg->inputcollid);
				break;
			case AGG_MAX:
				add_state(states, STATE_MAX, defined->arg, agg->aggtype,
						  agg->inputcollid);
				break;
			case AGG_RECOMPUTED:
			case AGG_COMBINED:
				break;			/* done above */
		}
		def->aggregates = lappend(def->aggregates, defined);
	}
}

/* ----------------------------------------------------------------
 * Immutability: the capture and every recompute must agree
 * ----------------------------------------------------------------
 */

typedef struct MutableWalk
{
	Node	   *bucket;			/* checked apart: may be a STABLE function */
	Oid			funcid;
	Node	   *node;			/* the expression that calls it */
} MutableWalk;

static bool
mutable_function_checker(Oid funcid, void *context)
{
	if (func_volatile(funcid) != PROVOLATILE_IMMUTABLE)
	{
		((MutableWalk *) context)->funcid = funcid;
		return true;
	}
	return false;
}

/* the innermost non-immutable call, so that now() - x names now() */
static bool
find_mutable_function(Node *node, MutableWalk *walk)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	/* date_trunc(unit, timestamptz, zone) is STABLE, but its zone is fixed */
	if (walk->bucket && equal(node, walk->bucket))
		return false;
	if (expression_tree_walker(node, find_mutable_function, (void *) walk))
		return true;
	if (zone_free_interval_arithmetic(node))
		return false;
	if (check_functions_in_node(node, mutable_function_checker, walk))
	{
		walk->node = node;
		return true;
	}
	return false;
}

/*
 * What is evaluated per base row (WHERE, group keys, aggregate arguments)
 * must give the same result whenever it is evaluated: at capture, at each
 * fold and at each recompute.  The select list and HAVING over the final
 * values are evaluated at query time, as in the raw query, and need not be.
 */
static void
check_immutable(Definition *def, Node *node, const char *where)
{
	MutableWalk walk = {linitial(def->key_exprs), InvalidOid, NULL};
	char	   *what;

	if (!find_mutable_function(node, &walk))
		return;
	if (IsA(walk.node, OpExpr))
		what = psprintf("operator %s",
						format_operator(((OpExpr *) walk.node)->opno));
	else
		what = psprintf("%s()", get_func_name(walk.funcid));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("the defining query calls %s, which is %s", what,
					func_volatile(walk.funcid) == PROVOLATILE_VOLATILE ?
					"volatile" : "stable"),
			 errdetail("%s calls %s. hybridagg evaluates the definition when rows change and again whenever it recomputes a bucket, so what it computes per row must be IMMUTABLE.",
					   where, format_procedure(walk.funcid)),
			 (walk.funcid == F_TIMESTAMPTZ_PL_INTERVAL ||
			  walk.funcid == F_TIMESTAMPTZ_MI_INTERVAL ||
			  walk.funcid == F_INTERVAL_PL_TIMESTAMPTZ) ?
			 errhint("Add a constant span of hours, minutes and seconds, such as interval '24 hours': a day or a month depends on the TimeZone.") :
			 walk.funcid == F_DATE_TIMESTAMPTZ ?
			 errhint("Name the zone, as in (ts AT TIME ZONE 'UTC')::date.") :
			 errhint("Remove %s from the query, or store its value in a column of the table.", what),
			 query_position(def, exprLocation(walk.node))));
}

/*
 * Output functions that PostgreSQL calls immutable although their text
 * depends on a setting: extra_float_digits for floats and the geometric
 * types, bytea_output for bytea.  hybridagg evaluates per-row expressions
 * under fixed settings, the raw query runs under the reader's, so a key such
 * as x::text would differ between the two.
 */
static bool
setting_dependent_output(Oid funcid, void *context)
{
	switch (funcid)
	{
		case F_FLOAT4OUT:
		case F_FLOAT8OUT:
		case F_BYTEAOUT:
		case F_POINT_OUT:
		case F_LSEG_OUT:
		case F_LINE_OUT:
		case F_PATH_OUT:
		case F_BOX_OUT:
		case F_POLY_OUT:
		case F_CIRCLE_OUT:
			*(Oid *) context = funcid;
			return true;
		default:
			return false;
	}
}

/*
 * An XML expression (xmlelement, xmlforest, xmlattributes...) writes its
 * values as text with their output functions, under the session's
 * TimeZone and extra_float_digits; PostgreSQL marks it immutable all the
 * same.  It is reported with InvalidOid.
 */
static bool
find_setting_dependent_output(Node *node, Oid *funcid)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, XmlExpr))
	{
		*funcid = InvalidOid;
		return true;
	}
	if (check_functions_in_node(node, setting_dependent_output, funcid))
		return true;
	return expression_tree_walker(node, find_setting_dependent_output,
								  (void *) funcid);
}

static void
check_fixed_output(Definition *def, Node *node, const char *where)
{
	Oid			funcid = InvalidOid;

	if (!find_setting_dependent_output(node, &funcid))
		return;
	if (!OidIsValid(funcid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the defining query builds XML from values, whose text depends on the session's settings"),
				 errdetail("%s builds XML. PostgreSQL writes the values in it under the session's TimeZone and extra_float_digits; hybridagg evaluates it under fixed settings when rows change, so the same query run in another session would give other text.",
						   where),
				 errhint("Group and aggregate the values themselves, and build the XML in a query over the view.")));
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("the defining query converts a value to text with %s(), whose result depends on %s",
					get_func_name(funcid),
					funcid == F_BYTEAOUT ?
					"bytea_output" : "extra_float_digits"),
			 errdetail("%s converts a value to text. hybridagg evaluates it under fixed settings when rows change, and the same query run in a session with other settings would give other text.",
					   where),
			 errhint("Use the value itself (rounded, if need be), or format it in a query over the view.")));
}

/* ----------------------------------------------------------------
 * The layout of the aggregate's tables
 * ----------------------------------------------------------------
 */

static void
build_layout(Definition *def, List *states)
{
	AggLayout  *layout = palloc0(sizeof(AggLayout));
	Relation	base = relation_open(def->base_relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(base);
	ListCell   *lc;
	int			i;

	layout->nkeys = list_length(def->key_exprs);
	layout->keys = palloc0(sizeof(LayoutColumn) * layout->nkeys);
	i = 0;
	foreach(lc, def->key_exprs)
	{
		Node	   *expr = lfirst(lc);
		LayoutColumn *col = &layout->keys[i++];

		col->name = psprintf("g%d", i);
		col->type = exprType(expr);
		col->typmod = exprTypmod(expr);
		col->collation = exprCollation(expr);
		col->notnull = expr_never_null(expr, desc);
	}

	layout->nargs = list_length(def->arg_exprs);
	layout->args = palloc0(sizeof(LayoutColumn) * Max(layout->nargs, 1));
	i = 0;
	foreach(lc, def->arg_exprs)
	{
		Node	   *expr = lfirst(lc);
		LayoutColumn *col = &layout->args[i++];

		col->name = psprintf("v%d", i);
		col->type = exprType(expr);
		col->typmod = exprTypmod(expr);
		col->collation = exprCollation(expr);
	}

	layout->nstates = list_length(states);
	layout->states = palloc0(sizeof(LayoutColumn) * layout->nstates);
	i = 0;
	foreach(lc, states)
	{
		LayoutColumn *col = lfirst(lc);

		layout->states[i] = *col;
		if (state_deletes_dirty(layout, &layout->states[i]))
			layout->deletes_dirty = true;
		if (col->kind == STATE_VALUE)
			layout->changes_dirty = true;
		if (col->kind == STATE_VALUE || col->kind == STATE_COMBINED)
			layout->has_values = true;
		i++;
	}
	relation_close(base, NoLock);
	def->layout = layout;
}

/* ----------------------------------------------------------------
 * Entry point
 * ----------------------------------------------------------------
 */

Definition *
definition_analyze(const char *query_text)
{
	Definition *def = palloc0(sizeof(Definition));
	List	   *states = NIL;

	def->query_text = query_text;
	def->query = analyze_statement(parse_one_statement(query_text), query_text);

	check_query_shape(def);
	check_from_clause(def);
	analyze_group_keys(def);
	analyze_aggregates(def, &states);

	check_immutable(def, def->where, "The WHERE clause");
	check_immutable(def, (Node *) def->key_exprs, "A GROUP BY expression");
	check_immutable(def, (Node *) def->arg_exprs, "An aggregate argument");
	check_fixed_output(def, def->where, "The WHERE clause");
	check_fixed_output(def, (Node *) def->key_exprs, "A GROUP BY expression");
	check_fixed_output(def, (Node *) def->arg_exprs, "An aggregate argument");

	build_layout(def, states);
	return def;
}
