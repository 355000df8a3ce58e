/*-------------------------------------------------------------------------
 *
 * log_nondet.c
 *	  What a logged statement needs to run again to the same result.
 *
 * A statement's result can depend on more than its text and the data it
 * read.  For each logged statement the entry records:
 *
 *	- the transaction and statement timestamps it saw (now(),
 *	  statement_timestamp() and the like return them);
 *	- its search_path, which decides what its names mean;
 *	- the seed of random(): when a statement calls random(), the generator
 *	  is seeded with a fresh random seed before it runs, and the seed is
 *	  recorded, so that the same statement seeded the same way draws the
 *	  same numbers.  A session that calls setseed() itself is left alone
 *	  from then on (its random() calls are then not captured, unless the
 *	  statement seeds them itself);
 *	- the last value it drew from each sequence it calls nextval() on (or
 *	  an identity column draws from);
 *	- every other volatile function it calls, and whether its effect is
 *	  captured.  Those that are not (clock_timestamp(), gen_random_uuid(),
 *	  functions in procedural languages, whose inner expressions ttpdb does
 *	  not see) make the entry one that replay must apply from its recorded
 *	  effects rather than re-execute.
 *
 * Functions are found by walking the statement's plan, and the plans of the
 * statements it runs in turn (functions, triggers).
 *
 * IDENTIFICATION
 *	  src/log/log_nondet.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_language_d.h"
#include "catalog/pg_proc.h"
#include "commands/sequence.h"
#include "common/pg_prng.h"
#include "executor/execdesc.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/resowner.h"
#include "utils/json.h"
#include "utils/regproc.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "log.h"

typedef struct NondetWalk
{
	LogStatement *stmt;			/* NULL: only find out whether any is volatile */
	bool		found;			/* a volatile function or sequence */
	bool		wants_seed;		/* random() is called */
	Oid			ttpdb_nsp;		/* schema ttpdb, or InvalidOid */
} NondetWalk;

/*
 * Functions that never make a statement's result differ on replay: ttpdb's
 * own (the log's event triggers call them, and replaying the DDL calls them
 * again) and the event trigger functions, which report what the statement
 * is doing.
 */
static bool
ignored_function(NondetWalk *walk, Oid funcid)
{
	char	   *name;
	bool		ignored;

	if (OidIsValid(walk->ttpdb_nsp) && get_func_namespace(funcid) == walk->ttpdb_nsp)
		return true;
	name = get_func_name(funcid);
	ignored = name != NULL && strncmp(name, "pg_event_trigger_", 17) == 0;
	if (name)
		pfree(name);
	return ignored;
}

/*
 * The session called setseed() itself: from then on random() is its own
 * business, and ttpdb no longer seeds it (which would change the numbers
 * the session expects).
 */
static bool session_seeded = false;

static bool walk_plan(Plan *plan, NondetWalk *walk);

/* Record a sequence the statement draws from (once). */
static void
note_sequence(NondetWalk *walk, Oid seqid)
{
	ListCell   *lc;
	LogSequence *seq;
	MemoryContext old;

	walk->found = true;
	if (walk->stmt == NULL)
		return;
	foreach(lc, walk->stmt->sequences)
		if (((LogSequence *) lfirst(lc))->seqid == seqid)
			return;
	old = MemoryContextSwitchTo(walk->stmt->context);
	seq = palloc0(sizeof(LogSequence));
	seq->seqid = seqid;
	walk->stmt->sequences = lappend(walk->stmt->sequences, seq);
	MemoryContextSwitchTo(old);
}

/* Record a volatile function the statement calls (once). */
static void
note_volatile(NondetWalk *walk, Oid funcid, bool captured)
{
	ListCell   *lc;
	LogVolatile *v;
	MemoryContext old;

	walk->found = true;
	if (walk->stmt == NULL)
		return;
	foreach(lc, walk->stmt->volatiles)
		if (((LogVolatile *) lfirst(lc))->funcid == funcid)
			return;
	old = MemoryContextSwitchTo(walk->stmt->context);
	v = palloc0(sizeof(LogVolatile));
	v->funcid = funcid;
	v->captured = captured;
	walk->stmt->volatiles = lappend(walk->stmt->volatiles, v);
	MemoryContextSwitchTo(old);
}

/*
 * Whether a volatile function other than those handled by name has an
 * effect the entry captures: SQL functions run their statements through the
 * executor, where ttpdb sees them; functions that only return a value
 * computed from their arguments (setval, pg_sleep) need nothing.
 */
static bool
volatile_is_captured(Oid funcid)
{
	HeapTuple	tp;
	bool		captured;

	if (funcid == F_SETVAL_REGCLASS_INT8 || funcid == F_SETVAL_REGCLASS_INT8_BOOL ||
		funcid == F_PG_SLEEP)
		return true;
	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tp))
		return false;
	captured = ((Form_pg_proc) GETSTRUCT(tp))->prolang == SQLlanguageId;
	ReleaseSysCache(tp);
	return captured;
}

/* check_functions_in_node() callback: look at one function. */
static bool
check_function(Oid funcid, void *context)
{
	NondetWalk *walk = (NondetWalk *) context;

	if (func_volatile(funcid) != PROVOLATILE_VOLATILE)
		return false;
	if (ignored_function(walk, funcid))
		return false;
	switch (funcid)
	{
		case F_RANDOM:
			walk->wants_seed = true;
			note_volatile(walk, funcid, true);
			break;
		case F_SETSEED:
			walk->found = true;
			session_seeded = true;
			if (walk->stmt != NULL)
				walk->stmt->user_seeded = true;
			note_volatile(walk, funcid, true);
			break;
		case F_NEXTVAL:
			/* the sequence is noted from the call's argument */
			walk->found = true;
			break;
		default:
			note_volatile(walk, funcid, volatile_is_captured(funcid));
			break;
	}
	return false;
}

/* Expression walker: every function call and sequence draw in a tree. */
static bool
nondet_expr_walker(Node *node, NondetWalk *walk)
{
	if (node == NULL)
		return false;
	if (IsA(node, NextValueExpr))
		note_sequence(walk, ((NextValueExpr *) node)->seqid);
	else if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == F_NEXTVAL)
	{
		FuncExpr   *f = (FuncExpr *) node;
		Node	   *arg = linitial(f->args);

		if (IsA(arg, Const) && !((Const *) arg)->constisnull)
			note_sequence(walk, DatumGetObjectId(((Const *) arg)->constvalue));
		else
			note_volatile(walk, F_NEXTVAL, false);	/* sequence not known */
	}
	(void) check_functions_in_node(node, check_function, walk);
	return expression_tree_walker(node, nondet_expr_walker, (void *) walk);
}

static void
walk_expr(void *node, NondetWalk *walk)
{
	(void) nondet_expr_walker((Node *) node, walk);
}

static void
walk_plans(List *plans, NondetWalk *walk)
{
	ListCell   *lc;

	foreach(lc, plans)
		walk_plan((Plan *) lfirst(lc), walk);
}

/*
 * Walk a plan node, its expressions and its children.  The expressions
 * specific to a node type are listed by type; SubPlans are walked from
 * PlannedStmt.subplans.
 */
static bool
walk_plan(Plan *plan, NondetWalk *walk)
{
	if (plan == NULL)
		return false;
	walk_expr(plan->targetlist, walk);
	walk_expr(plan->qual, walk);

	switch (nodeTag(plan))
	{
		case T_Result:
			walk_expr(((Result *) plan)->resconstantqual, walk);
			break;
		case T_ModifyTable:
			{
				ModifyTable *mt = (ModifyTable *) plan;

				walk_expr(mt->returningLists, walk);
				walk_expr(mt->onConflictSet, walk);
				walk_expr(mt->onConflictWhere, walk);
				walk_expr(mt->withCheckOptionLists, walk);
				walk_expr(mt->mergeActionLists, walk);
				break;
			}
		case T_Append:
			walk_plans(((Append *) plan)->appendplans, walk);
			break;
		case T_MergeAppend:
			walk_plans(((MergeAppend *) plan)->mergeplans, walk);
			break;
		case T_BitmapAnd:
			walk_plans(((BitmapAnd *) plan)->bitmapplans, walk);
			break;
		case T_BitmapOr:
			walk_plans(((BitmapOr *) plan)->bitmapplans, walk);
			break;
		case T_SampleScan:
			walk_expr(((SampleScan *) plan)->tablesample, walk);
			break;
		case T_IndexScan:
			walk_expr(((IndexScan *) plan)->indexqualorig, walk);
			walk_expr(((IndexScan *) plan)->indexorderbyorig, walk);
			break;
		case T_IndexOnlyScan:
			walk_expr(((IndexOnlyScan *) plan)->indexqual, walk);
			walk_expr(((IndexOnlyScan *) plan)->indexorderby, walk);
			break;
		case T_BitmapIndexScan:
			walk_expr(((BitmapIndexScan *) plan)->indexqualorig, walk);
			break;
		case T_BitmapHeapScan:
			walk_expr(((BitmapHeapScan *) plan)->bitmapqualorig, walk);
			break;
		case T_TidScan:
			walk_expr(((TidScan *) plan)->tidquals, walk);
			break;
		case T_TidRangeScan:
			walk_expr(((TidRangeScan *) plan)->tidrangequals, walk);
			break;
		case T_SubqueryScan:
			walk_plan(((SubqueryScan *) plan)->subplan, walk);
			break;
		case T_FunctionScan:
			walk_expr(((FunctionScan *) plan)->functions, walk);
			break;
		case T_ValuesScan:
			walk_expr(((ValuesScan *) plan)->values_lists, walk);
			break;
		case T_TableFuncScan:
			walk_expr(((TableFuncScan *) plan)->tablefunc, walk);
			break;
		case T_ForeignScan:
			walk_expr(((ForeignScan *) plan)->fdw_exprs, walk);
			walk_expr(((ForeignScan *) plan)->fdw_recheck_quals, walk);
			break;
		case T_CustomScan:
			walk_expr(((CustomScan *) plan)->custom_exprs, walk);
			walk_plans(((CustomScan *) plan)->custom_plans, walk);
			break;
		case T_NestLoop:
			walk_expr(((Join *) plan)->joinqual, walk);
			break;
		case T_MergeJoin:
			walk_expr(((Join *) plan)->joinqual, walk);
			walk_expr(((MergeJoin *) plan)->mergeclauses, walk);
			break;
		case T_HashJoin:
			walk_expr(((Join *) plan)->joinqual, walk);
			walk_expr(((HashJoin *) plan)->hashclauses, walk);
			break;
		case T_Hash:
			walk_expr(((Hash *) plan)->hashkeys, walk);
			break;
		case T_Memoize:
			walk_expr(((Memoize *) plan)->param_exprs, walk);
			break;
		case T_WindowAgg:
			walk_expr(((WindowAgg *) plan)->startOffset, walk);
			walk_expr(((WindowAgg *) plan)->endOffset, walk);
			break;
		case T_Limit:
			walk_expr(((Limit *) plan)->limitOffset, walk);
			walk_expr(((Limit *) plan)->limitCount, walk);
			break;
		default:
			break;
	}
	walk_plan(plan->lefttree, walk);
	walk_plan(plan->righttree, walk);
	return false;
}

static void
walk_statement(PlannedStmt *pstmt, NondetWalk *walk)
{
	walk_plan(pstmt->planTree, walk);
	walk_plans(pstmt->subplans, walk);
}

/*
 * log_plan_is_volatile
 *		Whether a plan calls a volatile function or draws from a sequence:
 *		only such a read-only statement can write (through a function), and
 *		only such a statement has nondeterminism to capture.
 */
bool
log_plan_is_volatile(PlannedStmt *pstmt)
{
	NondetWalk	walk = {NULL, false, false, get_namespace_oid("ttpdb", true)};

	walk_statement(pstmt, &walk);
	return walk.found;
}

/*
 * log_scan_plan
 *		Note the volatile functions and sequences of a plan the statement is
 *		about to run (its own, or a nested statement's), and seed random()
 *		if it calls it.
 */
void
log_scan_plan(LogStatement *stmt, PlannedStmt *pstmt)
{
	NondetWalk	walk = {stmt, false, false, get_namespace_oid("ttpdb", true)};

	walk_statement(pstmt, &walk);
	if (walk.wants_seed && !stmt->seeded && !stmt->user_seeded && !session_seeded)
	{
		/* a seed in [-1, 1], as setseed() takes, with 53 random bits */
		double		seed = pg_prng_double(&pg_global_prng_state) * 2.0 - 1.0;

		DirectFunctionCall1(setseed, Float8GetDatum(seed));
		stmt->seed = seed;
		stmt->seeded = true;
	}
}

/*
 * The last value this session drew from a sequence, as currval() says.
 * currval() fails when the statement drew nothing (a WHERE false) or the
 * role may not read the sequence (an identity column's, typically): it runs
 * in a subtransaction, and those two errors mean "unknown"; any other (a
 * cancel, a timeout) is the statement's own.
 */
static bool
sequence_last_value(Oid seqid, int64 *value)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	bool		known = false;

	if (pg_class_aclcheck(seqid, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
		return false;
	if (IsInParallelMode())
		return false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		*value = DatumGetInt64(DirectFunctionCall1(currval_oid, ObjectIdGetDatum(seqid)));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		known = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode != ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE &&
			edata->sqlerrcode != ERRCODE_INSUFFICIENT_PRIVILEGE)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return known;
}

/*
 * log_finish_nondeterminism
 *		At the statement's end: the last value it drew from each sequence.
 */
void
log_finish_nondeterminism(LogStatement *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->sequences)
	{
		LogSequence *seq = (LogSequence *) lfirst(lc);

		seq->known = sequence_last_value(seq->seqid, &seq->last_value);
	}
}

/* JSON string literal of a C string. */
static void
append_json_string(StringInfo buf, const char *s)
{
	escape_json(buf, s);
}

/*
 * log_nondeterminism_jsonb
 *		The entry's "nondeterminism" document beyond its timestamps and
 *		search_path (which have columns of their own): the random seed,
 *		sequences and volatile functions.  Sets *deterministic; returns
 *		false when there is nothing to record.
 */
bool
log_nondeterminism_jsonb(LogStatement *stmt, Datum *result, bool *deterministic)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		any = false;

	*deterministic = true;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	if (stmt->seeded)
	{
		appendStringInfo(&buf, "\"random_seed\": %.17g", stmt->seed);
		any = true;
	}

	if (stmt->sequences != NIL)
	{
		appendStringInfoString(&buf, any ? ", \"sequences\": [" : "\"sequences\": [");
		any = true;
		foreach(lc, stmt->sequences)
		{
			LogSequence *seq = (LogSequence *) lfirst(lc);
			char	   *name = get_rel_name(seq->seqid);
			char	   *nsp = get_namespace_name(get_rel_namespace(seq->seqid));

			if (foreach_current_index(lc) > 0)
				appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf, "{\"sequence\": ");
			append_json_string(&buf, name && nsp ? quote_qualified_identifier(nsp, name) : "?");
			if (seq->known)
				appendStringInfo(&buf, ", \"last_value\": " INT64_FORMAT "}", seq->last_value);
			else
			{
				appendStringInfoString(&buf, ", \"last_value\": null}");
				*deterministic = false;
			}
		}
		appendStringInfoChar(&buf, ']');
	}

	if (stmt->volatiles != NIL)
	{
		appendStringInfoString(&buf, any ? ", \"volatile_functions\": [" :
							   "\"volatile_functions\": [");
		any = true;
		foreach(lc, stmt->volatiles)
		{
			LogVolatile *v = (LogVolatile *) lfirst(lc);
			bool		captured = v->captured;

			/* random() the session seeded itself is not reproducible here */
			if (v->funcid == F_RANDOM && !stmt->seeded && !stmt->user_seeded)
				captured = false;
			if (!captured)
				*deterministic = false;
			if (foreach_current_index(lc) > 0)
				appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf, "{\"function\": ");
			append_json_string(&buf, format_procedure_qualified(v->funcid));
			appendStringInfo(&buf, ", \"captured\": %s}", captured ? "true" : "false");
		}
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoChar(&buf, '}');
	if (!any)
		return false;
	*result = DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
	return true;
}
