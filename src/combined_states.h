/*-------------------------------------------------------------------------
 * combined_states.h
 *	  Aggregates kept as their own transition states (combined_states.c).
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_COMBINED_STATES_H
#define HYBRIDAGG_COMBINED_STATES_H

#include "fmgr.h"

/* what running one aggregate's support functions needs */
typedef struct CombinedAggregate
{
	Oid			aggfnoid;
	int			nargs;
	Oid			argtypes[FUNC_MAX_ARGS];
	Oid			resulttype;
	Oid			transtype;
	int16		translen;
	bool		transbyval;
	bool		initval_null;
	Datum		initval;
	FmgrInfo	transfn;
	FmgrInfo	combinefn;
	bool		has_finalfn;
	FmgrInfo	finalfn;
	bool		finalextra;		/* the final function takes the arguments'
								 * places too, as NULLs */
	bool		internal_state; /* of type internal: serialized */
	FmgrInfo	serialfn;		/* internal_state */
	FmgrInfo	deserialfn;
	FmgrInfo	send;			/* else: its type's binary I/O */
	FmgrInfo	receive;
	Oid			receive_ioparam;
} CombinedAggregate;

/* one group's state of one aggregate */
typedef struct CombinedState
{
	bool		started;		/* a row reached it (else it is NULL) */
	bool		isnull;
	Datum		value;
} CombinedState;

/* NULL if the aggregate can be kept as combined states, else why not */
extern const char *combined_states_refusal(Oid aggfnoid);
extern CombinedAggregate *combined_aggregate_load(Oid aggfnoid,
												  MemoryContext context);
extern void combined_transition(const CombinedAggregate *agg,
								CombinedState *state,
								MemoryContext state_context,
								const Datum *args, const bool *nulls,
								Oid collation, fmNodePtr fn_context);
extern bytea *combined_state_send(const CombinedAggregate *agg,
								  const CombinedState *state,
								  fmNodePtr fn_context);
extern fmNodePtr combined_fn_context(MemoryContext state_context);

#endif
