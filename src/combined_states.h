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
	FmgrInfo	send;			/* the state type's binary I/O */
	FmgrInfo	receive;
	Oid			receive_ioparam;
} CombinedAggregate;

/* one group's state of one aggregate */
typedef struct CombinedState
{
	bool		started;		/* set to the initial state (else no row
								 * reached it) */
	bool		no_trans_value; /* nodeAgg's noTransValue: no initial state,
								 * and no row taken as the state yet */
	bool		returned_null;	/* a strict transition function returned NULL,
								 * which no later row changes */
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
								  const CombinedState *state);

#endif
