/*-------------------------------------------------------------------------
 *
 * tam_funcs.c
 *	  SQL functions over ttpdb tables: a table as of a time, every version
 *	  of a table with its validity, and explicit pruning of history.
 *
 * IDENTIFICATION
 *	  src/tam/tam_funcs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/event_trigger.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "log/log.h"
#include "tam.h"

/*
 * Open the ttpdb table whose row type is the type of argument 0 (as in
 * ttpdb.as_of(NULL::t, ...)), checking that the caller may read it.
 */
static Relation
open_table_of_row_arg(FunctionCallInfo fcinfo, const char *fname)
{
	Oid			rowtype = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Oid			relid = OidIsValid(rowtype) ? get_typ_typrelid(rowtype) : InvalidOid;
	Relation	rel;
	AclResult	aclresult;

	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a row of a ttpdb table as its first argument", fname),
				 errhint("Pass a typed NULL, as in %s(NULL::my_table, ...).", fname)));
	rel = table_open(relid, AccessShareLock);
	if (!ttpdb_is_ttpdb_relation(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" does not use the ttpdb access method",
						RelationGetRelationName(rel)),
				 errhint("ALTER TABLE %s SET ACCESS METHOD ttpdb keeps its history from now on.",
						 quote_identifier(RelationGetRelationName(rel)))));
	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, RelationGetRelationName(rel));
	return rel;
}

/*
 * Run "SELECT <columns> FROM <rel> t" with ttpdb.as_of set to "at" for its
 * duration; the rows go to "dest", or if it is NULL are in SPI_tuptable until
 * end_as_of_query().  Returns the GUC nest level to give back.
 */
static int
begin_as_of_query(Relation rel, TimestampTz at, const char *columns, DestReceiver *dest)
{
	char	   *query = psprintf("SELECT %s FROM %s t", columns,
								 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
															RelationGetRelationName(rel)));
	int			nest = NewGUCNestLevel();
	SPIExecuteOptions options;

	(void) set_config_option("ttpdb.as_of", timestamptz_to_str(at),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	memset(&options, 0, sizeof(options));
	options.read_only = true;
	options.dest = dest;
	if (SPI_execute_extended(query, &options) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_extended failed: %s", query);
	return nest;
}

static void
end_as_of_query(Relation rel, int nest)
{
	SPI_finish();
	AtEOXact_GUC(true, nest);
	table_close(rel, AccessShareLock);
}

PG_FUNCTION_INFO_V1(ttpdb_as_of_rows);

/*
 * ttpdb.as_of(row anyelement, at timestamptz) returns setof anyelement
 *		The rows of the table as of "at": SELECT * FROM the table with
 *		ttpdb.as_of set to "at" for the duration of the call.
 */
Datum
ttpdb_as_of_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	TimestampTz at;
	int			nest;
	DestReceiver *dest;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the time of ttpdb.as_of() must not be null")));
	at = PG_GETARG_TIMESTAMPTZ(1);
	rel = open_table_of_row_arg(fcinfo, "ttpdb.as_of");
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	/*
	 * The rows go straight into the function's result: the receiver
	 * converts SELECT *, which has no dropped columns, to the row type,
	 * which keeps their places.
	 */
	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
									rsinfo->econtext->ecxt_per_query_memory,
									false, rsinfo->setDesc,
									gettext_noop("the table's columns do not match its row type"));
	nest = begin_as_of_query(rel, at, "*", dest);
	end_as_of_query(rel, nest);
	dest->rDestroy(dest);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ttpdb_as_of_versions);

/*
 * ttpdb.as_of_versions(row anyelement, at timestamptz) returns table
 *		(valid_from timestamptz, created_xid xid8, created_entry bigint,
 *		version anyelement)
 *		The rows of the table as of "at", as ttpdb.as_of() returns them, with
 *		where each came from: the commit stamp and transaction that created
 *		it and its log entry.
 */
Datum
ttpdb_as_of_versions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	TimestampTz at;
	int			nest;
	int64		era;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the time of ttpdb.as_of_versions() must not be null")));
	at = PG_GETARG_TIMESTAMPTZ(1);
	rel = open_table_of_row_arg(fcinfo, "ttpdb.as_of_versions");
	InitMaterializedSRF(fcinfo, 0);
	era = ttpdb_current_era();
	nest = begin_as_of_query(rel, at, "t.xmin, t.cmin, t.xmax, t", NULL);

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		bool		isnull;
		TransactionId xmin = DatumGetTransactionId(SPI_getbinval(tup, desc, 1, &isnull));
		CommandId	cmin = DatumGetCommandId(SPI_getbinval(tup, desc, 2, &isnull));
		TransactionId xmax = DatumGetTransactionId(SPI_getbinval(tup, desc, 3, &isnull));
		FullTransactionId created = ttpdb_full_xid(xmin);
		TimestampTz from = 0;
		int64		entry = 0;

		nulls[0] = !TransactionIdIsNormal(xmin) ||
			!ttpdb_commit_time(era, created, NULL, &from);
		values[0] = TimestampTzGetDatum(from);
		nulls[1] = !TransactionIdIsNormal(xmin);
		values[1] = FullTransactionIdGetDatum(created);
		nulls[2] = !log_entry_of_row(xmin, cmin, xmax, RelationGetRelid(rel), &entry);
		values[2] = Int64GetDatum(entry);
		values[3] = SPI_getbinval(tup, desc, 4, &nulls[3]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	end_as_of_query(rel, nest);
	return (Datum) 0;
}

/*
 * Emit one row of ttpdb.history(): validity, xids, the log entries that
 * created and ended the version, and the version.
 */
static void
emit_version(ReturnSetInfo *rsinfo, TupleTableSlot *slot, HeapTuple tuple,
			 bool from_known, TimestampTz from, bool to_known, TimestampTz to,
			 FullTransactionId created, FullTransactionId ended, int64 era,
			 CommandId created_cid, CommandId ended_cid, Oid relid)
{
	Datum		values[7];
	bool		nulls[7];
	int64		entry;

	ExecForceStoreHeapTuple(tuple, slot, false);
	values[0] = TimestampTzGetDatum(from);
	nulls[0] = !from_known;
	values[1] = TimestampTzGetDatum(to);
	nulls[1] = !to_known;
	values[2] = FullTransactionIdGetDatum(created);
	nulls[2] = !FullTransactionIdIsValid(created);
	values[3] = FullTransactionIdGetDatum(ended);
	nulls[3] = !FullTransactionIdIsValid(ended);
	/* a kept version's ending command id was stored with it: reliable */
	nulls[4] = !log_entry_of(era, created, created_cid,
							 created_cid != InvalidCommandId &&
							 log_cid_reliable(era, created),
							 relid, &entry);
	values[4] = Int64GetDatum(entry);
	nulls[5] = !log_entry_of(era, ended, ended_cid, ended_cid != InvalidCommandId,
							 relid, &entry);
	values[5] = Int64GetDatum(entry);
	values[6] = ExecFetchSlotHeapTupleDatum(slot);
	nulls[6] = false;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * The transaction "top" and its committed subtransactions, whose xids its
 * rows carry: the commit_times rows that name it as their top-level
 * transaction (commit_times_top_xid_idx holds only those; before 0.8, the
 * rows with its stamp, through commit_times_committed_at_idx).
 */
static FullTransactionId *
transaction_xids(FullTransactionId top, int *n)
{
	int64		era = ttpdb_current_era();
	TimestampTz stamp;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData skey[2];
	HeapTuple	tup;
	int			cap = 8;
	FullTransactionId *xids = palloc(cap * sizeof(FullTransactionId));
	Oid			top_xid_idx = ttpdb_catalog_relid_if_exists("commit_times_top_xid_idx");

	*n = 0;
	xids[(*n)++] = top;
	if (!ttpdb_commit_time(era, top, NULL, &stamp))
		return xids;
	rel = table_open(ttpdb_catalog_relid("commit_times"), AccessShareLock);
	if (OidIsValid(top_xid_idx))
	{
		ScanKeyInit(&skey[0], Anum_commit_times_era, BTEqualStrategyNumber, F_INT8EQ,
					Int64GetDatum(era));
		ScanKeyInit(&skey[1], Anum_commit_times_top_xid, BTEqualStrategyNumber, F_XID8EQ,
					FullTransactionIdGetDatum(top));
		scan = systable_beginscan(rel, top_xid_idx, true, SnapshotSelf, 2, skey);
	}
	else
	{
		ScanKeyInit(&skey[0], Anum_commit_times_committed_at, BTEqualStrategyNumber,
					F_TIMESTAMPTZ_EQ, TimestampTzGetDatum(stamp));
		scan = systable_beginscan(rel, ttpdb_catalog_relid("commit_times_committed_at_idx"),
								  true, SnapshotSelf, 1, skey);
	}
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		parent = heap_getattr(tup, Anum_commit_times_top_xid,
										  RelationGetDescr(rel), &isnull);

		if (isnull ||
			DatumGetInt64(heap_getattr(tup, Anum_commit_times_era,
									   RelationGetDescr(rel), &isnull)) != era ||
			!FullTransactionIdEquals(DatumGetFullTransactionId(parent), top))
			continue;
		if (*n == cap)
		{
			cap *= 2;
			xids = repalloc(xids, cap * sizeof(FullTransactionId));
		}
		xids[(*n)++] = DatumGetFullTransactionId(heap_getattr(tup, Anum_commit_times_xid,
															  RelationGetDescr(rel),
															  &isnull));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return xids;
}

static bool
xid_in(FullTransactionId *xids, int n, FullTransactionId xid)
{
	for (int i = 0; i < n; i++)
		if (FullTransactionIdEquals(xids[i], xid))
			return true;
	return false;
}

PG_FUNCTION_INFO_V1(ttpdb_history_rows);

/*
 * ttpdb.history(row anyelement) returns table (valid_from, valid_to,
 *		created_xid, ended_xid, version anyelement)
 *		Every version of the table the caller's snapshot can see: the kept
 *		ones, and the present ones (valid_to and ended_xid NULL).
 *		valid_from is NULL for a version created before the table was a
 *		ttpdb table, or by the caller's own open transaction.
 */
Datum
ttpdb_history_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel = open_table_of_row_arg(fcinfo, "ttpdb.history");
	Snapshot	snapshot = GetActiveSnapshot();
	TupleTableSlot *out = MakeSingleTupleTableSlot(RelationGetDescr(rel),
												   &TTSOpsHeapTuple);
	TupleTableSlot *slot;
	TableScanDesc scan;
	HistoryScan history;
	HistoryVersion version;
	FullTransactionId *filter = NULL;
	int			nfilter = 0;
	FullTransactionId filter_top = InvalidFullTransactionId;

	InitMaterializedSRF(fcinfo, 0);
	if (rsinfo->setDesc->natts != 7)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the installed ttpdb extension is older than its library"),
				 errhint("Run ALTER EXTENSION ttpdb UPDATE.")));
	/* ttpdb.history(NULL::t, transaction): only what that transaction did */
	if (PG_NARGS() > 1)
	{
		if (PG_ARGISNULL(1))
		{
			ExecDropSingleTupleTableSlot(out);
			table_close(rel, AccessShareLock);
			return (Datum) 0;
		}
		filter = transaction_xids(PG_GETARG_FULLTRANSACTIONID(1), &nfilter);
		filter_top = PG_GETARG_FULLTRANSACTIONID(1);
	}

	/* ttpdb.history(NULL::t, transaction, false): only the kept versions */
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2) && !PG_GETARG_BOOL(2))
		goto past;

	/* the present: the heap's own scan, whatever ttpdb.as_of says */
	slot = table_slot_create(rel, NULL);
	scan = ttpdb_heap_routine()->scan_begin(rel, snapshot, 0, NULL, NULL,
											SO_TYPE_SEQSCAN | SO_ALLOW_PAGEMODE);
	while (ttpdb_heap_routine()->scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		should_free;
		HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
		TransactionId xmin = HeapTupleHeaderGetRawXmin(tuple->t_data);
		FullTransactionId created = ttpdb_full_xid(xmin);
		TimestampTz from = 0;
		bool		known;

		if (filter != NULL && !xid_in(filter, nfilter, created))
		{
			if (should_free)
				heap_freetuple(tuple);
			continue;
		}
		known = !TransactionIdIsCurrentTransactionId(xmin) &&
			ttpdb_commit_time(ttpdb_current_era(), created, NULL, &from);
		emit_version(rsinfo, out, tuple, known, from, false, 0, created,
					 InvalidFullTransactionId, ttpdb_current_era(),
					 known ? history_creation_cid(tuple->t_data) : InvalidCommandId,
					 InvalidCommandId, RelationGetRelid(rel));
		if (should_free)
			heap_freetuple(tuple);
	}
	ttpdb_heap_routine()->scan_end(scan);
	ExecDropSingleTupleTableSlot(slot);

	/* the past */
past:
	history = history_begin_scan(rel, snapshot);
	while (history_next(history, &version))
	{
		TimestampTz to = 0;
		bool		to_known;
		HeapTuple	tuple;
		CommandId	created_cid = InvalidCommandId;
		CommandId	ended_cid = InvalidCommandId;

		/* filtered before decompressing */
		if (filter != NULL &&
			(version.era != ttpdb_current_era() ||
			 (!FullTransactionIdEquals(version.ended_xid, filter_top) &&
			  !xid_in(filter, nfilter, version.created_xid))))
			continue;
		to_known = version.valid_to_known;
		to = version.valid_to;
		if (!to_known)
			to_known = ttpdb_commit_time(version.era, version.ended_xid, snapshot, &to);
		tuple = history_version_tuple(history);
		(void) history_version_cids(tuple, &created_cid, &ended_cid);
		emit_version(rsinfo, out, tuple, version.valid_from_known,
					 version.valid_from, to_known, to, version.created_xid,
					 version.ended_xid, version.era, created_cid, ended_cid,
					 RelationGetRelid(rel));
		pfree(tuple);
	}
	history_end_scan(history);

	ExecDropSingleTupleTableSlot(out);
	table_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * Open ttpdb table "relid" for maintenance of its history, as its owner,
 * with the lock VACUUM takes: pruners and packers of one table take turns.
 */
static Relation
open_table_for_maintenance(Oid relid)
{
	Relation	rel = table_open(relid, ShareUpdateExclusiveLock);

	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, RelationGetRelationName(rel));
	if (!ttpdb_is_ttpdb_relation(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" does not use the ttpdb access method",
						RelationGetRelationName(rel))));
	return rel;
}

PG_FUNCTION_INFO_V1(ttpdb_prune_history);

/*
 * ttpdb.prune_history(tbl regclass, older_than timestamptz) returns bigint
 *		Delete the kept versions of "tbl" that stopped being valid before
 *		"older_than", and return how many.  AS OF reads of times before
 *		"older_than" lose those versions.  Only the table's owner may.
 */
Datum
ttpdb_prune_history(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TimestampTz older_than = PG_GETARG_TIMESTAMPTZ(1);
	Relation	rel;
	Relation	history;
	SysScanDesc scan;
	HeapTuple	tup;
	Snapshot	snapshot;
	int64		pruned = 0;

	rel = open_table_for_maintenance(relid);
	ttpdb_check_writable(rel);
	/* retention is explicit, and logged */
	ttpdb_note_write();
	(void) log_current_statement(rel);

	snapshot = RegisterSnapshot(ttpdb_latest_snapshot());
	history = table_open(ttpdb_catalog_relid("history"), RowExclusiveLock);
	scan = history_scan_relid(history, "history_relid_idx", relid, snapshot);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		bool		era_isnull;
		Datum		era = heap_getattr(tup, Anum_history_era, RelationGetDescr(history),
										   &era_isnull);
		Datum		ended = heap_getattr(tup, Anum_history_ended_xid, RelationGetDescr(history),
											 &isnull);
		TimestampTz stamp;

		if (!isnull && !era_isnull &&
			ttpdb_commit_time(DatumGetInt64(era), DatumGetFullTransactionId(ended),
							  snapshot, &stamp) &&
			stamp < older_than)
		{
			simple_heap_delete(history, &tup->t_self);
			pruned++;
		}
		CHECK_FOR_INTERRUPTS();
	}
	systable_endscan(scan);
	table_close(history, RowExclusiveLock);
	pruned += history_prune_packs(rel, older_than, snapshot);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	PG_RETURN_INT64(pruned);
}

PG_FUNCTION_INFO_V1(ttpdb_pack_history);

/*
 * ttpdb.pack_history(tbl regclass) returns bigint
 *		Move the single kept versions of "tbl" whose transactions have
 *		committed into packs (tam_pack.c), and return how many.  Reads
 *		give the same answers before and after; only the storage changes.
 *		Like VACUUM, only the table's owner may, and it waits for a packer,
 *		pruner or vacuum of the same table to finish.
 */
Datum
ttpdb_pack_history(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	Snapshot	snapshot;
	int64		packed;

	PreventCommandIfReadOnly("ttpdb.pack_history()");
	PreventCommandDuringRecovery("ttpdb.pack_history()");
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("ttpdb.pack_history() cannot run in a REPEATABLE READ or SERIALIZABLE transaction"),
				 errdetail("It moves versions that committed after the transaction's snapshot, "
						   "which the transaction's later reads would then see."),
				 errhint("Run it in a READ COMMITTED transaction.")));
	rel = open_table_for_maintenance(relid);
	/* taken after the lock: a packer we waited for has moved what it packed */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	packed = history_pack_relation(rel, snapshot, 0);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	PG_RETURN_INT64(packed);
}

PG_FUNCTION_INFO_V1(ttpdb_keep_rows_before_rewrite);

/*
 * ttpdb.keep_rows_before_rewrite(tbl regclass, reason integer) returns void
 *		Called by the table_rewrite event trigger: ALTER TABLE is about to
 *		write every row of "tbl" again, so each present row ends now and is
 *		kept; when a column type changes (the reason has bit
 *		AT_REWRITE_COLUMN_REWRITE), the kept versions are converted to it,
 *		otherwise they get the values of fast-default columns, which the
 *		rewrite forgets (tam_alter.c).  Not for direct use.  The trigger of
 *		0.4 and earlier calls it without the reason, and never for a type
 *		change.
 */
Datum
ttpdb_keep_rows_before_rewrite(PG_FUNCTION_ARGS)
{
	Relation	rel = table_open(PG_GETARG_OID(0), AccessShareLock);
	int32		reason = (PG_NARGS() > 1 && !PG_ARGISNULL(1)) ? PG_GETARG_INT32(1) : 0;

	/* the rewriting ALTER TABLE holds the strongest lock already */
	if (!CheckRelationLockedByMe(rel, AccessExclusiveLock, false))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ttpdb.keep_rows_before_rewrite() is only called while a table is rewritten")));
	/* an unlogged table keeps no rows, but may have versions to convert */
	if (reason & AT_REWRITE_COLUMN_REWRITE)
	{
		ttpdb_note_write();
		history_keep_before_column_rewrite(rel);
	}
	else
	{
		if (rel->rd_rel->relpersistence == RELPERSISTENCE_PERMANENT)
		{
			ttpdb_note_write();
			history_append_relation(rel, RelationGetDescr(rel), false);
			/* the next command sees those */
			CommandCounterIncrement();
		}
		/* the rewrite clears the missing values of fast-default columns */
		history_keep_missing_values(rel);
	}
	/* the ALTER is logged, also when it turns a ttpdb table into a heap one */
	(void) log_current_statement(rel);
	table_close(rel, NoLock);
	PG_RETURN_VOID();
}
