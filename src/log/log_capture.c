/*-------------------------------------------------------------------------
 *
 * log_capture.c
 *	  Which statement the user is running, and what it did to ttpdb tables.
 *
 * A log entry is one statement the user ran: a top-level statement of a
 * session (each of a multi-statement string on its own), or the statement
 * an EXECUTE ran, with its parameters.  The executor and utility hooks
 * track it from its start to its end; the access method reports each write
 * to a ttpdb table to it (log_current_statement), and the object access
 * hook and the extension's event triggers report DDL that touches one.  A
 * statement that touched a ttpdb table becomes an entry when it ends
 * (log_write.c keeps it until commit).
 *
 * Statements that run inside it (functions, triggers, DO blocks) are
 * attributed to it: their writes count in its effects, the volatile
 * functions they call in its nondeterminism, and those that write a ttpdb
 * table are listed in its "nested" detail.
 *
 * The bookkeeping is lazy: most statements touch no ttpdb table, and for
 * them nothing is recorded but a small frame in the query's own memory (and
 * in a database without the extension, nothing at all).  A statement that
 * spans transactions (CALL of a procedure that commits) gives one entry per
 * transaction.  What deferred triggers do at COMMIT is an entry of kind
 * COMMIT.
 *
 * IDENTIFICATION
 *	  src/log/log_capture.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "commands/defrem.h"
#include "commands/prepare.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "tcop/pquery.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "parser/scansup.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "ttpdb.h"
#include "log.h"
#include "log_entries.h"
#include "tam/tam.h"

/* ttpdb.log and ttpdb.log_copy_limit */
bool		ttpdb_log_enabled = true;
int			ttpdb_log_copy_limit = 64 * 1024;	/* kB */

/*
 * A statement the user ran, from its start to its end.  Its LogStatement is
 * made the first time something about it needs recording.
 */
typedef struct TopFrame
{
	QueryDesc  *queryDesc;		/* an executor statement, or NULL */
	PlannedStmt *pstmt;			/* its plan, or the utility statement */
	const char *source;			/* the query string it came from */
	SubTransactionId subid;
	CommandId	first_cid;
	QueryDesc  *execute_qd;		/* EXECUTE: the prepared statement's run, while
								 * its text is taken */
	QueryDesc  *execute_run;	/* the same, only compared (it may be gone) */
	bool		execute_seen;
	LogStatement *stmt;
	Oid			last_touched;	/* the last table noted, to skip repeats */
} TopFrame;

/* A subtransaction's start: the effects counted so far, to go back to. */
typedef struct EffectsSave
{
	SubTransactionId subid;
	LogStatement *stmt;
	LogEffects	effects;
	int			ntables;
	uint64	   *table_digests;	/* ntables * 2 lanes */
	int			nnested;
	int64	   *nested_counts;	/* calls and rows of each nested statement */
	int64		nested_omitted;
} EffectsSave;

static ExecutorStart_hook_type prev_executor_start = NULL;
static ExecutorRun_hook_type prev_executor_run = NULL;
static ExecutorFinish_hook_type prev_executor_finish = NULL;
static ExecutorEnd_hook_type prev_executor_end = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;
static object_access_hook_type prev_object_access = NULL;

/* Depth of executor runs and utility statements. */
static int	nesting = 0;

/* The frame whose statement is running now, if any. */
static TopFrame *current_frame = NULL;

/* The running top-level utility statement's frame (on the stack). */
static TopFrame *utility_frame = NULL;

/* Executor statements between ExecutorStart and ExecutorEnd (TopTransactionContext). */
static List *exec_frames = NIL;

/* Writes outside any statement. */
static TopFrame *orphan_frame = NULL;

/* Saved effects of open subtransactions (TopTransactionContext). */
static List *effects_saves = NIL;

/* Number of tables noted as touched so far: tells a nested DDL that touched. */
static uint64 touch_count = 0;

static void log_executor_start(QueryDesc *queryDesc, int eflags);
static void log_executor_run(QueryDesc *queryDesc, ScanDirection direction,
							 uint64 count, bool execute_once);
static void log_executor_finish(QueryDesc *queryDesc);
static void log_executor_end(QueryDesc *queryDesc);
static void log_process_utility(PlannedStmt *pstmt, const char *queryString,
								bool readOnlyTree, ProcessUtilityContext context,
								ParamListInfo params, QueryEnvironment *queryEnv,
								DestReceiver *dest, QueryCompletion *qc);
static void log_object_access(ObjectAccessType access, Oid classId,
							  Oid objectId, int subId, void *arg);
static void log_xact_callback(XactEvent event, void *arg);
static List *transaction_tables_from(int64 entry);
static void log_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								 SubTransactionId parentSubid, void *arg);

/*
 * ttpdb_log_init
 *		Define the log's settings; install its hooks when preloaded.
 */
void
ttpdb_log_init(void)
{
	DefineCustomBoolVariable("ttpdb.log",
							 "Records statements that change ttpdb tables in ttpdb.log.",
							 "Only superusers can turn it off, for a session or the server: "
							 "statements run meanwhile have no entry.",
							 &ttpdb_log_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("ttpdb.log_copy_limit",
							"Largest COPY FROM content kept in a log entry.",
							"Past it, the entry keeps the content's SHA-256 and size only.",
							&ttpdb_log_copy_limit,
							64 * 1024,
							0,
							256 * 1024,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = log_executor_start;
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = log_executor_run;
	prev_executor_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = log_executor_finish;
	prev_executor_end = ExecutorEnd_hook;
	ExecutorEnd_hook = log_executor_end;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = log_process_utility;
	prev_object_access = object_access_hook;
	object_access_hook = log_object_access;
	RegisterXactCallback(log_xact_callback, NULL);
	RegisterSubXactCallback(log_subxact_callback, NULL);
}

/* ------------------------------------------------------------------------
 * The statement and its text
 * ------------------------------------------------------------------------
 */

/* The statement's own text out of a multi-statement string, trimmed. */
static char *
statement_text(const char *source, int location, int len)
{
	size_t		total;

	if (source == NULL)
		return pstrdup("");
	total = strlen(source);
	if (location >= 0 && (size_t) location <= total)
	{
		source += location;
		total -= location;
		if (len > 0 && (size_t) len <= total)
			total = len;
	}
	while (total > 0 && scanner_isspace(*source))
	{
		source++;
		total--;
	}
	while (total > 0 && scanner_isspace(source[total - 1]))
		total--;
	return pnstrdup(source, total);
}

static const char *
operation_kind(CmdType operation)
{
	switch (operation)
	{
		case CMD_SELECT:
			return "SELECT";
		case CMD_INSERT:
			return "INSERT";
		case CMD_UPDATE:
			return "UPDATE";
		case CMD_DELETE:
			return "DELETE";
		case CMD_MERGE:
			return "MERGE";
		default:
			return "UTILITY";
	}
}

/* The text of each bind parameter, NULL for a NULL value. */
static List *
parameter_texts(ParamListInfo params)
{
	List	   *texts = NIL;

	for (int i = 0; i < params->numParams; i++)
	{
		ParamExternData *p = &params->params[i];
		Oid			typoutput;
		bool		typisvarlena;

		if (p->isnull || !OidIsValid(p->ptype))
			texts = lappend(texts, NULL);
		else
		{
			getTypeOutputInfo(p->ptype, &typoutput, &typisvarlena);
			texts = lappend(texts, OidOutputFunctionCall(typoutput, p->value));
		}
	}
	return texts;
}

/* Make the frame's LogStatement, once. */
static LogStatement *
frame_statement(TopFrame *frame)
{
	MemoryContext context;
	MemoryContext old;
	LogStatement *stmt;
	QueryDesc  *qd;

	if (frame->stmt != NULL)
		return frame->stmt;

	context = AllocSetContextCreate(TopTransactionContext, "ttpdb log statement",
									ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(context);
	stmt = palloc0(sizeof(LogStatement));
	stmt->context = context;
	stmt->subid = frame->subid;
	stmt->first_cid = frame->first_cid;
	stmt->statement_ts = GetCurrentStatementStartTimestamp();
	stmt->transaction_ts = GetCurrentTransactionStartTimestamp();
	stmt->search_path = pstrdup(namespace_search_path ? namespace_search_path : "");

	qd = frame->execute_qd ? frame->execute_qd : frame->queryDesc;
	if (qd != NULL)
	{
		stmt->statement = statement_text(qd->sourceText,
										 qd->plannedstmt->stmt_location,
										 qd->plannedstmt->stmt_len);
		stmt->kind = operation_kind(qd->operation);
		/* values fetched on demand (PL/pgSQL's) are not a client's parameters */
		if (qd->params != NULL && qd->params->paramFetch == NULL)
		{
			stmt->parameters = parameter_texts(qd->params);
			stmt->has_parameters = true;
		}
	}
	else if (frame->pstmt != NULL)
	{
		stmt->statement = statement_text(frame->source, frame->pstmt->stmt_location,
										 frame->pstmt->stmt_len);
		stmt->kind = GetCommandTagName(CreateCommandTag(frame->pstmt->utilityStmt));
	}
	else
	{
		stmt->statement = pstrdup("COMMIT");
		stmt->kind = "COMMIT";
	}
	MemoryContextSwitchTo(old);
	frame->stmt = stmt;
	return stmt;
}

/*
 * log_note_touched
 *		The statement wrote or altered ttpdb table "relid".
 */
void
log_note_touched(LogStatement *stmt, Oid relid)
{
	MemoryContext old;
	int			n;

	stmt->touched = true;
	touch_count++;
	if (list_member_oid(stmt->tables, relid))
		return;
	old = MemoryContextSwitchTo(stmt->context);
	stmt->tables = lappend_oid(stmt->tables, relid);
	n = list_length(stmt->tables);
	if (n > stmt->table_digests_size)
	{
		int			size = Max(4, stmt->table_digests_size * 2);

		if (stmt->table_digests == NULL)
			stmt->table_digests = palloc0(size * 2 * sizeof(uint64));
		else
		{
			stmt->table_digests = repalloc(stmt->table_digests, size * 2 * sizeof(uint64));
			memset(stmt->table_digests + stmt->table_digests_size * 2, 0,
				   (size - stmt->table_digests_size) * 2 * sizeof(uint64));
		}
		stmt->table_digests_size = size;
	}
	/* the slot may hold what a rolled-back subtransaction left there */
	stmt->table_digests[(n - 1) * 2] = 0;
	stmt->table_digests[(n - 1) * 2 + 1] = 0;
	MemoryContextSwitchTo(old);
}

/*
 * log_table_index
 *		Where a table the statement touched is in its "tables" list.
 */
int
log_table_index(LogStatement *stmt, Oid relid)
{
	ListCell   *lc;

	foreach(lc, stmt->tables)
		if (lfirst_oid(lc) == relid)
			return foreach_current_index(lc);
	log_note_touched(stmt, relid);
	return list_length(stmt->tables) - 1;
}

/* The frame writes are attributed to now. */
static TopFrame *
attribution_frame(void)
{
	if (current_frame != NULL)
		return current_frame;
	if (orphan_frame == NULL)
	{
		orphan_frame = MemoryContextAllocZero(TopTransactionContext, sizeof(TopFrame));
		orphan_frame->subid = GetCurrentSubTransactionId();
		orphan_frame->first_cid = GetCurrentCommandId(false);
	}
	return orphan_frame;
}

/*
 * log_active
 *		Whether statements are logged now: ttpdb.log is on, this is not a
 *		parallel worker (its leader logs the statement), and not a superuser
 *		loading a dump.  A dump recreates a database whose log it then loads:
 *		its own statements are not new history (and would take the numbers
 *		of the entries being restored).  pg_dump's output says what it is by
 *		turning check_function_bodies off, which little else does; the
 *		session's own user must be a superuser (not merely the owner of a
 *		SECURITY DEFINER function running in it).
 */
bool
log_active(void)
{
	if (!ttpdb_log_enabled || !ttpdb_is_preloaded() || IsParallelWorker())
		return false;
	/* a backend exiting (FATAL) cleans up, e.g. its temporary tables */
	if (proc_exit_inprogress)
		return false;
	if (!log_extension_present())
		return false;
	if (!check_function_bodies && superuser_arg(GetSessionUserId()))
		return false;
	return true;
}

/*
 * log_extension_present
 *		Whether this database has the extension's log, checked once per
 *		transaction: in a database without it nothing is logged or tracked.
 */
bool
log_extension_present(void)
{
	static LocalTransactionId checked_lxid = InvalidLocalTransactionId;
	static bool present = false;

	if (checked_lxid != MyProc->lxid)
	{
		present = OidIsValid(ttpdb_catalog_relid_if_exists("log_entries"));
		checked_lxid = MyProc->lxid;
	}
	return present;
}

/*
 * A rewriting ALTER TABLE, CLUSTER or VACUUM FULL fills a new heap named
 * pg_temp_<oid of the table>, created in this transaction, which then takes
 * the table's place: its rows are not changes.
 */
static bool
is_transient_heap(Oid relid, const char *name, bool created_here)
{
	const char *p;
	Oid			original;

	if (!created_here || name == NULL || strncmp(name, "pg_temp_", 8) != 0 || name[8] == '\0')
		return false;
	for (p = name + 8; *p; p++)
		if (!isdigit((unsigned char) *p))
			return false;
	original = (Oid) strtoul(name + 8, NULL, 10);
	return original != relid && OidIsValid(original) && get_rel_name(original) != NULL;
}

/*
 * log_current_statement
 *		The statement a write to ttpdb table "rel" belongs to, noted as
 *		touching it; NULL when the log is off.
 */
LogStatement *
log_current_statement(Relation rel)
{
	TopFrame   *frame;
	LogStatement *stmt;

	if (!log_active())
		return NULL;
	if (is_transient_heap(RelationGetRelid(rel), RelationGetRelationName(rel),
						  rel->rd_createSubid != InvalidSubTransactionId))
		return NULL;
	frame = attribution_frame();
	stmt = frame_statement(frame);
	if (frame->last_touched != RelationGetRelid(rel))
	{
		log_note_touched(stmt, RelationGetRelid(rel));
		frame->last_touched = RelationGetRelid(rel);
	}
	return stmt;
}

/*
 * log_relation_is_ttpdb
 *		Whether "relid" is a ttpdb table, or an index of one.
 */
bool
log_relation_is_ttpdb(Oid relid)
{
	HeapTuple	tp;
	bool		result = false;

	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tp))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tp);
		Oid			am = form->relam;

		if (form->relkind == RELKIND_INDEX || form->relkind == RELKIND_PARTITIONED_INDEX)
		{
			Oid			table = IndexGetRelation(relid, true);

			ReleaseSysCache(tp);
			return OidIsValid(table) && log_relation_is_ttpdb(table);
		}
		if (OidIsValid(am))
		{
			char	   *amname = get_am_name(am);

			result = amname != NULL && strcmp(amname, "ttpdb") == 0;
		}
		ReleaseSysCache(tp);
	}
	return result;
}

static void
note_ddl_target(Oid relid)
{
	TopFrame   *frame;

	if (!IsTransactionState() || !log_active())
		return;
	frame = attribution_frame();
	log_note_touched(frame_statement(frame), relid);
}

/* Record a nested statement that wrote a ttpdb table in the top one. */
static void
note_nested(LogStatement *stmt, const char *text, const char *kind, int64 rows)
{
	ListCell   *lc;
	LogNested  *n;
	MemoryContext old;

	foreach(lc, stmt->nested)
	{
		n = (LogNested *) lfirst(lc);
		if (strcmp(n->statement, text) == 0)
		{
			n->calls++;
			n->rows += rows;
			return;
		}
	}
	if (list_length(stmt->nested) >= LOG_MAX_NESTED)
	{
		stmt->nested_omitted++;
		return;
	}
	old = MemoryContextSwitchTo(stmt->context);
	n = palloc0(sizeof(LogNested));
	n->statement = pstrdup(text);
	n->kind = kind;
	n->calls = 1;
	n->rows = rows;
	stmt->nested = lappend(stmt->nested, n);
	MemoryContextSwitchTo(old);
}

/* The statement ended: make its entry. */
static void
finish_statement(TopFrame *frame, int64 rows)
{
	LogStatement *stmt = frame->stmt;

	frame->stmt = NULL;
	frame->last_touched = InvalidOid;
	if (stmt == NULL)
		return;
	if (stmt->touched && IsTransactionState())
	{
		/*
		 * An UNDO changes only tables its entry's transaction changed: what
		 * it claims to undo is what the amended log and the name history
		 * take it for, so it must not hide other changes.
		 */
		if (stmt->undoes != 0 && strcmp(stmt->kind, "UNDO") == 0)
		{
			List	   *allowed = transaction_tables_from(stmt->undoes);
			ListCell   *lc;

			foreach(lc, stmt->tables)
			{
				Oid			relid = lfirst_oid(lc);

				if (!list_member_oid(allowed, relid))
				{
					char	   *relname = get_rel_name(relid);

					/* (the statement's memory goes with the transaction) */
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("an UNDO may change only the tables the undone entry's transaction changed"),
							 errdetail("It changed table %s too.", relname ? relname : "?"),
							 errhint("Run other changes as statements of their own.")));
				}
			}
		}
		stmt->rows = rows;
		stmt->last_cid = GetCurrentCommandId(false);
		log_finish_nondeterminism(stmt);
		log_emit(stmt);
	}
	MemoryContextDelete(stmt->context);
}

/* ------------------------------------------------------------------------
 * Executor hooks
 * ------------------------------------------------------------------------
 */

static TopFrame *
find_exec_frame(QueryDesc *queryDesc)
{
	ListCell   *lc;

	foreach(lc, exec_frames)
	{
		TopFrame   *frame = (TopFrame *) lfirst(lc);

		if (frame->queryDesc == queryDesc)
			return frame;
	}
	return NULL;
}

/* Whether the statement writes a ttpdb table directly. */
static Oid
writes_ttpdb_table(QueryDesc *queryDesc)
{
	ListCell   *lc;

	if (queryDesc->estate == NULL)
		return InvalidOid;
	foreach(lc, queryDesc->estate->es_opened_result_relations)
	{
		ResultRelInfo *rri = (ResultRelInfo *) lfirst(lc);

		if (ttpdb_is_ttpdb_relation(rri->ri_RelationDesc))
			return RelationGetRelid(rri->ri_RelationDesc);
	}
	return InvalidOid;
}

/* The query context of an executor statement went away: so does its frame. */
static void
forget_exec_frame(void *arg)
{
	TopFrame   *frame = (TopFrame *) arg;

	/* the memory goes: nothing may point to it any more */
	if (current_frame == frame)
		current_frame = NULL;
	/* ended normally, or the transaction already let go of every frame */
	if (!list_member_ptr(exec_frames, frame))
		return;
	exec_frames = list_delete_ptr(exec_frames, frame);
	if (frame->stmt != NULL)
		MemoryContextDelete(frame->stmt->context);
	frame->stmt = NULL;
}

/* Whether an executor run under EXECUTE is the prepared statement's. */
static bool
is_prepared_statement_run(TopFrame *frame, QueryDesc *queryDesc)
{
	ExecuteStmt *stmt = (ExecuteStmt *) frame->pstmt->utilityStmt;
	PreparedStatement *ps = FetchPreparedStatement(stmt->name, false);

	/* its portal runs (a copy of) the plan source's query string */
	return ps != NULL && queryDesc->sourceText != NULL &&
		strcmp(queryDesc->sourceText, ps->plansource->query_string) == 0;
}

static void
log_executor_start(QueryDesc *queryDesc, int eflags)
{
	TopFrame   *frame = NULL;
	bool		active = IsTransactionState() && !(eflags & EXEC_FLAG_EXPLAIN_ONLY) &&
		log_active();

	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (!active)
		return;

	/*
	 * A statement the user ran is one a portal runs at the top level; SPI
	 * statements at the top level are deferred triggers firing at commit,
	 * which belong to it.
	 */
	if (nesting == 0 && ActivePortal != NULL)
	{
		MemoryContext cxt = queryDesc->estate->es_query_cxt;
		MemoryContextCallback *cb;

		/* the frame lives as long as the query: no dangling QueryDesc */
		frame = MemoryContextAllocZero(cxt, sizeof(TopFrame));
		frame->queryDesc = queryDesc;
		frame->pstmt = queryDesc->plannedstmt;
		frame->source = queryDesc->sourceText;
		frame->subid = GetCurrentSubTransactionId();
		frame->first_cid = GetCurrentCommandId(false);
		cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
		cb->func = forget_exec_frame;
		cb->arg = frame;
		MemoryContextRegisterResetCallback(cxt, cb);
		exec_frames = lappend(exec_frames, frame);
	}
	else
	{
		frame = current_frame;
		/* the statement an EXECUTE runs stands for it: take its text now */
		if (frame != NULL && frame == utility_frame && !frame->execute_seen &&
			frame->stmt == NULL && IsA(frame->pstmt->utilityStmt, ExecuteStmt) &&
			is_prepared_statement_run(frame, queryDesc))
		{
			frame->execute_qd = queryDesc;
			frame->execute_seen = true;
			frame_statement(frame);
			frame->execute_qd = NULL;
			frame->execute_run = queryDesc;
		}
	}
	if (frame == NULL && nesting > 0)
		return;

	{
		Oid			target = writes_ttpdb_table(queryDesc);

		/* outside any statement: deferred triggers firing at COMMIT */
		if (frame == NULL)
		{
			if (!OidIsValid(target) && !log_plan_is_volatile(queryDesc->plannedstmt))
				return;
			frame = attribution_frame();
		}

		/* seed random() before the statement runs; note its sequences */
		if (OidIsValid(target) || queryDesc->plannedstmt->hasModifyingCTE ||
			log_plan_is_volatile(queryDesc->plannedstmt))
			log_scan_plan(frame_statement(frame), queryDesc->plannedstmt);
		if (OidIsValid(target) && frame->last_touched != target)
		{
			log_note_touched(frame_statement(frame), target);
			frame->last_touched = target;
		}
	}
}

static void
log_executor_run(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
				 bool execute_once)
{
	TopFrame   *saved = current_frame;

	if (nesting == 0)
		current_frame = find_exec_frame(queryDesc);
	nesting++;
	PG_TRY();
	{
		if (prev_executor_run)
			prev_executor_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		nesting--;
		current_frame = saved;
	}
	PG_END_TRY();
}

static void
log_executor_finish(QueryDesc *queryDesc)
{
	TopFrame   *saved = current_frame;

	if (nesting == 0)
		current_frame = find_exec_frame(queryDesc);
	nesting++;
	PG_TRY();
	{
		if (prev_executor_finish)
			prev_executor_finish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		nesting--;
		current_frame = saved;
	}
	PG_END_TRY();
}

static void
log_executor_end(QueryDesc *queryDesc)
{
	/* a portal can be closed from anywhere (CLOSE, SPI_commit in CALL) */
	TopFrame   *frame = find_exec_frame(queryDesc);
	TopFrame   *attributed = current_frame ? current_frame : orphan_frame;
	int64		rows = queryDesc->estate ? (int64) queryDesc->estate->es_processed : 0;
	bool		nested_write = false;
	TopFrame	ended;

	if (frame == NULL && attributed != NULL && attributed->stmt != NULL &&
		queryDesc->operation != CMD_SELECT && IsTransactionState() &&
		attributed->execute_run != queryDesc)
		nested_write = OidIsValid(writes_ttpdb_table(queryDesc));
	if (nested_write)
	{
		char	   *text = statement_text(queryDesc->sourceText,
										  queryDesc->plannedstmt->stmt_location,
										  queryDesc->plannedstmt->stmt_len);

		/* a nested statement that wrote: part of the detail */
		note_nested(attributed->stmt, text, operation_kind(queryDesc->operation), rows);
		pfree(text);
	}

	/* the frame lives in the query's memory, which ExecutorEnd frees */
	if (frame != NULL)
	{
		ended = *frame;
		exec_frames = list_delete_ptr(exec_frames, frame);
	}

	if (prev_executor_end)
		prev_executor_end(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);

	/* out of the executor, and of its parallel mode: make the entry */
	if (frame != NULL)
		finish_statement(&ended, rows);
}

/* ------------------------------------------------------------------------
 * Utility statements and DDL
 * ------------------------------------------------------------------------
 */

/* GRANT and REVOKE on tables have no event trigger objects: look at them. */
static void
note_grant_targets(GrantStmt *stmt)
{
	ListCell   *lc;

	if (stmt->targtype != ACL_TARGET_OBJECT || stmt->objtype != OBJECT_TABLE)
		return;
	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = (RangeVar *) lfirst(lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		if (OidIsValid(relid) && log_relation_is_ttpdb(relid))
			note_ddl_target(relid);
	}
}

static void
log_process_utility(PlannedStmt *pstmt, const char *queryString,
					bool readOnlyTree, ProcessUtilityContext context,
					ParamListInfo params, QueryEnvironment *queryEnv,
					DestReceiver *dest, QueryCompletion *qc)
{
	bool		top = nesting == 0 && IsTransactionState() && log_active();
	TopFrame	frame;
	TopFrame   *saved = current_frame;
	TopFrame   *saved_utility = utility_frame;
	uint64		touches_before = touch_count;
	Node	   *parsetree = pstmt->utilityStmt;

	if (top)
	{
		memset(&frame, 0, sizeof(frame));
		frame.pstmt = pstmt;
		frame.source = queryString;
		frame.subid = GetCurrentSubTransactionId();
		frame.first_cid = GetCurrentCommandId(false);
		current_frame = &frame;
		utility_frame = &frame;
	}
	if (IsA(parsetree, GrantStmt) && IsTransactionState() && log_active())
		note_grant_targets((GrantStmt *) parsetree);

	nesting++;
	PG_TRY();
	{
		if (top && IsA(parsetree, CopyStmt) &&
			log_copy_applies((CopyStmt *) parsetree))
			log_copy_run(frame_statement(&frame), pstmt, queryString, qc);
		else if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		nesting--;
		current_frame = saved;
		utility_frame = saved_utility;
	}
	PG_END_TRY();

	if (top)
		finish_statement(&frame, qc ? (int64) qc->nprocessed : 0);
	else if (current_frame != NULL && current_frame->stmt != NULL &&
			 touch_count > touches_before && IsTransactionState())
	{
		char	   *text = statement_text(queryString, pstmt->stmt_location,
										  pstmt->stmt_len);

		note_nested(current_frame->stmt, text,
					GetCommandTagName(CreateCommandTag(parsetree)),
					qc ? (int64) qc->nprocessed : 0);
		pfree(text);
	}
}

/*
 * DDL on a ttpdb table, its columns or its indexes.  Other objects that
 * belong to a table (constraints, triggers, policies, rules, comments) are
 * reported by the extension's event triggers (ttpdb.log_note_ddl).
 */
static void
log_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				  int subId, void *arg)
{
	if (prev_object_access)
		prev_object_access(access, classId, objectId, subId, arg);

	if (classId != RelationRelationId || !IsTransactionState() || !log_active())
		return;
	if (access != OAT_POST_CREATE && access != OAT_POST_ALTER && access != OAT_DROP)
		return;
	if (log_relation_is_ttpdb(objectId) &&
		!is_transient_heap(objectId, get_rel_name(objectId), access == OAT_POST_CREATE))
	{
		Oid			relid = objectId;

		if (get_rel_relkind(objectId) == RELKIND_INDEX)
			relid = IndexGetRelation(objectId, false);
		note_ddl_target(relid);
	}
}

PG_FUNCTION_INFO_V1(ttpdb_log_note_ddl);

/*
 * ttpdb.log_note_ddl(oid[]) returns void
 *		Called by the extension's event triggers: the running DDL statement
 *		touched these tables (those that are ttpdb tables count).
 */
Datum
ttpdb_log_note_ddl(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (!ttpdb_is_preloaded())
		PG_RETURN_VOID();
	deconstruct_array(arr, OIDOID, sizeof(Oid), true, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		Oid			relid = nulls[i] ? InvalidOid : DatumGetObjectId(elems[i]);

		if (!OidIsValid(relid) || !log_relation_is_ttpdb(relid))
			continue;
		if (get_rel_relkind(relid) == RELKIND_INDEX)
			relid = IndexGetRelation(relid, false);
		note_ddl_target(relid);
	}
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * Transactions
 * ------------------------------------------------------------------------
 */

/*
 * log_close_transaction
 *		At pre-commit: a statement still running (a procedure that commits)
 *		gets an entry for what it did in this transaction; so do writes
 *		made outside any statement.
 */
void
log_close_transaction(void)
{
	if (utility_frame != NULL && utility_frame->stmt != NULL)
		finish_statement(utility_frame, 0);
	if (current_frame != NULL && current_frame != utility_frame &&
		current_frame->stmt != NULL)
		finish_statement(current_frame, 0);
	if (orphan_frame != NULL)
	{
		finish_statement(orphan_frame, 0);
		orphan_frame = NULL;
	}
}

static void
log_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			/*
			 * A FATAL error exits without unwinding the hooks: the frames they
			 * pointed to are gone with their statements.
			 */
			if (proc_exit_inprogress)
			{
				current_frame = NULL;
				utility_frame = NULL;
			}
			/* everything below lived in the transaction's memory */
			exec_frames = NIL;
			orphan_frame = NULL;
			effects_saves = NIL;
			if (utility_frame != NULL)
			{
				utility_frame->stmt = NULL;
				utility_frame->last_touched = InvalidOid;
			}
			if (current_frame != NULL)
			{
				current_frame->stmt = NULL;
				current_frame->last_touched = InvalidOid;
			}
			log_forget_all();
			break;
		default:
			break;
	}
}

static void
free_effects_save(EffectsSave *save)
{
	pfree(save->table_digests);
	pfree(save->nested_counts);
	pfree(save);
}

static void
log_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	switch (event)
	{
		case SUBXACT_EVENT_START_SUB:
			/* a statement's effects inside it may roll back: remember them */
			if (current_frame != NULL && log_active())
			{
				MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
				EffectsSave *save = palloc(sizeof(EffectsSave));

				save->subid = mySubid;
				save->stmt = frame_statement(current_frame);
				save->effects = save->stmt->effects;
				save->ntables = list_length(save->stmt->tables);
				save->table_digests = palloc(Max(save->ntables, 1) * 2 * sizeof(uint64));
				if (save->ntables > 0)
					memcpy(save->table_digests, save->stmt->table_digests,
						   save->ntables * 2 * sizeof(uint64));
				save->nnested = list_length(save->stmt->nested);
				save->nested_counts = palloc(Max(save->nnested, 1) * 2 * sizeof(int64));
				foreach(lc, save->stmt->nested)
				{
					LogNested  *n = (LogNested *) lfirst(lc);

					save->nested_counts[foreach_current_index(lc) * 2] = n->calls;
					save->nested_counts[foreach_current_index(lc) * 2 + 1] = n->rows;
				}
				save->nested_omitted = save->stmt->nested_omitted;
				effects_saves = lappend(effects_saves, save);
				MemoryContextSwitchTo(old);
			}
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			foreach(lc, effects_saves)
			{
				EffectsSave *save = (EffectsSave *) lfirst(lc);

				if (save->subid == mySubid)
				{
					effects_saves = foreach_delete_current(effects_saves, lc);
					free_effects_save(save);
				}
			}
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			foreach(lc, effects_saves)
			{
				EffectsSave *save = (EffectsSave *) lfirst(lc);

				if (save->subid == mySubid && current_frame != NULL &&
					current_frame->stmt == save->stmt)
				{
					LogStatement *stmt = save->stmt;
					ListCell   *nc;

					/* an UNDO or AMEND mark made inside it goes with it */
					if (stmt->undoes != 0 && stmt->mark_subid >= mySubid)
					{
						stmt->kind = stmt->unmarked_kind;
						stmt->undoes = 0;
						stmt->touched = (save->ntables > 0);
					}

					/* what it did inside the subtransaction is undone */
					stmt->effects = save->effects;
					if (save->ntables > 0)
						memcpy(stmt->table_digests, save->table_digests,
							   save->ntables * 2 * sizeof(uint64));
					stmt->tables = list_truncate(stmt->tables, save->ntables);
					stmt->nested = list_truncate(stmt->nested, save->nnested);
					foreach(nc, stmt->nested)
					{
						LogNested  *n = (LogNested *) lfirst(nc);

						n->calls = save->nested_counts[foreach_current_index(nc) * 2];
						n->rows = save->nested_counts[foreach_current_index(nc) * 2 + 1];
					}
					stmt->nested_omitted = save->nested_omitted;
					if (current_frame->last_touched != InvalidOid &&
						!list_member_oid(stmt->tables, current_frame->last_touched))
						current_frame->last_touched = InvalidOid;
				}
				if (save->subid >= mySubid)
				{
					effects_saves = foreach_delete_current(effects_saves, lc);
					free_effects_save(save);
				}
			}
			/* statements that started inside it are gone */
			foreach(lc, exec_frames)
			{
				TopFrame   *frame = (TopFrame *) lfirst(lc);

				if (frame->subid >= mySubid)
				{
					if (frame->stmt != NULL)
						MemoryContextDelete(frame->stmt->context);
					exec_frames = foreach_delete_current(exec_frames, lc);
				}
			}
			if (orphan_frame != NULL && orphan_frame->subid >= mySubid)
			{
				if (orphan_frame->stmt != NULL)
					MemoryContextDelete(orphan_frame->stmt->context);
				orphan_frame = NULL;
			}
			log_forget_subxact(mySubid);
			break;
		default:
			break;
	}
}

/* Add the tables a log_entries row names to a list, once each. */
static List *
append_entry_tables(List *result, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		tables = heap_getattr(tup, Anum_log_entries_tables, desc, &isnull);
	Datum	   *oids;
	int			n;

	if (isnull)
		return result;
	deconstruct_array(DatumGetArrayTypeP(tables), OIDOID, sizeof(Oid), true,
					  TYPALIGN_INT, &oids, NULL, &n);
	for (int i = 0; i < n; i++)
		result = list_append_unique_oid(result, DatumGetObjectId(oids[i]));
	return result;
}

/*
 * The tables a committed log entry changed; an error if there is no such
 * entry.  Read directly: the caller may not read ttpdb.log_entries.
 */
static List *
entry_tables(int64 entry)
{
	Relation	rel = table_open(ttpdb_catalog_relid("log_entries"), AccessShareLock);
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;
	bool		found = false;

	ScanKeyInit(&skey, Anum_log_entries_entry, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(entry));
	scan = systable_beginscan(rel, ttpdb_catalog_relid("log_entries_pkey"), true,
							  GetActiveSnapshot(), 1, &skey);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		found = true;
		result = append_entry_tables(result, tup, RelationGetDescr(rel));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("log entry " INT64_FORMAT " does not exist", entry)));
	return result;
}

/*
 * The tables that the transaction of a committed log entry changed, from
 * that entry on (its entries are numbered together, in order).
 */
static List *
transaction_tables_from(int64 entry)
{
	Relation	rel = table_open(ttpdb_catalog_relid("log_entries"), AccessShareLock);
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;
	uint64		xid = 0;
	bool		first = true;

	ScanKeyInit(&skey, Anum_log_entries_entry, BTGreaterEqualStrategyNumber, F_INT8GE,
				Int64GetDatum(entry));
	/* (at a statement's end there may be no active snapshot: a fresh one) */
	scan = systable_beginscan_ordered(rel, index_open(ttpdb_catalog_relid("log_entries_pkey"),
													  AccessShareLock),
									  NULL, 1, &skey);
	while (HeapTupleIsValid(tup = systable_getnext_ordered(scan, ForwardScanDirection)))
	{
		bool		isnull;
		uint64		this_xid = DatumGetUInt64(heap_getattr(tup, Anum_log_entries_xid,
														   RelationGetDescr(rel), &isnull));

		if (!first && this_xid != xid)
			break;
		xid = this_xid;
		first = false;
		result = append_entry_tables(result, tup, RelationGetDescr(rel));
	}
	{
		Relation	index = scan->irel;

		systable_endscan_ordered(scan);
		index_close(index, AccessShareLock);
	}
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * The running statement's entry undoes "entry" (kind UNDO) or replaces it
 * (kind AMEND).  The mark is what UNDO, AMEND and the amended log trust,
 * so only a role that may write a table the entry changed can make it, a
 * statement makes at most one, and it goes if its subtransaction rolls
 * back.
 */
static void
mark_second_order(int64 entry, const char *kind)
{
	TopFrame   *frame;
	LogStatement *stmt;
	ListCell   *lc;

	bool		checked = false;

	if (!log_active() || !IsTransactionState())
		return;
	/* all three privileges: an UNDO or AMEND may insert, update and delete */
	foreach(lc, entry_tables(entry))
	{
		Oid			relid = lfirst_oid(lc);

		if (get_rel_name(relid) == NULL)
			continue;			/* dropped since */
		if (pg_class_aclmask(relid, GetUserId(), ACL_INSERT | ACL_UPDATE | ACL_DELETE,
							 ACLMASK_ALL) != (ACL_INSERT | ACL_UPDATE | ACL_DELETE))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table %s", get_rel_name(relid)),
					 errdetail("An %s of a log entry inserts, updates and deletes rows of the tables the entry changed.",
							   kind)));
		checked = true;
	}
	if (!checked && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to mark a statement as the %s of log entry " INT64_FORMAT,
						kind, entry),
				 errdetail("None of the tables the entry changed exists any more.")));
	frame = attribution_frame();
	stmt = frame_statement(frame);
	if (stmt->undoes != 0 && (stmt->undoes != entry || strcmp(stmt->kind, kind) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("one statement cannot undo or amend more than one log entry"),
				 errhint("Run each UNDO or AMEND as a statement of its own.")));
	if (stmt->undoes == 0)
	{
		stmt->unmarked_kind = stmt->kind;
		stmt->mark_subid = GetCurrentSubTransactionId();
	}
	stmt->kind = kind;
	stmt->undoes = entry;
	stmt->touched = true;
}

PG_FUNCTION_INFO_V1(ttpdb_log_current_amend);

/*
 * ttpdb.log_current_amend() returns bigint
 *		The entry the running statement was marked an AMEND of, or NULL:
 *		ttpdb.amendments accepts a row only for it.
 */
Datum
ttpdb_log_current_amend(PG_FUNCTION_ARGS)
{
	TopFrame   *frame;
	LogStatement *stmt;

	if (!log_active() || !IsTransactionState())
		PG_RETURN_NULL();
	frame = attribution_frame();
	stmt = frame_statement(frame);
	if (stmt->undoes == 0 || strcmp(stmt->kind, "AMEND") != 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(stmt->undoes);
}

PG_FUNCTION_INFO_V1(ttpdb_log_mark_undo);

/*
 * ttpdb.log_mark_undo(entry bigint) returns void
 *		Called by ttpdb.undo(): the running statement's entry is an UNDO of
 *		"entry".
 */
Datum
ttpdb_log_mark_undo(PG_FUNCTION_ARGS)
{
	mark_second_order(PG_GETARG_INT64(0), "UNDO");
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(ttpdb_log_mark_amend);

/*
 * ttpdb.log_mark_amend(entry bigint) returns void
 *		Called by ttpdb.amend(): the running statement's entry is an AMEND
 *		of "entry".
 */
Datum
ttpdb_log_mark_amend(PG_FUNCTION_ARGS)
{
	mark_second_order(PG_GETARG_INT64(0), "AMEND");
	PG_RETURN_VOID();
}
