/*-------------------------------------------------------------------------
 * capture_siblings.c
 *	  One pass over a statement's rows for every aggregate of the table.
 *
 * Each aggregate has capture triggers of its own, and PostgreSQL fires the
 * AFTER triggers of one event of one statement on a table one after the
 * other, in name order, all with the same transition tables.  The first
 * capture trigger of an owner to fire captures the rows for itself and for
 * every capture trigger that will fire after it for the same event, of an
 * aggregate of the same owner: its siblings.  It reads the transition
 * tables once, and each row is deformed once for all of them (capture.c).
 * The pass runs as that owner, under one level of fixed settings: what one
 * owner's code sets there (a search_path, with set_config(..., true)) must
 * not reach another owner's definitions, so aggregates of other owners
 * capture in passes of their own.  Each first trigger leaves a note of the
 * siblings it captured for, keyed by those transition tables; when a
 * sibling's trigger fires, it finds itself on a note, takes itself off and
 * returns.
 *
 * A trigger that is not on a note captures on its own, so a capture is
 * never skipped, and none is made twice: each sibling takes itself off its
 * note, and a note is forgotten when the (sub)transaction it was made in
 * ends, in case the statement failed before every sibling fired (its
 * transition tables' memory may then hold another statement's).  A
 * statement nested in between (a trigger of the user's that writes to the
 * same table) has transition tables, and a note, of its own.
 *
 * Who fires is decided as PostgreSQL's trigger.c decides it for a
 * statement trigger: its event and timing, and whether it is enabled for
 * the session_replication_role.  Siblings are checked as the firing trigger
 * is (capture.c): a trigger that does not belong on this table is left out,
 * to fail when it fires itself.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "capture_siblings.h"

/*
 * The siblings a first trigger captured for that have not fired yet.  A
 * trigger's statement nested between them keeps its own note, on top.
 */
typedef struct SiblingNote
{
	Tuplestorestate *old_rows;	/* the statement's transition tables */
	Tuplestorestate *new_rows;
	SubTransactionId subxact;	/* where the first trigger fired */
	int			count;
	int32	   *ids;
} SiblingNote;

static List *notes = NIL;		/* of SiblingNote, in TopMemoryContext */

static void
forget_note(SiblingNote *note)
{
	notes = list_delete_ptr(notes, note);
	pfree(note->ids);
	pfree(note);
}

static void
forget_at_xact_end(XactEvent event, void *arg)
{
	while (notes != NIL)
		forget_note(linitial(notes));
}

/* a statement that failed before all its siblings fired leaves its note */
static void
forget_at_subxact_end(SubXactEvent event, SubTransactionId subid,
					  SubTransactionId parent, void *arg)
{
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	foreach(lc, notes)
	{
		SiblingNote *note = lfirst(lc);

		/* a statement and one nested in it may share the subtransaction */
		if (note->subxact == subid)
		{
			notes = foreach_delete_current(notes, lc);
			pfree(note->ids);
			pfree(note);
		}
	}
}

/*
 * Whether a first trigger of this statement's event captured for target:
 * each first trigger, one per owner, leaves a note of its own
 */
static bool
captured_for(TriggerData *trigdata, CaptureTarget *target)
{
	ListCell   *lc;

	foreach(lc, notes)
	{
		SiblingNote *note = lfirst(lc);

		if (note->old_rows != trigdata->tg_oldtable ||
			note->new_rows != trigdata->tg_newtable)
			continue;
		for (int i = 0; i < note->count; i++)
		{
			if (note->ids[i] == target->id)
			{
				note->ids[i] = note->ids[--note->count];
				if (note->count == 0)
					forget_note(note);
				return true;
			}
		}
	}
	return false;
}

/* the id a capture trigger passes, or -1 if it passes none that parses */
static int32
trigger_aggregate(const Trigger *trigger)
{
	char	   *end;
	long		id;

	if (trigger->tgnargs != 1)
		return -1;
	errno = 0;
	id = strtol(trigger->tgargs[0], &end, 10);
	if (errno != 0 || *end != '\0' || end == trigger->tgargs[0] ||
		id < 0 || id > PG_INT32_MAX)
		return -1;
	return (int32) id;
}

/* whether PostgreSQL fires the trigger in this session (trigger.c) */
static bool
trigger_fires(const Trigger *trigger)
{
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return trigger->tgenabled == TRIGGER_FIRES_ON_REPLICA ||
			trigger->tgenabled == TRIGGER_FIRES_ALWAYS;
	return trigger->tgenabled == TRIGGER_FIRES_ON_ORIGIN ||
		trigger->tgenabled == TRIGGER_FIRES_ALWAYS;
}

/*
 * The aggregates the firing trigger captures the statement's rows for:
 * NIL if a sibling fired first and captured them, else its own aggregate
 * (target) followed by its siblings'.
 */
List *
capture_siblings(TriggerData *trigdata, CaptureTarget *target)
{
	const Trigger *self = trigdata->tg_trigger;
	TriggerDesc *trigdesc = trigdata->tg_relation->trigdesc;
	Oid			relid = RelationGetRelid(trigdata->tg_relation);
	List	   *targets = list_make1(target);
	bool		after_self = false;
	int32	   *ids;
	int			nids = 0;

	if (captured_for(trigdata, target))
		return NIL;

	/*
	 * The siblings' ids first: building a sibling's target reads the catalog
	 * and may rebuild the relation's cache entry, and trigdesc with it.
	 */
	ids = palloc(sizeof(int32) * (trigdesc ? trigdesc->numtriggers : 0));
	for (int i = 0; trigdesc != NULL && i < trigdesc->numtriggers; i++)
	{
		const Trigger *trigger = &trigdesc->triggers[i];
		int32		id = trigger_aggregate(trigger);

		if (trigger->tgoid == self->tgoid)
		{
			after_self = true;
			continue;
		}
		if (!after_self || trigger->tgfoid != self->tgfoid ||
			trigger->tgtype != self->tgtype || !trigger_fires(trigger) ||
			(trigger->tgoldtable == NULL) != (self->tgoldtable == NULL) ||
			(trigger->tgnewtable == NULL) != (self->tgnewtable == NULL) ||
			id < 0)
			continue;
		ids[nids++] = id;
	}
	for (int i = 0; i < nids; i++)
	{
		CaptureTarget *sibling = capture_target(ids[i]);

		/* a pass is one owner's: what its code sets reaches no other's */
		if (sibling->owner == target->owner &&
			list_member_oid(sibling->tree, relid))
			targets = lappend(targets, sibling);
	}
	pfree(ids);
	return targets;
}

/* the siblings in targets (all but the first) were captured for */
void
capture_siblings_noted(TriggerData *trigdata, List *targets)
{
	static bool registered = false;
	SiblingNote *note;
	MemoryContext old;

	if (list_length(targets) <= 1)
		return;
	if (!registered)
	{
		RegisterXactCallback(forget_at_xact_end, NULL);
		RegisterSubXactCallback(forget_at_subxact_end, NULL);
		registered = true;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	note = palloc(sizeof(SiblingNote));
	note->old_rows = trigdata->tg_oldtable;
	note->new_rows = trigdata->tg_newtable;
	note->subxact = GetCurrentSubTransactionId();
	note->count = list_length(targets) - 1;
	note->ids = palloc(sizeof(int32) * note->count);
	for (int i = 0; i < note->count; i++)
		note->ids[i] = ((CaptureTarget *) list_nth(targets, i + 1))->id;
	notes = lappend(notes, note);
	MemoryContextSwitchTo(old);
}
