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

/* the call's entry, token and owner read again, its statements forgotten */
static void
rebuild(ViewCall *call)
{
	AggregateEntry *entry = catalog_get(call->id, false);
	MemoryContext context = AllocSetContextCreate(CacheMemoryContext,
												  "hybridagg view calls",
												  ALLOCSET_SMALL_SIZES);
	MemoryContext old;
	ActingAs	saved;
	bytea	   *token;

	if (call->context)
		MemoryContextDelete(call->context);
	call->context = NULL;
	for (int i = 0; i < VIEW_STATEMENTS; i++)
	{
		if (call->plans[i])
			SPI_freeplan(call->plans[i]);
		call->plans[i] = NULL;
	}

	act_as(entry->owner, &saved);
	token = read_token(call->id);
	act_as_restore(&saved);
	/* SPI leaves its own context current: copy into the call's */
	old = MemoryContextSwitchTo(context);
	call->token = token ? DatumGetByteaPCopy(PointerGetDatum(token)) : NULL;
	call->entry = palloc(sizeof(AggregateEntry));
	*call->entry = *entry;
	call->entry->bucket.unit = entry->bucket.unit ?
		pstrdup(entry->bucket.unit) : NULL;
	call->entry->bucket.zone = entry->bucket.zone ?
		pstrdup(entry->bucket.zone) : NULL;
	call->entry->definition = NULL;
	MemoryContextSwitchTo(old);
	call->owner = entry->owner;
	call->context = context;
}

ViewCall *
view_call(int32 id, bytea *token, const char *function)
{
	ViewCall   *call;
	bool		found;

	if (view_calls == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(ViewCall);
		view_calls = hash_create("hybridagg view calls", 16, &ctl,
								 HASH_ELEM | HASH_BLOBS);
	}
	call = hash_search(view_calls, &id, HASH_ENTER, &found);
	if (!found)
	{
		call->context = NULL;
		for (int i = 0; i < VIEW_STATEMENTS; i++)
			call->plans[i] = NULL;
	}
	/* read again, with SQL, if the token or the owner changed */
	if (call->context == NULL || !tokens_match(token, call->token) ||
		call->owner != aggregate_owner(call->entry->view_relid))
	{
		int			nestlevel = fix_settings(SETTINGS_SQL);

		SPI_connect();
		rebuild(call);
		SPI_finish();
		restore_settings(nestlevel);
	}
	if (!tokens_match(token, call->token))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for hybridagg_internal.%s()",
						function),
				 errdetail("It returns groups of a hybridagg aggregate to the aggregate's own view only."),
				 errhint("Query the aggregate's view.")));
	return call;
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
