/*-------------------------------------------------------------------------
 * code_owners.c
 *	  Whose code a definition runs, and with whose rights.
 *
 * A function, an operator, a domain's constraints or a type's comparison
 * run with the rights of whoever evaluates them, whoever wrote them.  So a
 * definition may only call code that the role evaluating it could have
 * written itself:
 *	 - what readers of the view evaluate, with their own rights: the select
 *	   list and HAVING (over the final values), the comparisons of the group
 *	   keys and of min() and max() (the view combines partial groups), and in
 *	   batch mode the WHERE clause, the group keys and the aggregates'
 *	   arguments too (the view aggregates the rows above the watermark
 *	   itself).  Any role may read the view, so only a superuser's code is
 *	   accepted here: built-in, or installed from an extension;
 *	 - what hybridagg evaluates as the aggregate's owner (capture, fold,
 *	   recompute; see util.c act_as): the WHERE clause, the group keys and
 *	   the aggregates' arguments of the streaming modes.  The owner's own
 *	   code and a superuser's are accepted.
 * The check runs once, at create(); the owners are those of that moment.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "code_owners.h"

/* one part of the definition, and who evaluates it */
typedef struct CodeWalk
{
	const Definition *def;
	Oid			runner;			/* the aggregate's owner; InvalidOid: any
								 * reader */
	bool		final_values;	/* select list or HAVING: aggregates and keys
								 * are read, not evaluated */
	const char *part;
	/* what was found */
	Oid			funcid;
	Oid			code_owner;
	Node	   *node;
} CodeWalk;

static Oid
function_owner(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", funcid);
	owner = ((Form_pg_proc) GETSTRUCT(tuple))->proowner;
	ReleaseSysCache(tuple);
	return owner;
}

static Oid
type_owner(Oid typid)
{
	HeapTuple	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for type %u", typid);
	owner = ((Form_pg_type) GETSTRUCT(tuple))->typowner;
	ReleaseSysCache(tuple);
	return owner;
}

static bool
trusted(Oid code_owner, Oid runner)
{
	return superuser_arg(code_owner) ||
		(OidIsValid(runner) && code_owner == runner);
}

static void
refuse(const CodeWalk *walk, const char *what)
{
	const char *owner = GetUserNameFromId(walk->code_owner, false);

	if (OidIsValid(walk->runner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s in the defining query belongs to role \"%s\"",
						what, owner),
				 errdetail("hybridagg evaluates %s as the aggregate's owner \"%s\", so another role's code would run with \"%s\"'s rights.",
						   walk->part, GetUserNameFromId(walk->runner, false),
						   GetUserNameFromId(walk->runner, false)),
				 errhint("Use code that \"%s\" or a superuser owns.",
						 GetUserNameFromId(walk->runner, false))));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s in the defining query belongs to role \"%s\", who is not a superuser", what, owner),
			 errdetail("Readers of the view evaluate %s with their own rights, so hybridagg accepts there only code that a superuser installed (built-in, or from an extension).",
					   walk->part),
			 errhint("Compute the value in a query over the view, or in a column of the table.")));
}

static bool
untrusted_function(Oid funcid, void *context)
{
	CodeWalk   *walk = (CodeWalk *) context;
	Oid			owner = function_owner(funcid);

	if (trusted(owner, walk->runner))
		return false;
	walk->funcid = funcid;
	walk->code_owner = owner;
	return true;
}

static bool
is_group_key(const Definition *def, Node *node)
{
	ListCell   *lc;

	foreach(lc, def->key_exprs)
	{
		if (equal(lfirst(lc), node))
			return true;
	}
	return false;
}

static bool
find_untrusted_code(Node *node, CodeWalk *walk)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	if (walk->final_values)
	{
		/* over the final values, an aggregate and a key are stored columns */
		if (IsA(node, Aggref) || is_group_key(walk->def, node))
			return false;
	}
	if (IsA(node, Aggref))
	{
		/* the aggregate itself: only its identity is used (definition.c) */
		if (untrusted_function(((Aggref *) node)->aggfnoid, walk))
		{
			walk->node = node;
			return true;
		}
	}
	else if (IsA(node, CoerceToDomain))
	{
		Oid			domain = ((CoerceToDomain *) node)->resulttype;
		Oid			owner = type_owner(domain);

		/* a domain's CHECK constraints are its owner's code */
		if (!trusted(owner, walk->runner))
		{
			walk->funcid = InvalidOid;
			walk->code_owner = owner;
			walk->node = node;
			return true;
		}
	}
	else if (check_functions_in_node(node, untrusted_function, walk))
	{
		walk->node = node;
		return true;
	}
	return expression_tree_walker(node, find_untrusted_code, (void *) walk);
}

static void
check_part(const Definition *def, Node *node, Oid runner, bool final_values,
		   const char *part)
{
	CodeWalk	walk = {
		def, runner, final_values, part, InvalidOid, InvalidOid, NULL
	};
	char	   *what;

	if (!find_untrusted_code(node, &walk))
		return;
	if (IsA(walk.node, CoerceToDomain))
		what = psprintf("domain %s",
						format_type_be(((CoerceToDomain *)
										walk.node)->resulttype));
	else if (IsA(walk.node, Aggref))
		what = psprintf("aggregate %s", format_procedure(walk.funcid));
	else if (IsA(walk.node, OpExpr) || IsA(walk.node, DistinctExpr) ||
			 IsA(walk.node, NullIfExpr) || IsA(walk.node, ScalarArrayOpExpr))
		what = psprintf("operator function %s", format_procedure(walk.funcid));
	else
		what = psprintf("function %s", format_procedure(walk.funcid));
	refuse(&walk, what);
}

/* the comparisons that group a type, and order it for min() and max() */
static void
check_type_comparisons(const Definition *def, Oid type, const char *part)
{
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_EQ_OPR |
										   TYPECACHE_CMP_PROC |
										   TYPECACHE_HASH_PROC);
	Oid			procs[3];
	CodeWalk	walk = {
		def, InvalidOid, true, part, InvalidOid, InvalidOid, NULL
	};

	procs[0] = OidIsValid(tc->eq_opr) ? get_opcode(tc->eq_opr) : InvalidOid;
	procs[1] = tc->cmp_proc;
	procs[2] = tc->hash_proc;
	for (int i = 0; i < lengthof(procs); i++)
		if (OidIsValid(procs[i]) && untrusted_function(procs[i], &walk))
			refuse(&walk,
				   psprintf("function %s, which compares values of type %s",
							format_procedure(walk.funcid),
							format_type_be(type)));
}

void
check_code_owners(const Definition *def, Oid owner, bool readers_aggregate_rows)
{
	Oid			row_runner = readers_aggregate_rows ? InvalidOid : owner;
	const char *row_part = (readers_aggregate_rows ?
							"the WHERE clause, the GROUP BY expressions and "
							"the aggregate arguments of a batch aggregate" :
							"the WHERE clause, the GROUP BY expressions and "
							"the aggregate arguments");
	ListCell   *lc;

	check_part(def, def->where, row_runner, false, row_part);
	check_part(def, (Node *) def->key_exprs, row_runner, false, row_part);
	check_part(def, (Node *) def->arg_exprs, row_runner, false, row_part);
	foreach(lc, def->aggregates)
		check_part(def, (Node *) ((DefinedAggregate *) lfirst(lc))->aggref,
				   row_runner, false, row_part);
	check_part(def, (Node *) def->query->targetList, InvalidOid, true,
			   "the select list");
	check_part(def, def->query->havingQual, InvalidOid, true, "HAVING");

	foreach(lc, def->key_exprs)
		check_type_comparisons(def, exprType(lfirst(lc)), "the GROUP BY keys");
	foreach(lc, def->aggregates)
	{
		DefinedAggregate *agg = lfirst(lc);

		if (agg->func == AGG_MIN || agg->func == AGG_MAX)
			check_type_comparisons(def, agg->aggref->aggtype,
								   "min() and max()");
	}
}
