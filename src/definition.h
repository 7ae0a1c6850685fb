/*-------------------------------------------------------------------------
 * definition.h
 *	  The defining query of an aggregate: parsed and analysed by
 *	  PostgreSQL's parser, checked against what hybridagg can keep, and
 *	  taken apart into bucket, group keys, aggregates and WHERE clause.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_DEFINITION_H
#define HYBRIDAGG_DEFINITION_H

#include "nodes/parsenodes.h"
#include "nodes/primnodes.h"

#include "bucket.h"
#include "layout.h"

typedef enum AggFunc
{
	AGG_COUNT_STAR,
	AGG_COUNT,
	AGG_SUM,
	AGG_AVG,
	AGG_MIN,
	AGG_MAX,
	AGG_RECOMPUTED,				/* any other: its value, recomputed */
	AGG_COMBINED				/* its own states, combined */
} AggFunc;

/* one distinct aggregate call of the query */
typedef struct DefinedAggregate
{
	Aggref	   *aggref;
	AggFunc		func;
	int			arg;			/* source column v<arg>; 0 for count(*); for a
								 * recomputed or combined aggregate, its place
								 * in values_<id> */
	List	   *arg_columns;	/* recomputed, combined: source column of each
								 * argument */
	int			filter_column;	/* recomputed, combined: of the FILTER, or 0 */
} DefinedAggregate;

/* 'count_star', 'count', 'sum', 'avg', 'min', 'max', 'value', 'combined' */
extern const char *agg_func_name(AggFunc func);
extern bool agg_func_from_name(const char *name, AggFunc *func);

typedef struct Definition
{
	const char *query_text;
	Query	   *query;			/* as analysed, in the creator's session */
	Oid			base_relid;
	bool		base_inh;		/* FROM t rather than FROM ONLY t */
	Node	   *time_expr;		/* the time column, or a date column cast to
								 * timestamp */
	BucketSpec	bucket;
	List	   *key_exprs;		/* one Expr per group key g<i>; first is the
								 * bucket */
	Node	   *bucket_written; /* the GROUP BY expression of the bucket where
								 * it is a label of g1 (ts::date, a bucket
								 * plus an interval), else NULL */
	Node	   *bucket_label;	/* that expression computed from g1, a Var (1,
								 * 1): what the user's view shows */
	List	   *arg_exprs;		/* one Expr per source column v<i> */
	List	   *aggregates;		/* DefinedAggregate, in order of appearance */
	Node	   *where;			/* WHERE clause, or NULL */
	AggLayout  *layout;
} Definition;

/*
 * Parse and analyse query_text in the current session (its search_path and
 * TimeZone resolve names and literals), and refuse with a clear error what
 * hybridagg cannot keep exactly.
 */
extern Definition *definition_analyze(const char *query_text);

#endif
