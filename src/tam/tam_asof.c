/*-------------------------------------------------------------------------
 *
 * tam_asof.c
 *	  Time travel: the ttpdb.as_of setting, and scans that read a ttpdb
 *	  table as it was at a past instant.
 *
 * With ttpdb.as_of set to T, every scan of every ttpdb table returns the
 * versions whose validity contains T, so joins across tables are
 * consistent at one instant, in views, functions and parallel plans alike.
 * A version is valid as of T when the transaction that created it is
 * stamped at or before T and the one that superseded it (if any) is not:
 *
 *	- heap tuples: created stamp <= T, and not superseded by a transaction
 *	  that has committed (such a version is read from the history instead);
 *	- kept versions (ttpdb.history): valid_from <= T < stamp of the
 *	  transaction that ended them.
 *
 * Before reading, the scan waits until every transaction stamped at or
 * before T has finished committing (ttpdb_commit_barrier) and then takes the
 * latest snapshot, so the answer for a past T does not depend on when the
 * reader's own snapshot was taken: every reader sees the same state as of T.
 *
 * Index entries point at heap tuples only, so while ttpdb.as_of is set the
 * planner is not offered the indexes of ttpdb tables, and changing the
 * setting invalidates cached plans.  A parallel scan reads the heap part in
 * every participant and the history part in one; all of them use the one
 * snapshot the leader took after the barrier, which it places in the scan's
 * shared state.  Writes to ttpdb tables are refused while it is set.
 *
 * IDENTIFICATION
 *	  src/tam/tam_asof.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/multixact.h"
#include "access/relscan.h"
#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "executor/executor.h"
#include "catalog/namespace.h"
#include "tcop/utility.h"
#include "utils/lsyscache.h"
#include "optimizer/plancat.h"
#include "port/atomics.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/memutils.h"
#include "parser/parsetree.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/plancache.h"
#include "utils/snapmgr.h"

#include "tam.h"

/* A bit of rs_flags beyond the SO_* options: this scan travels in time. */
#define TTPDB_SO_AS_OF		(1U << 31)

/*
 * What visibility needs from a tuple header, copied under the buffer lock.
 * The hint bits spare a look in the commit log for most tuples.
 */
typedef struct VersionXids
{
	bool		copied;			/* this entry of a page's copy is filled */
	bool		xmin_invalid;
	bool		xmin_frozen;
	bool		xmin_committed; /* hint: known committed */
	bool		update_committed;	/* hint: update_xid known committed */
	TransactionId xmin;
	TransactionId update_xid;	/* invalid if never superseded */
} VersionXids;

typedef struct AsOfScanDescData
{
	TableScanDescData rs_base;	/* must be first */
	TableScanDesc heapscan;		/* every tuple in the heap (SnapshotAny) */
	Snapshot	snapshot;		/* latest snapshot, registered */
	int64		era;			/* of this database's xids */
	TimestampTz as_of;
	StampsAsOf	stamps;			/* for the heap's tuples: before as_of? */
	FullTransactionId next_xid; /* read after the snapshot was taken */
	bool		heap_done;
	bool		history_started;
	bool		history_done;
	HistoryScan history;

	/*
	 * The xids of every tuple on the heap page being read, by offset, copied
	 * under one buffer lock when the scan reaches the page: locking it again
	 * for each tuple was a tenth of the scan.
	 */
	BlockNumber xids_block;
	VersionXids page_xids[MaxHeapTuplesPerPage];
} AsOfScanDescData;

/*
 * The part of a parallel scan's shared state that follows the heap's.  For
 * a scan as of a past time it carries the leader's snapshot, serialized
 * after it (room for the largest possible one is reserved, since the
 * snapshot is taken only at initialization, after the barrier).
 */
typedef struct AsOfParallelData
{
	pg_atomic_flag history_claimed;	/* the history part has a reader */
	bool		as_of;			/* the scan travels in time */
	TimestampTz as_of_time;
	Size		snapshot_size;	/* serialized snapshot that follows */
} AsOfParallelData;


typedef AsOfScanDescData *AsOfScanDesc;

/* The setting: text as given, and the instant it parsed to. */
static char *as_of_string = NULL;
static bool as_of_set = false;
static TimestampTz as_of_value = 0;

static get_relation_info_hook_type prev_get_relation_info_hook = NULL;
static ExecutorStart_hook_type prev_executor_start_hook = NULL;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;

static bool check_as_of(char **newval, void **extra, GucSource source);
static void assign_as_of(const char *newval, void *extra);
static void asof_get_relation_info(PlannerInfo *root, Oid relationObjectId,
								   bool inhparent, RelOptInfo *rel);
static void asof_executor_start(QueryDesc *queryDesc, int eflags);
static void asof_process_utility(PlannedStmt *pstmt, const char *queryString,
								 bool readOnlyTree, ProcessUtilityContext context,
								 ParamListInfo params, QueryEnvironment *queryEnv,
								 DestReceiver *dest, QueryCompletion *qc);

/*
 * ttpdb_asof_init
 *		Define ttpdb.as_of and install the planner hook; from _PG_init.
 */
void
ttpdb_asof_init(void)
{
	DefineCustomStringVariable("ttpdb.as_of",
							   "Reads every ttpdb table as of this time (empty: now).",
							   "A timestamp with time zone.  While it is set, writes to "
							   "ttpdb tables are refused.",
							   &as_of_string,
							   "",
							   PGC_USERSET,
							   GUC_NOT_IN_SAMPLE,
							   check_as_of, assign_as_of, NULL);

	prev_get_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = asof_get_relation_info;
	prev_executor_start_hook = ExecutorStart_hook;
	ExecutorStart_hook = asof_executor_start;
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = asof_process_utility;
}

/*
 * Parse the setting without throwing (a check hook must not): the same
 * steps as timestamptz input, accepting a date and time, or 'now'.
 */
static bool
check_as_of(char **newval, void **extra, GucSource source)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	TimestampTz result;
	TimestampTz *parsed;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;

	if (ParseDateTime(*newval, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0 ||
		DecodeDateTime(field, ftype, nf, &dtype, &tm, &fsec, &tz) != 0)
	{
		GUC_check_errdetail("\"%s\" is not a timestamp with time zone.", *newval);
		return false;
	}
	if (dtype == DTK_NOW)
		result = GetCurrentTimestamp();
	else if (dtype == DTK_DATE)
	{
		if (tm2timestamp(&tm, fsec, &tz, &result) != 0 || !IS_VALID_TIMESTAMP(result))
		{
			GUC_check_errdetail("\"%s\" is out of range.", *newval);
			return false;
		}
	}
	else
	{
		GUC_check_errdetail("ttpdb.as_of must be a finite point in time, not \"%s\".",
							*newval);
		return false;
	}

	/* PostgreSQL 15 frees a check hook's extra with free() */
	parsed = malloc(sizeof(TimestampTz));
	if (parsed == NULL)
	{
		GUC_check_errcode(ERRCODE_OUT_OF_MEMORY);
		GUC_check_errmsg("out of memory");
		return false;
	}
	*parsed = result;
	*extra = parsed;
	return true;
}

static void
assign_as_of(const char *newval, void *extra)
{
	bool		was_set = as_of_set;

	as_of_set = (extra != NULL);
	as_of_value = as_of_set ? *((TimestampTz *) extra) : 0;

	/*
	 * Plans made while it was off may use indexes of ttpdb tables, and plans
	 * made while it was on use none; the instant itself shapes no plan.
	 */
	if (was_set != as_of_set)
		ResetPlanCache();
}

bool
ttpdb_as_of_active(void)
{
	return as_of_set;
}

TimestampTz
ttpdb_as_of_time(void)
{
	return as_of_value;
}

/*
 * ttpdb_check_writable
 *		Refuse a write to "rel" while reading as of a past time.
 */
void
ttpdb_check_writable(Relation rel)
{
	if (as_of_set)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot modify ttpdb table \"%s\" while ttpdb.as_of is set",
						RelationGetRelationName(rel)),
				 errhint("RESET ttpdb.as_of to write to the present.")));
}

/* Refuse the statement if range table entry "rti" is a ttpdb table. */
static void
refuse_if_ttpdb(List *rtable, Index rti, const char *what)
{
	RangeTblEntry *rte = rt_fetch(rti, rtable);
	Relation	relation;
	bool		is_ttpdb;

	if (rte->rtekind != RTE_RELATION)
		return;
	relation = RelationIdGetRelation(rte->relid);
	if (!RelationIsValid(relation))
		return;
	is_ttpdb = ttpdb_is_ttpdb_relation(relation);
	if (is_ttpdb)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s ttpdb table \"%s\" while ttpdb.as_of is set",
						what, RelationGetRelationName(relation)),
				 errhint("RESET ttpdb.as_of to write to the present.")));
	RelationClose(relation);
}

/*
 * Writes and row locks on ttpdb tables are refused before the statement
 * runs: the past cannot be changed, and kept versions cannot be locked.
 */
static void
asof_executor_start(QueryDesc *queryDesc, int eflags)
{
	if (as_of_set && !(eflags & EXEC_FLAG_EXPLAIN_ONLY))
	{
		PlannedStmt *stmt = queryDesc->plannedstmt;
		ListCell   *lc;

		foreach(lc, stmt->resultRelations)
			refuse_if_ttpdb(stmt->rtable, lfirst_int(lc), "modify");
		foreach(lc, stmt->rowMarks)
			refuse_if_ttpdb(stmt->rtable, ((PlanRowMark *) lfirst(lc))->rti, "lock rows of");
	}
	if (prev_executor_start_hook)
		prev_executor_start_hook(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * Utility statements that run queries the user wrote keep reading the past;
 * every other one (DDL and maintenance) reads the present, whose internal
 * scans (constraint validation, index builds, rewrites) must see today's
 * rows: such a statement runs with ttpdb.as_of cleared.
 */
static bool
utility_reads_past(Node *parsetree)
{
	switch (nodeTag(parsetree))
	{
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_TransactionStmt:
		case T_ExplainStmt:
		case T_PrepareStmt:
		case T_ExecuteStmt:
		case T_DeallocateStmt:
		case T_DeclareCursorStmt:
		case T_FetchStmt:
		case T_ClosePortalStmt:
		case T_CopyStmt:
		case T_DoStmt:
		case T_CallStmt:
		case T_DiscardStmt:
			return true;
		default:
			return false;
	}
}

static void
asof_process_utility(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	int			nest = -1;

	/* TRUNCATE is a write: refused for ttpdb tables, like the others */
	if (as_of_set && IsA(pstmt->utilityStmt, TruncateStmt))
	{
		ListCell   *lc;

		foreach(lc, ((TruncateStmt *) pstmt->utilityStmt)->relations)
		{
			Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true);
			Relation	relation = OidIsValid(relid) ? RelationIdGetRelation(relid) : NULL;

			if (relation != NULL)
			{
				bool		is_ttpdb = ttpdb_is_ttpdb_relation(relation);

				RelationClose(relation);
				if (is_ttpdb)
					ereport(ERROR,
							(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
							 errmsg("cannot modify ttpdb table \"%s\" while ttpdb.as_of is set",
									get_rel_name(relid)),
							 errhint("RESET ttpdb.as_of to write to the present.")));
			}
		}
	}
	if (as_of_set && !utility_reads_past(pstmt->utilityStmt))
	{
		/* restored below, or by transaction abort on error */
		nest = NewGUCNestLevel();
		(void) set_config_option("ttpdb.as_of", "", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context,
								  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	if (nest >= 0)
		AtEOXact_GUC(true, nest);
}

/*
 * While as_of is set, ttpdb tables offer the planner no indexes: index
 * entries lead only to heap tuples, never to kept versions.
 */
static void
asof_get_relation_info(PlannerInfo *root, Oid relationObjectId,
					   bool inhparent, RelOptInfo *rel)
{
	if (prev_get_relation_info_hook)
		prev_get_relation_info_hook(root, relationObjectId, inhparent, rel);

	if (as_of_set && !inhparent)
	{
		Relation	relation = RelationIdGetRelation(relationObjectId);

		if (RelationIsValid(relation))
		{
			if (ttpdb_is_ttpdb_relation(relation))
				rel->indexlist = NIL;
			RelationClose(relation);
		}
	}
}

/*
 * Committed, as "snapshot" (the latest one, after the barrier) sees it.
 * "hinted": the tuple's hint bit says the xid committed, so the commit log
 * need not be read; whether the snapshot sees it still counts.
 */
static bool
xid_committed(TransactionId xid, bool hinted, Snapshot snapshot)
{
	if (!TransactionIdIsNormal(xid))
		return xid == FrozenTransactionId || xid == BootstrapTransactionId;
	if (hinted)
		return !XidInMVCCSnapshot(xid, snapshot);
	if (TransactionIdIsCurrentTransactionId(xid))
		return false;
	if (XidInMVCCSnapshot(xid, snapshot))
		return false;
	return TransactionIdDidCommit(xid);
}

/* Whether a committed transaction is stamped at or before "as_of". */
static bool
committed_by(AsOfScanDesc scan, TransactionId xid)
{
	FullTransactionId fxid;
	bool		by_as_of;
	TimestampTz stamp;

	if (!TransactionIdIsNormal(xid))
		return true;
	/* committed in the snapshot, so assigned before next_xid was read */
	fxid = ttpdb_full_xid_before(xid, scan->next_xid);
	if (stamp_cache_committed_by(&scan->stamps, fxid, &by_as_of))
		return by_as_of;

	/* No stamp: it committed before the table was a ttpdb table. */
	if (!ttpdb_commit_time(scan->era, fxid, scan->snapshot, &stamp))
		return true;
	return stamp <= scan->as_of;
}

/* Copy what visibility needs; the caller holds the buffer lock. */
static void
read_version_xids(HeapTupleHeader tuple, VersionXids *xids)
{
	uint16		infomask = tuple->t_infomask;

	xids->copied = true;
	xids->xmin_invalid = HeapTupleHeaderXminInvalid(tuple);
	xids->xmin_frozen = HeapTupleHeaderXminFrozen(tuple);
	xids->xmin_committed = HeapTupleHeaderXminCommitted(tuple);
	xids->xmin = HeapTupleHeaderGetRawXmin(tuple);
	xids->update_committed = false;
	if ((infomask & HEAP_XMAX_INVALID) || HEAP_XMAX_IS_LOCKED_ONLY(infomask))
		xids->update_xid = InvalidTransactionId;
	else
	{
		xids->update_xid = HeapTupleHeaderGetUpdateXid(tuple);
		/* the heap never sets this hint on a multixact */
		xids->update_committed = (infomask & HEAP_XMAX_COMMITTED) != 0 &&
			!(infomask & HEAP_XMAX_IS_MULTI);
	}
}

/*
 * Copy the xids of every tuple on the page in "buffer", which the scan has
 * pinned (so it cannot be pruned meanwhile).  Tuples added to the page later
 * are copied one by one when the scan reaches them.  A copy taken before the
 * scan reaches a tuple answers as a later look would: the snapshot was taken
 * before the copy, so an xmax or hint bit set after it is the work of a
 * transaction the snapshot sees as running, which changes nothing.
 */
static void
read_page_xids(AsOfScanDesc scan, Buffer buffer)
{
	Page		page;
	OffsetNumber maxoff;

	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buffer);
	maxoff = PageGetMaxOffsetNumber(page);
	for (OffsetNumber off = FirstOffsetNumber; off <= MaxHeapTuplesPerPage; off++)
	{
		VersionXids *xids = &scan->page_xids[off - 1];
		ItemId		lp;

		xids->copied = false;
		if (off > maxoff)
			continue;
		lp = PageGetItemId(page, off);
		if (ItemIdIsNormal(lp))
			read_version_xids((HeapTupleHeader) PageGetItem(page, lp), xids);
	}
	LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
	scan->xids_block = BufferGetBlockNumber(buffer);
}

/*
 * Whether the version is the one valid as of "as_of".  Runs without the
 * buffer lock, since it may read ttpdb.commit_times.
 */
static bool
version_visible_as_of(AsOfScanDesc scan, const VersionXids *xids)
{
	Snapshot	snapshot = scan->snapshot;

	if (xids->xmin_invalid)
		return false;
	if (!xids->xmin_frozen &&
		!xid_committed(xids->xmin, xids->xmin_committed, snapshot))
		return false;
	/* a frozen tuple keeps its xmin, and its stamp still counts */
	if (!committed_by(scan, xids->xmin))
		return false;

	/*
	 * Superseded by a committed transaction: the history holds this version
	 * with its end stamp, and is where it is read from.
	 */
	return !TransactionIdIsValid(xids->update_xid) ||
		!xid_committed(xids->update_xid, xids->update_committed, snapshot);
}

bool
ttpdb_is_asof_scan(TableScanDesc scan)
{
	return (scan->rs_flags & TTPDB_SO_AS_OF) != 0;
}

static Size
heap_parallel_size(Relation rel)
{
	return MAXALIGN(ttpdb_heap_routine()->parallelscan_estimate(rel));
}

static AsOfParallelData *
asof_parallel_data(Relation rel, ParallelTableScanDesc pscan)
{
	return (AsOfParallelData *) ((char *) pscan + heap_parallel_size(rel));
}

/* Refuse a time in the future, and wait for commits stamped up to it. */
static void
prepare_as_of_read(Relation rel)
{
	if (as_of_value > GetCurrentTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot read ttpdb table \"%s\" as of a time in the future",
						RelationGetRelationName(rel)),
				 errdetail("ttpdb.as_of is %s.", timestamptz_to_str(as_of_value))));
	ttpdb_commit_barrier(as_of_value);
}

/* Room for the largest snapshot this server can take. */
static Size
max_snapshot_space(void)
{
	SnapshotData empty = {SNAPSHOT_MVCC};

	return add_size(EstimateSnapshotSpace(&empty),
					mul_size(add_size(GetMaxSnapshotXidCount(),
									  GetMaxSnapshotSubxidCount()),
							 sizeof(TransactionId)));
}

/*
 * ttpdb_parallelscan_estimate
 *		The heap's shared state, then ours, with room for the snapshot the
 *		leader will take when reading the past.
 */
Size
ttpdb_parallelscan_estimate(Relation rel)
{
	Size		size = add_size(heap_parallel_size(rel),
								MAXALIGN(sizeof(AsOfParallelData)));

	if (as_of_set)
		size = add_size(size, MAXALIGN(max_snapshot_space()));
	return size;
}

/*
 * ttpdb_parallelscan_initialize
 *		Initialize the heap's shared state and ours.  When reading the past
 *		the leader calls the barrier and places the snapshot every
 *		participant will read under.  Returns the size of both (the executor
 *		places the query's own snapshot after them).
 */
Size
ttpdb_parallelscan_initialize(Relation rel, ParallelTableScanDesc pscan)
{
	AsOfParallelData *data = asof_parallel_data(rel, pscan);
	Size		size = add_size(heap_parallel_size(rel), MAXALIGN(sizeof(AsOfParallelData)));

	ttpdb_heap_routine()->parallelscan_initialize(rel, pscan);
	pg_atomic_init_flag(&data->history_claimed);
	data->as_of = as_of_set;
	data->as_of_time = as_of_value;
	data->snapshot_size = 0;
	if (as_of_set)
	{
		Snapshot	snapshot;

		prepare_as_of_read(rel);
		snapshot = ttpdb_latest_snapshot();
		data->snapshot_size = EstimateSnapshotSpace(snapshot);
		if (data->snapshot_size > max_snapshot_space())
			elog(ERROR, "snapshot larger than the space reserved for it");
		SerializeSnapshot(snapshot, (char *) data + MAXALIGN(sizeof(AsOfParallelData)));
		size = add_size(size, MAXALIGN(max_snapshot_space()));
	}
	return size;
}

void
ttpdb_parallelscan_reinitialize(Relation rel, ParallelTableScanDesc pscan)
{
	ttpdb_heap_routine()->parallelscan_reinitialize(rel, pscan);
	pg_atomic_init_flag(&asof_parallel_data(rel, pscan)->history_claimed);
}

/*
 * ttpdb_asof_beginscan
 *		Begin a sequential scan of "rel" as of the current ttpdb.as_of.
 */
TableScanDesc
ttpdb_asof_beginscan(Relation rel, Snapshot snapshot, int nkeys,
					 struct ScanKeyData *key, ParallelTableScanDesc pscan,
					 uint32 flags)
{
	AsOfScanDesc scan;
	AsOfParallelData *shared = NULL;

	if (nkeys != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("scan keys are not supported when reading ttpdb table \"%s\" as of a past time",
						RelationGetRelationName(rel))));
	if (rel->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot read ttpdb table \"%s\" as of a past time",
						RelationGetRelationName(rel)),
				 errdetail("Temporary and unlogged ttpdb tables keep no history.")));
	if (pscan != NULL)
	{
		shared = asof_parallel_data(rel, pscan);
		if (!shared->as_of)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot read ttpdb table \"%s\" as of a past time in a parallel scan planned for the present",
							RelationGetRelationName(rel)),
					 errhint("Run the query again.")));
	}

	scan = palloc0(sizeof(AsOfScanDescData));
	scan->rs_base.rs_rd = rel;
	scan->rs_base.rs_snapshot = snapshot;
	scan->rs_base.rs_nkeys = 0;
	scan->rs_base.rs_key = NULL;
	scan->rs_base.rs_parallel = pscan;
	/* the caller's temporary snapshot is ours to release */
	scan->rs_base.rs_flags = flags | TTPDB_SO_AS_OF;
	scan->xids_block = InvalidBlockNumber;
	scan->era = ttpdb_current_era();
	if (shared != NULL)
	{
		/* every participant reads under the leader's snapshot */
		scan->as_of = shared->as_of_time;
		scan->snapshot = RegisterSnapshot(RestoreSnapshot((char *) shared +
														  MAXALIGN(sizeof(AsOfParallelData))));
	}
	else
	{
		prepare_as_of_read(rel);
		scan->as_of = as_of_value;
		scan->snapshot = RegisterSnapshot(ttpdb_latest_snapshot());
	}
	scan->next_xid = ReadNextFullTransactionId();
	ttpdb_stamps_as_of(scan->era, scan->as_of, &scan->stamps);
	scan->heapscan = ttpdb_heap_routine()->scan_begin(rel, SnapshotAny, 0, NULL, pscan,
													  flags & ~SO_TEMP_SNAPSHOT);
	return &scan->rs_base;
}

/* Return the next heap tuple that is valid as of the scan's time. */
static bool
asof_next_heap(AsOfScanDesc scan, TupleTableSlot *slot)
{
	while (ttpdb_heap_routine()->scan_getnextslot(scan->heapscan,
												  ForwardScanDirection, slot))
	{
		BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
		ItemPointer tid = &bslot->base.tuple->t_self;
		VersionXids *xids;

		if (ItemPointerGetBlockNumber(tid) != scan->xids_block)
			read_page_xids(scan, bslot->buffer);
		xids = &scan->page_xids[ItemPointerGetOffsetNumber(tid) - 1];
		if (!xids->copied)
		{
			LockBuffer(bslot->buffer, BUFFER_LOCK_SHARE);
			read_version_xids(bslot->base.tuple->t_data, xids);
			LockBuffer(bslot->buffer, BUFFER_LOCK_UNLOCK);
		}
		if (version_visible_as_of(scan, xids))
			return true;
		CHECK_FOR_INTERRUPTS();
	}
	return false;
}

/* Return the next kept version that is valid as of the scan's time. */
static bool
asof_next_history(AsOfScanDesc scan, TupleTableSlot *slot)
{
	HistoryVersion version;

	if (!scan->history_started)
	{
		scan->history_started = true;
		if (scan->rs_base.rs_parallel != NULL &&
			!pg_atomic_test_set_flag(&asof_parallel_data(scan->rs_base.rs_rd,
														 scan->rs_base.rs_parallel)->history_claimed))
		{
			scan->history_done = true;	/* another participant reads it */
			return false;
		}
		scan->history = history_begin_scan(scan->rs_base.rs_rd, scan->snapshot);
		history_scan_as_of(scan->history, scan->as_of);
	}

	while (history_next(scan->history, &version))
	{
		TimestampTz ended;

		if (version.valid_from_known && version.valid_from > scan->as_of)
			continue;
		/* a version our own open transaction ended is still in the heap */
		if (version.era == scan->era &&
			FullTransactionIdEquals(version.ended_xid, GetTopFullTransactionIdIfAny()))
			continue;
		/* packed versions carry their end */
		if (version.valid_to_known)
		{
			if (version.valid_to <= scan->as_of)
				continue;
		}
		/* an end without a stamp: the ending transaction is our own */
		else if (ttpdb_commit_time(version.era, version.ended_xid, scan->snapshot, &ended) &&
				 ended <= scan->as_of)
			continue;
		/* the slot keeps its own copy */
		ExecForceStoreHeapTuple(history_version_tuple(scan->history), slot, true);
		slot->tts_tableOid = RelationGetRelid(scan->rs_base.rs_rd);
		return true;
	}
	history_end_scan(scan->history);
	scan->history = NULL;
	scan->history_done = true;
	return false;
}

bool
ttpdb_asof_getnextslot(TableScanDesc sscan, ScanDirection direction,
					   TupleTableSlot *slot)
{
	AsOfScanDesc scan = (AsOfScanDesc) sscan;

	if (ScanDirectionIsBackward(direction))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot scan ttpdb table \"%s\" backward as of a past time",
						RelationGetRelationName(sscan->rs_rd)),
				 errhint("Declare the cursor without SCROLL, or materialize the result.")));

	if (!scan->heap_done)
	{
		if (asof_next_heap(scan, slot))
			return true;
		scan->heap_done = true;
	}
	if (!scan->history_done && asof_next_history(scan, slot))
		return true;
	ExecClearTuple(slot);
	return false;
}

void
ttpdb_asof_rescan(TableScanDesc sscan)
{
	AsOfScanDesc scan = (AsOfScanDesc) sscan;

	ttpdb_heap_routine()->scan_rescan(scan->heapscan, NULL, false, false, false, false);
	if (scan->history != NULL)
		history_end_scan(scan->history);
	scan->history = NULL;
	scan->heap_done = false;
	scan->xids_block = InvalidBlockNumber;
	scan->history_started = false;
	scan->history_done = false;
}

void
ttpdb_asof_endscan(TableScanDesc sscan)
{
	AsOfScanDesc scan = (AsOfScanDesc) sscan;

	ttpdb_heap_routine()->scan_end(scan->heapscan);
	if (scan->history != NULL)
		history_end_scan(scan->history);
	UnregisterSnapshot(scan->snapshot);
	stamp_cache_end_as_of(&scan->stamps);
	if (sscan->rs_flags & SO_TEMP_SNAPSHOT)
		UnregisterSnapshot(sscan->rs_snapshot);
	pfree(scan);
}
