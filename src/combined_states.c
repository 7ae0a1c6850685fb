/*-------------------------------------------------------------------------
 * combined_states.c
 *	  Aggregates kept as their own transition states, combined with their
 *	  own combine function (pg_aggregate), as a parallel query combines them.
 *
 * An aggregate is kept this way when PostgreSQL can combine two of its
 * partial states (it has a combine function), its transition, combine and
 * final functions are immutable and written in C, and its state is of an
 * ordinary type with binary send and receive functions (stddev and variance
 * of floats, corr, covar_*, regr_*, bit_and, bit_or, ...).  A state is
 * stored (state_K, bytea) in the type's binary send form, which PostgreSQL
 * keeps stable across major versions (always in the database's encoding,
 * whatever the session's client_encoding), and read back by the type's
 * receive function, which checks it as any binary input: bytes that an
 * owner writes into the tables, or that anyone passes to the functions
 * below, give an error and nothing worse.  Internal states are not kept
 * this way: their deserialize functions trust their input
 * (numeric_deserialize writes where a crafted weight says), so those
 * aggregates are recomputed (layout.c value_K).
 *
 * The states follow nodeAgg's rules (advance_transition_function and the
 * combine phase): a strict transition function skips rows with a NULL
 * argument, takes the first row's argument as the state when there is no
 * initial state, and keeps a state that it once made NULL (so does
 * combining: such a NULL stays); a strict combine function skips NULL
 * states.  Combining starts from the first state, which holds the initial
 * state already.  A state that is a read-write expanded
 * object (array_append's) is adopted, not copied, so that the function goes
 * on changing it in place.  The aggregate's input collation is passed to
 * every support function.  SQL NULL stands for a group that no row reached
 * (its FILTER kept none): combining skips it, and its final value is that
 * of the aggregate's initial state, as over no rows.
 *
 * What runs the aggregate's support functions here:
 *	 - the capture (capture_groups.c), per row of a statement, through
 *	   combined_transition();
 *	 - hybridagg_internal.partial_state(aggregate, args...), an aggregate
 *	   that computes a group's state from base rows (backfill, materialize,
 *	   recompute of dirty groups), also in parallel plans;
 *	 - hybridagg_internal.combine_states(aggregate, collation, state), an
 *	   aggregate that combines the states of a group's rows (fold, view);
 *	 - hybridagg_internal.combine_two(aggregate, collation, a, b), the
 *	   fold's upsert;
 *	 - hybridagg_internal.final_value(aggregate, collation, state,
 *	   NULL::type), the view's value.
 * Any role may call these, with any arguments: each checks that the caller
 * may execute the aggregate (and, as nodeAgg does, that the aggregate's
 * owner may execute its support functions), that the aggregate is one kept
 * this way, that
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
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/parse_agg.h"
#include "parser/parse_coerce.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/expandeddatum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
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

/* the detail and hint of an error in a call of the functions below */
#define INTERNAL_CALL_DETAIL \
	errdetail("The functions of combined states serve the views of hybridagg aggregates.")
#define INTERNAL_CALL_HINT \
	errhint("Query the aggregate's view, or call the aggregate itself.")

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
	else if (transtype == INTERNALOID)
		why = "its state is internal, which its deserialize function trusts";
	else if (!ordinary_type(transtype))
		why = "its transition state is of a polymorphic or pseudo-type";
	else if (!usable_support(agg->aggtransfn) ||
			 !usable_support(agg->aggcombinefn) ||
			 !usable_support(agg->aggfinalfn))
		why = "its support functions are not all immutable and written in C";
	ReleaseSysCache(tuple);
	if (why)
		return why;

	/* a state is stored in its type's binary send form */
	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(transtype));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for type %u", transtype);
	if (!OidIsValid(((Form_pg_type) GETSTRUCT(tuple))->typsend) ||
		!OidIsValid(((Form_pg_type) GETSTRUCT(tuple))->typreceive))
		why = "its state's type has no binary send or receive function";
	ReleaseSysCache(tuple);
	if (why)
		return why;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggfnoid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", aggfnoid);
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	if (proc->provolatile != PROVOLATILE_IMMUTABLE)
		why = "it is not immutable";
	else if (proc->pronargs == 0)
		why = "it takes no argument";
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

static void
check_support_privilege(Oid owner, Oid fn)
{
	AclResult	aclresult = pg_proc_aclcheck(fn, owner, ACL_EXECUTE);

	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(fn));
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
	Oid			owner;
	bool		varlena;
	MemoryContext old;

	if (refusal)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aggregate %s is not kept as combined states",
						format_procedure(aggfnoid)),
				 errdetail("hybridagg keeps an aggregate as combined states only if it can combine them: %s.",
						   refusal),
				 INTERNAL_CALL_HINT));

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
	owner = proc->proowner;
	ReleaseSysCache(tuple);
	set_call_expressions(agg);
	/* as nodeAgg: the aggregate's owner may run its support functions */
	check_support_privilege(owner, agg->transfn.fn_oid);
	check_support_privilege(owner, agg->combinefn.fn_oid);
	if (agg->has_finalfn)
		check_support_privilege(owner, agg->finalfn.fn_oid);
	if (!agg->has_finalfn && agg->resulttype != agg->transtype)
		elog(ERROR, "aggregate %u has no final function, and returns %s, not its state's %s",
			 aggfnoid, format_type_be(agg->resulttype),
			 format_type_be(agg->transtype));

	getTypeBinaryOutputInfo(agg->transtype, &send, &varlena);
	fmgr_info_cxt(send, &agg->send, context);
	getTypeBinaryInputInfo(agg->transtype, &receive, &agg->receive_ioparam);
	fmgr_info_cxt(receive, &agg->receive, context);
	MemoryContextSwitchTo(old);
	return agg;
}

/* ----------------------------------------------------------------
 * States: transition, combine, send and receive
 * ----------------------------------------------------------------
 */

/*
 * value (computed in any context) as a state in context: a read-write
 * expanded object is moved there, anything else copied there
 */
static Datum
adopt_value(const CombinedAggregate *agg, Datum value, MemoryContext context)
{
	MemoryContext old;

	if (agg->transbyval)
		return value;
	if (DatumIsReadWriteExpandedObject(value, false, agg->translen))
	{
		if (MemoryContextGetParent(DatumGetEOHP(value)->eoh_context) != context)
			value = TransferExpandedObject(value, context);
		return value;
	}
	old = MemoryContextSwitchTo(context);
	value = datumCopy(value, false, agg->translen);
	MemoryContextSwitchTo(old);
	return value;
}

/* the state becomes value, isnull; what it replaces is freed */
static void
state_replace(const CombinedAggregate *agg, CombinedState *state,
			  MemoryContext context, Datum value, bool isnull)
{
	Datum		old_value = state->value;
	bool		old_null = state->isnull;

	/* a function that changed its state in place returns it */
	if (!isnull && !old_null &&
		DatumGetPointer(value) == DatumGetPointer(old_value))
		return;
	state->value = isnull ? (Datum) 0 : adopt_value(agg, value, context);
	state->isnull = isnull;
	if (old_null || agg->transbyval)
		return;
	if (DatumIsReadWriteExpandedObject(old_value, false, agg->translen))
		DeleteExpandedObject(old_value);
	else
		pfree(DatumGetPointer(old_value));
}

/* a state that no row reached yet becomes the aggregate's initial state */
static void
state_start(const CombinedAggregate *agg, CombinedState *state,
			MemoryContext context)
{
	if (state->started)
		return;
	state->started = true;
	state->isnull = true;
	state->value = (Datum) 0;
	state->returned_null = false;
	state->no_trans_value = agg->initval_null;
	if (!agg->initval_null)
		state_replace(agg, state, context, agg->initval, false);
}

/*
 * Feed one row's arguments to the transition function, as nodeAgg does.
 * The state lives in state_context; the function runs in the current
 * memory context, with fn_context (the caller's AggState, or NULL) as its
 * context.
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
		if (state->no_trans_value)
		{
			/* CREATE AGGREGATE made the first argument's type the state's */
			state->no_trans_value = false;
			state_replace(agg, state, state_context, args[0], false);
			return;
		}
		/* a NULL the function returned stays, as nodeAgg keeps it */
		if (state->isnull)
			return;
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
	state->no_trans_value = false;
	state->returned_null = agg->transfn.fn_strict && fcinfo->isnull;
	state_replace(agg, state, state_context, result, fcinfo->isnull);
}

/*
 * Combine state other into state, as nodeAgg's combine phase does (a
 * strict combine function skips NULL states and takes the first non-NULL
 * one as the state), where state starts as the first state combined rather
 * than as the initial state, which every state already holds; a NULL that
 * a strict transition function returned stays, as it would over all the
 * rows in one pass.
 */
static void
combine_into(const CombinedAggregate *agg, CombinedState *state,
			 MemoryContext state_context, const CombinedState *other,
			 Oid collation, fmNodePtr fn_context)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	if (!other->started || state->returned_null)
		return;
	if (!state->started || other->returned_null)
	{
		if (state->started && !state->isnull)
			state_replace(agg, state, state_context, (Datum) 0, true);
		*state = (CombinedState)
		{
			true, other->no_trans_value, other->returned_null, true, (Datum) 0
		};
		if (!other->isnull)
			state_replace(agg, state, state_context, other->value, false);
		return;
	}
	if (agg->combinefn.fn_strict)
	{
		if (other->isnull)
			return;
		if (state->isnull)
		{
			state->no_trans_value = false;
			state_replace(agg, state, state_context, other->value, false);
			return;
		}
	}
	InitFunctionCallInfoData(*fcinfo, (FmgrInfo *) &agg->combinefn, 2,
							 collation, fn_context, NULL);
	fcinfo->args[0].value = state->value;
	fcinfo->args[0].isnull = state->isnull;
	fcinfo->args[1].value = other->value;
	fcinfo->args[1].isnull = other->isnull;
	result = FunctionCallInvoke(fcinfo);
	state->no_trans_value = false;
	state_replace(agg, state, state_context, result, fcinfo->isnull);
}

/*
 * The stored form of a state: a byte 0 for a NULL state, 2 for a NULL that
 * a strict transition function returned, or a byte 1 and the value's
 * binary send form; SQL NULL for a state no row reached
 */
#define STORED_NULL 0
#define STORED_SENT 1
#define STORED_RETURNED_NULL 2

/*
 * Binary send and receive functions of text-like types convert to and from
 * the client's encoding: a stored state is written and read in the
 * database's own, whoever's session runs them
 */
static int
enter_database_encoding(void)
{
	int			client = pg_get_client_encoding();

	if (client != GetDatabaseEncoding() &&
		SetClientEncoding(GetDatabaseEncoding()) < 0)
		elog(ERROR, "could not set the client encoding to the database's");
	return client;
}

static void
leave_database_encoding(int client)
{
	if (client != pg_get_client_encoding() && SetClientEncoding(client) < 0)
		elog(ERROR, "could not set the client encoding back to %s",
			 pg_encoding_to_char(client));
}

static bytea *
send_value(const CombinedAggregate *agg, Datum value)
{
	int			client = enter_database_encoding();
	bytea	   *volatile sent = NULL;

	PG_TRY();
	{
		sent = SendFunctionCall((FmgrInfo *) &agg->send, value);
	}
	PG_CATCH();
	{
		leave_database_encoding(client);
		PG_RE_THROW();
	}
	PG_END_TRY();
	leave_database_encoding(client);
	return sent;
}

static Datum
receive_value(const CombinedAggregate *agg, StringInfo buf)
{
	int			client = enter_database_encoding();
	volatile Datum value = (Datum) 0;

	PG_TRY();
	{
		value = ReceiveFunctionCall((FmgrInfo *) &agg->receive, buf,
									agg->receive_ioparam, -1);
	}
	PG_CATCH();
	{
		leave_database_encoding(client);
		PG_RE_THROW();
	}
	PG_END_TRY();
	leave_database_encoding(client);
	return value;
}

bytea *
combined_state_send(const CombinedAggregate *agg, const CombinedState *state)
{
	bytea	   *sent = NULL;
	bytea	   *stored;
	Size		len = 0;

	if (!state->started)
		return NULL;
	if (!state->isnull)
	{
		sent = send_value(agg, state->value);
		len = VARSIZE_ANY_EXHDR(sent);
	}
	stored = palloc(VARHDRSZ + 1 + len);
	SET_VARSIZE(stored, VARHDRSZ + 1 + len);
	VARDATA(stored)[0] = sent ? STORED_SENT :
		state->returned_null ? STORED_RETURNED_NULL : STORED_NULL;
	if (sent)
		memcpy(VARDATA(stored) + 1, VARDATA_ANY(sent), len);
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
			 errdetail("%s", detail ? detail :
					   "A stored state starts with a byte 0, 1 or 2."),
			 errhint("Recompute the aggregate's stored groups from the base table: CALL hybridagg.materialize(name, '-infinity', 'infinity').")));
}

/* a stored state read back with its type's receive function */
static void
state_receive(const CombinedAggregate *agg, bytea *stored,
			  CombinedState *state)
{
	int			len = VARSIZE_ANY_EXHDR(stored);
	const char *data = VARDATA_ANY(stored);
	StringInfoData buf;
	ErrorContextCallback context;

	state->started = true;
	state->no_trans_value = false;
	state->returned_null = false;
	state->isnull = true;
	state->value = (Datum) 0;
	if (len == 1 && (data[0] == STORED_NULL ||
					 data[0] == STORED_RETURNED_NULL))
	{
		state->returned_null = data[0] == STORED_RETURNED_NULL;
		return;
	}
	if (len < 1 || data[0] != STORED_SENT)
		malformed_state(agg, NULL);
	context.callback = state_receive_context;
	context.arg = (void *) &agg->aggfnoid;
	context.previous = error_context_stack;
	error_context_stack = &context;
	/* a copy, terminated as a StringInfo's data is: a receive may write */
	buf.data = palloc(len);
	memcpy(buf.data, data + 1, len - 1);
	buf.data[len - 1] = '\0';
	buf.len = len - 1;
	buf.maxlen = len;
	buf.cursor = 0;
	state->value = receive_value(agg, &buf);
	if (buf.cursor != buf.len)
		malformed_state(agg, "The state has bytes after its value.");
	state->isnull = false;
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
						format_type_be(type)),
				 INTERNAL_CALL_DETAIL, INTERNAL_CALL_HINT));
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
							caller),
					 INTERNAL_CALL_DETAIL, INTERNAL_CALL_HINT));
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
				 errmsg("the aggregate of %s() must not be NULL", caller),
				 INTERNAL_CALL_DETAIL, INTERNAL_CALL_HINT));
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
								   agg->nargs),
					 INTERNAL_CALL_DETAIL, INTERNAL_CALL_HINT));
		for (int i = 0; i < agg->nargs; i++)
			check_argument_type(fcinfo, caller, first_input + i,
								agg->argtypes[i]);
	}
	return agg;
}

/* argument n, a regcollation or NULL: a collation that exists, or none */
static Oid
collation_argument(FunctionCallInfo fcinfo, int n)
{
	Oid			collation;

	if (PG_ARGISNULL(n))
		return InvalidOid;
	collation = PG_GETARG_OID(n);
	if (OidIsValid(collation) &&
		!SearchSysCacheExists1(COLLOID, ObjectIdGetDatum(collation)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("collation with OID %u does not exist", collation),
				 INTERNAL_CALL_DETAIL, INTERNAL_CALL_HINT));
	return collation;
}

/* what the aggregates partial_state and combine_states keep per group */
typedef struct WrapperState
{
	CombinedAggregate *agg;		/* the transition function's call site's */
	Oid			collation;		/* the aggregate's input collation */
	CombinedState state;
} WrapperState;

static WrapperState *
wrapper_state(FunctionCallInfo fcinfo, MemoryContext *aggcontext,
			  CombinedAggregate *agg, Oid collation)
{
	WrapperState *group;

	if (!AggCheckCallContext(fcinfo, aggcontext))
		elog(ERROR, "%s called in non-aggregate context",
			 get_func_name(fcinfo->flinfo->fn_oid));
	if (!PG_ARGISNULL(0))
		return (WrapperState *) PG_GETARG_POINTER(0);
	group = MemoryContextAllocZero(*aggcontext, sizeof(WrapperState));
	group->agg = agg;
	group->collation = collation;
	return group;
}

/*
 * partial_state(aggregate regprocedure, VARIADIC "any"): the aggregate's
 * state over the rows, as the capture computes it; the arguments' collation
 * is the aggregate's input collation
 */
Datum
hybridagg_partial_state_step(PG_FUNCTION_ARGS)
{
	CombinedAggregate *agg = call_site_aggregate(fcinfo, "partial_state",
												 1, 2);
	MemoryContext aggcontext;
	WrapperState *group = wrapper_state(fcinfo, &aggcontext, agg,
										PG_GET_COLLATION());
	Datum		args[FUNC_MAX_ARGS];
	bool		nulls[FUNC_MAX_ARGS];

	for (int i = 0; i < agg->nargs; i++)
	{
		args[i] = PG_GETARG_DATUM(i + 2);
		nulls[i] = PG_ARGISNULL(i + 2);
	}
	combined_transition(agg, &group->state, aggcontext, args, nulls,
						group->collation, fcinfo->context);
	PG_RETURN_POINTER(group);
}

/*
 * combine_states(aggregate regprocedure, collation regcollation, state
 * bytea): the states combined
 */
Datum
hybridagg_combine_states_step(PG_FUNCTION_ARGS)
{
	CombinedAggregate *agg = call_site_aggregate(fcinfo, "combine_states",
												 1, -1);
	MemoryContext aggcontext;
	WrapperState *group = wrapper_state(fcinfo, &aggcontext, agg,
										collation_argument(fcinfo, 2));
	CombinedState other;

	if (PG_ARGISNULL(3))
		PG_RETURN_POINTER(group);
	state_receive(agg, PG_GETARG_BYTEA_PP(3), &other);
	combine_into(agg, &group->state, aggcontext, &other, group->collation,
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
	stored = combined_state_send(group->agg, &group->state);
	if (stored == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(stored);
}

/*
 * partial_state() and combine_states() in a parallel plan: the states of
 * the workers' groups, serialized with their aggregate and collation, and
 * combined
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
		group->collation = other->collation;
	}
	else if (group->agg->aggfnoid != other->agg->aggfnoid)
		elog(ERROR, "states of %s and %s combined",
			 format_procedure(group->agg->aggfnoid),
			 format_procedure(other->agg->aggfnoid));
	combine_into(group->agg, &group->state, aggcontext, &other->state,
				 group->collation, fcinfo->context);
	PG_RETURN_POINTER(group);
}

/* the aggregate's and the collation's OIDs, then the state's stored form */
Datum
hybridagg_wrapper_serialize(PG_FUNCTION_ARGS)
{
	WrapperState *group = (WrapperState *) PG_GETARG_POINTER(0);
	bytea	   *stored = combined_state_send(group->agg, &group->state);
	Size		len = stored ? VARSIZE(stored) - VARHDRSZ : 0;
	bytea	   *result = palloc(VARHDRSZ + 2 * sizeof(Oid) + len);

	SET_VARSIZE(result, VARHDRSZ + 2 * sizeof(Oid) + len);
	memcpy(VARDATA(result), &group->agg->aggfnoid, sizeof(Oid));
	memcpy(VARDATA(result) + sizeof(Oid), &group->collation, sizeof(Oid));
	if (stored)
		memcpy(VARDATA(result) + 2 * sizeof(Oid), VARDATA(stored), len);
	PG_RETURN_BYTEA_P(result);
}

Datum
hybridagg_wrapper_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *serialized = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(serialized);
	const char *data = VARDATA_ANY(serialized);
	WrapperState *group = palloc0(sizeof(WrapperState));
	Oid			aggfnoid;
	bool		loaded;

	if (len < 2 * sizeof(Oid))
		elog(ERROR, "malformed serialized state of a combined aggregate");
	memcpy(&aggfnoid, data, sizeof(Oid));
	memcpy(&group->collation, data + sizeof(Oid), sizeof(Oid));
	group->agg = cached_aggregate(fcinfo, "wrapper_deserialize", aggfnoid,
								  &loaded);
	if (len > 2 * sizeof(Oid))
	{
		Size		stored_len = len - 2 * sizeof(Oid);
		bytea	   *stored = palloc(VARHDRSZ + stored_len);

		SET_VARSIZE(stored, VARHDRSZ + stored_len);
		memcpy(VARDATA(stored), data + 2 * sizeof(Oid), stored_len);
		state_receive(group->agg, stored, &group->state);
	}
	PG_RETURN_POINTER(group);
}

/*
 * combine_two(aggregate regprocedure, collation regcollation, a bytea,
 * b bytea): a and b combined
 */
Datum
hybridagg_combine_two(PG_FUNCTION_ARGS)
{
	CombinedAggregate *agg = call_site_aggregate(fcinfo, "combine_two", 0, -1);
	Oid			collation = collation_argument(fcinfo, 1);
	CombinedState state = {0};
	CombinedState other;
	bytea	   *stored;

	if (PG_ARGISNULL(2) && PG_ARGISNULL(3))
		PG_RETURN_NULL();
	for (int i = 2; i <= 3; i++)
	{
		if (PG_ARGISNULL(i))
			continue;
		state_receive(agg, PG_GETARG_BYTEA_PP(i), &other);
		combine_into(agg, &state, CurrentMemoryContext, &other, collation,
					 NULL);
	}
	stored = combined_state_send(agg, &state);
	PG_RETURN_BYTEA_P(stored);
}

/*
 * final_value(aggregate regprocedure, collation regcollation, state bytea,
 * NULL::result type): the aggregate's value for the state, as its final
 * function makes it
 */
Datum
hybridagg_final_value(PG_FUNCTION_ARGS)
{
	CombinedAggregate *agg = call_site_aggregate(fcinfo, "final_value", 0, -1);
	Oid			collation = collation_argument(fcinfo, 1);

	LOCAL_FCINFO(finalinfo, FUNC_MAX_ARGS);
	CombinedState state = {0};
	Datum		result;

	if (get_fn_expr_argtype(fcinfo->flinfo, 3) != agg->resulttype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the fourth argument of final_value() must be of type %s, the result of %s",
						format_type_be(agg->resulttype),
						format_procedure(agg->aggfnoid)),
				 INTERNAL_CALL_DETAIL, INTERNAL_CALL_HINT));
	if (PG_ARGISNULL(2))
		state_start(agg, &state, CurrentMemoryContext);
	else
		state_receive(agg, PG_GETARG_BYTEA_PP(2), &state);
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
							 collation, NULL, NULL);
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
