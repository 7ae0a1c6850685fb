/*-------------------------------------------------------------------------
 * merge_guard.c
 *	  A MERGE that could move rows between the partitions of a table that
 *	  hybridagg captures is refused before it runs.
 *
 * PostgreSQL 15 runs an UPDATE action of MERGE that moves a row to another
 * partition as a DELETE from one partition and an INSERT into the other, as
 * for UPDATE.  But where an UPDATE statement puts the two rows into its
 * UPDATE transition tables, a MERGE puts them into those of DELETE and
 * INSERT, and only when the MERGE has DELETE and INSERT actions of its own
 * (nodeModifyTable.c tests for CMD_UPDATE, not CMD_MERGE).  The capture
 * triggers read the transition tables, so such a row would be counted
 * twice, or never moved (repro/08_merge_row_movement_partitioned.sql).
 *
 * An ExecutorStart hook looks at every MERGE whose target is a partitioned
 * table carrying capture triggers, and refuses it when an UPDATE action
 * assigns a column of a partition key anywhere in the target's tree: only
 * such an action can move a row.  Every other MERGE runs as it would.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/executor.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"

#include "merge_guard.h"
#include "util.h"

static ExecutorStart_hook_type prev_executor_start = NULL;

/* does relid carry a trigger that calls hybridagg_internal.capture()? */
static bool
is_captured(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	bool		captured = false;

	if (rel->trigdesc)
	{
		for (int i = 0; i < rel->trigdesc->numtriggers && !captured; i++)
		{
			Oid			fn = rel->trigdesc->triggers[i].tgfoid;
			char	   *name = get_func_name(fn);

			captured = (name && strcmp(name, "capture") == 0 &&
						get_func_namespace(fn) ==
						get_namespace_oid(INTERNAL_SCHEMA, true));
		}
	}
	relation_close(rel, AccessShareLock);
	return captured;
}

/* the names of the columns that partition the tables of relid's tree */
static List *
partition_key_columns(Oid relid)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, AccessShareLock, NULL))
	{
		Oid			table = lfirst_oid(lc);
		Relation	rel;
		PartitionKey key;
		Bitmapset  *attnos = NULL;
		int			attno = -1;

		if (get_rel_relkind(table) != RELKIND_PARTITIONED_TABLE)
			continue;
		rel = relation_open(table, NoLock);
		key = RelationGetPartitionKey(rel);
		for (int i = 0; i < key->partnatts; i++)
			if (key->partattrs[i] != 0)
				attnos = bms_add_member(attnos,
										key->partattrs[i] -
										FirstLowInvalidHeapAttributeNumber);
		pull_varattnos((Node *) key->partexprs, 1, &attnos);
		while ((attno = bms_next_member(attnos, attno)) >= 0)
			names = lappend(names,
							get_attname(table,
										attno +
										FirstLowInvalidHeapAttributeNumber,
										false));
		relation_close(rel, NoLock);
	}
	return names;
}

/* a column of a partition key that an UPDATE action of the MERGE assigns */
static char *
moved_key_column(PlannedStmt *stmt, ModifyTable *merge, Oid target)
{
	List	   *keys = NIL;
	ListCell   *lc;
	ListCell   *lc2;

	forboth(lc, merge->resultRelations, lc2, merge->mergeActionLists)
	{
		Oid			relid = rt_fetch(lfirst_int(lc), stmt->rtable)->relid;
		ListCell   *lc3;

		foreach(lc3, (List *) lfirst(lc2))
		{
			MergeAction *action = lfirst_node(MergeAction, lc3);
			ListCell   *lc4;

			if (action->commandType != CMD_UPDATE)
				continue;
			if (keys == NIL)
				keys = partition_key_columns(target);
			foreach(lc4, action->updateColnos)
			{
				char	   *column = get_attname(relid, lfirst_int(lc4), false);
				ListCell   *lc5;

				foreach(lc5, keys)
				{
					if (strcmp(column, lfirst(lc5)) == 0)
						return column;
				}
			}
		}
	}
	return NULL;
}

static void
check_merge(PlannedStmt *stmt)
{
	ModifyTable *merge;
	Oid			target;
	char	   *column;

	if (stmt->planTree == NULL || !IsA(stmt->planTree, ModifyTable))
		return;
	merge = (ModifyTable *) stmt->planTree;
	target = rt_fetch(merge->nominalRelation, stmt->rtable)->relid;
	if (get_rel_relkind(target) != RELKIND_PARTITIONED_TABLE ||
		!is_captured(target))
		return;
	column = moved_key_column(stmt, merge, target);
	if (column == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("MERGE cannot change column \"%s\" of table \"%s\", which partitions the table and which hybridagg captures",
					column, get_rel_name(target)),
			 errdetail("An UPDATE action that changes a partition key may move rows to another partition, and PostgreSQL 15 does not show a MERGE's moved rows to the UPDATE transition tables that hybridagg reads, so they would be counted wrongly."),
			 errhint("Change the partition key in an UPDATE statement, and the rest in the MERGE.")));
}

static void
merge_guard_executor_start(QueryDesc *queryDesc, int eflags)
{
	if (queryDesc->operation == CMD_MERGE && !(eflags & EXEC_FLAG_EXPLAIN_ONLY))
		check_merge(queryDesc->plannedstmt);
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

void
merge_guard_install(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = merge_guard_executor_start;
}
