/*-------------------------------------------------------------------------
 *
 * tam_handler.c
 *	  The ttpdb table access method's routine: the heap's own, with the
 *	  callbacks where time matters replaced.
 *
 * Reads of the present and every mechanism of the heap (MVCC, row locks,
 * EvalPlanQual, ON CONFLICT, SSI, TOAST, WAL, VACUUM) are the heap's,
 * reached through GetHeapamTableAmRoutine().  ttpdb replaces:
 *
 *	- the writes, to refuse them under ttpdb.as_of, to have the transaction
 *	  stamped at commit, and to keep the versions UPDATE, DELETE, MERGE and
 *	  TRUNCATE supersede (tam_history.c);
 *	- sequential scans, which read as of ttpdb.as_of when it is set
 *	  (tam_asof.c), and the scans that cannot travel in time, which refuse
 *	  to run under it;
 *	- two heap callbacks that refuse non-heap relations: the heap's index
 *	  build and validate scans call heap_getnext(), which insists that
 *	  rd_tableam is the heap routine, so they run with it swapped in;
 *	- the TOAST access method, which must be the heap.
 *
 * IDENTIFICATION
 *	  src/tam/tam_handler.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "catalog/pg_am_d.h"
#include "catalog/storage.h"
#include "fmgr.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ttpdb.h"
#include "log/log.h"
#include "tam.h"

static TableAmRoutine ttpdb_methods;
static const TableAmRoutine *heap_methods = NULL;

const TableAmRoutine *
ttpdb_heap_routine(void)
{
	return heap_methods;
}

/*
 * ttpdb_is_ttpdb_relation
 *		Whether the relation is a ttpdb table.
 */
bool
ttpdb_is_ttpdb_relation(Relation rel)
{
	return heap_methods != NULL && rel->rd_tableam == &ttpdb_methods;
}

/* Everything a write does before touching the heap. */
static void
prepare_write(Relation rel)
{
	ttpdb_check_writable(rel);
	ttpdb_note_write();
}

/* Refuse a scan that cannot read as of a past time while as_of is set. */
static void
refuse_under_as_of(Relation rel, const char *what)
{
	if (ttpdb_as_of_active())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot read ttpdb table \"%s\" as of a past time",
						what, RelationGetRelationName(rel)),
				 errhint("RESET ttpdb.as_of, or select the rows with a condition instead.")));
}

/* ------------------------------------------------------------------------
 * Scans
 * ------------------------------------------------------------------------
 */

static TableScanDesc
ttpdb_scan_begin(Relation rel, Snapshot snapshot, int nkeys,
				 struct ScanKeyData *key, ParallelTableScanDesc pscan,
				 uint32 flags)
{
	if (ttpdb_as_of_active())
	{
		if (flags & SO_TYPE_SEQSCAN)
			return ttpdb_asof_beginscan(rel, snapshot, nkeys, key, pscan, flags);
		if (flags & SO_TYPE_SAMPLESCAN)
			refuse_under_as_of(rel, "TABLESAMPLE");
		if (flags & (SO_TYPE_BITMAPSCAN | SO_TYPE_TIDRANGESCAN))
			refuse_under_as_of(rel, "a bitmap or TID scan");
		/* SO_TYPE_ANALYZE reads the present, as ANALYZE should */
	}
	return heap_methods->scan_begin(rel, snapshot, nkeys, key, pscan, flags);
}

static void
ttpdb_scan_end(TableScanDesc scan)
{
	if (ttpdb_is_asof_scan(scan))
		ttpdb_asof_endscan(scan);
	else
		heap_methods->scan_end(scan);
}

static void
ttpdb_scan_rescan(TableScanDesc scan, struct ScanKeyData *key, bool set_params,
				  bool allow_strat, bool allow_sync, bool allow_pagemode)
{
	if (ttpdb_is_asof_scan(scan))
		ttpdb_asof_rescan(scan);
	else
		heap_methods->scan_rescan(scan, key, set_params, allow_strat,
								  allow_sync, allow_pagemode);
}

static bool
ttpdb_scan_getnextslot(TableScanDesc scan, ScanDirection direction,
					   TupleTableSlot *slot)
{
	if (unlikely(ttpdb_is_asof_scan(scan)))
		return ttpdb_asof_getnextslot(scan, direction, slot);
	/* every tuple of the present passes here: a direct call, not the table */
	return heap_getnextslot(scan, direction, slot);
}

static IndexFetchTableData *
ttpdb_index_fetch_begin(Relation rel)
{
	/* the planner offers no index under as_of; a stale plan must not run */
	refuse_under_as_of(rel, "an index scan");
	return heap_methods->index_fetch_begin(rel);
}

static bool
ttpdb_tuple_fetch_row_version(Relation rel, ItemPointer tid, Snapshot snapshot,
							  TupleTableSlot *slot)
{
	refuse_under_as_of(rel, "fetching a row by its ctid");
	return heap_methods->tuple_fetch_row_version(rel, tid, snapshot, slot);
}

/* ------------------------------------------------------------------------
 * Writes
 * ------------------------------------------------------------------------
 */

static void
ttpdb_tuple_insert(Relation rel, TupleTableSlot *slot, CommandId cid,
				   int options, struct BulkInsertStateData *bistate)
{
	prepare_write(rel);
	heap_methods->tuple_insert(rel, slot, cid, options, bistate);
	log_effect_insert(rel, slot);
}

static void
ttpdb_tuple_insert_speculative(Relation rel, TupleTableSlot *slot,
							   CommandId cid, int options,
							   struct BulkInsertStateData *bistate,
							   uint32 specToken)
{
	prepare_write(rel);
	heap_methods->tuple_insert_speculative(rel, slot, cid, options, bistate,
										   specToken);
}

/* An ON CONFLICT insert counts once it is known to stay. */
static void
ttpdb_tuple_complete_speculative(Relation rel, TupleTableSlot *slot,
								 uint32 specToken, bool succeeded)
{
	heap_methods->tuple_complete_speculative(rel, slot, specToken, succeeded);
	if (succeeded)
		log_effect_insert(rel, slot);
}

static void
ttpdb_multi_insert(Relation rel, TupleTableSlot **slots, int nslots,
				   CommandId cid, int options,
				   struct BulkInsertStateData *bistate)
{
	prepare_write(rel);
	heap_methods->multi_insert(rel, slots, nslots, cid, options, bistate);
	for (int i = 0; i < nslots; i++)
		log_effect_insert(rel, slots[i]);
}

/*
 * The command id that created the version at "tid", read before the
 * current transaction supersedes it (which overwrites the field with its
 * own command id).
 */
static CommandId
version_created_cid(Relation rel, ItemPointer tid)
{
	HeapTupleData tuple;
	Buffer		buffer;
	CommandId	cid = InvalidCommandId;

	tuple.t_self = *tid;
	if (heap_fetch(rel, SnapshotAny, &tuple, &buffer, true))
	{
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		cid = history_creation_cid(tuple.t_data);
		LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
		ReleaseBuffer(buffer);
	}
	return cid;
}

/*
 * Keep the version at "tid" that the current transaction has just
 * superseded (heap_update and heap_delete leave it in place, with our xid
 * as its xmax), and count the change in the statement log: an update when
 * "newslot" is given, else a delete.
 */
static void
keep_superseded_version(Relation rel, ItemPointer tid, CommandId created_cid,
						CommandId ended_cid, TupleTableSlot *newslot)
{
	HeapTupleData tuple;
	HeapTuple	copy;
	Buffer		buffer;

	tuple.t_self = *tid;
	if (!heap_fetch(rel, SnapshotAny, &tuple, &buffer, true))
		elog(ERROR, "superseded version (%u,%u) of relation \"%s\" not found",
			 ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid),
			 RelationGetRelationName(rel));
	/* copy it and let go of the page before writing to the history */
	copy = heap_copytuple(&tuple);
	ReleaseBuffer(buffer);
	history_append_version(rel, copy, created_cid, ended_cid);
	if (newslot != NULL)
		log_effect_update(rel, copy, newslot);
	else
		log_effect_delete(rel, copy);
	heap_freetuple(copy);
}

static TM_Result
ttpdb_tuple_delete(Relation rel, ItemPointer tid, CommandId cid,
				   Snapshot snapshot, Snapshot crosscheck, bool wait,
				   TM_FailureData *tmfd, bool changingPart)
{
	TM_Result	result;
	CommandId	created_cid;

	prepare_write(rel);
	created_cid = version_created_cid(rel, tid);
	result = heap_methods->tuple_delete(rel, tid, cid, snapshot, crosscheck,
										wait, tmfd, changingPart);
	if (result == TM_Ok)
		keep_superseded_version(rel, tid, created_cid, cid, NULL);
	return result;
}

static TM_Result
ttpdb_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot,
				   CommandId cid, Snapshot snapshot, Snapshot crosscheck,
				   bool wait, TM_FailureData *tmfd, LockTupleMode *lockmode,
				   bool *update_indexes)
{
	TM_Result	result;
	CommandId	created_cid;

	prepare_write(rel);
	created_cid = version_created_cid(rel, otid);
	result = heap_methods->tuple_update(rel, otid, slot, cid, snapshot,
										crosscheck, wait, tmfd, lockmode,
										update_indexes);
	if (result == TM_Ok)
		keep_superseded_version(rel, otid, created_cid, cid, slot);
	return result;
}

/*
 * Called when a ttpdb table is created, and when TRUNCATE gives it new
 * storage.  In the second case its current rows end now: keep them first.
 */
static void
ttpdb_relation_set_new_filenode(Relation rel, const RelFileNode *newrnode,
								char persistence, TransactionId *freezeXid,
								MultiXactId *minmulti)
{
	bool		truncating = !RelFileNodeEquals(*newrnode, rel->rd_node) &&
		smgrexists(RelationGetSmgr(rel), MAIN_FORKNUM);

	ttpdb_require_preload("a ttpdb table");
	ttpdb_check_writable(rel);
	if (truncating)
	{
		ttpdb_note_write();
		(void) log_current_statement(rel);	/* also when it is empty */
		history_append_relation(rel, RelationGetDescr(rel), true);
	}
	else
		(void) log_current_statement(rel);	/* CREATE TABLE ... USING ttpdb */
	heap_methods->relation_set_new_filenode(rel, newrnode, persistence,
											freezeXid, minmulti);
}

static void
ttpdb_relation_nontransactional_truncate(Relation rel)
{
	/*
	 * Only for tables created or truncated in this transaction, whose rows
	 * were never visible to anyone else: nothing to keep.
	 */
	ttpdb_check_writable(rel);
	(void) log_current_statement(rel);
	heap_methods->relation_nontransactional_truncate(rel);
}

/*
 * VACUUM FULL and CLUSTER: the heap's copy, once the kept versions have the
 * values of fast-default columns, which the rewrite forgets (tam_alter.c).
 * The versions' validity does not change, nor do the rows' transactions:
 * nothing to stamp or log.
 */
static void
ttpdb_relation_copy_for_cluster(Relation OldHeap, Relation NewHeap, Relation OldIndex,
								bool use_sort, TransactionId OldestXmin,
								TransactionId *xid_cutoff, MultiXactId *multi_cutoff,
								double *num_tuples, double *tups_vacuumed,
								double *tups_recently_dead)
{
	history_keep_missing_values(OldHeap);
	heap_methods->relation_copy_for_cluster(OldHeap, NewHeap, OldIndex, use_sort,
											OldestXmin, xid_cutoff, multi_cutoff,
											num_tuples, tups_vacuumed, tups_recently_dead);
}

/* ------------------------------------------------------------------------
 * Heap callbacks that insist on the heap routine
 * ------------------------------------------------------------------------
 */

static double
ttpdb_index_build_range_scan(Relation table_rel, Relation index_rel,
							 struct IndexInfo *index_info, bool allow_sync,
							 bool anyvisible, bool progress,
							 BlockNumber start_blockno, BlockNumber numblocks,
							 IndexBuildCallback callback, void *callback_state,
							 TableScanDesc scan)
{
	const TableAmRoutine *saved = table_rel->rd_tableam;
	double		result = 0;

	/* a scan handed in must be the heap's own, never one reading the past */
	if (scan != NULL && ttpdb_is_asof_scan(scan))
		elog(ERROR, "index build of \"%s\" was given a scan of the past",
			 RelationGetRelationName(table_rel));

	/* heap_getnext() refuses any relation whose routine is not the heap's */
	table_rel->rd_tableam = heap_methods;
	PG_TRY();
	{
		result = heap_methods->index_build_range_scan(table_rel, index_rel,
													  index_info, allow_sync,
													  anyvisible, progress,
													  start_blockno, numblocks,
													  callback, callback_state,
													  scan);
	}
	PG_FINALLY();
	{
		table_rel->rd_tableam = saved;
	}
	PG_END_TRY();
	return result;
}

static void
ttpdb_index_validate_scan(Relation table_rel, Relation index_rel,
						  struct IndexInfo *index_info, Snapshot snapshot,
						  struct ValidateIndexState *state)
{
	const TableAmRoutine *saved = table_rel->rd_tableam;

	table_rel->rd_tableam = heap_methods;
	PG_TRY();
	{
		heap_methods->index_validate_scan(table_rel, index_rel, index_info,
										  snapshot, state);
	}
	PG_FINALLY();
	{
		table_rel->rd_tableam = saved;
	}
	PG_END_TRY();
}

/* The TOAST table of a ttpdb table is a heap table. */
static Oid
ttpdb_relation_toast_am(Relation rel)
{
	return HEAP_TABLE_AM_OID;
}

PG_FUNCTION_INFO_V1(ttpdb_tam_handler);

/*
 * ttpdb_tam_handler
 *		Handler of the ttpdb table access method.
 */
Datum
ttpdb_tam_handler(PG_FUNCTION_ARGS)
{
	if (heap_methods == NULL)
	{
		heap_methods = GetHeapamTableAmRoutine();
		ttpdb_methods = *heap_methods;

		ttpdb_methods.scan_begin = ttpdb_scan_begin;
		ttpdb_methods.scan_end = ttpdb_scan_end;
		ttpdb_methods.scan_rescan = ttpdb_scan_rescan;
		ttpdb_methods.scan_getnextslot = ttpdb_scan_getnextslot;
		ttpdb_methods.parallelscan_estimate = ttpdb_parallelscan_estimate;
		ttpdb_methods.parallelscan_initialize = ttpdb_parallelscan_initialize;
		ttpdb_methods.parallelscan_reinitialize = ttpdb_parallelscan_reinitialize;
		ttpdb_methods.index_fetch_begin = ttpdb_index_fetch_begin;
		ttpdb_methods.tuple_fetch_row_version = ttpdb_tuple_fetch_row_version;

		ttpdb_methods.tuple_insert = ttpdb_tuple_insert;
		ttpdb_methods.tuple_insert_speculative = ttpdb_tuple_insert_speculative;
		ttpdb_methods.tuple_complete_speculative = ttpdb_tuple_complete_speculative;
		ttpdb_methods.multi_insert = ttpdb_multi_insert;
		ttpdb_methods.tuple_delete = ttpdb_tuple_delete;
		ttpdb_methods.tuple_update = ttpdb_tuple_update;
		ttpdb_methods.relation_set_new_filenode = ttpdb_relation_set_new_filenode;
		ttpdb_methods.relation_nontransactional_truncate =
			ttpdb_relation_nontransactional_truncate;
		ttpdb_methods.relation_copy_for_cluster = ttpdb_relation_copy_for_cluster;

		ttpdb_methods.index_build_range_scan = ttpdb_index_build_range_scan;
		ttpdb_methods.index_validate_scan = ttpdb_index_validate_scan;
		ttpdb_methods.relation_toast_am = ttpdb_relation_toast_am;
	}
	PG_RETURN_POINTER(&ttpdb_methods);
}
