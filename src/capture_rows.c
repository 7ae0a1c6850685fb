/*-------------------------------------------------------------------------
 * capture_rows.c
 *	  The definition evaluated over one base row: its WHERE clause, group
 *	  keys and aggregate arguments.
 *
 * Rows come from a statement's transition table, or from a scan of a
 * partition that joins or leaves the base table, in the layout of the table
 * they were written to; a partition laid out unlike the base table is
 * mapped to the base table's columns first.  The compiled projection leaves
 * its values in its result slot, where RowValues points: nothing is copied.
 * A reader whose expressions a projection of the pass evaluates for several
 * aggregates (capture_common.c) copies its values from that one's result.
 * The caller evaluates as the aggregate's owner, under fixed settings.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupconvert.h"
#include "executor/executor.h"
#include "utils/datum.h"

#include "capture_internal.h"

void
reader_init(RowReader *reader, CaptureTarget *target, Oid relid,
			TupleTableSlot *slot, int lane)
{
	const AggLayout *layout = target->layout;
	PartitionFormat *format = (relid == target->base_relid ? NULL :
							   partition_format(target, relid));

	reader->target = target;
	reader->map = format ? format->map : NULL;
	reader->slot = slot;
	reader->base_slot = (reader->map ?
						 MakeSingleTupleTableSlot(target->base_desc,
												  &TTSOpsVirtual) :
						 reader->slot);
	reader->econtext = CreateStandaloneExprContext();
	reader->projection = capture_projection(target, lane);
	reader->projection->pi_exprContext = reader->econtext;
	/* the row's values are read where the projection leaves them */
	reader->row.keys = reader->projection->pi_state.resultslot->tts_values;
	reader->row.key_nulls = reader->projection->pi_state.resultslot->tts_isnull;
	reader->row.args = reader->row.keys + layout->nkeys;
	reader->row.arg_nulls = reader->row.key_nulls + layout->nkeys;
	reader->common = NULL;
	reader->common_columns = NULL;
}

void
reader_free(RowReader *reader)
{
	FreeExprContext(reader->econtext, true);
	if (reader->base_slot != reader->slot)
		ExecDropSingleTupleTableSlot(reader->base_slot);
}

/* the definition over the row in reader->slot, into reader->row */
void
reader_evaluate(RowReader *reader)
{
	CaptureTarget *target = reader->target;
	ExprContext *econtext = reader->econtext;
	RowValues  *row = &reader->row;

	if (reader->common)
	{
		/* common_row_evaluate() evaluated the row for all its members */
		TupleTableSlot *shared;
		int			n = target->layout->nkeys + target->layout->nargs;

		shared = reader->common->projection->pi_state.resultslot;
		row->passes = true;
		for (int i = 0; i < n; i++)
		{
			row->keys[i] = shared->tts_values[reader->common_columns[i]];
			row->key_nulls[i] = shared->tts_isnull[reader->common_columns[i]];
		}
		return;
	}
	ResetExprContext(econtext);
	if (reader->map)
		execute_attr_map_slot(reader->map, reader->slot, reader->base_slot);
	econtext->ecxt_scantuple = reader->base_slot;
	row->passes = target->where == NULL || ExecQual(target->where, econtext);
	if (row->passes)
		(void) ExecProject(reader->projection);
}

/* an UPDATE that changed nothing the aggregate reads */
bool
same_row(CaptureTarget *target, const RowValues *a, const RowValues *b)
{
	const AggLayout *layout = target->layout;

	if (a->passes != b->passes)
		return false;
	if (!a->passes)
		return true;
	return same_datums(layout->nkeys, a->keys, a->key_nulls, b->keys,
					   b->key_nulls,
					   target->key_typlen, target->key_typbyval) &&
		same_datums(layout->nargs, a->args, a->arg_nulls, b->args, b->arg_nulls,
					target->arg_typlen, target->arg_typbyval);
}
