/*-------------------------------------------------------------------------
 *
 * tam_commit.c
 *	  System time for ttpdb tables: each transaction that writes one is
 *	  stamped, at commit, with a time that follows commit order.
 *
 * The stamp is taken in the pre-commit callback while holding the commit-
 * order lock exclusively, written to ttpdb.commit_times in the same
 * transaction, and the lock is released only once the commit is complete
 * (the commit callback runs after the transaction left the proc array).
 * Stamps are strictly increasing (ties are broken by a microsecond), so:
 *
 *	- stamp order is commit order, which transaction start times (what
 *	  trigger-based temporal tables use) are not;
 *	- a reader that takes the lock in shared mode once (ttpdb_commit_barrier)
 *	  knows that every transaction stamped up to now has finished
 *	  committing, so "committed as of T" has one answer for every reader.
 *
 * Only transactions that write ttpdb tables take the lock.  A rolled-back
 * transaction leaves no stamp: its row in commit_times is rolled back too.
 * PREPARE TRANSACTION is refused for them, because COMMIT PREPARED runs
 * without this backend's callbacks.
 *
 * Stamps are immutable once committed, so lookups are cached per backend.
 *
 * IDENTIFICATION
 *	  src/tam/tam_commit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "ttpdb.h"
#include "tam.h"

/* Most cached stamps per backend before the cache starts over. */
#define COMMIT_CACHE_MAX	(1024 * 1024)

typedef struct TtpdbCommitShared
{
	LWLock	   *lock;			/* commit order */
	TimestampTz last_stamp;		/* protected by lock */
} TtpdbCommitShared;

typedef struct CommitCacheKey
{
	int64		era;
	uint64		fxid;
} CommitCacheKey;

typedef struct CommitCacheEntry
{
	CommitCacheKey key;			/* hash key */
	TimestampTz stamp;
} CommitCacheEntry;

static TtpdbCommitShared *commit_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This backend's transaction wrote a ttpdb table. */
static bool xact_wrote = false;

/* We hold the commit-order lock between pre-commit and commit. */
static bool holding_commit_lock = false;

static HTAB *commit_cache = NULL;

/* This database's era, and the ttpdb.era table it was read from. */
static Oid	era_relid = InvalidOid;
static int64 era_value = 0;

static void ttpdb_commit_shmem_request(void);
static void ttpdb_commit_shmem_startup(void);
static void ttpdb_xact_callback(XactEvent event, void *arg);
static void stamp_transaction(void);

/*
 * ttpdb_commit_install_hooks
 *		Reserve and attach the shared state; called from _PG_init while
 *		shared_preload_libraries is processed.
 */
void
ttpdb_commit_install_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ttpdb_commit_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ttpdb_commit_shmem_startup;
}

static void
ttpdb_commit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(TtpdbCommitShared)));
	RequestNamedLWLockTranche("ttpdb commit order", 1);
}

static void
ttpdb_commit_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	ttpdb_commit_init_shmem();
}

/*
 * ttpdb_commit_init_shmem
 *		Attach to (creating if need be) the shared commit-order state.
 */
void
ttpdb_commit_init_shmem(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	commit_shared = ShmemInitStruct("ttpdb commit order",
									sizeof(TtpdbCommitShared), &found);
	if (!found)
	{
		commit_shared->lock = &(GetNamedLWLockTranche("ttpdb commit order"))->lock;
		commit_shared->last_stamp = 0;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * ttpdb_commit_register_callbacks
 *		Install the transaction callback; called once from _PG_init.
 */
void
ttpdb_commit_register_callbacks(void)
{
	RegisterXactCallback(ttpdb_xact_callback, NULL);
}

/*
 * ttpdb_note_write
 *		Record that the current transaction writes a ttpdb table, so that it
 *		is stamped at commit.  Every write path of the access method calls
 *		this before writing.
 */
void
ttpdb_note_write(void)
{
	ttpdb_require_preload("writing to a ttpdb table");
	if (commit_shared == NULL)
		elog(ERROR, "ttpdb shared memory is not initialised");
	xact_wrote = true;
}

/*
 * ttpdb_commit_barrier
 *		Wait until every transaction stamped so far has finished committing.
 */
void
ttpdb_commit_barrier(void)
{
	ttpdb_require_preload("reading a ttpdb table as of a past time");
	if (commit_shared == NULL)
		elog(ERROR, "ttpdb shared memory is not initialised");
	LWLockAcquire(commit_shared->lock, LW_SHARED);
	LWLockRelease(commit_shared->lock);
}

static void
ttpdb_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (xact_wrote)
				stamp_transaction();
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (xact_wrote)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that has written to a ttpdb table"),
						 errdetail("The commit time of a ttpdb write is taken when it commits, "
								   "which COMMIT PREPARED does outside this session.")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* AbortTransaction has already released every LWLock */
			if (holding_commit_lock && LWLockHeldByMe(commit_shared->lock))
				LWLockRelease(commit_shared->lock);
			holding_commit_lock = false;
			xact_wrote = false;
			break;
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			break;
	}
}

/*
 * Take the commit-order lock, pick a stamp greater than every earlier one,
 * and record it for the top-level transaction and its committed
 * subtransactions (their xids are what tuples carry).  The lock stays held
 * until the commit callback.
 */
static void
stamp_transaction(void)
{
	FullTransactionId top = GetTopFullTransactionIdIfAny();
	TransactionId *children;
	int			nchildren;
	TimestampTz stamp;
	Relation	rel;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	uint32		epoch;
	int64		era;

	if (!FullTransactionIdIsValid(top))
		return;					/* wrote nothing after all */

	nchildren = xactGetCommittedChildren(&children);
	era = ttpdb_current_era();
	rel = table_open(ttpdb_catalog_relid("commit_times"), RowExclusiveLock);

	LWLockAcquire(commit_shared->lock, LW_EXCLUSIVE);
	holding_commit_lock = true;

	stamp = GetCurrentTimestamp();
	if (stamp <= commit_shared->last_stamp)
		stamp = commit_shared->last_stamp + 1;
	commit_shared->last_stamp = stamp;

	values[0] = Int64GetDatum(era);
	values[2] = TimestampTzGetDatum(stamp);
	values[1] = FullTransactionIdGetDatum(top);
	ttpdb_insert_with_indexes(rel, heap_form_tuple(RelationGetDescr(rel), values, nulls));

	/* children are younger than the top-level xid: same epoch or the next */
	epoch = EpochFromFullTransactionId(top);
	for (int i = 0; i < nchildren; i++)
	{
		uint32		child_epoch = epoch;

		if (children[i] < XidFromFullTransactionId(top))
			child_epoch++;
		values[1] = FullTransactionIdGetDatum(FullTransactionIdFromEpochAndXid(child_epoch,
																			   children[i]));
		ttpdb_insert_with_indexes(rel, heap_form_tuple(RelationGetDescr(rel), values, nulls));
	}
	table_close(rel, NoLock);
}

/*
 * ttpdb_full_xid
 *		Widen a 32-bit xid seen in a tuple to the FullTransactionId it
 *		stands for: the latest one not after the next xid.
 */
FullTransactionId
ttpdb_full_xid(TransactionId xid)
{
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		epoch = EpochFromFullTransactionId(next);

	if (xid > XidFromFullTransactionId(next) && epoch > 0)
		epoch--;
	return FullTransactionIdFromEpochAndXid(epoch, xid);
}

/*
 * ttpdb_current_era
 *		This database's era (see ttpdb.era): the xids of its own tuples
 *		belong to it.
 */
int64
ttpdb_current_era(void)
{
	Oid			relid = ttpdb_catalog_relid("era");

	if (relid != era_relid)
	{
		Relation	rel = table_open(relid, AccessShareLock);
		SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
		HeapTuple	tup = systable_getnext(scan);
		bool		isnull;

		if (!HeapTupleIsValid(tup))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("ttpdb.era is empty"),
					 errhint("Reinstall the extension: the table is created with it.")));
		era_value = DatumGetInt64(heap_getattr(tup, 1, RelationGetDescr(rel), &isnull));
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		era_relid = relid;
	}
	return era_value;
}

/*
 * ttpdb_commit_time
 *		The stamp of a committed transaction of the given era, from
 *		commit_times.  False when it has none: it committed before its table
 *		was a ttpdb table (or wrote none).  The lookup uses the given
 *		snapshot, or the latest one when it is NULL.  Only stamps found are
 *		cached: a miss may be a commit the snapshot does not see yet.
 */
bool
ttpdb_commit_time(int64 era, FullTransactionId fxid, Snapshot snapshot,
				  TimestampTz *stamp)
{
	CommitCacheKey key;
	CommitCacheEntry *entry;
	bool		found;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData skey[2];
	HeapTuple	tup;

	if (commit_cache == NULL || hash_get_num_entries(commit_cache) >= COMMIT_CACHE_MAX)
	{
		HASHCTL		ctl;

		if (commit_cache != NULL)
			hash_destroy(commit_cache);
		ctl.keysize = sizeof(CommitCacheKey);
		ctl.entrysize = sizeof(CommitCacheEntry);
		ctl.hcxt = TopMemoryContext;
		commit_cache = hash_create("ttpdb commit stamps", 1024, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	memset(&key, 0, sizeof(key));
	key.era = era;
	key.fxid = U64FromFullTransactionId(fxid);
	entry = hash_search(commit_cache, &key, HASH_FIND, &found);
	if (found)
	{
		*stamp = entry->stamp;
		return true;
	}

	rel = table_open(ttpdb_catalog_relid("commit_times"), AccessShareLock);
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(era));
	ScanKeyInit(&skey[1], 2, BTEqualStrategyNumber, F_XID8EQ,
				FullTransactionIdGetDatum(fxid));
	scan = systable_beginscan(rel, ttpdb_catalog_relid("commit_times_pkey"),
							  true, snapshot ? snapshot : GetLatestSnapshot(),
							  2, skey);
	tup = systable_getnext(scan);
	found = HeapTupleIsValid(tup);
	if (found)
	{
		bool		isnull;

		*stamp = DatumGetTimestampTz(heap_getattr(tup, 3, RelationGetDescr(rel),
												  &isnull));
		entry = hash_search(commit_cache, &key, HASH_ENTER, NULL);
		entry->stamp = *stamp;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}
