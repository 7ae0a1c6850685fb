/*-------------------------------------------------------------------------
 * advise.c
 *	  hybridagg.advise(name, freshness, growth): what each mode would cost
 *	  this aggregate on this database, and which one to pick.
 *
 * One row per mode.  Every figure says where it comes from (the figures
 * column): measured (the cost counters of costs.c, or a query run now),
 * sampled (a short run of the real code on a slice of the data, in a
 * subtransaction that is rolled back), or estimated (derived from the
 * measured and sampled figures by the model below).  What it keeps true:
 *	 - it changes nothing: every measurement runs in one subtransaction,
 *	   rolled back at the end, so the sample materialize() leaves no trace
 *	   (its lock on the aggregate is held for the sample only);
 *	 - only the owner (or a member, or a superuser) may advise, and
 *	   everything it runs, it runs as the aggregate's owner in a
 *	   security-restricted context under fixed settings (util.c): a caller
 *	   with more rights never runs the owner's code with them;
 *	 - the model is linear: growth multiplies the ingest rate, the rows per
 *	   batch run, the fold work, the stored groups and the view's latency;
 *	   per-row and per-statement costs stay as measured.
 *
 * The model, per mode, at rows_per_hour x growth:
 *	 batch		writes pay nothing; a run every schedule period recomputes
 *				the period's rows (seconds per row from the counters, or
 *				from a sample materialize() of the newest hour of buckets);
 *				it fits while a run is shorter than its period; the stored
 *				part trails now() by seal_after + period + a run.
 *	 streaming, kappa, hybrid, lambda
 *				writes pay the capture trigger (per row and per statement,
 *				from the counters, or estimated from the definition
 *				evaluated and grouped over a sample of rows) and, per row,
 *				PostgreSQL's copy of the row into the transition table the
 *				trigger reads (sampled: the trigger's timing cannot see it;
 *				the rest of the AFTER trigger queue's work, and the commit's
 *				flush of the delta rows' WAL, are not counted); the worker
 *				folds rows x delta rows per row x seconds per delta, plus a
 *				fold's own cost once a fold interval (both fitted to the
 *				fold counters); it fits while that is under an hour per
 *				hour (one worker per database); the stored part trails by a
 *				fold interval and a fold.  hybrid adds its seals
 *				(measured), lambda a batch as above.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "catalog.h"
#include "costs.h"
#include "export.h"
#include "guc.h"
#include "layout.h"
#include "util.h"

PG_FUNCTION_INFO_V1(hybridagg_advise);

#define ADVISE_COLUMNS			17
#define MODE_COUNT				5
#define SAMPLE_ROWS				10000
#define TIMED_RUNS				3
#define DEFAULT_PERIOD_S		600.0	/* README's pg_cron example */
#define SAMPLE_SPAN_S			3600.0
#define SECONDS_PER_HOUR		3600.0
#define SECONDS_PER_DAY			86400.0

/* Where a figure comes from */
typedef enum Provenance
{
	FIGURE_NONE,				/* not known: the value is NULL */
	FIGURE_NOTHING_RUNS,		/* 0: the mode runs nothing there */
	FIGURE_MEASURED,
	FIGURE_SAMPLED,
	FIGURE_ESTIMATED
} Provenance;

typedef struct Figure
{
	double		value;
	Provenance	how;
} Figure;

/* What advise() measures and samples, for every mode to be derived from */
typedef struct Measures
{
	AggregateCosts costs;
	bool		counted;
	Figure		rows_per_hour;
	bool		rate_of_last_day;
	Figure		deltas_per_row;
	Figure		capture_us_per_row; /* the trigger's own time */
	Figure		capture_us_per_statement;
	double		capture_us_per_row_all; /* the whole cost over the rows */
	Figure		transition_us_per_row;	/* a row into a transition table */
	uint64		transition_rows;	/* sampled over this many base rows */
	char		transition_error[128];	/* why it was not sampled */
	Figure		fold_s_per_delta;
	Figure		fold_s_per_fold;	/* what a fold costs however few deltas */
	Figure		seal_s_per_hour;	/* hybrid's seals: one per bucket */
	Figure		batch_s_per_run;	/* at the current rate and schedule */
	Figure		batch_s_per_row;
	double		batch_sample_s; /* the sample materialize() took */
	double		batch_sample_rows;	/* over this many base rows */
	double		view_whole_ms;	/* the current mode's view, run now */
	double		view_hour_ms;
	double		stored_read_ms; /* history and recent read whole */
	int64		storage_bytes;
	double		period_s;
	char		schedule[128];
	char		sample_error[256];
} Measures;

/* One row of the answer */
typedef struct ModeAdvice
{
	AggregateMode mode;
	Figure		write_us_per_row;
	Figure		write_us_per_statement;
	Figure		worker_s_per_hour;
	Figure		batch_s_per_run;
	Figure		batch_s_per_day;
	Figure		view_whole_ms;
	Figure		view_hour_ms;
	Figure		stored_freshness_s;
	Figure		storage_bytes;
	bool		fits;
	bool		fits_known;		/* false: too little measured to say */
	char	   *limit;
	double		seconds_per_day;	/* what it costs in all, for the choice */
} ModeAdvice;

static const AggregateMode modes[MODE_COUNT] = {
	MODE_BATCH, MODE_STREAMING, MODE_HYBRID, MODE_LAMBDA, MODE_KAPPA
};

/* an interval in seconds, a month counted as 30 days (as justify_days) */
static double
interval_seconds(const Interval *span)
{
	return span->time / 1e6 + (span->day + span->month * 30.0) * SECS_PER_DAY;
}

static Figure
figure(double value, Provenance how)
{
	Figure		f = {value, how};

	return f;
}

static const Figure no_figure = {0, FIGURE_NONE};

/* a figure of a mode derived from others: the weakest provenance wins */
static Figure
derived(double value, Provenance a, Provenance b)
{
	if (a == FIGURE_NONE || b == FIGURE_NONE)
		return no_figure;
	return figure(value, Max(a, b));
}

static const char *
provenance_name(Provenance how)
{
	switch (how)
	{
		case FIGURE_NOTHING_RUNS:
			return "nothing runs";
		case FIGURE_MEASURED:
			return "measured";
		case FIGURE_SAMPLED:
			return "sampled";
		case FIGURE_ESTIMATED:
			return "estimated";
		default:
			return "unknown";
	}
}

/* ----------------------------------------------------------------
 * Measuring
 * ----------------------------------------------------------------
 */

static double
elapsed_ms(instr_time start)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	return INSTR_TIME_GET_MILLISEC(now);
}

static int
compare_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* the user's view, schema-qualified and quoted */
static char *
view_qualname(const AggregateEntry *entry)
{
	Oid			view = entry->view_relid;
	char	   *schema = get_namespace_name(get_rel_namespace(view));

	return quote_qualified_identifier(schema, get_rel_name(view));
}

/* the median of TIMED_RUNS runs of a query, in milliseconds */
static double
timed_query(const char *sql, int nargs, Oid *types, Datum *values)
{
	double		runs[TIMED_RUNS];

	for (int i = 0; i < TIMED_RUNS; i++)
	{
		instr_time	start;

		INSTR_TIME_SET_CURRENT(start);
		spi_run_args(sql, nargs, types, values, NULL, SPI_OK_SELECT);
		runs[i] = elapsed_ms(start);
	}
	qsort(runs, TIMED_RUNS, sizeof(double), compare_doubles);
	return runs[TIMED_RUNS / 2];
}

static double
result_double(int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, column, &isnull);

	if (isnull)
		return 0;
	switch (SPI_gettypeid(SPI_tuptable->tupdesc, column))
	{
		case INT8OID:
			return (double) DatumGetInt64(value);
		case FLOAT8OID:
			return DatumGetFloat8(value);
		default:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8, value));
	}
}

/* base rows per hour: those of the last day, or over the data's span */
static void
measure_rate(const AggregateEntry *entry, Measures *m)
{
	const char *source = internal_qualname(OBJ_SOURCE, entry->id);
	Oid			types[2] = {entry->bucket.time_type, entry->bucket.time_type};
	Datum		values[2];
	int64		now = bucket_now(&entry->bucket);
	Interval	day = {0, 1, 0};
	double		rows;
	double		span_s;

	values[0] = Int64GetDatum(time_minus_interval(now, &day));
	values[1] = Int64GetDatum(now);
	spi_run_args(psprintf("SELECT count(*) FROM %s WHERE __time >= $1 "
						  "AND __time < $2", source),
				 2, types, values, NULL, SPI_OK_SELECT);
	rows = result_double(1);
	if (rows > 0)
	{
		m->rows_per_hour = figure(rows / 24, FIGURE_MEASURED);
		m->rate_of_last_day = true;
		return;
	}
	spi_run(psprintf("SELECT count(*), pg_catalog.date_part('epoch', "
					 "max(__time) OPERATOR(pg_catalog.-) min(__time)) "
					 "FROM %s", source), SPI_OK_SELECT);
	rows = result_double(1);
	span_s = Max(result_double(2), SECONDS_PER_HOUR);
	m->rows_per_hour = figure(rows / (span_s / SECONDS_PER_HOUR),
							  FIGURE_ESTIMATED);
}

/*
 * Least squares of y against x over n points, from their sums: y = fixed +
 * per_unit * x.  False (leaving the averages: fixed 0, per_unit y / x) when
 * every x was the same, or the fit makes no sense (a negative part).
 */
static bool
fit_line(double n, double sum_x, double sum_y, double sum_xx, double sum_xy,
		 double *fixed, double *per_unit)
{
	double		spread = n * sum_xx - sum_x * sum_x;
	double		slope;
	double		intercept;

	*fixed = 0;
	*per_unit = sum_y / sum_x;
	if (!(spread > 0))
		return false;
	slope = (n * sum_xy - sum_x * sum_y) / spread;
	intercept = (sum_y - slope * sum_x) / n;
	if (!(slope > 0) || intercept < 0)
		return false;
	*fixed = intercept;
	*per_unit = slope;
	return true;
}

/*
 * The capture trigger's own cost: measured if this aggregate captured since
 * its counters started (a statement of k rows costs per_statement + k *
 * per_row, fitted by least squares over every statement counted; with
 * statements of one size, or a fit that makes no sense, all of it per row:
 * the average per row, and nothing per statement, so that every statement
 * counted still adds up to what it cost); else estimated from the
 * definition evaluated and grouped over a sample of base rows, as the
 * capture groups a statement (without its delta inserts: a lower bound).
 */
static void
measure_capture(const AggregateEntry *entry, const AggLayout *layout,
				Measures *m)
{
	const AggregateCosts *c = &m->costs;
	StringInfoData sql;
	instr_time	start;
	double		ms;
	double		rows;

	if (m->counted && c->capture_statements > 0 && c->capture_rows > 0)
	{
		double		per_row;
		double		per_statement;

		/* statements of one size (or a fit that makes no sense): per row */
		fit_line(c->capture_statements, c->capture_rows, c->capture_us,
				 c->capture_rows_squared, c->capture_rows_by_us,
				 &per_statement, &per_row);
		m->capture_us_per_row = figure(per_row, FIGURE_MEASURED);
		m->capture_us_per_statement = figure(per_statement, FIGURE_MEASURED);
		m->deltas_per_row = figure((double) c->capture_groups /
								   c->capture_rows, FIGURE_MEASURED);
		m->capture_us_per_row_all = (double) c->capture_us / c->capture_rows;
		return;
	}
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT sum(n), count(*) FROM (SELECT ");
	append_keys(&sql, layout, NULL);
	appendStringInfo(&sql, ", count(s.*) AS n FROM (SELECT * FROM %s "
					 "LIMIT %d) s GROUP BY ",
					 internal_qualname(OBJ_SOURCE, entry->id), SAMPLE_ROWS);
	append_keys(&sql, layout, NULL);
	appendStringInfoString(&sql, ") q");
	INSTR_TIME_SET_CURRENT(start);
	spi_run(sql.data, SPI_OK_SELECT);
	ms = elapsed_ms(start);
	rows = result_double(1);
	if (rows <= 0)
		return;
	m->capture_us_per_row = figure(ms * 1000 / rows, FIGURE_ESTIMATED);
	m->capture_us_per_row_all = ms * 1000 / rows;
	m->deltas_per_row = figure(result_double(2) / rows, FIGURE_ESTIMATED);
}

/*
 * What a write pays outside the capture trigger, per row, for the
 * transition table the trigger reads: PostgreSQL copies each row the
 * statement writes into a tuplestore of work_mem (AfterTriggerSaveEvent,
 * TransitionTableAddTuple), which the trigger's timing cannot see.
 * Sampled: up to SAMPLE_ROWS of the base table's own rows, read as the
 * owner (only if the owner may read the whole table), each copied into a
 * tuplestore as the executor copies it; the median of TIMED_RUNS fills
 * (the read not timed), per row.
 */
static void
measure_transition(const AggregateEntry *entry, Measures *m)
{
	Oid			base = entry->base_relid;
	char	   *schema = get_namespace_name(get_rel_namespace(base));
	char	   *table;
	uint64		rows;
	TupleTableSlot *slot;
	double		runs[TIMED_RUNS];

	if (pg_class_aclcheck(base, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
	{
		snprintf(m->transition_error, sizeof(m->transition_error),
				 "the owner may not read the base table");
		return;
	}
	table = quote_qualified_identifier(schema, get_rel_name(base));
	rows = spi_run(psprintf("SELECT * FROM %s LIMIT %d", table, SAMPLE_ROWS),
				   SPI_OK_SELECT);
	if (rows == 0)
	{
		snprintf(m->transition_error, sizeof(m->transition_error),
				 "no base rows to sample");
		return;
	}
	slot = MakeSingleTupleTableSlot(SPI_tuptable->tupdesc, &TTSOpsHeapTuple);
	for (int i = 0; i < TIMED_RUNS; i++)
	{
		instr_time	start;
		Tuplestorestate *store;

		INSTR_TIME_SET_CURRENT(start);
		store = tuplestore_begin_heap(false, false, work_mem);
		for (uint64 row = 0; row < rows; row++)
		{
			ExecStoreHeapTuple(SPI_tuptable->vals[row], slot, false);
			tuplestore_puttupleslot(store, slot);
		}
		tuplestore_end(store);
		runs[i] = elapsed_ms(start);
		CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	SPI_freetuptable(SPI_tuptable);
	qsort(runs, TIMED_RUNS, sizeof(double), compare_doubles);
	m->transition_us_per_row = figure(runs[TIMED_RUNS / 2] * 1000 / rows,
									  FIGURE_SAMPLED);
	m->transition_rows = rows;
}

/* the fold's and the seals' costs, from the counters */
static void
measure_folds(const AggregateEntry *entry, Measures *m)
{
	const AggregateCosts *c = &m->costs;

	if (m->counted && c->fold_deltas > 0)
	{
		double		per_fold;
		double		per_delta;

		/* a fold costs per_fold + deltas * per_delta (else all per delta) */
		fit_line(c->folds, c->fold_deltas, c->fold_us,
				 c->fold_deltas_squared, c->fold_deltas_by_us,
				 &per_fold, &per_delta);
		m->fold_s_per_delta = figure(per_delta / 1e6, FIGURE_MEASURED);
		m->fold_s_per_fold = figure(per_fold / 1e6, FIGURE_MEASURED);
	}
	/* hybrid's worker seals each bucket once it is seal_after old */
	if (entry->mode == MODE_HYBRID && m->counted && c->batch_runs > 0)
	{
		double		width_s = interval_seconds(bucket_width(&entry->bucket));

		/* ... at most once a fold */
		width_s = Max(width_s, hybridagg_fold_interval / 1000.0);
		m->seal_s_per_hour = figure(c->batch_us / 1e6 / c->batch_runs *
									SECONDS_PER_HOUR / width_s,
									FIGURE_MEASURED);
	}
	else
		m->seal_s_per_hour = figure(0, FIGURE_ESTIMATED);
}

/* seconds of a field of a cron schedule: "*", "*\/N" or a number */
static bool
cron_step(const char *field, int *step)
{
	if (strcmp(field, "*") == 0)
		*step = 1;
	else if (strncmp(field, "*/", 2) == 0 && atoi(field + 2) > 0)
		*step = atoi(field + 2);
	else if (strspn(field, "0123456789") == strlen(field) && *field)
		*step = 0;				/* one value: once per larger unit */
	else
		return false;
	return true;
}

/* the period of a pg_cron schedule, if it is a simple one */
static bool
cron_period(const char *schedule, double *period_s)
{
	char		fields[5][32];
	int			steps[5];

	if (strcmp(schedule, "@hourly") == 0)
		return (*period_s = SECONDS_PER_HOUR) > 0;
	if (strcmp(schedule, "@daily") == 0)
		return (*period_s = SECONDS_PER_DAY) > 0;
	if (sscanf(schedule, "%31s %31s %31s %31s %31s", fields[0], fields[1],
			   fields[2], fields[3], fields[4]) != 5)
		return false;
	for (int i = 0; i < 5; i++)
		if (!cron_step(fields[i], &steps[i]))
			return false;
	for (int i = 2; i < 5; i++)
		if (steps[i] != 1)
			return false;		/* days, months, weekdays: not modelled */
	if (steps[0] > 0)
		*period_s = 60.0 * steps[0];
	else if (steps[1] > 0)
		*period_s = SECONDS_PER_HOUR * steps[1];
	else
		*period_s = SECONDS_PER_DAY;
	return true;
}

/* the materialize() schedule: a pg_cron job of the owner's, or assumed */
static void
measure_schedule(const AggregateEntry *entry, Measures *m)
{
	Oid			job = get_relname_relid("job", get_namespace_oid("cron",
																 true));
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	m->period_s = DEFAULT_PERIOD_S;
	snprintf(m->schedule, sizeof(m->schedule),
			 "no pg_cron job found: assumed every 10 minutes");
	if (!OidIsValid(job) ||
		pg_class_aclcheck(job, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return;
	values[0] = CStringGetTextDatum(get_rel_name(entry->view_relid));
	spi_run_args("SELECT schedule FROM cron.job WHERE command "
				 "OPERATOR(pg_catalog.~*) 'hybridagg\\.materialize' "
				 "AND pg_catalog.strpos(command, $1) > 0 "
				 "ORDER BY jobid LIMIT 1",
				 1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		char	   *schedule = SPI_getvalue(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1);
		double		period;

		if (schedule && cron_period(schedule, &period))
		{
			m->period_s = period;
			snprintf(m->schedule, sizeof(m->schedule), "pg_cron '%s'",
					 schedule);
		}
		else if (schedule)
			snprintf(m->schedule, sizeof(m->schedule),
					 "pg_cron '%s' not modelled: assumed every 10 minutes",
					 schedule);
	}
}

/* the view run now, whole and over the last hour; the stored groups read */
static void
measure_view(const AggregateEntry *entry, Measures *m)
{
	char	   *view = view_qualname(entry);
	Oid			types[1] = {entry->bucket.time_type};
	Datum		values[1];
	Interval	hour = {USECS_PER_HOUR, 0, 0};
	int64		hour_ago = time_minus_interval(bucket_now(&entry->bucket),
											   &hour);
	char	   *stored;

	values[0] = Int64GetDatum(bucket_floor(&entry->bucket, hour_ago));
	m->view_whole_ms = timed_query(psprintf("SELECT count(v.*) FROM %s v",
											view), 0, NULL, NULL);
	m->view_hour_ms = timed_query(psprintf("SELECT count(g.*) FROM %s g "
										   "WHERE g.g1 >= $1",
										   internal_qualname(OBJ_GROUPS,
															 entry->id)),
								  1, types, values);
	stored = psprintf("SELECT count(h.*) FROM %s h",
					  internal_qualname(OBJ_HISTORY, entry->id));
	if (MODE_IS_STREAMING(entry->mode))
		stored = psprintf("%s UNION ALL SELECT count(r.*) FROM %s r", stored,
						  internal_qualname(OBJ_RECENT, entry->id));
	m->stored_read_ms = timed_query(stored, 0, NULL, NULL);
}

/* bytes of history (every partition), recent and delta */
static void
measure_storage(const AggregateEntry *entry, Measures *m)
{
	Oid			types[3] = {REGCLASSOID, REGCLASSOID, REGCLASSOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	Oid			recent = internal_relid(OBJ_RECENT, entry->id, true);
	Oid			delta = internal_relid(OBJ_DELTA, entry->id, true);

	values[0] = ObjectIdGetDatum(internal_relid(OBJ_HISTORY, entry->id,
												false));
	values[1] = ObjectIdGetDatum(recent);
	values[2] = ObjectIdGetDatum(delta);
	if (!OidIsValid(recent))
		nulls[1] = 'n';
	if (!OidIsValid(delta))
		nulls[2] = 'n';
	spi_run_args("SELECT (SELECT COALESCE(sum("
				 "pg_catalog.pg_total_relation_size(relid)), 0) "
				 "FROM pg_catalog.pg_partition_tree($1)) "
				 "OPERATOR(pg_catalog.+) "
				 "COALESCE(pg_catalog.pg_total_relation_size($2), 0) "
				 "OPERATOR(pg_catalog.+) "
				 "COALESCE(pg_catalog.pg_total_relation_size($3), 0)",
				 3, types, values, nulls, SPI_OK_SELECT);
	m->storage_bytes = (int64) result_double(1);
}

/*
 * A batch run: measured from the counters of a batch or lambda aggregate;
 * and, for the other modes and the per-row cost, sampled: materialize() of
 * the newest hour (or schedule period, if shorter) of data older than
 * seal_after (what a batch run seals), in a subtransaction rolled back at
 * once.  A sample that fails (another
 * session holds the aggregate, the transaction is not READ COMMITTED) is
 * said in sample_error.
 */
static void
measure_batch(const AggregateEntry *entry, const AggLayout *layout,
			  Measures *m)
{
	const AggregateCosts *c = &m->costs;
	const char *source = internal_qualname(OBJ_SOURCE, entry->id);
	Oid			types[3] = {INTERVALOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[3];
	bool		isnull;
	double		rows;
	double		span_s = Min(m->period_s, SAMPLE_SPAN_S);
	StringInfoData sql;
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool was_paused = false;

	if ((entry->mode == MODE_BATCH || entry->mode == MODE_LAMBDA) &&
		m->counted && c->batch_runs > 0)
		m->batch_s_per_run = figure(c->batch_us / 1e6 / c->batch_runs,
									FIGURE_MEASURED);

	/* the newest span of buckets that batch mode would have sealed */
	values[0] = IntervalPGetDatum(interval_from_usecs((int64) (span_s * 1e6)));
	values[1] = IntervalPGetDatum(&entry->seal_after);
	types[1] = INTERVALOID;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT hi OPERATOR(pg_catalog.-) $1, hi FROM "
					 "(SELECT LEAST(max(__time)::pg_catalog.timestamptz, "
					 "pg_catalog.now() OPERATOR(pg_catalog.-) $2) AS hi "
					 "FROM %s) q", source);
	spi_run_args(sql.data, 2, types, values, NULL, SPI_OK_SELECT);
	values[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							  1, &isnull);
	if (isnull)
		return;					/* no rows: nothing to sample */
	values[2] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							  2, &isnull);
	types[1] = TIMESTAMPTZOID;
	resetStringInfo(&sql);
	appendStringInfo(&sql, "SELECT count(*) FROM %s WHERE "
					 "__time::pg_catalog.timestamptz >= $2 AND "
					 "__time::pg_catalog.timestamptz < $3", source);
	spi_run_args(sql.data, 3, types, values, NULL, SPI_OK_SELECT);
	rows = result_double(1);
	if (rows <= 0)
		return;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		instr_time	start;
		double		ms;
		Datum		args[3];
		Oid			arg_types[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};

		args[0] = CStringGetTextDatum(view_qualname(entry));
		args[1] = values[1];
		args[2] = values[2];
		(void) set_config_option("client_min_messages", "warning",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		INSTR_TIME_SET_CURRENT(start);
		was_paused = costs_pause(true);
		spi_run_args("CALL hybridagg.materialize($1, $2, $3)", 3, arg_types,
					 args, NULL, SPI_OK_UTILITY);
		costs_pause(was_paused);
		ms = elapsed_ms(start);
		m->batch_s_per_row = figure(ms / 1000 / rows, FIGURE_SAMPLED);
		m->batch_sample_s = ms / 1000;
		m->batch_sample_rows = rows;
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		costs_pause(was_paused);
		RollbackAndReleaseCurrentSubTransaction();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		snprintf(m->sample_error, sizeof(m->sample_error), "%s",
				 edata->message);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;

	/*
	 * a run recomputes a period's rows: as the sample did, scaled up by its
	 * rows (never down: a run has costs of its own however few its rows)
	 */
	if (m->batch_s_per_run.how == FIGURE_NONE &&
		m->batch_s_per_row.how != FIGURE_NONE)
		m->batch_s_per_run =
			derived(m->batch_sample_s *
					Max(1, m->rows_per_hour.value * m->period_s /
						SECONDS_PER_HOUR / m->batch_sample_rows),
					FIGURE_SAMPLED, m->rows_per_hour.how);
	/* a fold never ran: a delta costs about what recomputing its rows does */
	if (m->fold_s_per_delta.how == FIGURE_NONE &&
		m->batch_s_per_row.how != FIGURE_NONE &&
		m->deltas_per_row.how != FIGURE_NONE && m->deltas_per_row.value > 0)
	{
		m->fold_s_per_delta =
			figure(m->batch_s_per_row.value / m->deltas_per_row.value,
				   FIGURE_ESTIMATED);
		m->fold_s_per_fold = figure(0, FIGURE_ESTIMATED);
	}
}

static void
measure(const AggregateEntry *entry, Measures *m)
{
	AggLayout  *layout = layout_read(entry->id);

	m->counted = costs_read(entry->id, entry->view_relid, &m->costs);
	measure_rate(entry, m);
	measure_capture(entry, layout, m);
	measure_transition(entry, m);
	measure_folds(entry, m);
	measure_schedule(entry, m);
	measure_view(entry, m);
	measure_storage(entry, m);
	measure_batch(entry, layout, m);
}

/* ----------------------------------------------------------------
 * The model
 * ----------------------------------------------------------------
 */

static void
advise_mode(const AggregateEntry *entry, const Measures *m, double growth,
			ModeAdvice *a)
{
	double		rows_per_hour = m->rows_per_hour.value * growth;
	double		period_h = m->period_s / SECONDS_PER_HOUR;
	double		seal_after_s = interval_seconds(&entry->seal_after);
	bool		current = entry->mode == a->mode;
	Provenance	other = current ? FIGURE_MEASURED : FIGURE_ESTIMATED;
	bool		has_batch = a->mode == MODE_BATCH || a->mode == MODE_LAMBDA;
	double		fold_interval_s = hybridagg_fold_interval / 1000.0;
	double		deltas_per_hour;
	double		folds_per_hour;

	a->fits = true;
	a->fits_known = true;
	a->limit = "fits";
	a->storage_bytes = figure((double) m->storage_bytes * growth, other);

	if (has_batch && m->batch_s_per_run.how != FIGURE_NONE)
	{
		double		per_run = m->batch_s_per_run.value * growth;

		if (m->batch_s_per_run.how != FIGURE_MEASURED)
			per_run = m->batch_sample_s *
				Max(1, rows_per_hour * period_h / m->batch_sample_rows);

		a->batch_s_per_run = figure(per_run, m->batch_s_per_run.how);
		a->batch_s_per_day = figure(per_run * SECONDS_PER_DAY / m->period_s,
									m->batch_s_per_run.how);
		if (per_run >= m->period_s)
		{
			a->fits = false;
			a->limit = psprintf("a batch run (%.1f s) is longer than its "
								"schedule "
								"(every %.0f s)",
								per_run, m->period_s);
		}
	}
	else if (has_batch)
	{
		a->fits = false;
		a->fits_known = false;
		a->limit = "unknown: no batch run to measure or sample";
	}

	if (a->mode == MODE_BATCH)
	{
		a->write_us_per_row = figure(0, FIGURE_NOTHING_RUNS);
		a->write_us_per_statement = figure(0, FIGURE_NOTHING_RUNS);
		a->worker_s_per_hour = figure(0, FIGURE_NOTHING_RUNS);
		if (current)
		{
			a->view_whole_ms = figure(m->view_whole_ms * growth,
									  FIGURE_MEASURED);
			a->view_hour_ms = figure(m->view_hour_ms * growth,
									 FIGURE_MEASURED);
		}
		else if (m->batch_s_per_row.how != FIGURE_NONE)
		{
			/* the stored groups, and the raw tail since the watermark */
			double		tail_ms = m->batch_s_per_row.value * 1000 *
			rows_per_hour * (seal_after_s / SECONDS_PER_HOUR +
							 period_h / 2);

			a->view_whole_ms = figure(m->stored_read_ms * growth + tail_ms,
									  FIGURE_ESTIMATED);
			a->view_hour_ms = figure(m->batch_s_per_row.value * 1000 *
									 rows_per_hour, FIGURE_ESTIMATED);
		}
		a->stored_freshness_s =
			derived(seal_after_s + m->period_s + a->batch_s_per_run.value,
					FIGURE_ESTIMATED, a->batch_s_per_run.how);
		a->seconds_per_day = a->batch_s_per_day.value;
		return;
	}

	/*
	 * the four streaming modes capture alike and fold alike; a row costs the
	 * trigger's time and its copy into the transition table
	 */
	a->write_us_per_row = m->capture_us_per_row;
	if (a->write_us_per_row.how != FIGURE_NONE &&
		m->transition_us_per_row.how != FIGURE_NONE)
		a->write_us_per_row.value += m->transition_us_per_row.value;
	a->write_us_per_statement = m->capture_us_per_statement;
	/* a fold when there are deltas, at most one a fold interval */
	deltas_per_hour = rows_per_hour * m->deltas_per_row.value;
	folds_per_hour = Min(deltas_per_hour, SECONDS_PER_HOUR / fold_interval_s);
	a->worker_s_per_hour =
		derived(folds_per_hour * m->fold_s_per_fold.value +
				deltas_per_hour * m->fold_s_per_delta.value,
				m->fold_s_per_delta.how, m->deltas_per_row.how);
	if (a->mode == MODE_HYBRID && a->worker_s_per_hour.how != FIGURE_NONE)
		a->worker_s_per_hour.value += m->seal_s_per_hour.value * growth;
	if (MODE_IS_STREAMING(entry->mode))
	{
		Provenance	how = current ? FIGURE_MEASURED : FIGURE_ESTIMATED;

		a->view_whole_ms = figure(m->view_whole_ms * growth, how);
		a->view_hour_ms = figure(m->view_hour_ms * growth, how);
	}
	else
	{
		/* a batch aggregate: its stored groups are what these would read */
		a->view_whole_ms = figure(m->stored_read_ms * growth,
								  FIGURE_ESTIMATED);
		/* at most what batch's view pays for the raw last hour */
		a->view_hour_ms = figure(Min(m->view_hour_ms, m->stored_read_ms) *
								 growth, FIGURE_ESTIMATED);
	}
	if (a->worker_s_per_hour.how != FIGURE_NONE)
	{
		double		fold_s = m->fold_s_per_fold.value +
		m->fold_s_per_delta.value * deltas_per_hour * fold_interval_s /
		SECONDS_PER_HOUR;

		a->stored_freshness_s =
			figure(fold_interval_s + fold_s,
				   Max(FIGURE_ESTIMATED, a->worker_s_per_hour.how));
		if (a->worker_s_per_hour.value >= SECONDS_PER_HOUR)
		{
			a->fits = false;
			a->limit = psprintf("the fold (%.0f s of work per hour) cannot "
								"keep "
								"up with the ingest rate",
								a->worker_s_per_hour.value);
		}
	}
	else
	{
		a->fits = false;
		a->fits_known = false;
		a->limit = "unknown: no capture or fold to measure or estimate";
	}
	a->seconds_per_day = a->worker_s_per_hour.value * 24 +
		(m->capture_us_per_row_all + m->transition_us_per_row.value) *
		rows_per_hour * 24 / 1e6 +
		(has_batch ? a->batch_s_per_day.value : 0);
}

/*
 * The mode to pick: of those that fit at this growth and keep the stored
 * part within the freshness asked (any, if none was), the one that costs
 * the fewest seconds a day (writes, worker and batch runs); ties go to the
 * simpler write path (batch), then to hybrid, the default.
 */
static int
choose(ModeAdvice *advice, const Interval *freshness, char **reason)
{
	double		wanted_s = freshness ? interval_seconds(freshness) : -1;
	int			best = -1;
	int			fresh_fit = -1;
	int			unknown = 0;
	static const int preference[MODE_COUNT] = {0, 2, 1, 3, 4};

	for (int k = 0; k < MODE_COUNT; k++)
	{
		int			i = preference[k];
		ModeAdvice *a = &advice[i];

		if (!a->fits)
			continue;
		if (wanted_s >= 0 && (a->stored_freshness_s.how == FIGURE_NONE ||
							  a->stored_freshness_s.value > wanted_s))
			continue;
		if (best < 0 || a->seconds_per_day < advice[best].seconds_per_day)
			best = i;
	}
	if (best >= 0)
	{
		ModeAdvice *a = &advice[best];

		if (a->mode == MODE_BATCH)
			*reason = psprintf("batch: the cheapest that fits%s: writes pay "
							   "nothing, its runs take %.3g s a day, and the "
							   "view still serves the rows above the watermark "
							   "from the base table",
							   wanted_s >= 0 ? " the freshness asked" : "",
							   a->batch_s_per_day.value);
		else
			*reason = psprintf("%s: the cheapest that fits%s: the capture "
							   "costs "
							   "%.3g us a row and the worker %.3g s an hour; "
							   "the "
							   "stored part trails by about %.3g s",
							   mode_name(a->mode),
							   wanted_s >= 0 ? " the freshness asked" : "",
							   a->write_us_per_row.value,
							   a->worker_s_per_hour.value,
							   a->stored_freshness_s.value);
		return best;
	}

	/* none keeps the asked freshness: the freshest of those that fit */
	for (int k = 0; k < MODE_COUNT; k++)
	{
		int			i = preference[k];

		if (advice[i].fits && advice[i].stored_freshness_s.how != FIGURE_NONE &&
			(fresh_fit < 0 || advice[i].stored_freshness_s.value <
			 advice[fresh_fit].stored_freshness_s.value))
			fresh_fit = i;
	}
	if (fresh_fit >= 0)
	{
		*reason = psprintf("%s: no mode keeps the stored part that fresh; %s "
						   "comes closest (about %.3g s); the view itself is "
						   "exact in every mode",
						   mode_name(advice[fresh_fit].mode),
						   mode_name(advice[fresh_fit].mode),
						   advice[fresh_fit].stored_freshness_s.value);
		return fresh_fit;
	}
	for (int i = 0; i < MODE_COUNT; i++)
		if (!advice[i].fits_known)
			unknown++;
	if (unknown > 0)
		*reason = psprintf("hybrid, the default: too little is known to "
						   "compare the modes (see limit_reached); write "
						   "some rows and ask again");
	else
		*reason = psprintf("hybrid: no mode fits at this growth (see "
						   "limit_reached); hybrid spreads the work over the "
						   "worker's folds and seals");
	for (int i = 0; i < MODE_COUNT; i++)
		if (advice[i].mode == MODE_HYBRID)
			return i;
	return 0;
}

/*
 * Where a streaming mode's write figures come from: the capture trigger's
 * time (measured or estimated) and, per row, the transition table (sampled)
 */
static char *
write_provenance(const Measures *m, const ModeAdvice *a)
{
	if (a->mode == MODE_BATCH || a->write_us_per_row.how == FIGURE_NONE)
		return pstrdup(provenance_name(a->write_us_per_row.how));
	if (m->transition_us_per_row.how == FIGURE_NONE)
		return psprintf("%s capture trigger, transition table not sampled",
						provenance_name(m->capture_us_per_row.how));
	return psprintf("%s capture trigger + %s transition table",
					provenance_name(m->capture_us_per_row.how),
					provenance_name(m->transition_us_per_row.how));
}

static char *
figures_text(const Measures *m, const ModeAdvice *a)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "rate: %.0f rows/h %s; write: %s; worker: %s; "
					 "batch: %s; view: %s; storage: %s; schedule: %s",
					 m->rows_per_hour.value,
					 m->rate_of_last_day ? "(rows of the last day)" :
					 "(estimated over the data's time span)",
					 write_provenance(m, a),
					 provenance_name(a->worker_s_per_hour.how),
					 a->mode == MODE_BATCH || a->mode == MODE_LAMBDA ?
					 provenance_name(a->batch_s_per_run.how) : "none",
					 provenance_name(a->view_whole_ms.how),
					 provenance_name(a->storage_bytes.how),
					 m->schedule);
	if (m->sample_error[0])
		appendStringInfo(&buf, "; batch sample failed: %s", m->sample_error);
	if (a->mode != MODE_BATCH && m->transition_us_per_row.how != FIGURE_NONE)
		appendStringInfo(&buf, "; transition table: %.4g us a row, sampled "
						 "over " UINT64_FORMAT " base rows",
						 m->transition_us_per_row.value, m->transition_rows);
	else if (a->mode != MODE_BATCH && m->transition_error[0])
		appendStringInfo(&buf, "; transition table not sampled: %s",
						 m->transition_error);
	if (!m->counted)
		appendStringInfoString(&buf, "; no cost counters (hybridagg not "
							   "preloaded, or "
							   "hybridagg.cost_entries full)");
	return buf.data;
}

static void
put_figure(Datum *values, bool *nulls, int column, Figure f)
{
	nulls[column] = f.how == FIGURE_NONE || isnan(f.value);
	if (!nulls[column])
		values[column] = Float8GetDatum(f.value);
}

static const char *
exactness(AggregateMode mode)
{
	if (mode == MODE_BATCH)
		return "exact above the watermark; below it, as of the "
			"last materialize() (late rows wait for the next "
			"run)";
	if (mode == MODE_LAMBDA)
		return "exact in every snapshot; materialize() also "
			"recomputes sealed buckets from the base table";
	return "exact in every snapshot";
}

/*
 * hybridagg.advise(name, freshness, growth): one row per mode.
 */
Datum
hybridagg_advise(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AggregateEntry *entry;
	Interval   *freshness = PG_ARGISNULL(1) ? NULL : PG_GETARG_INTERVAL_P(1);
	double		growth;
	Measures	m = {0};
	ModeAdvice	advice[MODE_COUNT] = {0};
	char	   *reason = NULL;
	int			best;
	int			nestlevel;
	ActingAs	saved;
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name of the aggregate must not be NULL"),
				 errhint("SELECT * FROM hybridagg.advise('events_1m');")));
	growth = PG_ARGISNULL(2) ? 1 :
		DatumGetFloat8(DirectFunctionCall1(numeric_float8,
										   PG_GETARG_DATUM(2)));
	if (!(growth > 0) || isinf(growth))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("growth must be a positive number"),
				 errdetail("growth multiplies the data's volume and "
						   "velocity: 1 is today's, 10 ten times as much."),
				 errhint("Pass 1, 10 or 100.")));
	if (freshness && interval_seconds(freshness) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("freshness must not be negative"),
				 errdetail("freshness is how far the stored part of the view "
						   "may trail now()."),
				 errhint("Pass an interval such as '1 minute', or NULL for "
						 "no bound.")));
	require_primary("hybridagg.advise()");
	entry = catalog_resolve(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	check_aggregate_owner(entry);
	InitMaterializedSRF(fcinfo, 0);

	/* everything runs as the owner, and nothing of it stays */
	nestlevel = fix_settings(SETTINGS_SQL);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		SPI_connect();
		act_as(entry->owner, &saved);
		measure(entry, &m);
		act_as_restore(&saved);
		SPI_finish();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(context);
		RollbackAndReleaseCurrentSubTransaction();
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	restore_settings(nestlevel);

	for (int i = 0; i < MODE_COUNT; i++)
	{
		advice[i].mode = modes[i];
		advise_mode(entry, &m, growth, &advice[i]);
	}
	best = choose(advice, freshness, &reason);

	for (int i = 0; i < MODE_COUNT; i++)
	{
		ModeAdvice *a = &advice[i];
		Datum		values[ADVISE_COLUMNS] = {0};
		bool		nulls[ADVISE_COLUMNS] = {0};

		values[0] = CStringGetTextDatum(mode_name(a->mode));
		values[1] = BoolGetDatum(a->mode == entry->mode);
		put_figure(values, nulls, 2, a->write_us_per_row);
		put_figure(values, nulls, 3, a->write_us_per_statement);
		put_figure(values, nulls, 4, a->worker_s_per_hour);
		put_figure(values, nulls, 5, a->batch_s_per_run);
		put_figure(values, nulls, 6, a->batch_s_per_day);
		put_figure(values, nulls, 7, a->view_whole_ms);
		put_figure(values, nulls, 8, a->view_hour_ms);
		nulls[9] = a->stored_freshness_s.how == FIGURE_NONE;
		if (!nulls[9])
		{
			int64		usecs = (int64) (a->stored_freshness_s.value * 1e6);

			values[9] = IntervalPGetDatum(interval_from_usecs(usecs));
		}
		values[10] = CStringGetTextDatum(exactness(a->mode));
		values[11] = Int64GetDatum((int64) a->storage_bytes.value);
		values[12] = BoolGetDatum(a->fits);
		nulls[12] = !a->fits_known;
		values[13] = CStringGetTextDatum(a->limit);
		values[14] = CStringGetTextDatum(figures_text(&m, a));
		values[15] = BoolGetDatum(i == best);
		nulls[16] = i != best;
		if (i == best)
			values[16] = CStringGetTextDatum(reason);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}
