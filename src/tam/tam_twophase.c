/*-------------------------------------------------------------------------
 *
 * tam_twophase.c
 *	  PREPARE TRANSACTION and COMMIT PREPARED of transactions that wrote
 *	  ttpdb tables or logged statements.
 *
 * A transaction is stamped when it commits (tam_commit.c).  A prepared
 * transaction P commits in COMMIT PREPARED, run by another transaction C,
 * often in another session, so C stamps it.
 *
 * PREPARE (the pre-prepare callback, in P): P's xids get commit_times rows
 * stamped 'infinity', and P's log entries, which live in backend memory
 * until commit, go to ttpdb.prepared_writes with P's identifier and
 * subtransactions.  No one sees either before P commits.
 *
 * COMMIT PREPARED (a ProcessUtility hook, in C): before P commits, C picks
 * P's stamp S under the commit lock, posts it in flight, and reserves and
 * links the numbers of P's entries; then P commits; then C claims P by
 * deleting its prepared_writes row, writes S into P's commit_times rows and
 * inserts its entries.  S is picked before P commits, so a transaction that
 * saw P's changes is stamped after it.  S stays in flight until C ends, so
 * a reader as of T >= S waits for C, while a reader as of T < S sees P,
 * committed or not, as not committed by T ('infinity' is later than T).
 *
 * If C fails after P committed (a crash, an error), P is left committed with
 * 'infinity': committed as of no time, which every reader agrees on.  The
 * next transaction of the database that writes a ttpdb table stamps it, as
 * C would have, with a stamp of its own, in its pre-commit callback
 * (tam_commit.c calls ttpdb_twophase_stamp_unstamped()).  Claiming P by
 * deleting its row makes one transaction stamp it: another waits for that
 * one, then reads the stamp it wrote.  Every backend looks for such
 * transactions once after startup and after each failure that may have left
 * one (the "unstamped generation" of tam_commit.c).
 *
 * A writer that keeps a version P created needs P's stamp as the version's
 * start.  While C is stamping P it waits for C; if P was left unstamped, it
 * keeps the version without a start and writes it when it has stamped P
 * before its own stamp.  Stamping P in the middle of the writer's
 * transaction would keep P's stamp in flight, holding back readers, for as
 * long as that transaction lasts.
 *
 * IDENTIFICATION
 *	  src/tam/tam_twophase.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "ttpdb.h"
#include "log/log.h"
#include "tam.h"

/* Columns of ttpdb.prepared_writes. */
#define Anum_prepared_writes_gid		1
#define Anum_prepared_writes_era		2
#define Anum_prepared_writes_xid		3
#define Anum_prepared_writes_children	4
#define Anum_prepared_writes_entries	5
#define Natts_prepared_writes			5

/* A prepared transaction's row of ttpdb.prepared_writes, read back. */
typedef struct PreparedWrite
{
	ItemPointerData tid;
	int64		era;
	FullTransactionId xid;
	FullTransactionId *children;
	int			nchildren;
	List	   *entries;		/* log_entries_from_array() */
	TimestampTz stamp;			/* once picked */
	int64		first_entry;
} PreparedWrite;

/* A prepared transaction found committed without a stamp. */
typedef struct UnstampedXact
{
	int64		era;
	FullTransactionId xid;
	char	   *gid;
} UnstampedXact;

static ProcessUtility_hook_type prev_process_utility_hook = NULL;

/* The identifier PREPARE TRANSACTION gave this transaction (xact.c keeps its own). */
static char *prepare_gid = NULL;

/*
 * This transaction committed a prepared one whose stamp it has not
 * committed yet: if it fails, that one is left unstamped.
 */
static bool committed_unstamped = false;

/* The unstamped generation (tam_commit.c) this backend last looked at. */
static uint64 unstamped_checked = 0;

/* The generation this transaction looked at, once it commits. */
static uint64 unstamped_checking = 0;

/* This transaction claimed an unstamped prepared transaction to stamp it. */
static bool claimed_unstamped = false;

/*
 * Versions this transaction kept whose creator was left unstamped: their
 * ttpdb.history rows, whose valid_from it writes once it has stamped the
 * creator.  In TopTransactionContext.
 */
typedef struct UnstampedCreator
{
	ItemPointerData tid;
	int64		era;
	FullTransactionId created;
} UnstampedCreator;

static List *unstamped_creators = NIL;

static void twophase_process_utility(PlannedStmt *pstmt, const char *queryString,
									 bool readOnlyTree, ProcessUtilityContext context,
									 ParamListInfo params, QueryEnvironment *queryEnv,
									 DestReceiver *dest, QueryCompletion *qc);

/*
 * ttpdb_twophase_init
 *		Install the hook that sees PREPARE TRANSACTION and COMMIT PREPARED;
 *		from _PG_init.
 */
void
ttpdb_twophase_init(void)
{
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = twophase_process_utility;
}

/*
 * ttpdb_twophase_keep
 *		At PREPARE TRANSACTION: keep what COMMIT PREPARED needs to stamp the
 *		transaction "top": its committed subtransactions (whose commit_times
 *		rows the caller wrote) and its log entries.
 */
void
ttpdb_twophase_keep(int64 era, FullTransactionId top, FullTransactionId *children,
					int nchildren, List *entries)
{
	Relation	rel;
	Relation	log_rel;
	Datum		values[Natts_prepared_writes];
	bool		nulls[Natts_prepared_writes];
	Datum	   *child_datums = palloc(sizeof(Datum) * Max(nchildren, 1));

	if (prepare_gid == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot prepare a transaction that wrote ttpdb tables without PREPARE TRANSACTION"),
				 errdetail("The transaction identifier is read from the PREPARE TRANSACTION statement; "
						   "a logical replication subscription with two_phase = on prepares without one.")));
	for (int i = 0; i < nchildren; i++)
		child_datums[i] = FullTransactionIdGetDatum(children[i]);

	rel = table_open(ttpdb_catalog_relid("prepared_writes"), RowExclusiveLock);
	/* for the row type of the entries, even when there are none */
	log_rel = table_open(ttpdb_catalog_relid("log_entries"), AccessShareLock);
	memset(nulls, false, sizeof(nulls));
	values[Anum_prepared_writes_gid - 1] = CStringGetTextDatum(prepare_gid);
	values[Anum_prepared_writes_era - 1] = Int64GetDatum(era);
	values[Anum_prepared_writes_xid - 1] = FullTransactionIdGetDatum(top);
	values[Anum_prepared_writes_children - 1] =
		PointerGetDatum(construct_array(child_datums, nchildren, XID8OID, sizeof(uint64),
										FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[Anum_prepared_writes_entries - 1] = log_entries_to_array(log_rel, entries);
	ttpdb_insert_with_indexes(rel, heap_form_tuple(RelationGetDescr(rel), values, nulls));
	table_close(log_rel, AccessShareLock);
	table_close(rel, NoLock);
}

/* Read a prepared_writes row; its arrays may be toasted (needs a snapshot). */
static PreparedWrite *
read_prepared_write(Relation rel, HeapTuple tup)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	PreparedWrite *pw = palloc0(sizeof(PreparedWrite));
	TupleDesc	desc = RelationGetDescr(rel);
	Datum		values[Natts_prepared_writes];
	bool		nulls[Natts_prepared_writes];
	Datum	   *child_datums;
	int			nchildren;
	Relation	log_rel;

	heap_deform_tuple(tup, desc, values, nulls);
	pw->tid = tup->t_self;
	pw->era = DatumGetInt64(values[Anum_prepared_writes_era - 1]);
	pw->xid = DatumGetFullTransactionId(values[Anum_prepared_writes_xid - 1]);
	deconstruct_array(DatumGetArrayTypeP(values[Anum_prepared_writes_children - 1]),
					  XID8OID, sizeof(uint64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &child_datums, NULL, &nchildren);
	pw->children = palloc(sizeof(FullTransactionId) * Max(nchildren, 1));
	for (int i = 0; i < nchildren; i++)
		pw->children[i] = DatumGetFullTransactionId(child_datums[i]);
	pw->nchildren = nchildren;
	log_rel = table_open(ttpdb_catalog_relid("log_entries"), AccessShareLock);
	pw->entries = log_entries_from_array(log_rel, values[Anum_prepared_writes_entries - 1]);
	table_close(log_rel, AccessShareLock);
	MemoryContextSwitchTo(old);
	return pw;
}

/*
 * Pick the prepared transaction's stamp, post it in flight, and number and
 * link its entries (tam_commit.c).
 */
static void
take_stamp(PreparedWrite *pw, bool committing)
{
	Relation	commit_rel;
	Relation	log_rel = NULL;
	Relation	log_pkey = NULL;

	/* locks are taken before the commit lock, never under it */
	commit_rel = table_open(ttpdb_catalog_relid("commit_times"), RowExclusiveLock);
	if (pw->entries != NIL)
	{
		log_rel = table_open(ttpdb_catalog_relid("log_entries"), RowExclusiveLock);
		log_pkey = index_open(ttpdb_catalog_relid("log_entries_pkey"), RowExclusiveLock);
	}
	pw->stamp = ttpdb_commit_take_stamp(commit_rel, log_rel, log_pkey, pw->entries,
										&pw->first_entry,
										committing ? pw->xid : InvalidFullTransactionId);
	if (log_rel != NULL)
	{
		index_close(log_pkey, NoLock);
		table_close(log_rel, NoLock);
	}
	table_close(commit_rel, NoLock);
}

/*
 * Claim the committed prepared transaction by deleting its prepared_writes
 * row: false when another transaction did (and has committed, after we
 * waited for it), or this one already.
 */
static bool
claim_prepared_write(Relation rel, PreparedWrite *pw)
{
	TM_FailureData tmfd;
	TM_Result	result;

	result = heap_delete(rel, &pw->tid, GetCurrentCommandId(true), InvalidSnapshot,
						 true, &tmfd, false);
	switch (result)
	{
		case TM_Ok:
			return true;
		case TM_SelfModified:
		case TM_Updated:
		case TM_Deleted:
			return false;
		default:
			elog(ERROR, "unexpected result %d deleting from ttpdb.prepared_writes",
				 (int) result);
	}
	return false;				/* keep the compiler quiet */
}

/* Write the claimed prepared transaction's stamp and log entries. */
static void
write_stamp(PreparedWrite *pw)
{
	Relation	commit_rel = table_open(ttpdb_catalog_relid("commit_times"), RowExclusiveLock);

	ttpdb_commit_times_restamp(commit_rel, pw->era, pw->xid, pw->stamp, pw->first_entry,
							   list_length(pw->entries));
	for (int i = 0; i < pw->nchildren; i++)
		ttpdb_commit_times_restamp(commit_rel, pw->era, pw->children[i], pw->stamp, 0, -1);
	table_close(commit_rel, NoLock);
	if (pw->entries != NIL)
	{
		Relation	log_rel = table_open(ttpdb_catalog_relid("log_entries"), RowExclusiveLock);

		log_write_entry_list(log_rel, pw->entries);
		table_close(log_rel, NoLock);
	}
}

/*
 * Before COMMIT PREPARED: find the transaction's prepared_writes row (its
 * own insert, so not committed yet: read as a dirty snapshot sees it) and
 * pick its stamp.  NULL when it wrote no ttpdb table (or is not prepared:
 * COMMIT PREPARED reports that).
 */
static PreparedWrite *
stamp_before_commit_prepared(const char *gid)
{
	Oid			relid;
	Relation	rel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	SnapshotData dirty;
	PreparedWrite *pw = NULL;

	/* COMMIT PREPARED refuses to run in a transaction block itself */
	if (!ttpdb_is_preloaded() || !IsTransactionState() || IsTransactionBlock() ||
		RecoveryInProgress())
		return NULL;
	relid = ttpdb_catalog_relid_if_exists("prepared_writes");
	if (!OidIsValid(relid))
		return NULL;

	/* the rows' arrays may be toasted: reading them needs a snapshot */
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(relid, RowExclusiveLock);
	InitDirtySnapshot(dirty);
	ScanKeyInit(&skey, Anum_prepared_writes_gid, BTEqualStrategyNumber, F_TEXTEQ,
				CStringGetTextDatum(gid));
	scan = systable_beginscan(rel, ttpdb_catalog_relid("prepared_writes_gid_idx"), true,
							  &dirty, 1, &skey);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TransactionId xmin = HeapTupleHeaderGetXmin(tup->t_data);

		/*
		 * the prepared transaction's own row: not a committed one left
		 * unstamped, nor that of a transaction preparing with the same gid
		 * (a backend runs it; a prepared one has no process)
		 */
		if (TransactionIdIsInProgress(xmin) && !TransactionIdIsCurrentTransactionId(xmin) &&
			BackendXidGetPid(xmin) == 0)
		{
			pw = read_prepared_write(rel, tup);
			break;
		}
	}
	systable_endscan(scan);
	table_close(rel, NoLock);
	PopActiveSnapshot();
	if (pw != NULL)
		take_stamp(pw, true);
	return pw;
}

/*
 * After COMMIT PREPARED: the transaction has committed, with 'infinity' for
 * a stamp.  Claim it and write the stamp picked before.  Nothing here may
 * be cancelled: P would be left unstamped until the next writer.
 */
static void
stamp_after_commit_prepared(PreparedWrite *pw)
{
	Relation	rel;

	HOLD_INTERRUPTS();
	PushActiveSnapshot(GetLatestSnapshot());
	rel = table_open(ttpdb_catalog_relid("prepared_writes"), RowExclusiveLock);
	if (claim_prepared_write(rel, pw))
		write_stamp(pw);
	table_close(rel, NoLock);
	PopActiveSnapshot();
	RESUME_INTERRUPTS();
}

static void
twophase_process_utility(PlannedStmt *pstmt, const char *queryString,
						 bool readOnlyTree, ProcessUtilityContext context,
						 ParamListInfo params, QueryEnvironment *queryEnv,
						 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	TransactionStmt *stmt = IsA(parsetree, TransactionStmt) ? (TransactionStmt *) parsetree : NULL;
	PreparedWrite *pw = NULL;

	if (stmt != NULL && stmt->kind == TRANS_STMT_PREPARE)
	{
		/* the transaction is prepared when this statement's command ends */
		if (prepare_gid != NULL)
			pfree(prepare_gid);
		prepare_gid = MemoryContextStrdup(TopMemoryContext, stmt->gid);
	}
	else if (stmt != NULL && stmt->kind == TRANS_STMT_COMMIT_PREPARED)
	{
		pw = stamp_before_commit_prepared(stmt->gid);
		/* from here, a failure may leave it committed without its stamp */
		committed_unstamped = (pw != NULL);
	}

	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context,
								  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	if (pw != NULL)
		stamp_after_commit_prepared(pw);
}

/* The top-level transaction of a stamped xid, from its commit_times row. */
static FullTransactionId
top_of(int64 era, FullTransactionId fxid)
{
	Relation	rel = table_open(ttpdb_catalog_relid("commit_times"), AccessShareLock);
	SysScanDesc scan = ttpdb_commit_times_scan(rel, era, fxid, NULL);
	HeapTuple	tup = systable_getnext(scan);
	FullTransactionId top = fxid;

	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		value = heap_getattr(tup, Anum_commit_times_top_xid,
										 RelationGetDescr(rel), &isnull);

		if (!isnull)
			top = DatumGetFullTransactionId(value);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return top;
}

/*
 * Stamp the committed prepared transaction "top" of the era, unless another
 * transaction does; in this transaction, with a stamp of its own.
 */
static void
stamp_left_unstamped(Relation rel, int64 era, FullTransactionId top)
{
	ScanKeyData skey[2];
	SysScanDesc scan;
	HeapTuple	tup;
	PreparedWrite *pw = NULL;

	/* COMMIT PREPARED picked its stamp and is about to write it */
	ttpdb_commit_wait_for_prepared(top);

	ScanKeyInit(&skey[0], Anum_prepared_writes_era, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(era));
	ScanKeyInit(&skey[1], Anum_prepared_writes_xid, BTEqualStrategyNumber, F_XID8EQ,
				FullTransactionIdGetDatum(top));
	/* committed rows, and one another transaction is claiming (deleting) */
	scan = systable_beginscan(rel, ttpdb_catalog_relid("prepared_writes_pkey"), true,
							  SnapshotSelf, 2, skey);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup) &&
		!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
		pw = read_prepared_write(rel, tup);
	systable_endscan(scan);
	if (pw != NULL && claim_prepared_write(rel, pw))
	{
		claimed_unstamped = true;
		take_stamp(pw, false);
		write_stamp(pw);
	}
}

/*
 * ttpdb_twophase_wait
 *		The stamp of "fxid", a committed xid whose stamp was 'infinity': a
 *		prepared transaction that COMMIT PREPARED is stamping (wait for
 *		it), or that was left unstamped ('infinity' still: the caller notes
 *		what needs the stamp, and the transaction stamps it at commit).
 */
TimestampTz
ttpdb_twophase_wait(int64 era, FullTransactionId fxid)
{
	TimestampTz stamp;

	ttpdb_commit_wait_for_prepared(top_of(era, fxid));
	if (!ttpdb_commit_time(era, fxid, NULL, &stamp))
		return DT_NOEND;
	return stamp;
}

/*
 * ttpdb_twophase_note_unstamped_creator
 *		The ttpdb.history row at "tid", just written, keeps a version whose
 *		creator "created" was left unstamped: write its valid_from when this
 *		transaction has stamped it.
 */
void
ttpdb_twophase_note_unstamped_creator(ItemPointer tid, int64 era, FullTransactionId created)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	UnstampedCreator *u = palloc(sizeof(UnstampedCreator));

	u->tid = *tid;
	u->era = era;
	u->created = created;
	unstamped_creators = lappend(unstamped_creators, u);
	MemoryContextSwitchTo(old);
}

/*
 * Write the start of the versions noted by
 * ttpdb_twophase_note_unstamped_creator(), now that their creators are
 * stamped.  A row a rolled-back subtransaction wrote is gone: skipped.
 */
static void
write_unstamped_starts(void)
{
	Relation	history = table_open(ttpdb_catalog_relid("history"), RowExclusiveLock);
	ListCell   *lc;

	/* the rows may have been written by the current command */
	CommandCounterIncrement();
	foreach(lc, unstamped_creators)
	{
		UnstampedCreator *u = lfirst(lc);
		HeapTupleData tuple;
		Buffer		buffer;
		TimestampTz stamp;
		Datum		values[Natts_history];
		bool		nulls[Natts_history];
		bool		replace[Natts_history];

		if (!ttpdb_commit_time(u->era, u->created, NULL, &stamp) || TIMESTAMP_IS_NOEND(stamp))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("transaction %llu that created a kept version has no commit stamp",
							(unsigned long long) U64FromFullTransactionId(u->created)),
					 errdetail("It is a prepared transaction whose COMMIT PREPARED did not finish.")));
		tuple.t_self = u->tid;
		if (!heap_fetch(history, SnapshotSelf, &tuple, &buffer, false))
			continue;
		memset(replace, false, sizeof(replace));
		memset(nulls, false, sizeof(nulls));
		values[Anum_history_valid_from - 1] = TimestampTzGetDatum(stamp);
		replace[Anum_history_valid_from - 1] = true;
		ttpdb_update_with_indexes(history, &u->tid,
								  heap_modify_tuple(&tuple, RelationGetDescr(history),
													values, nulls, replace));
		ReleaseBuffer(buffer);
	}
	table_close(history, NoLock);
}

/* Error context while stamping one: names it by its gid. */
static void
stamp_left_unstamped_context(void *arg)
{
	UnstampedXact *xact = (UnstampedXact *) arg;

	errcontext("stamping prepared transaction \"%s\", committed without its commit stamp",
			   xact->gid);
}

/*
 * ttpdb_twophase_stamp_unstamped
 *		Before a transaction that writes ttpdb tables takes its stamp: stamp
 *		every prepared transaction left committed without one, once per
 *		backend after each time that may have happened.
 */
void
ttpdb_twophase_stamp_unstamped(void)
{
	uint64		generation = ttpdb_unstamped_generation();
	Oid			relid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *unstamped = NIL;
	ListCell   *lc;
	bool		pushed = false;

	if (generation == unstamped_checked && unstamped_creators == NIL)
		return;
	relid = ttpdb_catalog_relid_if_exists("prepared_writes");
	if (!OidIsValid(relid))
	{
		unstamped_checked = generation;
		return;
	}
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetLatestSnapshot());
		pushed = true;
	}
	rel = table_open(relid, RowExclusiveLock);
	/* still prepared ones are not visible to SnapshotSelf: committed ones are */
	scan = systable_beginscan(rel, InvalidOid, false, SnapshotSelf, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		UnstampedXact *xact;

		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
			continue;
		xact = palloc(sizeof(UnstampedXact));
		xact->era = DatumGetInt64(heap_getattr(tup, Anum_prepared_writes_era,
											   RelationGetDescr(rel), &isnull));
		xact->xid = DatumGetFullTransactionId(heap_getattr(tup, Anum_prepared_writes_xid,
														   RelationGetDescr(rel), &isnull));
		xact->gid = TextDatumGetCString(heap_getattr(tup, Anum_prepared_writes_gid,
													 RelationGetDescr(rel), &isnull));
		unstamped = lappend(unstamped, xact);
	}
	systable_endscan(scan);
	foreach(lc, unstamped)
	{
		UnstampedXact *xact = lfirst(lc);
		ErrorContextCallback errcallback;

		/* an error here fails this commit: say why the commit did this */
		errcallback.callback = stamp_left_unstamped_context;
		errcallback.arg = (void *) xact;
		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;
		stamp_left_unstamped(rel, xact->era, xact->xid);
		error_context_stack = errcallback.previous;
	}
	table_close(rel, NoLock);
	if (unstamped_creators != NIL)
		write_unstamped_starts();
	if (pushed)
		PopActiveSnapshot();
	/* looked at, once this transaction commits */
	unstamped_checking = generation;
}

/*
 * ttpdb_twophase_check_prepare
 *		At PREPARE TRANSACTION: refuse when the transaction kept versions of
 *		a prepared transaction left unstamped, which it would have to stamp
 *		at its commit (a prepared transaction cannot stamp another: its
 *		stamp would be posted from PREPARE to COMMIT PREPARED).
 */
void
ttpdb_twophase_check_prepare(void)
{
	if (unstamped_creators != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot PREPARE a transaction that changed rows of a prepared transaction left without a commit stamp"),
				 errdetail("COMMIT PREPARED of that transaction did not finish; "
						   "the transaction that changes its rows stamps it when it commits."),
				 errhint("Commit this transaction instead of preparing it.")));
}

/*
 * ttpdb_twophase_xact_end
 *		The transaction committed, aborted or was prepared.
 */
void
ttpdb_twophase_xact_end(bool committed)
{
	if (prepare_gid != NULL)
	{
		pfree(prepare_gid);
		prepare_gid = NULL;
	}
	if (!committed && (committed_unstamped || claimed_unstamped))
		ttpdb_unstamped_left();
	if (committed && unstamped_checking != 0)
		unstamped_checked = unstamped_checking;
	committed_unstamped = false;
	claimed_unstamped = false;
	unstamped_checking = 0;
	/* in TopTransactionContext, which goes with the transaction */
	unstamped_creators = NIL;
}
