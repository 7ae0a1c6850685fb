/*-------------------------------------------------------------------------
 * combined_states.c
 *	  Aggregates kept as their own transition states, combined with their
 *	  own combine function (pg_aggregate), as a parallel query combines them.
 *
 * An aggregate is kept this way when PostgreSQL can combine two of its
 * partial states (it has a combine function), its transition, combine and
 * final functions are immutable and written in C, and a state can be
 * stored (state_K, bytea) and read back safely:
 *	 - a state of an ordinary type (stddev and variance of floats, corr,
 *	   covar_*, regr_*, bit_and, bit_or, ...) is stored in the type's binary
 *	   send form, which PostgreSQL keeps stable across major versions, and
 *	   read back by the type's receive function, which checks it as any
 *	   binary input;
 *	 - an internal state (stddev and variance of integers and numerics) is
 *	   stored as the aggregate's serialize function writes it, with the
 *	   major version of PostgreSQL that wrote it, and read back by its
 *	   deserialize function only under that version (PostgreSQL keeps the
 *	   form within one).  Only PostgreSQL's own serialize and deserialize
 *	   functions are used: they read with bounds checks and validate what
 *	   they read, so bytes written by hand into the owner's tables, or passed
 *	   to these functions by anyone, give an error and nothing worse.  An
 *	   extension's (hll, tdigest) is not trusted with such bytes: those
 *	   aggregates are recomputed (layout.c value_K).
 *
 * A NULL state stands for a group that no row reached (the aggregate's
 * FILTER kept none): combining skips it, and its final value is that of the
 * aggregate's initial state, as over no rows.
 *
 * What runs the aggregate's support functions here:
 *	 - the capture (capture_groups.c), per row of a statement, through
 *	   combined_transition();
 *	 - hybridagg_internal.partial_state(aggregate, args...), an aggregate
 *	   that computes a group's state from base rows (backfill, materialize,
 *	   recompute of dirty groups);
 *	 - hybridagg_internal.combine_states(aggregate, state), an aggregate that
 *	   combines the states of a group's rows (fold, view);
 *	 - hybridagg_internal.combine_two(aggregate, a, b), the fold's upsert;
 *	 - hybridagg_internal.final_value(aggregate, state, NULL::type), the
 *	   view's value.
 * Any role may call these, with any arguments: each checks that the caller
 * may execute the aggregate, that the aggregate is one kept this way, that
 * the arguments are of the aggregate's own types and that the aggregate
 * does not change from one row to the next.  What they run then is what the
 * caller could run in plain SQL: the aggregate, and its type's receive
 * function.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "parser/parse_agg.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "combined_states.h"
#include "export.h"

PG_FUNCTION_INFO_V1(hybridagg_partial_state_step);
PG_FUNCTION_INFO_V1(hybridagg_combine_states_step);
PG_FUNCTION_INFO_V1(hybridagg_state_final);
PG_FUNCTION_INFO_V1(hybridagg_wrapper_combine);
PG_FUNCTION_INFO_V1(hybridagg_wrapper_serialize);
PG_FUNCTION_INFO_V1(hybridagg_wrapper_deserialize);
PG_FUNCTION_INFO_V1(hybridagg_combine_two);
PG_FUNCTION_INFO_V1(hybridagg_final_value);

/* ----------------------------------------------------------------
 * Which aggregates, and what they are made of
 * ----------------------------------------------------------------
 */

static bool
usable_support(Oid fn)
{
	HeapTuple	tuple;
	Form_pg_proc form;
	bool		usable;

	if (!OidIsValid(fn))
		return true;
	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", fn);
	form = (Form_pg_proc) GETSTRUCT(tuple);
	usable = (form->prolang == ClanguageId ||
			  form->prolang == INTERNALlanguageId) &&
		form->provolatile == PROVOLATILE_IMMUTABLE;
	ReleaseSysCache(tuple);
	return usable;
}

static bool
ordinary_type(Oid type)
{
	return get_typtype(type) != TYPTYPE_PSEUDO && !IsPolymorphicType(type);
}

/*
 * NULL if aggregate aggfnoid can be kept as combined states, else why not
 * (the end of a sentence, for an errdetail)
 */
const char *
combined_states_refusal(Oid aggfnoid)
{
	HeapTuple	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	Form_pg_aggregate agg;
	Form_pg_proc proc;
	const char *why = NULL;
	Oid			transtype;

	if (!HeapTupleIsValid(tuple))
		return "it is not an aggregate";
	agg = (Form_pg_aggregate) GETSTRUCT(tuple);
	transtype = agg->aggtranstype;
	if (agg->aggkind != AGGKIND_NORMAL)
		why = "it is an ordered-set or hypothetical-set aggregate";
	else if (!OidIsValid(agg->aggcombinefn))
		why = "it has no combine function";
	else if (transtype == INTERNALOID &&
			 (!OidIsValid(agg->aggserialfn) || !OidIsValid(agg->aggdeserialfn)))
		why = "its state is internal, and it has no serialize function";
	else if (transtype == INTERNALOID &&
			 (agg->aggserialfn >= FirstNormalObjectId ||
			  agg->aggdeserialfn >= FirstNormalObjectId))
		why = "its internal state is read by functions not PostgreSQL's own";
	else if (transtype != INTERNALOID && !ordinary_type(transtype))
		why = "its transition state is of a polymorphic or pseudo-type";
	else if (!usable_support(agg->aggtransfn) ||
			 !usable_support(agg->aggcombinefn) ||
			 !usable_support(agg->aggfinalfn))
		why = "its support functions are not all immutable and written in C";
	ReleaseSysCache(tuple);
	if (why)
		return why;

	/* an ordinary state is stored in its type's binary send form */
	if (transtype != INTERNALOID)
	{
		tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(transtype));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for type %u", transtype);
		if (!OidIsValid(((Form_pg_type) GETSTRUCT(tuple))->typsend) ||
			!OidIsValid(((Form_pg_type) GETSTRUCT(tuple))->typreceive))
			why = "its state's type has no binary send or receive function";
		ReleaseSysCache(tuple);
		if (why)
			return why;
	}

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", aggfnoid);
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	if (proc->provolatile != PROVOLATILE_IMMUTABLE)
		why = "it is not immutable";
	else if (OidIsValid(proc->provariadic))
		why = "it is variadic";
	else if (!ordinary_type(proc->prorettype))
		why = "its result is of a polymorphic or pseudo-type";
	for (int i = 0; why == NULL && i < proc->pronargs; i++)
		if (!ordinary_type(proc->proargtypes.values[i]))
			why = "an argument is of a polymorphic or pseudo-type";
	ReleaseSysCache(tuple);
	return why;
}

/*
 * The expressions nodeAgg gives the support functions' calls, so that a
 * function declared polymorphic learns its argument types from them
 * (get_fn_expr_argtype), as under nodeAgg
 */
static void
set_call_expressions(CombinedAggregate *agg)
{
	Oid			transtype = agg->transtype;
	Expr	   *expr;

	build_aggregate_transfn_expr(agg->argtypes, agg->nargs, 0, false,
								 transtype, InvalidOid, agg->transfn.fn_oid,
								 InvalidOid, &expr, NULL);
	fmgr_info_set_expr((Node *) expr, &agg->transfn);
	/* a combine function is a transition function over states */
	build_aggregate_transfn_expr(&transtype, 1, 0, false, transtype,
								 InvalidOid, agg->combinefn.fn_oid,
								 InvalidOid, &expr, NULL);
	fmgr_info_set_expr((Node *) expr, &agg->combinefn);
	if (agg->has_finalfn)
	{
		build_aggregate_finalfn_expr(agg->argtypes,
									 agg->finalextra ? agg->nargs + 1 : 1,
									 transtype, agg->resulttype, InvalidOid,
									 agg->finalfn.fn_oid, &expr);
		fmgr_info_set_expr((Node *) expr, &agg->finalfn);
	}
}

/* what running aggregate aggfnoid needs, allocated in context */
CombinedAggregate *
combined_aggregate_load(Oid aggfnoid, MemoryContext context)
{
	const char *refusal = combined_states_refusal(aggfnoid);
	CombinedAggregate *agg;
	HeapTuple	tuple;
	Form_pg_aggregate form;
	Form_pg_proc proc;
	Datum		initval;
	bool		initval_null;
	Oid			send;
	Oid			receive;
	bool		varlena;
	MemoryContext old;

	if (refusal)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s is not kept as combined states",
						format_procedure(aggfnoid)),
				 errdetail("hybridagg keeps an aggregate as combined states only if it can combine them: %s.",
						   refusal)));

	old = MemoryContextSwitchTo(context);
	agg = palloc0(sizeof(CombinedAggregate));
	agg->aggfnoid = aggfnoid;

	tuple = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for aggregate %u", aggfnoid);
	form = (Form_pg_aggregate) GETSTRUCT(tuple);
	agg->transtype = form->aggtranstype;
	get_typlenbyval(agg->transtype, &agg->translen, &agg->transbyval);
	fmgr_info_cxt(form->aggtransfn, &agg->transfn, context);
	fmgr_info_cxt(form->aggcombinefn, &agg->combinefn, context);
	agg->has_finalfn = OidIsValid(form->aggfinalfn);
	if (agg->has_finalfn)
		fmgr_info_cxt(form->aggfinalfn, &agg->finalfn, context);
	agg->finalextra = form->aggfinalextra;
	agg->internal_state = agg->transtype == INTERNALOID;
	if (agg->internal_state)
	{
		fmgr_info_cxt(form->aggserialfn, &agg->serialfn, context);
		fmgr_info_cxt(form->aggdeserialfn, &agg->deserialfn, context);
	}
	initval = SysCacheGetAttr(AGGFNOID, tuple, Anum_pg_aggregate_agginitval,
							  &initval_null);
	agg->initval_null = initval_null;
	if (!initval_null)
	{
		Oid			input;
		Oid			ioparam;

		getTypeInputInfo(agg->transtype, &input, &ioparam);
		agg->initval = OidInputFunctionCall(input,
											TextDatumGetCString(initval),
											ioparam, -1);
	}
	ReleaseSysCache(tuple);

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", aggfnoid);
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	agg->nargs = proc->pronargs;
	for (int i = 0; i < agg->nargs; i++)
		agg->argtypes[i] = proc->proargtypes.values[i];
	agg->resulttype = proc->prorettype;
	ReleaseSysCache(tuple);
	set_call_expressions(agg);
	if (!agg->has_finalfn && agg->resulttype != agg->transtype)
		elog(ERROR, "aggregate %u has no final function, and returns %s, not its state's %s",
			 aggfnoid, format_type_be(agg->resulttype),
			 format_type_be(agg->transtype));

	if (!agg->internal_state)
	{
		getTypeBinaryOutputInfo(agg->transtype, &send, &varlena);
		fmgr_info_cxt(send, &agg->send, context);
		getTypeBinaryInputInfo(agg->transtype, &receive,
							   &agg->receive_ioparam);
		fmgr_info_cxt(receive, &agg->receive, context);
	}
	MemoryContextSwitchTo(old);
	return agg;
}

/* ----------------------------------------------------------------
 * States: transition, combine, send and receive, final value
 * ----------------------------------------------------------------
 */

/*
 * What the support functions of an internal state get as their context
 * where no aggregate runs them (the capture, combine_two(), final_value()):
 * an AggState whose aggregate context is state_context, as
 * AggCheckCallContext() reads it, with no aggregate or transition of its
 * own (AggGetAggref() finds none).  PostgreSQL's own support functions of
 * internal states, the only ones kept (combined_states_refusal), ask it for
 * nothing else.
 */
fmNodePtr
combined_fn_context(MemoryContext state_context)
{
	AggState   *aggstate = makeNode(AggState);
	ExprContext *econtext = makeNode(ExprContext);

	econtext->ecxt_per_query_memory = state_context;
	econtext->ecxt_per_tuple_memory = state_context;
	aggstate->curaggcontext = econtext;
	aggstate->tmpcontext = econtext;
	return (fmNodePtr) aggstate;
}

/* the state becomes value (computed in any context), copied into context */
static void
state_replace(const CombinedAggregate *agg, CombinedState *state,
			  MemoryContext context, Datum value, bool isnull)
{
	Datum		old_value = state->value;
	bool		old_null = state->isnull;

	state->started = true;
	if (agg->transbyval)
	{
		state->value = isnull ? (Datum) 0 : value;
		state->isnull = isnull;
		return;
	}
	/* a function that changed its state in place (in context) returns it */
	if (!isnull && !old_null &&
		DatumGetPointer(value) == DatumGetPointer(old_value))
		return;
	if (!isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(context);

		value = datumCopy(value, false, agg->translen);
		MemoryContextSwitchTo(old);
	}
	state->value = isnull ? (Datum) 0 : value;
	state->isnull = isnull;
	if (!old_null)
		pfree(DatumGetPointer(old_value));
}

/* a state that no row reached yet becomes the aggregate's initial state */
static void
state_start(const CombinedAggregate *agg, CombinedState *state,
			MemoryContext context)
{
	if (state->started)
		return;
	state->isnull = true;
	state->value = (Datum) 0;
	state_replace(agg, state, context, agg->initval, agg->initval_null);
}

/*
 * Feed one row's arguments to the transition function, as nodeAgg does
 * (advance_transition_function): a strict function skips rows with a NULL
 * argument, and takes the first row's argument as the state when there is
 * no initial state.  The state lives in state_context; the function runs
 * in the current memory context, with fn_context (the caller's AggState,
 * or NULL) as its context.
 */
void
combined_transition(const CombinedAggregate *agg, CombinedState *state,
					MemoryContext state_context, const Datum *args,
					const bool *nulls, Oid collation, fmNodePtr fn_context)
{
	LOCAL_FCINFO(fcinfo, FUNC_MAX_ARGS);
	Datum		result;

	state_start(agg, state, state_context);
	if (agg->transfn.fn_strict)
	{
		for (int i = 0; i < agg->nargs; i++)
			if (nulls[i])
				return;
		if (state->isnull)
		{
			/* CREATE AGGREGATE made the first argument's type the state's */
			state_replace(agg, state, state_context, args[0], false);
			return;
		}
	}
	InitFunctionCallInfoData(*fcinfo, (FmgrInfo *) &agg->transfn,
							 agg->nargs + 1, collation, fn_context, NULL);
	fcinfo->args[0].value = state->value;
	fcinfo->args[0].isnull = state->isnull;
	for (int i = 0; i < agg->nargs; i++)
	{
		fcinfo->args[i + 1].value = args[i];
		fcinfo->args[i + 1].isnull = nulls[i];
	}
	result = FunctionCallInvoke(fcinfo);
	state_replace(agg, state, state_context, result, fcinfo->isnull);
}

/* combine state other into state, as nodeAgg's combine phase does */
static void
combine_into(const CombinedAggregate *agg, CombinedState *state,
			 MemoryContext state_context, const CombinedState *other,
			 Oid collation, fmNodePtr fn_context)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	if (!other->started)
		return;
	/* an internal state is copied into state_context by the combine function */
	if (agg->internal_state && !state->started)
	{
		state->started = true;
		state->isnull = true;
		state->value = (Datum) 0;
	}
	else if (!state->started ||
			 (agg->combinefn.fn_strict && state->isnull && !other->isnull))
	{
		state->isnull = true;
		state_replace(agg, state, state_context, other->value, other->isnull);
		return;
	}
	if (agg->combinefn.fn_strict && other->isnull)
		return;
	InitFunctionCallInfoData(*fcinfo, (FmgrInfo *) &agg->combinefn, 2,
							 collation, fn_context, NULL);
	fcinfo->args[0].value = state->value;
	fcinfo->args[0].isnull = state->isnull;
	fcinfo->args[1].value = other->value;
	fcinfo->args[1].isnull = other->isnull;
	result = FunctionCallInvoke(fcinfo);
	state_replace(agg, state, state_context, result, fcinfo->isnull);
}

/*
 * The stored form of a state: a byte 0 for a NULL state; or a byte 1 and
 * the value's binary send form; or, for an internal state, a byte 2, the
 * major version of PostgreSQL that serialized it (two bytes, which no other
 * major version reads: PostgreSQL keeps a serialized state's form only
 * within one) and the aggregate's serialized state.  SQL NULL for a state no
 * row reached.
 */
#define STORED_NULL 0
#define STORED_SENT 1
#define STORED_SERIALIZED 2
#define PG_MAJOR (PG_VERSION_NUM / 10000)

bytea *
combined_state_send(const CombinedAggregate *agg, const CombinedState *state,
					fmNodePtr fn_context)
{
	bytea	   *sent = NULL;
	bytea	   *stored;
	char		tag = STORED_NULL;
	Size		header = 1;
	Size		len = 0;

	if (!state->started)
		return NULL;
	if (!state->isnull && agg->internal_state)
	{
		LOCAL_FCINFO(fcinfo, 1);

		InitFunctionCallInfoData(*fcinfo, (FmgrInfo *) &agg->serialfn, 1,
								 InvalidOid, fn_context, NULL);
		fcinfo->args[0].value = state->value;
		fcinfo->args[0].isnull = false;
		sent = DatumGetByteaPP(FunctionCallInvoke(fcinfo));
		if (fcinfo->isnull)
			elog(ERROR, "the serialize function of %s returned NULL",
				 format_procedure(agg->aggfnoid));
		tag = STORED_SERIALIZED;
		header = 3;
	}
	else if (!state->isnull)
	{
		sent = SendFunctionCall((FmgrInfo *) &agg->send, state->value);
		tag = STORED_SENT;
	}
	if (sent)
		len = VARSIZE_ANY_EXHDR(sent);
	stored = palloc(VARHDRSZ + header + len);
	SET_VARSIZE(stored, VARHDRSZ + header + len);
	VARDATA(stored)[0] = tag;
	if (tag == STORED_SERIALIZED)
	{
		VARDATA(stored)[1] = (char) (PG_MAJOR >> 8);
		VARDATA(stored)[2] = (char) (PG_MAJOR & 0xff);
	}
	if (sent)
		memcpy(VARDATA(stored) + header, VARDATA_ANY(sent), len);
	return stored;
}

static void
state_receive_context(void *arg)
{
	errcontext("reading a state of aggregate %s",
			   format_procedure(*(Oid *) arg));
}

static void
malformed_state(const CombinedAggregate *agg, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("malformed state of aggregate %s",
					format_procedure(agg->aggfnoid)),
			 detail ? errdetail_internal("%s", detail) : 0));
}

/*
 * A stored state read back: with the type's receive function, or with the
 * aggregate's deserialize function (allocating in the current context)
 */
static void
state_receive(const CombinedAggregate *agg, bytea *stored,
			  CombinedState *state, fmNodePtr fn_context)
{
	int			len = VARSIZE_ANY_EXHDR(stored);
	const char *data = VARDATA_ANY(stored);
	char		expected = (agg->internal_state ? STORED_SERIALIZED :
							STORED_SENT);
	StringInfoData buf;
	ErrorContextCallback context;

	state->started = true;
	state->isnull = true;
	state->value = (Datum) 0;
	if (len == 1 && data[0] == STORED_NULL)
		return;
	if (len < 1 || data[0] != expected)
		malformed_state(agg, NULL);
	context.callback = state_receive_context;
	context.arg = (void *) &agg->aggfnoid;
	context.previous = error_context_stack;
	error_context_stack = &context;
	if (agg->internal_state)
	{
		LOCAL_FCINFO(fcinfo, 2);
		int			major;
		bytea	   *serialized;

		if (len < 3)
			malformed_state(agg, NULL);
		major = ((unsigned char) data[1] << 8) | (unsigned char) data[2];
		if (major != PG_MAJOR)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a state of aggregate %s was stored by PostgreSQL %d, which this PostgreSQL %d cannot read",
							format_procedure(agg->aggfnoid), major, PG_MAJOR),
					 errdetail("PostgreSQL keeps the serialized form of an aggregate's state within one major version."),
					 errhint("Recompute the aggregate's stored groups from the base table: CALL hybridagg.materialize(name, '-infinity', 'infinity').")));
		serialized = palloc(VARHDRSZ + len - 3);
		SET_VARSIZE(serialized, VARHDRSZ + len - 3);
		memcpy(VARDATA(serialized), data + 3, len - 3);
		InitFunctionCallInfoData(*fcinfo, (FmgrInfo *) &agg->deserialfn, 2,
								 InvalidOid, fn_context, NULL);
		fcinfo->args[0].value = PointerGetDatum(serialized);
		fcinfo->args[0].isnull = false;
		/* a dummy argument, as nodeAgg passes it */
		fcinfo->args[1].value = (Datum) 0;
		fcinfo->args[1].isnull = false;
		state->value = FunctionCallInvoke(fcinfo);
		state->isnull = fcinfo->isnull;
	}
	else
	{
		initStringInfo(&buf);
		appendBinaryStringInfo(&buf, data + 1, len - 1);
		state->value = ReceiveFunctionCall((FmgrInfo *) &agg->receive, &buf,
										   agg->receive_ioparam, -1);
		if (buf.cursor != buf.len)
			malformed_state(agg, "The state has bytes after its value.");
		state->isnull = false;
	}
	error_context_stack = context.previous;
}

/* ----------------------------------------------------------------
 * The SQL-callable functions
 * ----------------------------------------------------------------
 */

/* argument i of a call is of type type, or binary coercible to it */
static void
check_argument_type(FunctionCallInfo fcinfo, const char *caller, int i,
					Oid type)
{
	Oid			actual = get_fn_expr_argtype(fcinfo->flinfo, i);

	if (actual != type && !IsBinaryCoercible(actual, type))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("argument %d of %s() is of type %s, not %s",
						i, caller, format_type_be(actual),
						format_type_be(type))));
}

/*
 * The aggregate named by argument aggarg, checked on a call site's first
 * call and cached there: the caller may execute it, it is kept as combined
 * states, and it is the same on every call.  With first_input >= 0 the
 * aggregate's own arguments follow from there, and their types are checked.
 */
static CombinedAggregate *
cached_aggregate(FunctionCallInfo fcinfo, const char *caller, Oid aggfnoid,
				 bool *loaded)
{
	CombinedAggregate *agg = (CombinedAggregate *) fcinfo->flinfo->fn_extra;
	AclResult	aclresult;

	*loaded = false;
	if (agg)
	{
		if (agg->aggfnoid != aggfnoid)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the aggregate of %s() must be the same in every row",
							caller)));
		return agg;
	}
	aclresult = pg_proc_aclcheck(aggfnoid, GetUserId(), ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_AGGREGATE, get_func_name(aggfnoid));
	agg = combined_aggregate_load(aggfnoid, fcinfo->flinfo->fn_mcxt);
	fcinfo->flinfo->fn_extra = agg;
	*loaded = true;
	return agg;
}

static CombinedAggregate *
call_site_aggregate(FunctionCallInfo fcinfo, const char *caller, int aggarg,
					int first_input)
{
	CombinedAggregate *agg;
	bool		loaded;

	if (PG_ARGISNULL(aggarg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the aggregate of %s() must not be NULL", caller)));
	agg = cached_aggregate(fcinfo, caller, PG_GETARG_OID(aggarg), &loaded);
	if (loaded && first_input >= 0)
	{
		if (get_fn_expr_variadic(fcinfo->flinfo) ||
			PG_NARGS() - first_input != agg->nargs)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg_plural("%s() of %s takes %d argument after the aggregate",
								   "%s() of %s takes %d arguments after the aggregate",
								   agg->nargs, caller,
								   format_procedure(agg->aggfnoid),
								   agg->nargs)));
		for (int i = 0; i < agg->nargs; i++)
			check_argument_type(fcinfo, caller, first_input + i,
								agg->argtypes[i]);
	}
	return agg;
}

/* what the aggregates partial_state and combine_states keep per group */
typedef struct WrapperState
{
	CombinedAggregate *agg;		/* the transition function's call site's */
	CombinedState state;
} WrapperState;

static WrapperState *
wrapper_state(FunctionCallInfo fcinfo, MemoryContext *aggcontext,
			  CombinedAggregate *agg)
{
	WrapperState *group;

	if (!AggCheckCallContext(fcinfo, aggcontext))
		elog(ERROR, "%s called in non-aggregate context",
			 get_func_name(fcinfo->flinfo->fn_oid));
	if (!PG_ARGISNULL(0))
		return (WrapperState *) PG_GETARG_POINTER(0);
	group = MemoryContextAllocZero(*aggcontext, sizeof(WrapperState));
	group->agg = agg;
	return group;
}

/*
 * partial_state(aggregate regprocedure, VARIADIC "any"): the aggregate's
 * state over the rows, as the capture computes it
 */
Datum
hybridagg_partial_state_step(PG_FUNCTION_ARGS)
{
	CombinedAggregate *agg = call_site_aggregate(fcinfo, "partial_state",
												 1, 2);
	MemoryContext aggcontext;
	WrapperState *group = wrapper_state(fcinfo, &aggcontext, agg);
	Datum		args[FUNC_MAX_ARGS];
	bool		nulls[FUNC_MAX_ARGS];

	for (int i = 0; i < agg->nargs; i++)
	{
		args[i] = PG_GETARG_DATUM(i + 2);
		nulls[i] = PG_ARGISNULL(i + 2);
	}
	combined_transition(agg, &group->state, aggcontext, args, nulls,
						PG_GET_COLLATION(), fcinfo->context);
	PG_RETURN_POINTER(group);
}

/* combine_states(aggregate regprocedure, state bytea): states combined */
Datum
hybridagg_combine_states_step(PG_FUNCTION_ARGS)
{
	CombinedAggregate *agg = call_site_aggregate(fcinfo, "combine_states",
												 1, -1);
	MemoryContext aggcontext;
	WrapperState *group = wrapper_state(fcinfo, &aggcontext, agg);
	CombinedState other;

	if (PG_ARGISNULL(2))
		PG_RETURN_POINTER(group);
	state_receive(agg, PG_GETARG_BYTEA_PP(2), &other, fcinfo->context);
	combine_into(agg, &group->state, aggcontext, &other, PG_GET_COLLATION(),
				 fcinfo->context);
	PG_RETURN_POINTER(group);
}

/* the final function of partial_state() and combine_states() */
Datum
hybridagg_state_final(PG_FUNCTION_ARGS)
{
	WrapperState *group;
	bytea	   *stored;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	group = (WrapperState *) PG_GETARG_POINTER(0);
	stored = combined_state_send(group->agg, &group->state, fcinfo->context);
	if (stored == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(stored);
}

/*
 * partial_state() and combine_states() in a parallel plan: the states of
 * the workers' groups, serialized with their aggregate, and combined
 */
Datum
hybridagg_wrapper_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	WrapperState *group = PG_ARGISNULL(0) ? NULL :
	(WrapperState *) PG_GETARG_POINTER(0);
	WrapperState *other = PG_ARGISNULL(1) ? NULL :
	(WrapperState *) PG_GETARG_POINTER(1);

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "wrapper_combine called in non-aggregate context");
	if (other == NULL)
		PG_RETURN_POINTER(group);
	if (group == NULL)
	{
		group = MemoryContextAllocZero(aggcontext, sizeof(WrapperState));
		group->agg = other->agg;
	}
	else if (group->agg->aggfnoid != other->agg->aggfnoid)
		elog(ERROR, "states of %s and %s combined",
			 format_procedure(group->agg->aggfnoid),
			 format_procedure(other->agg->aggfnoid));
	combine_into(group->agg, &group->state, aggcontext, &other->state,
				 PG_GET_COLLATION(), fcinfo->context);
	PG_RETURN_POINTER(group);
}

/* the aggregate's OID, then the state's stored form (none if no row) */
Datum
hybridagg_wrapper_serialize(PG_FUNCTION_ARGS)
{
	WrapperState *group = (WrapperState *) PG_GETARG_POINTER(0);
	bytea	   *stored = combined_state_send(group->agg, &group->state,
											 fcinfo->context);
	Size		len = stored ? VARSIZE(stored) - VARHDRSZ : 0;
	bytea	   *result = palloc(VARHDRSZ + sizeof(Oid) + len);

	SET_VARSIZE(result, VARHDRSZ + sizeof(Oid) + len);
	memcpy(VARDATA(result), &group->agg->aggfnoid, sizeof(Oid));
	if (stored)
		memcpy(VARDATA(result) + sizeof(Oid), VARDATA(stored), len);
	PG_RETURN_BYTEA_P(result);
}

Datum
hybridagg_wrapper_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *serialized = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(serialized);
	WrapperState *group = palloc0(sizeof(WrapperState));
	Oid			aggfnoid;
	bool		loaded;

	if (len < sizeof(Oid))
		elog(ERROR, "malformed serialized state of a combined aggregate");
	memcpy(&aggfnoid, VARDATA_ANY(serialized), sizeof(Oid));
	group->agg = cached_aggregate(fcinfo, "wrapper_deserialize", aggfnoid,
								  &loaded);
	if (len > sizeof(Oid))
	{
		bytea	   *stored = palloc(VARHDRSZ + len - sizeof(Oid));

		SET_VARSIZE(stored, VARHDRSZ + len - sizeof(Oid));
		memcpy(VARDATA(stored), VARDATA_ANY(serialized) + sizeof(Oid),
			   len - sizeof(Oid));
		state_receive(group->agg, stored, &group->state, fcinfo->context);
	}
	PG_RETURN_POINTER(group);
}

/* combine_two(aggregate regprocedure, a bytea, b bytea): a and b combined */
Datum
hybridagg_combine_two(PG_FUNCTION_ARGS)
{
	CombinedAggregate *agg = call_site_aggregate(fcinfo, "combine_two", 0, -1);
	fmNodePtr	fn_context = combined_fn_context(CurrentMemoryContext);
	CombinedState state;
	CombinedState other;
	bytea	   *stored;

	if (PG_ARGISNULL(1) && PG_ARGISNULL(2))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_DATUM(PG_GETARG_DATUM(PG_ARGISNULL(1) ? 2 : 1));
	state_receive(agg, PG_GETARG_BYTEA_PP(1), &state, fn_context);
	state_receive(agg, PG_GETARG_BYTEA_PP(2), &other, fn_context);
	combine_into(agg, &state, CurrentMemoryContext, &other,
				 PG_GET_COLLATION(), fn_context);
	stored = combined_state_send(agg, &state, fn_context);
	PG_RETURN_BYTEA_P(stored);
}

/*
 * final_value(aggregate regprocedure, state bytea, NULL::result type): the
 * aggregate's value for the state, as its final function makes it
 */
Datum
hybridagg_final_value(PG_FUNCTION_ARGS)
{
	CombinedAggregate *agg = call_site_aggregate(fcinfo, "final_value", 0, -1);
	fmNodePtr	fn_context = combined_fn_context(CurrentMemoryContext);

	LOCAL_FCINFO(finalinfo, FUNC_MAX_ARGS);
	CombinedState state = {false, true, (Datum) 0};
	Datum		result;

	if (get_fn_expr_argtype(fcinfo->flinfo, 2) != agg->resulttype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the third argument of final_value() must be of type %s, the result of %s",
						format_type_be(agg->resulttype),
						format_procedure(agg->aggfnoid))));
	if (PG_ARGISNULL(1))
		state_start(agg, &state, CurrentMemoryContext);
	else
		state_receive(agg, PG_GETARG_BYTEA_PP(1), &state, fn_context);
	if (!agg->has_finalfn)
	{
		if (state.isnull)
			PG_RETURN_NULL();
		PG_RETURN_DATUM(state.value);
	}
	/* as nodeAgg: the final function's extra arguments are NULL */
	if (agg->finalfn.fn_strict && (state.isnull || agg->finalextra))
		PG_RETURN_NULL();
	InitFunctionCallInfoData(*finalinfo, &agg->finalfn,
							 agg->finalextra ? agg->nargs + 1 : 1,
							 PG_GET_COLLATION(), fn_context, NULL);
	finalinfo->args[0].value = state.value;
	finalinfo->args[0].isnull = state.isnull;
	for (int i = 1; i < finalinfo->nargs; i++)
	{
		finalinfo->args[i].value = (Datum) 0;
		finalinfo->args[i].isnull = true;
	}
	result = FunctionCallInvoke(finalinfo);
	if (finalinfo->isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
