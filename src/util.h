/*-------------------------------------------------------------------------
 * util.h
 *	  Small helpers shared by every part of hybridagg: fixed session
 *	  settings for generated SQL, acting as another role, the names of an
 *	  aggregate's internal objects, and running SQL through SPI.
 *-------------------------------------------------------------------------
 */
#ifndef HYBRIDAGG_UTIL_H
#define HYBRIDAGG_UTIL_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#define INTERNAL_SCHEMA "hybridagg_internal"

/*
 * Internal objects of aggregate <id>, all in INTERNAL_SCHEMA:
 *	 source_<id>   view: the base rows, mapped to __time, g1..gN and v1..vM
 *	 history_<id>  partitioned table: sealed groups, buckets below the watermark
 *	 recent_<id>   table: streamed groups, buckets at or above the watermark
 *	 delta_<id>    table: append-only changes captured from writers, not yet
 *				   folded
 *	 groups_<id>   view: the final value of every group
 *	 token_<id>    table: one secret row the view passes to dirty_groups()
 */
#define OBJ_SOURCE	"source"
#define OBJ_HISTORY "history"
#define OBJ_RECENT	"recent"
#define OBJ_DELTA	"delta"
#define OBJ_GROUPS	"groups"
#define OBJ_TOKEN	"token"
#define OBJ_VALUES	"values"

extern char *internal_relname(const char *kind, int32 id);
extern char *internal_qualname(const char *kind, int32 id);
extern Oid	internal_relid(const char *kind, int32 id, bool missing_ok);
extern Relation open_internal_table(const char *kind, int32 id, Oid relid,
									LOCKMODE lockmode);
extern bool delta_has_rows(int32 id, bool dirty_only);
extern Oid	internal_schema_oid(void);
extern Oid	extension_owner(void);

/*
 * Settings under which generated SQL is built and run, and the definition
 * is evaluated, whatever the session has: search_path = pg_catalog, pg_temp,
 * and fixed text forms of values (see util.c); when deparsing, TimeZone UTC
 * as well.  Only the settings that differ are changed, in a GUC nest level
 * that restore_settings() ends, undoing every change made inside it (also
 * a SET by an owner's function that ran there).  Returns what to pass to
 * restore_settings().  Every SPI statement hybridagg runs checks that they
 * are in force.
 */
#define FIXED_SEARCH_PATH "pg_catalog, pg_temp"

typedef enum SettingsPurpose
{
	SETTINGS_SQL,				/* building and running SQL */
	SETTINGS_DEPARSE,			/* the same, and printing expressions in UTC */
	SETTINGS_EVALUATION			/* evaluating compiled expressions of C and
								 * internal functions only, which read no
								 * names: the search_path is left alone */
} SettingsPurpose;

extern int	fix_settings(SettingsPurpose purpose);
extern void restore_settings(int nestlevel);
extern bool settings_are_fixed(void);

/* Acting as another role (the aggregate's owner, or the extension's owner) */
typedef struct ActingAs
{
	Oid			saved_userid;
	int			saved_sec_context;
} ActingAs;

extern void act_as(Oid role, ActingAs *saved);
extern void act_as_restore(ActingAs *saved);

/* SPI: run a statement and insist on the expected result code */
extern uint64 spi_run(const char *sql, int expected);
extern uint64 spi_run_args(const char *sql, int nargs, Oid *types,
						   Datum *values, const char *nulls, int expected);

/* is a utility statement of spi_run running (hybridagg's own DDL)? */
extern bool running_own_ddl(void);

/* the commands an event trigger at ddl_command_end sees (CollectedCommand) */
extern List *collected_commands(void);

/* the tables relid is a partition or an inheritance child of */
extern List *relation_parents(Oid relid);

/*
 * SPI in one snapshot: every statement a mover runs between reading and
 * consuming uses the same snapshot, with the command counter advanced so
 * that each statement sees the previous ones (src/README.md, invariant 2).
 */
extern Snapshot mover_snapshot(void);
extern uint64 spi_run_snapshot(const char *sql, int nargs, Oid *types,
							   Datum *values, const char *nulls,
							   Snapshot snapshot, int expected);

/* an interval of this many microseconds, with no days or months */
extern Interval *interval_from_usecs(int64 usecs);

/*
 * text for a timestamp or timestamptz value, independent of session settings
 * (for an integer bucket's type, the number)
 */
extern char *time_literal(Oid time_type, int64 value);

extern bool function_call(Node *node, Oid *funcid, List **args);

#endif
