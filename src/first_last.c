/*-------------------------------------------------------------------------
 * first_last.c
 *	  hybridagg.first(value, time) and hybridagg.last(value, time): the
 *	  value of the earliest and of the latest row by time.
 *
 * What they return, exactly: the rows of a group ordered by time, then by
 * value (in each type's default btree order, NULL values after all others),
 * rows with a NULL time left out; first() is the value of the first such
 * row, last() of the last:
 *	 first(v, t) = (array_agg(v ORDER BY t, v NULLS LAST)
 *					FILTER (WHERE t IS NOT NULL))[1]
 * and last() the final element.  Ties at one time are broken by the value,
 * and values that compare equal but differ (numeric 1.0 and 1.00, float8 0
 * and -0, text under a nondeterministic collation) by their binary send
 * form: the shorter one first, then the bytewise smaller one.  So among rows
 * ordered by (time, value, send form) first() keeps the least and last() the
 * greatest, and the result never depends on the order rows arrive in: a
 * parallel plan, a recompute and the capture agree, on every platform (the
 * send form is the one COPY BINARY writes).  Values with the same send form
 * are interchangeable.  (TimescaleDB's first and last keep whichever tied
 * row they saw first; Debian's first_last_agg ignores time.)
 *
 * Both are ordinary aggregates with a combine function and serial and
 * deserial functions, so PostgreSQL can run them in parallel and hybridagg
 * can combine partial states.  The state is the best row so far: its time
 * and value, copied into the aggregate's memory context.  A serialized state
 * only travels between the processes of one parallel query, which share one
 * build and one registry of anonymous record types (the session's typmod
 * registry), so it carries the values' images as they are in memory
 * (datumSerialize): every type, an anonymous record (ROW(t, s)), an array or
 * a nesting of them included, arrives exactly as it left.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "export.h"

PG_FUNCTION_INFO_V1(hybridagg_first_transition);
PG_FUNCTION_INFO_V1(hybridagg_last_transition);
PG_FUNCTION_INFO_V1(hybridagg_first_combine);
PG_FUNCTION_INFO_V1(hybridagg_last_combine);
PG_FUNCTION_INFO_V1(hybridagg_first_last_final);
PG_FUNCTION_INFO_V1(hybridagg_first_last_serialize);
PG_FUNCTION_INFO_V1(hybridagg_first_last_deserialize);

/* how to compare and copy the values of one type */
typedef struct TypeInfo
{
	Oid			type;
	int16		typlen;
	bool		typbyval;
	FmgrInfo	cmp;			/* the default btree class's comparison */
} TypeInfo;

/* the best row so far */
typedef struct FirstLastState
{
	bool		have;			/* a row with a time was seen */
	bool		value_null;
	Datum		value;
	Datum		time;
	Oid			collation;
	Oid			value_send;		/* the value type's binary send function */
	TypeInfo	value_info;
	TypeInfo	time_info;
} FirstLastState;

/* argument n of an aggregate support function: a state, or NULL */
#define STATE_ARG(n) \
	(PG_ARGISNULL(n) ? NULL : (FirstLastState *) PG_GETARG_POINTER(n))

static void
type_info(TypeInfo *info, Oid type, MemoryContext context)
{
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_CMP_PROC_FINFO);

	if (!OidIsValid(tc->cmp_proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("could not identify a comparison function for type %s",
						format_type_be(type)),
				 errdetail("first() and last() order rows by time, then by value, in each type's default btree order."),
				 errhint("Cast the value to a type with a btree operator class, such as text.")));
	info->type = type;
	get_typlenbyval(type, &info->typlen, &info->typbyval);
	fmgr_info_cxt(tc->cmp_proc, &info->cmp, context);
}

static int
compare(TypeInfo *info, Oid collation, Datum a, Datum b)
{
	return DatumGetInt32(FunctionCall2Coll(&info->cmp, collation, a, b));
}

static MemoryContext
aggregate_context(FunctionCallInfo fcinfo, const char *name)
{
	MemoryContext context;

	if (!AggCheckCallContext(fcinfo, &context))
		elog(ERROR, "%s called in a non-aggregate context", name);
	return context;
}

/* the binary send function of the value type, which breaks ties */
static Oid
send_function(Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	char		typdelim;
	Oid			typioparam;
	Oid			send;

	get_type_io_data(type, IOFunc_send, &typlen, &typbyval, &typalign,
					 &typdelim, &typioparam, &send);
	if (!OidIsValid(send))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("type %s has no binary send function",
						format_type_be(type)),
				 errdetail("first() and last() break ties between values that compare equal but differ by the values' binary send form."),
				 errhint("Cast the value to a type with a binary send function, such as text.")));
	return send;
}

static FirstLastState *
new_state(MemoryContext context, Oid value_type, Oid time_type, Oid collation)
{
	FirstLastState *state = MemoryContextAllocZero(context,
												   sizeof(FirstLastState));

	type_info(&state->value_info, value_type, context);
	type_info(&state->time_info, time_type, context);
	state->value_send = send_function(value_type);
	state->collation = collation;
	return state;
}

/*
 * The order of two values that compare equal: none if their images are
 * equal, else the shorter binary send form first, then the bytewise smaller.
 */
static int
send_form_order(FirstLastState *state, Datum a, Datum b)
{
	bytea	   *a_form;
	bytea	   *b_form;
	int			a_len;
	int			b_len;
	int			cmp;

	if (datum_image_eq(a, b, state->value_info.typbyval,
					   state->value_info.typlen))
		return 0;
	a_form = OidSendFunctionCall(state->value_send, a);
	b_form = OidSendFunctionCall(state->value_send, b);
	a_len = VARSIZE(a_form) - VARHDRSZ;
	b_len = VARSIZE(b_form) - VARHDRSZ;
	if (a_len != b_len)
		cmp = a_len < b_len ? -1 : 1;
	else
		cmp = memcmp(VARDATA(a_form), VARDATA(b_form), a_len);
	pfree(a_form);
	pfree(b_form);
	return cmp;
}

/*
 * How the row (value, time) compares with the state's row in the order of
 * (time, value, send form): > 0 when it comes after it.
 */
static int
row_order(FirstLastState *state, bool value_null, Datum value, Datum time)
{
	int			cmp = compare(&state->time_info, state->collation, time,
							  state->time);

	if (cmp != 0)
		return cmp;
	/* the same time: by value, NULL after every value */
	if (value_null || state->value_null)
		return (value_null ? 1 : 0) - (state->value_null ? 1 : 0);
	cmp = compare(&state->value_info, state->collation, value, state->value);
	if (cmp != 0)
		return cmp;
	return send_form_order(state, value, state->value);
}

static void
replace_row(FirstLastState *state, MemoryContext context, bool value_null,
			Datum value, Datum time)
{
	MemoryContext old = MemoryContextSwitchTo(context);

	if (state->have)
	{
		if (!state->time_info.typbyval)
			pfree(DatumGetPointer(state->time));
		if (!state->value_null && !state->value_info.typbyval)
			pfree(DatumGetPointer(state->value));
	}
	state->time = datumCopy(time, state->time_info.typbyval,
							state->time_info.typlen);
	state->value_null = value_null;
	state->value = value_null ? (Datum) 0 :
		datumCopy(value, state->value_info.typbyval, state->value_info.typlen);
	state->have = true;
	MemoryContextSwitchTo(old);
}

static Datum
transition(FunctionCallInfo fcinfo, bool last)
{
	MemoryContext context = aggregate_context(fcinfo, last ? "last" : "first");
	FirstLastState *state = STATE_ARG(0);
	bool		value_null = PG_ARGISNULL(1);
	Datum		value = PG_GETARG_DATUM(1);
	Datum		time = PG_GETARG_DATUM(2);

	if (state == NULL)
		state = new_state(context, get_fn_expr_argtype(fcinfo->flinfo, 1),
						  get_fn_expr_argtype(fcinfo->flinfo, 2),
						  PG_GET_COLLATION());
	if (PG_ARGISNULL(2))
		PG_RETURN_POINTER(state);	/* a row with no time has no place */
	if (!state->have ||
		(last ? 1 : -1) * row_order(state, value_null, value, time) > 0)
		replace_row(state, context, value_null, value, time);
	PG_RETURN_POINTER(state);
}

Datum
hybridagg_first_transition(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, false);
}

Datum
hybridagg_last_transition(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, true);
}

static Datum
combine(FunctionCallInfo fcinfo, bool last)
{
	MemoryContext context = aggregate_context(fcinfo, last ? "last" : "first");
	FirstLastState *state = STATE_ARG(0);
	FirstLastState *other = STATE_ARG(1);

	if (other == NULL || !other->have)
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (state == NULL)
		state = new_state(context, other->value_info.type,
						  other->time_info.type, other->collation);
	if (!state->have ||
		(last ? 1 : -1) * row_order(state, other->value_null, other->value,
									other->time) > 0)
		replace_row(state, context, other->value_null, other->value,
					other->time);
	PG_RETURN_POINTER(state);
}

Datum
hybridagg_first_combine(PG_FUNCTION_ARGS)
{
	return combine(fcinfo, false);
}

Datum
hybridagg_last_combine(PG_FUNCTION_ARGS)
{
	return combine(fcinfo, true);
}

Datum
hybridagg_first_last_final(PG_FUNCTION_ARGS)
{
	FirstLastState *state = STATE_ARG(0);

	if (state == NULL || !state->have || state->value_null)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(state->value);
}

/*
 * A value's image as it is in memory (datumSerialize), onto buf; a TOASTed
 * value inline, so that reading it needs nothing of the sending process.
 */
static void
append_image(StringInfo buf, TypeInfo *info, Datum value)
{
	Size		size;
	char	   *end;

	if (info->typlen == -1)
		value = PointerGetDatum(PG_DETOAST_DATUM_PACKED(value));
	size = datumEstimateSpace(value, false, info->typbyval, info->typlen);
	enlargeStringInfo(buf, size);
	end = buf->data + buf->len;
	datumSerialize(value, false, info->typbyval, info->typlen, &end);
	buf->len += size;
	buf->data[buf->len] = '\0';
}

/* the image that append_image wrote at buf's cursor */
static Datum
read_image(StringInfo buf)
{
	char	   *start = buf->data + buf->cursor;
	bool		isnull;
	Datum		value = datumRestore(&start, &isnull);

	buf->cursor = start - buf->data;
	if (isnull || buf->cursor > buf->len)
		elog(ERROR, "invalid serialized first() or last() state");
	return value;
}

Datum
hybridagg_first_last_serialize(PG_FUNCTION_ARGS)
{
	FirstLastState *state = (FirstLastState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	(void) aggregate_context(fcinfo, "first_last_serialize");
	pq_begintypsend(&buf);
	pq_sendint32(&buf, state->value_info.type);
	pq_sendint32(&buf, state->time_info.type);
	pq_sendint32(&buf, state->collation);
	pq_sendbyte(&buf, state->have);
	pq_sendbyte(&buf, state->value_null);
	if (state->have)
	{
		append_image(&buf, &state->time_info, state->time);
		if (!state->value_null)
			append_image(&buf, &state->value_info, state->value);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

Datum
hybridagg_first_last_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext context = aggregate_context(fcinfo, "first_last_deserialize");
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	FirstLastState *state;
	Oid			value_type;
	Oid			time_type;
	Oid			collation;
	bool		have;
	bool		value_null;

	buf.data = VARDATA_ANY(bytes);
	buf.len = VARSIZE_ANY_EXHDR(bytes);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	value_type = pq_getmsgint(&buf, 4);
	time_type = pq_getmsgint(&buf, 4);
	collation = pq_getmsgint(&buf, 4);
	have = pq_getmsgbyte(&buf);
	value_null = pq_getmsgbyte(&buf);
	state = new_state(context, value_type, time_type, collation);
	if (have)
	{
		Datum		time = read_image(&buf);
		Datum		value = (Datum) 0;

		if (!value_null)
			value = read_image(&buf);
		replace_row(state, context, value_null, value, time);
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(state);
}
