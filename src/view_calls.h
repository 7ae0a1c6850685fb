/*-------------------------------------------------------------------------
 * view_calls.h
 *	  What the functions that an aggregate's view calls share: the
 *	  aggregate behind an (id, token) pair, checked on every call, and the
 *	  statements they run, prepared once per backend.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_VIEW_CALLS_H
#define HYBRIDAGG_VIEW_CALLS_H

#include "executor/spi.h"

#include "catalog.h"

/* the statements the view's functions prepare, one slot each */
typedef enum ViewStatement
{
	VIEW_DIRTY_RECOMPUTE,		/* dirty_groups.c */
	VIEW_PENDING_MERGE,			/* pending_groups.c */
	VIEW_STATEMENTS
} ViewStatement;

typedef struct ViewCall
{
	int32		id;				/* hash key */
	Oid			owner;
	AggregateEntry *entry;		/* without its definition */
	bytea	   *token;
	SPIPlanPtr	plans[VIEW_STATEMENTS]; /* kept; PostgreSQL replans them */
	MemoryContext context;
} ViewCall;

/*
 * The aggregate that function (its name, for the error) was called for,
 * once the caller's token is checked against the aggregate's: the view
 * passes the token, which only the aggregate's owner may read.
 */
extern ViewCall *view_call(int32 id, bytea *token, const char *function);

/* equal tokens, compared in constant time */
extern bool view_tokens_match(const bytea *a, const bytea *b);

/* the SQL of a statement, and its parameters' types */
typedef char *(*ViewStatementSql) (ViewCall *call, int *nargs, Oid *types);

/*
 * Statement which of the call (prepared by build on first use) run with
 * values, its rows returned by the set-returning function of fcinfo
 * (InitMaterializedSRF done): as the aggregate's owner, under fixed
 * settings, read-only in the snapshot of the query that calls the function.
 */
extern void view_call_run(ViewCall *call, ViewStatement which,
						  ViewStatementSql build, Datum *values,
						  FunctionCallInfo fcinfo);

#endif
