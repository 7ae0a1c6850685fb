/*-------------------------------------------------------------------------
 * capture_common.c
 *	  The expressions that the aggregates of one capture pass have in
 *	  common, evaluated once per row for all of them.
 *
 * Aggregates of one table tend to share their expressions: the same
 * date_bin() in a per-device and a per-region aggregate, the same device
 * column, the same value under sum() and max().  A pass (capture.c) over a
 * statement's rows would evaluate each aggregate's keys and arguments on
 * its own; here one projection evaluates each distinct expression once per
 * row, and each member reader takes its keys and arguments from the
 * projection's result.
 *
 * What keeps it exact: a member evaluates the very expressions it would
 * have evaluated itself, over every row, as it would have (no member has a
 * WHERE clause, which decides whether its keys and arguments are evaluated
 * at all; an aggregate's FILTER is inside its argument).  Expressions are
 * shared only when equal() as planned trees, types and collations
 * included.  Members have one owner (a pass is one owner's), as whom the
 * projection is compiled, with EXECUTE privileges checked; and one base
 * table, whose columns the expressions read.
 *
 * The projection is compiled for the statement, which pays off on a
 * statement of many rows only: capture.c shares expressions from
 * COMMON_MIN_ROWS rows up.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupconvert.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"

#include "capture_internal.h"
#include "util.h"

/* can reader take its values from a projection shared with first? */
static bool
can_share(RowReader *reader, RowReader *first)
{
	CaptureTarget *target = reader->target;

	return target->where == NULL &&
		target->owner == first->target->owner &&
		target->base_relid == first->target->base_relid &&
		reader->slot == first->slot;
}

/* the position of expr in the shared target list, appended if new */
static int
shared_column(List **tlist, Expr *expr)
{
	ListCell   *lc;

	foreach(lc, *tlist)
	{
		if (equal(((TargetEntry *) lfirst(lc))->expr, expr))
			return foreach_current_index(lc);
	}
	*tlist = lappend(*tlist, makeTargetEntry(expr, list_length(*tlist) + 1,
											 NULL, false));
	return list_length(*tlist) - 1;
}

/*
 * One projection for the readers (of one lane, over one slot) that can share
 * it, or NULL when fewer than two can or they have nothing in common.  Each
 * member is then evaluated by common_row_evaluate() and reader_evaluate().
 */
CommonRow *
common_row_share(RowReader **readers, int nreaders)
{
	RowReader  *first = NULL;
	List	   *tlist = NIL;
	int			members = 0;
	int			columns = 0;
	CommonRow  *common;
	TupleTableSlot *result;
	ActingAs	saved;

	for (int r = 0; r < nreaders; r++)
	{
		RowReader  *reader = readers[r];
		ListCell   *lc;

		if (reader->target->where != NULL)
			continue;
		if (first == NULL)
			first = reader;
		if (!can_share(reader, first))
			continue;
		members++;
		foreach(lc, reader->target->projected)
		{
			(void) shared_column(&tlist, ((TargetEntry *) lfirst(lc))->expr);
			columns++;
		}
	}
	if (members < 2 || list_length(tlist) == columns)
		return NULL;

	common = palloc0(sizeof(CommonRow));
	common->slot = first->slot;
	common->map = first->map;
	common->base_slot = (common->map ?
						 MakeSingleTupleTableSlot(first->target->base_desc,
												  &TTSOpsVirtual) :
						 common->slot);
	common->econtext = CreateStandaloneExprContext();
	/* EXECUTE privileges are checked here, as the members' owner */
	act_as(first->target->owner, &saved);
	result = MakeSingleTupleTableSlot(ExecTypeFromTL(tlist), &TTSOpsVirtual);
	common->projection = ExecBuildProjectionInfo(tlist, common->econtext,
												 result, NULL, NULL);
	act_as_restore(&saved);

	for (int r = 0; r < nreaders; r++)
	{
		RowReader  *reader = readers[r];
		int			n = list_length(reader->target->projected);
		ListCell   *lc;

		if (!can_share(reader, first))
			continue;
		reader->common = common;
		reader->common_columns = palloc(sizeof(int) * n);
		foreach(lc, reader->target->projected)
		{
			Expr	   *expr = ((TargetEntry *) lfirst(lc))->expr;

			reader->common_columns[foreach_current_index(lc)] =
				shared_column(&tlist, expr);
		}
		/* the member's values are its own copies of the shared ones */
		reader->row.keys = palloc(sizeof(Datum) * n);
		reader->row.key_nulls = palloc(sizeof(bool) * n);
		reader->row.args = reader->row.keys + reader->target->layout->nkeys;
		reader->row.arg_nulls = (reader->row.key_nulls +
								 reader->target->layout->nkeys);
	}
	return common;
}

/* the shared expressions over the row in the members' slot */
void
common_row_evaluate(CommonRow *common)
{
	ResetExprContext(common->econtext);
	if (common->map)
		execute_attr_map_slot(common->map, common->slot, common->base_slot);
	common->econtext->ecxt_scantuple = common->base_slot;
	(void) ExecProject(common->projection);
}

void
common_row_free(CommonRow *common)
{
	FreeExprContext(common->econtext, true);
	ExecDropSingleTupleTableSlot(common->projection->pi_state.resultslot);
	if (common->base_slot != common->slot)
		ExecDropSingleTupleTableSlot(common->base_slot);
}
