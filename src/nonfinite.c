/*-------------------------------------------------------------------------
 * nonfinite.c
 *	  hybridagg_internal.nonfinite_or(): the value of a float or numeric
 *	  sum or average whose group may hold NaN or infinities.
 *
 * A float or numeric sum keeps the sum of its finite values and counts its
 * NaN, +Infinity and -Infinity values apart (layout.c), so that deleting
 * them gives the exact sum back.  The value of the group is then what
 * PostgreSQL's own sum() and avg() make of those values: NaN if any value
 * is NaN or both infinities are there, else the infinity that is there,
 * else the finite sum (or average) passed in.  A missing count (NULL) is
 * none.  One function call, where a CASE would repeat the counts in every
 * branch of groups_<id>: the planner copies each branch's expressions as
 * it flattens the view, on every query.
 *
 * The views call it with the reader's rights, so it is executable by
 * PUBLIC: it reads nothing but its arguments.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "export.h"

PG_FUNCTION_INFO_V1(hybridagg_nonfinite_or);

static int64
count_argument(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? 0 : PG_GETARG_INT64(n);
}

/* 'NaN', 'Infinity' or '-Infinity' of a float4, float8 or numeric type */
static Datum
nonfinite_value(Oid type, const char *text)
{
	switch (type)
	{
		case FLOAT4OID:
			return DirectFunctionCall1(float4in, CStringGetDatum(text));
		case FLOAT8OID:
			return DirectFunctionCall1(float8in, CStringGetDatum(text));
		case NUMERICOID:
			return DirectFunctionCall3(numeric_in, CStringGetDatum(text),
									   ObjectIdGetDatum(InvalidOid),
									   Int32GetDatum(-1));
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("hybridagg_internal.nonfinite_or() takes a real, double precision or numeric value, not %s",
							format_type_be(type)),
					 errdetail("It gives a float or numeric sum the NaN or infinity its counts say it has."),
					 errhint("The views of hybridagg call it; a query has no need to.")));
	}
	return (Datum) 0;			/* keep the compiler quiet */
}

/* nonfinite_or(finite anyelement, nan bigint, posinf bigint, neginf bigint) */
Datum
hybridagg_nonfinite_or(PG_FUNCTION_ARGS)
{
	int64		nan = count_argument(fcinfo, 1);
	int64		posinf = count_argument(fcinfo, 2);
	int64		neginf = count_argument(fcinfo, 3);
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 0);

	if (nan > 0 || (posinf > 0 && neginf > 0))
		PG_RETURN_DATUM(nonfinite_value(type, "NaN"));
	if (posinf > 0)
		PG_RETURN_DATUM(nonfinite_value(type, "Infinity"));
	if (neginf > 0)
		PG_RETURN_DATUM(nonfinite_value(type, "-Infinity"));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}
