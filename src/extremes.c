/*-------------------------------------------------------------------------
 * extremes.c
 *	  hybridagg_internal.least_of() and greatest_of(): min() and max() of any
 *	  type, in the order of the type's default btree operator class.
 *
 * The min and max states of an aggregate are combined in generated SQL.
 * Calling min() there would find an aggregate through the search_path,
 * which is pg_catalog's min(text) for a citext column; these two order by
 * the type's default btree class under the input's collation, as LEAST and
 * GREATEST do, and as min() and max() of every built-in type (and of types
 * such as citext, for their own min and max) do.  The capture compares new
 * values with the same comparison function.
 *
 * hybridagg_internal.any_value(), alike, combines the value of a recomputed
 * aggregate (layout.c value_K) with the empty rows that stand beside it: it
 * keeps the first non-null input (PostgreSQL 15 has no any_value()).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/typcache.h"

#include "export.h"

PG_FUNCTION_INFO_V1(hybridagg_least_of_step);
PG_FUNCTION_INFO_V1(hybridagg_greatest_of_step);
PG_FUNCTION_INFO_V1(hybridagg_any_value_step);

/* the btree comparison of the arguments' type, cached in flinfo */
static int
compare_arguments(FunctionCallInfo fcinfo)
{
	FmgrInfo   *compare = (FmgrInfo *) fcinfo->flinfo->fn_extra;

	if (compare == NULL)
	{
		Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 0);
		TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_CMP_PROC_FINFO);

		if (!OidIsValid(tc->cmp_proc))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("could not identify a comparison function for type %s",
							format_type_be(type)),
					 errhint("min() and max() in a hybridagg aggregate need a type with a default btree operator class.")));
		compare = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
									 sizeof(FmgrInfo));
		fmgr_info_copy(compare, &tc->cmp_proc_finfo,
					   fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = compare;
	}
	return DatumGetInt32(FunctionCall2Coll(compare, PG_GET_COLLATION(),
										   PG_GETARG_DATUM(0),
										   PG_GETARG_DATUM(1)));
}

/* strict: the first non-null input becomes the state, as in min() */
Datum
hybridagg_least_of_step(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(compare_arguments(fcinfo) <= 0 ?
					PG_GETARG_DATUM(0) : PG_GETARG_DATUM(1));
}

Datum
hybridagg_greatest_of_step(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(compare_arguments(fcinfo) >= 0 ?
					PG_GETARG_DATUM(0) : PG_GETARG_DATUM(1));
}

/* strict: the first non-null input is the state, and stays */
Datum
hybridagg_any_value_step(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}
