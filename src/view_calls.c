/*-------------------------------------------------------------------------
 * view_calls.c
 *	  The aggregate behind each call of a function of its view
 *	  (dirty_groups(), pending_groups(), bucket_pending()), checked on every
 *	  call, and the statements those functions run, prepared once per
 *	  backend.
 *
 * Who may call: the functions read the aggregate's tables as its owner, so
 * they must not serve whoever calls them.  The view passes them a token it
 * reads from hybridagg_internal.token_<id>, a table only the aggregate's
 * owner may read; PostgreSQL checks that as the view's owner, so the view,
 * and any view built on it, serves its readers, and a direct call by anyone
 * else fails.  The token is compared in constant time.
 *
 * The statements run as the aggregate's owner, under fixed settings and
 * without JIT (they read a few groups), read-only in the snapshot of the
 * query that calls the function, so that every branch of the view sees the
 * same rows.  A backend keeps, per aggregate, the catalog entry, the token
 * and the prepared statements; all of it is read again when a call brings
 * another token (the aggregate was dropped and made again with the same id)
 * or the view has another owner.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "util.h"
#include "view_calls.h"

static HTAB *view_calls = NULL;

/* the token in token_<id>, read as the aggregate's owner */
static bytea *
read_token(int32 id)
{
	bool		isnull;
	Datum		token;

	spi_run(psprintf("SELECT t.token FROM %s t",
					 internal_qualname(OBJ_TOKEN, id)),
			SPI_OK_SELECT);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s must hold exactly one token",
						internal_qualname(OBJ_TOKEN, id)),
				 errhint("Drop the aggregate and create it again.")));
	token = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
						  &isnull);
	return isnull ? NULL : DatumGetByteaPP(token);
}

/* equal tokens, compared in constant time */
static bool
tokens_match(const bytea *a, const bytea *b)
{
	int			len;
	unsigned char diff = 0;

	if (a == NULL || b == NULL || VARSIZE_ANY_EXHDR(a) != VARSIZE_ANY_EXHDR(b))
		return false;
	len = VARSIZE_ANY_EXHDR(a);
	for (int i = 0; i < len; i++)
		diff |= ((const unsigned char *) VARDATA_ANY(a))[i] ^
			((const unsigned char *) VARDATA_ANY(b))[i];
	return diff == 0;
}

/* statements of the view's functions running now, in this backend */
static int	statements_running = 0;

static void
permission_denied(const char *function)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for hybridagg_internal.%s()",
					function),
			 errdetail("It returns groups of a hybridagg aggregate to the aggregate's own view only."),
			 errhint("Query the aggregate's view.")));
}

/*
 * The entry and token of aggregate id as they are now, or false where id
 * names no aggregate with a token (none, or a batch aggregate)
 */
static bool
read_current(int32 id, AggregateEntry **entry, bytea **token)
{
	ActingAs	saved;

	*entry = catalog_get(id, true);
	*token = NULL;
	if (*entry == NULL || !OidIsValid(internal_relid(OBJ_TOKEN, id, true)))
		return false;
	act_as((*entry)->owner, &saved);
	*token = read_token(id);
	act_as_restore(&saved);
	return true;
}

/* the call of aggregate id, made afresh from entry and token */
static ViewCall *
remember(int32 id, const AggregateEntry *entry, const bytea *token)
{
	MemoryContext context = AllocSetContextCreate(CacheMemoryContext,
												  "hybridagg view calls",
												  ALLOCSET_SMALL_SIZES);
	MemoryContext old;
	AggregateEntry *entry_copy;
	bytea	   *token_copy;
	ViewCall   *call;
	bool		found;

	/* SPI leaves its own context current: copy into the call's, first */
	old = MemoryContextSwitchTo(context);
	token_copy = DatumGetByteaPCopy(PointerGetDatum(token));
	entry_copy = palloc(sizeof(AggregateEntry));
	*entry_copy = *entry;
	entry_copy->bucket.unit = entry->bucket.unit ?
		pstrdup(entry->bucket.unit) : NULL;
	entry_copy->bucket.zone = entry->bucket.zone ?
		pstrdup(entry->bucket.zone) : NULL;
	entry_copy->definition = NULL;
	MemoryContextSwitchTo(old);

	/* what was cached for id, if anything, is stale: forgotten */
	call = hash_search(view_calls, &id, HASH_ENTER, &found);
	if (!found)
	{
		call->context = NULL;
		for (int i = 0; i < VIEW_STATEMENTS; i++)
			call->plans[i] = NULL;
	}
	if (call->context)
		MemoryContextDelete(call->context);
	for (int i = 0; i < VIEW_STATEMENTS; i++)
	{
		if (call->plans[i])
			SPI_freeplan(call->plans[i]);
		call->plans[i] = NULL;
	}
	call->token = token_copy;
	call->entry = entry_copy;
	call->owner = entry->owner;
	call->context = context;
	return call;
}

ViewCall *
view_call(int32 id, bytea *token, const char *function)
{
	ViewCall   *call = NULL;
	AggregateEntry *entry;
	bytea	   *current;
	bool		known;
	int			nestlevel;

	if (view_calls == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(ViewCall);
		view_calls = hash_create("hybridagg view calls", 16, &ctl,
								 HASH_ELEM | HASH_BLOBS);
	}
	call = hash_search(view_calls, &id, HASH_FIND, NULL);
	if (call && tokens_match(token, call->token) &&
		call->owner == aggregate_owner(call->entry->view_relid))
		return call;

	/*
	 * Read again, with SQL: a wrong token is refused before anything cached
	 * is touched (a statement of the functions may be running, higher up)
	 */
	nestlevel = fix_settings(SETTINGS_SQL);
	SPI_connect();
	known = read_current(id, &entry, &current);
	if (!known || !tokens_match(token, current))
	{
		SPI_finish();
		restore_settings(nestlevel);
		permission_denied(function);
	}
	/* the aggregate was made again with this id, or its view changed hands */
	if (call && statements_running > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("hybridagg aggregate %d changed while its view was read",
						id),
				 errhint("Run the query again.")));
	call = remember(id, entry, current);
	SPI_finish();
	restore_settings(nestlevel);
	return call;
}

bool
view_tokens_match(const bytea *a, const bytea *b)
{
	return tokens_match(a, b);
}

/* statement which of the call, prepared in the connected SPI on first use */
static SPIPlanPtr
view_call_statement(ViewCall *call, ViewStatement which,
					ViewStatementSql build)
{
	if (call->plans[which] == NULL)
	{
		Oid			types[FUNC_MAX_ARGS];
		int			nargs = 0;
		char	   *sql = build(call, &nargs, types);
		ActingAs	saved;
		SPIPlanPtr	plan;

		act_as(call->owner, &saved);
		plan = SPI_prepare(sql, nargs, types);
		act_as_restore(&saved);
		if (plan == NULL)
			elog(ERROR, "hybridagg: could not prepare a statement of aggregate %d's view: %s",
				 call->id, SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		call->plans[which] = plan;
	}
	return call->plans[which];
}

void
view_call_run(ViewCall *call, ViewStatement which, ViewStatementSql build,
			  Datum *values, FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nestlevel = fix_settings(SETTINGS_SQL);
	SPIPlanPtr	plan;
	ActingAs	saved;
	int			guc_level;

	SPI_connect();
	/* the call's plans are not forgotten while one is prepared or runs */
	statements_running++;
	PG_TRY();
	{
		plan = view_call_statement(call, which, build);
		act_as(call->owner, &saved);
		guc_level = NewGUCNestLevel();
		/* a few groups: compiling the plan would cost more than running it */
		(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		/* read-only: in the snapshot of the query that calls the function */
		if (SPI_execute_plan(plan, values, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "hybridagg: could not run a statement of aggregate %d's view",
				 call->id);
		AtEOXact_GUC(false, guc_level);
	}
	PG_FINALLY();
	{
		statements_running--;
	}
	PG_END_TRY();
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum	   *row = palloc(sizeof(Datum) * rsinfo->setDesc->natts);
		bool	   *nulls = palloc(sizeof(bool) * rsinfo->setDesc->natts);

		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
						  row, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	}
	act_as_restore(&saved);
	SPI_finish();
	restore_settings(nestlevel);
}
