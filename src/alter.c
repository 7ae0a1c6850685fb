/*-------------------------------------------------------------------------
 * alter.c
 *	  hybridagg.alter(name, mode, seal_after): switch a live aggregate to
 *	  another mode, or change its seal_after, keeping its history.
 *
 * What it keeps true: the view serves, in every snapshot, what the new mode
 * serves (DESIGN.md invariant 1), and every bucket history holds stays
 * there (W never moves back).  An alter is one transaction: every step
 * below is transactional DDL or a write to the aggregate's tables, so an
 * error or a crash in the middle leaves the aggregate as it was.
 *
 * The user's view is not touched: groups_<id> has the same columns in every
 * mode and is replaced (CREATE OR REPLACE VIEW), so the view keeps its OID,
 * its grants, the views built on it and the prepared statements of its
 * readers (which PostgreSQL plans again).
 *
 *	 batch -> a streaming mode: create recent_<id>, delta_<id> (and
 *		token_<id>), install the capture triggers, replace groups_<id>, and
 *		recompute the raw tail, every bucket at or above W, from the base
 *		table into recent, in one snapshot taken after the lock.  History
 *		below W is kept as the last materialize() left it.
 *	 a streaming mode -> batch: fold what is pending, move the groups of
 *		recent below W' = max(W, now() - seal_after) into history and set W
 *		to W', replace groups_<id> by batch's (history below W' and the raw
 *		rows at or above it), drop recent, delta and token, and last drop
 *		the capture triggers, or disable them where a drop would wait.  The
 *		groups of recent at or above W' are read raw from then on.
 *	 between streaming, kappa, lambda and hybrid: the view and the tables
 *		are the same; only who seals changes, with the mode in the catalog.
 *		W stays where it is: a streaming or kappa aggregate altered from
 *		lambda or hybrid keeps its history below W, and its folds put late
 *		rows there (fold.c).
 *
 * Locks, in the order of src/README.md: the base table, then the
 * aggregate's lock, then the internal objects.  Installing or disabling
 * the capture triggers takes SHARE ROW EXCLUSIVE on the base table (and on
 * each partition), as create() does; alter takes it first, so that no
 * write commits between the triggers changing and the snapshot that reads
 * the base table and consumes the deltas.  Writers wait for the rest of
 * the transaction: the tail's recompute, or the fold and the move.  Readers
 * of the view wait for the moment groups_<id> is replaced.  Dropping the
 * capture triggers needs ACCESS EXCLUSIVE: alter takes it only where it is
 * free at once (and only for a caller who could take it, as drop() does),
 * at the very end; elsewhere it disables them, and the worker drops them
 * later, where it can lock the table without waiting (capture_triggers.c).
 * A disabled trigger with transition tables still has writers keep their
 * rows for the statement, until it is dropped.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/comment.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "capture_triggers.h"
#include "catalog.h"
#include "code_owners.h"
#include "create.h"
#include "definition.h"
#include "drop.h"
#include "export.h"
#include "fold.h"
#include "materialize.h"
#include "util.h"
#include "view.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(hybridagg_alter);

/* ----------------------------------------------------------------
 * The definition, as stored
 * ----------------------------------------------------------------
 */

static bool
same_columns(const LayoutColumn *a, int na, const LayoutColumn *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
	{
		if (strcmp(a[i].name, b[i].name) != 0 || a[i].type != b[i].type ||
			a[i].typmod != b[i].typmod || a[i].collation != b[i].collation)
			return false;
	}
	return true;
}

/* do def's aggregates come from the states as the catalog's finals say? */
static bool
same_finals(int32 id, const Definition *def)
{
	Datum	   *elems = palloc(sizeof(Datum) *
							   Max(list_length(def->aggregates), 1));
	Oid			types[2] = {INT4OID, TEXTARRAYOID};
	Datum		values[2];
	int			n = 0;
	ListCell   *lc;
	bool		isnull;
	bool		same;

	foreach(lc, def->aggregates)
	{
		DefinedAggregate *agg = lfirst(lc);

		elems[n++] = CStringGetTextDatum(psprintf("%s:%d",
												  agg_func_name(agg->func),
												  agg->arg));
	}
	values[0] = Int32GetDatum(id);
	values[1] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
												TYPALIGN_INT));
	SPI_connect();
	spi_run_args("SELECT finals = $2 FROM " INTERNAL_SCHEMA ".aggregate "
				 "WHERE id = $1", 2, types, values, NULL, SPI_OK_SELECT);
	same = SPI_processed == 1 &&
		DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
								   SPI_tuptable->tupdesc, 1, &isnull)) &&
		!isnull;
	SPI_finish();
	return same;
}

/*
 * def, the definition analysed again in the caller's session as create()
 * analysed it, must describe the aggregate's objects: the same base table,
 * the same columns as history_<id> and source_<id>, and the same finals.
 * The views are then generated from the stored layout.
 */
static void
check_definition(const AggregateEntry *entry, Definition *def)
{
	AggLayout  *stored = layout_read(entry->id);

	if (def->base_relid != entry->base_relid ||
		!same_columns(def->layout->keys, def->layout->nkeys,
					  stored->keys, stored->nkeys) ||
		!same_columns(def->layout->states, def->layout->nstates,
					  stored->states, stored->nstates) ||
		!same_columns(def->layout->args, def->layout->nargs,
					  stored->args, stored->nargs))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the definition of hybridagg aggregate %s no longer describes its tables",
						get_rel_name(entry->view_relid)),
				 errdetail("Analysed in this session, the defining query reads another table or gives other columns than when the aggregate was created."),
				 errhint("Set search_path as it was when the aggregate was created, then alter it again.")));
	if (!same_finals(entry->id, def))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the definition of hybridagg aggregate %s no longer describes its tables",
						get_rel_name(entry->view_relid)),
				 errdetail("Analysed in this session, the defining query's aggregates resolve to other functions than when the aggregate was created."),
				 errhint("Set search_path as it was when the aggregate was created, then alter it again.")));
	def->layout = stored;
}

/* ----------------------------------------------------------------
 * Switching
 * ----------------------------------------------------------------
 */

static void
replace_groups_view(const Definition *def, const AggregateEntry *entry)
{
	ActingAs	saved;

	act_as(extension_owner(), &saved);
	create_groups_view(def, entry, true);
	act_as_restore(&saved);
}

/* batch -> a streaming mode */
static void
start_capture(AggregateEntry *entry, const Definition *def,
			  AggregateMode mode, const Interval *seal_after)
{
	ActingAs	saved;
	Snapshot	snap;
	int64		groups;

	catalog_set_mode(entry, mode, seal_after);
	create_streaming_tables(def->layout, entry);
	install_capture_triggers(entry);
	replace_groups_view(def, entry);

	/* the raw tail, W and up, becomes recent */
	act_as(entry->owner, &saved);
	snap = mover_snapshot();
	groups = recompute_all(entry, def->layout, entry->watermark, DT_NOEND,
						   snap);
	UnregisterSnapshot(snap);
	act_as_restore(&saved);
	stats_record_batch(entry->id, groups, 0);
	worker_request();
}

/* a streaming mode -> batch */
static void
stop_capture(AggregateEntry *entry, const Definition *def,
			 const Interval *seal_after)
{
	ActingAs	saved;
	Snapshot	snap;
	int64		watermark;

	act_as(entry->owner, &saved);
	snap = mover_snapshot();
	(void) fold_aggregate(entry, def->layout, snap, PARTITION_WAIT);

	/* seal what batch would have sealed; W never moves back */
	entry->seal_after = *seal_after;
	watermark = Max(entry->watermark, seal_limit(entry));
	(void) move_recent_to_history(entry, def->layout, watermark, snap,
								  PARTITION_WAIT);
	UnregisterSnapshot(snap);
	act_as_restore(&saved);
	catalog_set_watermark(entry, watermark);

	catalog_set_mode(entry, MODE_BATCH, seal_after);
	replace_groups_view(def, entry);
	act_as(extension_owner(), &saved);
	drop_internal_object(OBJ_TOKEN, entry->id);
	drop_internal_object(OBJ_DELTA, entry->id);
	drop_internal_object(OBJ_RECENT, entry->id);
	act_as_restore(&saved);

	/* last: an ACCESS EXCLUSIVE lock got now is held for a moment only */
	remove_capture_triggers_if_free(entry,
									may_lock_exclusively(entry->base_relid));
}

/* the view's comment follows the mode, unless someone changed it */
static void
update_view_comment(const AggregateEntry *entry, AggregateMode old_mode)
{
	Oid			view = entry->view_relid;
	char	   *comment = GetComment(view, RelationRelationId, 0);
	char	   *schema = get_namespace_name(get_rel_namespace(view));

	if (comment == NULL ||
		strcmp(comment, view_comment(old_mode, entry->definition)) != 0)
		return;
	spi_run(psprintf("COMMENT ON VIEW %s IS %s",
					 quote_qualified_identifier(schema, get_rel_name(view)),
					 quote_literal_cstr(view_comment(entry->mode,
													 entry->definition))),
			SPI_OK_UTILITY);
}

/* ----------------------------------------------------------------
 * hybridagg.alter()
 * ----------------------------------------------------------------
 */

static bool
same_interval(const Interval *a, const Interval *b)
{
	return DatumGetBool(DirectFunctionCall2(interval_eq,
											IntervalPGetDatum(a),
											IntervalPGetDatum(b)));
}

Datum
hybridagg_alter(PG_FUNCTION_ARGS)
{
	const char *name;
	AggregateEntry *entry;
	AggregateMode old_mode;
	AggregateMode mode;
	Interval	seal_after;
	bool		capture_changes;
	Definition *def = NULL;
	int			nestlevel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name of the aggregate must not be NULL"),
				 errdetail("hybridagg.alter() was called with name => NULL."),
				 errhint("SELECT hybridagg.alter('events_1m', mode => 'hybrid');")));
	if (PG_ARGISNULL(1) && PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hybridagg.alter() needs a mode or a seal_after"),
				 errdetail("Both were left out or NULL, so there is nothing to change."),
				 errhint("SELECT hybridagg.alter('events_1m', mode => 'hybrid', seal_after => '1 hour');")));
	require_primary("hybridagg.alter()");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	entry = catalog_resolve(name);
	check_aggregate_owner(entry);
	mode = PG_ARGISNULL(1) ? entry->mode :
		parse_mode(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	seal_after = PG_ARGISNULL(2) ? entry->seal_after :
		*PG_GETARG_INTERVAL_P(2);
	check_seal_after(&seal_after);

	capture_changes = MODE_IS_STREAMING(mode) !=
		MODE_IS_STREAMING(entry->mode);
	if (capture_changes)
	{
		if (MODE_IS_STREAMING(mode))
			check_streaming_possible(mode,
									 "hybridagg.alter() to a streaming mode");
		else
			require_read_committed("hybridagg.alter() to batch mode");
		/* read in the caller's session, as create() read it */
		def = definition_analyze(entry->definition);
	}

	nestlevel = fix_settings(SETTINGS_DEPARSE);
	if (capture_changes)
	{
		check_definition(entry, def);
		if (MODE_IS_STREAMING(mode))
			check_base_table(def, mode, true);
		check_code_owners(def, entry->owner, mode == MODE_BATCH);
	}
	LockRelationOid(entry->base_relid,
					capture_changes ? ShareRowExclusiveLock : AccessShareLock);
	SPI_connect();
	lock_aggregate(entry);
	entry = catalog_reread(entry, name);
	old_mode = entry->mode;
	if (MODE_IS_STREAMING(mode) != MODE_IS_STREAMING(old_mode) &&
		!capture_changes)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("hybridagg aggregate %s was altered by another session meanwhile",
						get_rel_name(entry->view_relid)),
				 errdetail("It is now kept in %s mode.", mode_name(old_mode)),
				 errhint("Run the alter again.")));

	if (mode == old_mode && same_interval(&seal_after, &entry->seal_after))
	{
		Datum		shown = DirectFunctionCall1(interval_out,
												IntervalPGetDatum(&seal_after));

		ereport(NOTICE,
				(errmsg("hybridagg aggregate %s is already kept in %s mode with seal_after %s, nothing to alter",
						get_rel_name(entry->view_relid), mode_name(mode),
						DatumGetCString(shown))));
	}
	else if (MODE_IS_STREAMING(mode) && !MODE_IS_STREAMING(old_mode))
		start_capture(entry, def, mode, &seal_after);
	else if (!MODE_IS_STREAMING(mode) && MODE_IS_STREAMING(old_mode))
		stop_capture(entry, def, &seal_after);
	else
	{
		catalog_set_mode(entry, mode, &seal_after);
		if (MODE_IS_STREAMING(mode))
			worker_request();
	}
	if (mode != old_mode)
		update_view_comment(entry, old_mode);

	SPI_finish();
	restore_settings(nestlevel);
	PG_RETURN_OID(entry->view_relid);
}
