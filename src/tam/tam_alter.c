/*-------------------------------------------------------------------------
 *
 * tam_alter.c
 *	  Column type changes: converting the kept versions of a ttpdb table
 *	  when ALTER TABLE ... ALTER COLUMN ... TYPE rewrites it; and the values
 *	  of fast-default columns, which every rewrite forgets.
 *
 * Kept versions are stored as the heap tuples they were, and read back under
 * the table's current row type: that is enough for ADD and DROP COLUMN,
 * which leave every other column's bytes as they are, but not for a type
 * change, after which the old bytes of the column mean nothing.  So the
 * versions are converted in the ALTER's own transaction, with the same
 * expression the ALTER applies to the present rows (its USING clause, or the
 * assignment cast), and the rows about to be rewritten are kept first, like
 * any other rewrite keeps them.
 *
 * By the time the table is rewritten (the table_rewrite event trigger runs
 * ttpdb.keep_rows_before_rewrite()), the catalogs already give the new type
 * and the parsed USING expressions are out of reach, inside tablecmds.c.
 * So a ProcessUtility hook prepares, before the ALTER runs, for each ttpdb
 * table it changes (the one named and, unless ONLY, its inheritance children
 * and partitions): the row type as it was, and for each column whose type
 * changes, the expression computing the new value from the old row, parsed
 * and coerced as transformAlterTableStmt() and ATPrepAlterColumnType() do.
 * It takes the ALTER's own lock first, as ALTER TABLE would, and only for
 * statements that touch a ttpdb table.  The event trigger then keeps the
 * rows under the old row type, and once ALTER TABLE returns the kept
 * versions are converted: after the rewrite, so that a present value the
 * new type refuses is reported by ALTER TABLE itself, as for a heap table.
 * A rewrite that was not prepared
 * (ALTER TYPE ... CASCADE of a typed table's type) is refused while the
 * table has kept versions, as before 0.5.
 *
 * Any rewrite also forgets the "missing values" of columns added with a
 * constant default (ADD COLUMN ... DEFAULT without a rewrite stores the
 * default once, in pg_attribute, and rows shorter than the column read it
 * from there).  The rewrite writes the values into the present rows;
 * history_keep_missing_values() writes them into the kept versions, which
 * are such short rows too, before the rewrite (VACUUM FULL and CLUSTER call
 * it from the access method, ALTER TABLE from its table_rewrite trigger).
 * A type change does not need it: converted versions are formed whole from
 * the old row type, missing values included (which also covers an ALTER
 * whose type change needs no rewrite of its own but which rewrites for
 * another reason, SET LOGGED say, and clears the missing values before the
 * trigger runs).
 *
 * IDENTIFICATION
 *	  src/tam/tam_alter.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attmap.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tupdesc.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parse_type.h"
#include "rewrite/rewriteManip.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "log/log.h"
#include "tam.h"

/* One column whose type changes. */
typedef struct ColumnConversion
{
	AttrNumber	attnum;
	Expr	   *expr;			/* planned; its Vars are columns of the old row */
} ColumnConversion;

/* A ttpdb table an ALTER TABLE in progress changes column types of. */
typedef struct TableConversion
{
	Oid			relid;
	Oid			old_relfilenode;	/* another one after the ALTER: rewritten */
	TupleDesc	old_desc;		/* the row type before the ALTER */
	List	   *columns;		/* of ColumnConversion */
	bool		complete;		/* every type change has its expression */
	bool		rewriting;		/* rows kept, versions not converted yet */
} TableConversion;

/* While converting: the expressions, ready to run, and where they run. */
typedef struct ConversionState
{
	TableConversion *table;
	const char *relname;		/* for the error context */
	TupleDesc	new_desc;
	EState	   *estate;
	ExprContext *econtext;
	TupleTableSlot *old_row;
	ExprState **exprs;			/* one per element of table->columns */
	Datum	   *values;			/* new_desc->natts of each */
	bool	   *nulls;
} ConversionState;

/*
 * The tables of the ALTER TABLE statements in progress (nested ones last),
 * each allocated in its statement's own memory context.
 */
static List *conversions = NIL;

static ProcessUtility_hook_type prev_process_utility_hook = NULL;

static bool has_kept_versions(Relation rel, Snapshot snapshot);
static void convert_rewritten_tables(int depth);
static void alter_process_utility(PlannedStmt *pstmt, const char *queryString,
								  bool readOnlyTree, ProcessUtilityContext context,
								  ParamListInfo params, QueryEnvironment *queryEnv,
								  DestReceiver *dest, QueryCompletion *qc);

/*
 * ttpdb_alter_init
 *		Install the hook that prepares type changes; from _PG_init.
 */
void
ttpdb_alter_init(void)
{
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = alter_process_utility;
}

/* A type change of the statement, parsed once for all its tables. */
typedef struct TypeChange
{
	AlterTableCmd *cmd;
	Oid			target;			/* InvalidOid: no such type */
	int32		target_typmod;
	Node	   *using;			/* parsed against the named table, or NULL */
} TypeChange;

/*
 * The statement's type changes: their target types, and their USING
 * expressions parsed against "rel", the table it names, as
 * transformAlterTableStmt() parses them.  A parse error is the one ALTER
 * TABLE would report; a type that does not exist is left to it.
 */
static List *
parse_type_changes(Relation rel, AlterTableStmt *stmt, const char *queryString)
{
	ParseState *pstate = make_parsestate(NULL);
	ParseNamespaceItem *nsitem;
	List	   *result = NIL;
	ListCell   *lc;

	pstate->p_sourcetext = queryString;
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);
	addNSItemToQuery(pstate, nsitem, false, true, true);
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		ColumnDef  *def;
		TypeChange *change;
		Type		type;

		if (cmd->subtype != AT_AlterColumnType)
			continue;
		def = castNode(ColumnDef, cmd->def);
		change = palloc0(sizeof(TypeChange));
		change->cmd = cmd;
		if (def->raw_default != NULL)
			change->using = transformExpr(pstate, copyObject(def->raw_default),
										  EXPR_KIND_ALTER_COL_TRANSFORM);
		type = LookupTypeName(NULL, def->typeName, &change->target_typmod, true);
		if (type != NULL)
		{
			change->target = typeTypeId(type);
			ReleaseSysCache(type);
		}
		result = lappend(result, change);
	}
	free_parsestate(pstate);
	return result;
}

/*
 * The expression giving the changed column of "rel" its new type from the
 * old row, as ATPrepAlterColumnType() makes it: the USING expression
 * (mapped from "named", the table the statement names, to its child "rel")
 * or the column itself, cast.  NULL when it cannot be made: then ALTER
 * TABLE itself fails on the same command, and its errors are left to it,
 * so that they read as they always do.
 */
static Expr *
column_conversion(Relation rel, Relation named, TypeChange *change, AttrNumber *attnum)
{
	Form_pg_attribute att;
	Node	   *expr;
	ParseState *pstate;

	*attnum = get_attnum(RelationGetRelid(rel), change->cmd->name);
	if (*attnum <= 0 || !OidIsValid(change->target))
		return NULL;
	att = TupleDescAttr(RelationGetDescr(rel), *attnum - 1);

	if (change->using == NULL)
		expr = (Node *) makeVar(1, *attnum, att->atttypid, att->atttypmod,
								att->attcollation, 0);
	else if (rel == named)
		expr = copyObject(change->using);
	else
	{
		/* a child's columns may be numbered otherwise */
		AttrMap    *map = build_attrmap_by_name(RelationGetDescr(rel),
												RelationGetDescr(named));
		bool		whole_row;

		expr = map_variable_attnos(copyObject(change->using), 1, 0, map,
								   InvalidOid, &whole_row);
		if (whole_row)
			return NULL;
	}
	pstate = make_parsestate(NULL);
	expr = coerce_to_target_type(pstate, expr, exprType(expr),
								 change->target, change->target_typmod,
								 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
	if (expr != NULL)
		assign_expr_collations(pstate, expr);
	free_parsestate(pstate);
	return expr == NULL ? NULL : expression_planner((Expr *) expr);
}

/* What converting the kept versions of "rel" takes; in the current context. */
static TableConversion *
prepare_table(Relation rel, Relation named, List *changes)
{
	TableConversion *table = palloc0(sizeof(TableConversion));
	ListCell   *lc;

	/* a ddl_command_end trigger of an ALTER of it, before its conversion */
	if (history_conversion_pending(RelationGetRelid(rel)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("cannot change a column type of table \"%s\" while its kept versions are being converted",
						RelationGetRelationName(rel))));

	table->relid = RelationGetRelid(rel);
	table->old_relfilenode = rel->rd_node.relNode;
	table->old_desc = CreateTupleDescCopyConstr(RelationGetDescr(rel));
	table->complete = true;
	foreach(lc, changes)
	{
		ColumnConversion *column;
		AttrNumber	attnum;
		Expr	   *expr = column_conversion(rel, named, lfirst(lc), &attnum);

		if (expr == NULL)
		{
			table->complete = false;
			continue;
		}
		column = palloc(sizeof(ColumnConversion));
		column->attnum = attnum;
		column->expr = expr;
		table->columns = lappend(table->columns, column);
	}
	return table;
}

/*
 * Prepare the conversions an ALTER TABLE statement needs, if it changes a
 * column type of a ttpdb table, in "context".
 */
static void
prepare_conversions(AlterTableStmt *stmt, const char *queryString, MemoryContext context)
{
	bool		changes_type = false;
	bool		changes_am = false;
	bool		any_ttpdb = false;
	Oid			relid;
	List	   *relids;
	LOCKMODE	lockmode;
	MemoryContext old;
	Relation	named;
	List	   *changes;
	ListCell   *lc;

	if (stmt->objtype != OBJECT_TABLE)
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if (cmd->subtype == AT_AlterColumnType)
			changes_type = true;
		else if (cmd->subtype == AT_SetAccessMethod)
			changes_am = true;
	}
	/* what ALTER TABLE refuses before taking its lock is left to it */
	if (!changes_type || XactReadOnly || RecoveryInProgress())
		return;
	if (!OidIsValid(ttpdb_catalog_relid_if_exists("history")))
		return;

	/*
	 * A first look without a lock, so that statements on other tables are
	 * left entirely to ALTER TABLE; one that turns a heap table into a ttpdb
	 * one keeps its rows, so it is prepared too.
	 */
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	relids = stmt->relation->inh ?
		find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
	foreach(lc, relids)
		any_ttpdb |= log_relation_is_ttpdb(lfirst_oid(lc));
	if (!any_ttpdb && !changes_am)
		return;

	/* the lock ALTER TABLE takes, with its checks; then the children's */
	lockmode = AlterTableGetLockLevel(stmt->cmds);
	relid = AlterTableLookupRelation(stmt, lockmode);
	if (!OidIsValid(relid))
		return;
	relids = stmt->relation->inh ?
		find_all_inheritors(relid, lockmode, NULL) : list_make1_oid(relid);

	old = MemoryContextSwitchTo(context);
	named = relation_open(relid, NoLock);
	changes = parse_type_changes(named, stmt, queryString);
	foreach(lc, relids)
	{
		Relation	rel = relation_open(lfirst_oid(lc), NoLock);

		/* an unlogged table may have kept versions from before SET UNLOGGED */
		if (RELKIND_HAS_STORAGE(rel->rd_rel->relkind) &&
			rel->rd_rel->relpersistence != RELPERSISTENCE_TEMP &&
			(ttpdb_is_ttpdb_relation(rel) || changes_am))
		{
			TableConversion *table = prepare_table(rel, named, changes);

			MemoryContextSwitchTo(TopMemoryContext);
			conversions = lappend(conversions, table);
			MemoryContextSwitchTo(context);
		}
		relation_close(rel, NoLock);
	}
	relation_close(named, NoLock);
	MemoryContextSwitchTo(old);
}

static void
alter_process_utility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	int			depth = list_length(conversions);
	MemoryContext prepared = NULL;

	if (IsA(pstmt->utilityStmt, AlterTableStmt))
		prepared = AllocSetContextCreate(CurrentMemoryContext, "ttpdb column type change",
										 ALLOCSET_SMALL_SIZES);
	PG_TRY();
	{
		if (prepared != NULL)
			prepare_conversions((AlterTableStmt *) pstmt->utilityStmt, queryString,
								prepared);
		if (prev_process_utility_hook)
			prev_process_utility_hook(pstmt, queryString, readOnlyTree, context,
									  params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
		if (list_length(conversions) > depth)
			convert_rewritten_tables(depth);
	}
	PG_FINALLY();
	{
		/* this statement's tables go */
		if (depth == 0)
		{
			list_free(conversions);
			conversions = NIL;
		}
		else
			conversions = list_truncate(conversions, depth);
		if (prepared != NULL)
			MemoryContextDelete(prepared);
	}
	PG_END_TRY();
}

/* The conversion the innermost ALTER TABLE prepared for "relid", if any. */
static TableConversion *
find_conversion(Oid relid)
{
	for (int i = list_length(conversions) - 1; i >= 0; i--)
	{
		TableConversion *table = list_nth(conversions, i);

		if (table->relid == relid)
			return table;
	}
	return NULL;
}

/* A kept version under the new row type (a HistoryVersionMapper). */
static HeapTuple
convert_version(HeapTuple version, void *arg)
{
	ConversionState *state = arg;
	TableConversion *table = state->table;
	TupleDesc	old_desc = table->old_desc;
	TupleTableSlot *slot = state->old_row;
	HeapTuple	result;
	ListCell   *lc;
	int			i = 0;

	/* columns it lacks read as NULL or their missing value, as in any read */
	ExecClearTuple(slot);
	heap_deform_tuple(version, old_desc, slot->tts_values, slot->tts_isnull);
	ExecStoreVirtualTuple(slot);

	/* columns the ALTER adds did not exist then: NULL */
	for (int att = 0; att < state->new_desc->natts; att++)
	{
		bool		exists = att < old_desc->natts &&
			!TupleDescAttr(state->new_desc, att)->attisdropped;

		state->values[att] = exists ? slot->tts_values[att] : (Datum) 0;
		state->nulls[att] = exists ? slot->tts_isnull[att] : true;
	}
	state->econtext->ecxt_scantuple = slot;
	foreach(lc, table->columns)
	{
		ColumnConversion *column = lfirst(lc);

		state->values[column->attnum - 1] =
			ExecEvalExprSwitchContext(state->exprs[i++], state->econtext,
									  &state->nulls[column->attnum - 1]);
	}
	result = heap_form_tuple(state->new_desc, state->values, state->nulls);
	/* a function in USING may return a value stored in another table */
	if (HeapTupleHasExternal(result))
		result = toast_flatten_tuple(result, state->new_desc);
	ResetExprContext(state->econtext);
	return result;
}

/* The columns of a table with a missing value, for expand_version(). */
typedef struct MissingValues
{
	TupleDesc	desc;
	AttrNumber	last;			/* the highest attnum with a missing value */
	Datum	   *values;			/* desc->natts of each */
	bool	   *nulls;
} MissingValues;

/*
 * A kept version with the missing values it reads written into it.  Formed
 * anew rather than by heap_expand_tuple(), whose result may be longer than
 * its data (it sizes a varlena missing value before shortening its header),
 * which a later expansion of the same version would misplace its values by.
 */
static HeapTuple
expand_version(HeapTuple version, void *arg)
{
	MissingValues *missing = (MissingValues *) arg;

	/* as long as the columns with a missing value: nothing to write */
	if (HeapTupleHeaderGetNatts(version->t_data) >= missing->last)
		return NULL;
	heap_deform_tuple(version, missing->desc, missing->values, missing->nulls);
	/* nothing reads a dropped column's value: do not store it again */
	for (int i = 0; i < missing->desc->natts; i++)
		if (TupleDescAttr(missing->desc, i)->attisdropped)
			missing->nulls[i] = true;
	return heap_form_tuple(missing->desc, missing->values, missing->nulls);
}

/*
 * history_keep_missing_values
 *		"rel" is about to be rewritten, which clears the missing values of
 *		its columns: write them into the kept versions that read them, so
 *		that those read the same afterwards.  The caller holds
 *		AccessExclusiveLock on "rel"; versions kept earlier in the
 *		transaction must be visible to its next command.
 */
void
history_keep_missing_values(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	MissingValues missing;
	Snapshot	snapshot;

	missing.desc = desc;
	missing.last = 0;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->atthasmissing && !att->attisdropped)
			missing.last = att->attnum;
	}
	if (missing.last == 0)
		return;
	/* a rewrite nested in a type change's ALTER: versions still of the old types */
	if (history_conversion_pending(RelationGetRelid(rel)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot rewrite table \"%s\" while a column type change converts its kept versions",
						RelationGetRelationName(rel))));
	snapshot = RegisterSnapshot(ttpdb_latest_snapshot());
	if (IsolationUsesXactSnapshot() && IsTransactionBlock() && has_kept_versions(rel, snapshot))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot rewrite table \"%s\" in a REPEATABLE READ or SERIALIZABLE transaction",
						RelationGetRelationName(rel)),
				 errdetail("The rewrite writes the values of columns added with a default into the "
						   "table's kept versions, including versions that committed after the "
						   "transaction's snapshot, which its later reads would then see twice."),
				 errhint("Run it in a READ COMMITTED transaction.")));
	missing.values = palloc(desc->natts * sizeof(Datum));
	missing.nulls = palloc(desc->natts * sizeof(bool));
	(void) history_rewrite_versions(rel, snapshot, expand_version, &missing);
	UnregisterSnapshot(snapshot);
	pfree(missing.values);
	pfree(missing.nulls);
}

/* Whether "rel" has a kept version that "snapshot" sees. */
static bool
has_kept_versions(Relation rel, Snapshot snapshot)
{
	HistoryScan scan = history_begin_scan(rel, snapshot);
	HistoryVersion version;
	bool		found = history_next(scan, &version);

	history_end_scan(scan);
	return found;
}

static void
conversion_error_context(void *arg)
{
	errcontext("converting the kept versions of table \"%s\" to the new column types",
			   (const char *) arg);
}

/* Convert every kept version of "rel", a table ALTER TABLE has rewritten. */
static void
convert_table(Relation rel, TableConversion *table)
{
	ConversionState state;
	ErrorContextCallback errcallback;
	Snapshot	snapshot;
	ListCell   *lc;
	int			i = 0;

	/* first: sees the rows kept before the rewrite, and the final row type */
	CommandCounterIncrement();

	state.table = table;
	state.relname = pstrdup(RelationGetRelationName(rel));
	state.new_desc = RelationGetDescr(rel);
	state.estate = CreateExecutorState();
	state.econtext = GetPerTupleExprContext(state.estate);
	state.old_row = MakeSingleTupleTableSlot(table->old_desc, &TTSOpsVirtual);
	state.exprs = palloc(Max(list_length(table->columns), 1) * sizeof(ExprState *));
	foreach(lc, table->columns)
	{
		MemoryContext old = MemoryContextSwitchTo(state.estate->es_query_cxt);

		/* planned when prepared */
		state.exprs[i++] = ExecInitExpr(((ColumnConversion *) lfirst(lc))->expr, NULL);
		MemoryContextSwitchTo(old);
	}
	state.values = palloc(state.new_desc->natts * sizeof(Datum));
	state.nulls = palloc(state.new_desc->natts * sizeof(bool));

	errcallback.callback = conversion_error_context;
	errcallback.arg = (void *) state.relname;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	(void) history_rewrite_versions(rel, snapshot, convert_version, &state);
	UnregisterSnapshot(snapshot);
	/* later commands of the transaction (packing at commit) see the result */
	CommandCounterIncrement();

	error_context_stack = errcallback.previous;
	ExecDropSingleTupleTableSlot(state.old_row);
	FreeExecutorState(state.estate);
	pfree(state.exprs);
	pfree(state.values);
	pfree(state.nulls);
}

/*
 * After an ALTER TABLE that prepared conversions (those from "depth" on):
 * convert the kept versions of each table it rewrote.  One it did not
 * rewrite changed types only in ways that keep the stored bytes valid
 * (varchar to text, say).  This runs after the rewrite, so that a value the
 * new type refuses is reported by ALTER TABLE itself, as for any table;
 * the kept versions are not read in between (the ALTER holds its lock).
 */
static void
convert_rewritten_tables(int depth)
{
	for (int i = depth; i < list_length(conversions); i++)
	{
		TableConversion *table = list_nth(conversions, i);
		Relation	rel = try_relation_open(table->relid, NoLock);

		if (rel == NULL)
			continue;
		/* rewritten without the event trigger too (it may be disabled) */
		if (table->complete &&
			(table->rewriting || rel->rd_node.relNode != table->old_relfilenode))
			convert_table(rel, table);
		table->rewriting = false;
		relation_close(rel, NoLock);
	}
}

/*
 * history_conversion_pending
 *		Whether the kept versions of "relid" are between the rewrite of a
 *		column type change and their conversion (event triggers run then):
 *		they are not to be read.
 */
bool
history_conversion_pending(Oid relid)
{
	ListCell   *lc;

	foreach(lc, conversions)
	{
		TableConversion *table = lfirst(lc);

		if (table->relid == relid && table->rewriting)
			return true;
	}
	return false;
}

/*
 * history_keep_before_column_rewrite
 *		ALTER TABLE, holding AccessExclusiveLock, is about to rewrite "rel"
 *		because a column type changes: keep its rows, in their old row type
 *		(convert_rewritten_tables converts them with the other versions once
 *		the ALTER is done).  A statement that was not prepared (the
 *		rewriting of a typed table by ALTER TYPE ... CASCADE) cannot convert
 *		them: it is refused if the table has kept versions, and otherwise
 *		its rows are new from the change on.
 */
void
history_keep_before_column_rewrite(Relation rel)
{
	TableConversion *table = find_conversion(RelationGetRelid(rel));
	Snapshot	snapshot;
	bool		kept;

	if (table != NULL && table->complete)
	{
		history_append_relation(rel, table->old_desc, false);
		table->rewriting = true;
		return;
	}

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	kept = has_kept_versions(rel, snapshot);
	UnregisterSnapshot(snapshot);
	if (kept)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change the type of a column of ttpdb table %s while it has kept versions",
						quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												   RelationGetRelationName(rel))),
				 errdetail("Kept versions are converted to a new column type by ALTER TABLE ... ALTER COLUMN ... TYPE "
						   "on the table or on a parent of it, and this statement is not one."),
				 errhint("Change the type with ALTER TABLE, or drop the history first with ttpdb.prune_history().")));
}
