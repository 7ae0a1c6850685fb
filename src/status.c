/*-------------------------------------------------------------------------
 * status.c
 *	  Row counts of an aggregate's tables for the hybridagg.aggregates view.
 *
 * Counted exactly, as the aggregate's owner, so that any user may read the
 * status view; a table the aggregate's mode has no use for reads as NULL.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "layout.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_table_counts);

static void
count_into(const char *sql, Datum *value, bool *isnull)
{
	spi_run(sql, SPI_OK_SELECT);
	*value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

Datum
hybridagg_table_counts(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {true, true, true, true};
	AggregateEntry *entry;
	int			nestlevel;
	ActingAs	saved;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);

	nestlevel = fix_settings(false);
	entry = catalog_get(id, true);
	if (entry != NULL && OidIsValid(internal_relid(OBJ_HISTORY, id, true)))
	{
		act_as(entry->owner, &saved);
		SPI_connect();
		count_into(psprintf("SELECT count(*) FROM %s", internal_qualname(OBJ_HISTORY, id)),
				   &values[0], &nulls[0]);
		if (MODE_IS_STREAMING(entry->mode) && OidIsValid(internal_relid(OBJ_DELTA, id, true)))
		{
			char	   *delta = internal_qualname(OBJ_DELTA, id);
			StringInfoData dirty;

			count_into(psprintf("SELECT count(*) FROM %s", internal_qualname(OBJ_RECENT, id)),
					   &values[1], &nulls[1]);
			count_into(psprintf("SELECT count(*) FROM %s", delta), &values[2], &nulls[2]);
			/* groups, not delta rows: a group dirtied twice is recomputed once */
			initStringInfo(&dirty);
			appendStringInfoString(&dirty, "SELECT count(*) FROM (SELECT DISTINCT ");
			append_keys(&dirty, layout_read(id), "d");
			appendStringInfo(&dirty, " FROM %s d WHERE d.__dirty) g", delta);
			count_into(dirty.data, &values[3], &nulls[3]);
		}
		SPI_finish();
		act_as_restore(&saved);
	}
	restore_settings(nestlevel);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
