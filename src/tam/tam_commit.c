/*-------------------------------------------------------------------------
 *
 * tam_commit.c
 *	  System time for ttpdb tables: each transaction that writes one is
 *	  stamped, at commit, with a time that follows commit order.
 *
 * The stamp is taken in the pre-commit callback, after the transaction's
 * last change, under the commit-order lock: it is max(now, last + 1us), so
 * stamps are strictly increasing.  It is written to ttpdb.commit_times in
 * the same transaction (a rollback leaves none), and posted in this
 * backend's "in flight" slot until the transaction has committed (the
 * commit callback runs after it left the proc array) or aborted.
 *
 * Why this is commit order: a transaction that saw another's changes took
 * its stamp after the other finished committing, so it is stamped later;
 * only transactions that could not see each other may finish committing in
 * another order than their stamps, and for them either order is a valid
 * history.
 *
 * Why every reader agrees on "committed as of T": ttpdb_commit_barrier(T)
 * first makes every later stamp exceed T, then waits until no stamp <= T is
 * in flight.  After it, each transaction stamped <= T has committed or
 * aborted, so a snapshot taken afterwards sees exactly those that
 * committed, whenever the reader's own snapshot was taken.
 *
 * The lock is held only to pick a stamp, never across the commit's WAL
 * flush, so committing transactions do not wait for each other.
 *
 * Only transactions that write ttpdb tables are stamped.  A prepared
 * transaction is stamped by COMMIT PREPARED, in the transaction that runs
 * it (tam_twophase.c): until then its commit_times rows say 'infinity'.
 *
 * Stamps are immutable once committed, so lookups are cached: recent ones
 * in shared memory (tam_stamp_cache.c), where each committing transaction
 * leaves its own, and what a backend had to read from the table in the
 * backend.
 *
 * IDENTIFICATION
 *	  src/tam/tam_commit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "access/xlog.h"
#include "catalog/pg_control.h"
#include "common/controldata_utils.h"
#include "storage/fd.h"
#include "utils/lsyscache.h"
#include "catalog/namespace.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"
#include "utils/xid8.h"

#include "ttpdb.h"
#include "log/log.h"
#include "tam.h"

/* Index probes of commit_times after which a reader preloads the stamps. */
#define PRELOAD_AFTER_PROBES	256

/* Most cached stamps per backend before the cache starts over. */
#define COMMIT_CACHE_MAX	(1024 * 1024)

/* Databases whose statement log can be numbered at once. */
#define LOG_CHAIN_SLOTS		64

/*
 * The tail of one database's statement log: the next entry number and the
 * last link of the hash chain.  Read from the database the first time (the
 * slot is free, or was given up by a database with no entries between
 * numbering and commit); "reserving" counts its transactions in between.
 */
typedef struct LogChainSlot
{
	Oid			dboid;			/* InvalidOid: free */
	Oid			log_relid;		/* ttpdb.log_entries, which a new extension renews */
	int64		next_entry;
	int			reserving;
	uint8		chain[LOG_HASH_LEN];
} LogChainSlot;

/*
 * A backend's transaction between its stamp and its end: the earliest stamp
 * it took (0 when none), and the prepared transaction COMMIT PREPARED is
 * stamping in it, if any.
 */
typedef struct InFlight
{
	TimestampTz stamp;
	FullTransactionId prepared;
} InFlight;

typedef struct TtpdbCommitShared
{
	LWLock	   *lock;			/* commit order */
	TimestampTz last_stamp;		/* protected by lock */
	TimestampTz started;		/* when this shared memory was made */
	/* the latest ceiling of the stamps known, of one database; lock */
	Oid			ceiling_dboid;
	Oid			ceiling_relid;	/* its ttpdb.stamp_ceiling */
	TimestampTz ceiling;
	FullTransactionId replay_horizon;	/* see ttpdb_replay_horizon(); lock */
	bool		replay_pending; /* the horizon is "now", once recovery ends */
	pg_atomic_uint64 unstamped_generation;	/* see ttpdb_unstamped_generation() */
	LogChainSlot log_slots[LOG_CHAIN_SLOTS];	/* protected by lock */
	int			nslots;
	InFlight	in_flight[FLEXIBLE_ARRAY_MEMBER];	/* per backend, by pgprocno;
														 * protected by lock */
} TtpdbCommitShared;

/* How long a reader waits between looks at the in-flight stamps. */
#define BARRIER_SLEEP_MS	1

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

/* A stamp of this transaction is posted in our in-flight slot. */
static bool stamp_in_flight = false;

/*
 * The xids this transaction wrote to commit_times with a stamp, and the
 * stamps (in TopTransactionContext): what its commit shares.  Its own, and
 * those of prepared transactions it stamped (tam_twophase.c).
 */
typedef struct StampedXid
{
	FullTransactionId xid;
	TimestampTz stamp;
} StampedXid;

static StampedXid *stamped_xids = NULL;
static int	nstamped_xids = 0;
static int	stamped_xids_size = 0;

/*
 * The log slot where this transaction reserved entry numbers, or -1, and
 * how many times it did (its own entries, a prepared transaction's).
 */
static int	reserved_log_slot = -1;
static int	reserved_log_times = 0;

/* The shared last stamp has been raised to this database's latest one. */
static bool last_stamp_seeded = false;

/*
 * The ttpdb.stamp_ceiling it was raised from (InvalidOid: none, before 0.8).
 * A transaction that dropped and created the extension may have seeded from
 * a row its rollback took away: the table there is then another one.
 */
static Oid	seeded_ceiling_relid = InvalidOid;

static HTAB *commit_cache = NULL;

/* Backing store of ttpdb_latest_snapshot(). */
static SnapshotData latest_snapshot_data = {SNAPSHOT_MVCC};

/* The era whose stamps were all loaded into the cache by this backend. */
static bool preloaded = false;
static int64 preloaded_era = 0;

/*
 * Stamps this backend read from the table one by one since it last tried to
 * preload them all.  Past PRELOAD_AFTER_PROBES, it tries (again).
 */
static uint64 stamps_probed = 0;

/*
 * The preloaded stamps again, as an array indexed by full xid from
 * dense_first: an AS OF scan looks up one stamp per tuple, and a hash
 * lookup (a cache miss or two in a large table) was half of its time.
 * 0 where no stamp was loaded.  Only when the xids are dense enough.
 */
#define DENSE_STAMPS_MAX	(2 * 1024 * 1024)
static TimestampTz *dense_stamps = NULL;
static uint64 dense_first = 0;
static uint64 dense_count = 0;

/* This database's era, and the ttpdb.era table it was read from. */
static Oid	era_relid = InvalidOid;
static int64 era_value = 0;

static Size commit_shared_size(void);
static void read_replay_horizon(void);
static void write_replay_horizon(void);
static void ttpdb_commit_shmem_request(void);
static void ttpdb_commit_shmem_startup(void);
static void ttpdb_xact_callback(XactEvent event, void *arg);
static void stamp_transaction(void);
static void prepare_transaction(void);
static void commit_times_insert(Relation rel, int64 era, FullTransactionId xid,
								FullTransactionId top, TimestampTz stamp,
								int64 first_entry, int nentries);
static void wait_before_looking_again(void);
static void prepare_commit_cache(void);
static void preload_commit_times(int64 era);
static void warm_shared_cache(Relation rel, int64 era);
static void cache_committed_stamps(void);
static bool era_is_ours(int64 era);
static bool era_xid_range(Relation rel, int64 era, uint64 *lo, uint64 *hi);

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

/* One slot per backend, autovacuum worker and background worker. */
static Size
commit_shared_size(void)
{
	return MAXALIGN(add_size(offsetof(TtpdbCommitShared, in_flight),
							 mul_size(MaxBackends, sizeof(InFlight))));
}

static void
ttpdb_commit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(commit_shared_size());
	RequestAddinShmemSpace(stamp_cache_shmem_size());
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
									commit_shared_size(), &found);
	if (!found)
	{
		commit_shared->lock = &(GetNamedLWLockTranche("ttpdb commit order"))->lock;
		commit_shared->last_stamp = 0;
		commit_shared->started = GetCurrentTimestamp();
		commit_shared->ceiling_dboid = InvalidOid;
		commit_shared->nslots = MaxBackends;
		memset(commit_shared->log_slots, 0, sizeof(commit_shared->log_slots));
		read_replay_horizon();
		/* a crash may have left prepared transactions unstamped: look once */
		pg_atomic_init_u64(&commit_shared->unstamped_generation, 1);
		memset(commit_shared->in_flight, 0, sizeof(InFlight) * MaxBackends);
	}
	stamp_cache_attach();
	LWLockRelease(AddinShmemInitLock);
}

/*
 * The replay horizon.  WAL replay (crash recovery, a standby, a restored
 * base backup) re-creates inserted and updated tuples with command id 0,
 * and the statement log tells a transaction's statements apart by the
 * command ids of the rows they wrote.  So every transaction older than the
 * end of the latest replay has command ids that cannot be trusted.  The
 * file REPLAY_HORIZON_FILE in the data directory keeps that boundary, as
 * "<full xid> <pending>"; pending means a replay happened and the boundary
 * is the next xid once it is over.  It is cluster-wide, like xids.
 */
#define REPLAY_HORIZON_FILE "ttpdb_replay_horizon"

/* At postmaster start: read the horizon, and note a replay to come. */
static void
read_replay_horizon(void)
{
	FILE	   *file = AllocateFile(REPLAY_HORIZON_FILE, "r");
	unsigned long long fxid = 0;
	int			pending = 0;
	ControlFileData *control;
	bool		crc_ok;

	if (file != NULL)
	{
		if (fscanf(file, "%llu %d", &fxid, &pending) != 2)
		{
			/* unreadable: distrust every earlier transaction */
			fxid = 0;
			pending = 1;
		}
		FreeFile(file);
	}
	commit_shared->replay_horizon = FullTransactionIdFromU64((uint64) fxid);
	commit_shared->replay_pending = (pending != 0);

	/* anything but a clean shutdown means WAL is about to be replayed */
	control = get_controlfile(DataDir, &crc_ok);
	if (!crc_ok || control->state != DB_SHUTDOWNED)
	{
		commit_shared->replay_pending = true;
		write_replay_horizon();
	}
	pfree(control);
}

/* Write the horizon durably (the caller holds the lock, or is the postmaster). */
static void
write_replay_horizon(void)
{
	char		tmp[MAXPGPATH];
	FILE	   *file;

	snprintf(tmp, sizeof(tmp), "%s.tmp", REPLAY_HORIZON_FILE);
	file = AllocateFile(tmp, "w");
	if (file == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp)));
		return;
	}
	fprintf(file, "%llu %d\n",
			(unsigned long long) U64FromFullTransactionId(commit_shared->replay_horizon),
			commit_shared->replay_pending ? 1 : 0);
	if (FreeFile(file) != 0)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp)));
		return;
	}
	(void) durable_rename(tmp, REPLAY_HORIZON_FILE, LOG);
}

/*
 * ttpdb_replay_horizon
 *		The transactions before this one may have rows re-created by WAL
 *		replay, whose command ids are not the ones they were written with.
 *		False when no boundary can be given: on a standby (which replays
 *		everything), or without the shared state.
 */
bool
ttpdb_replay_horizon(FullTransactionId *horizon)
{
	/* it changes only when the server restarts, which ends this backend */
	static bool cached = false;
	static FullTransactionId cached_horizon;

	if (cached)
	{
		*horizon = cached_horizon;
		return true;
	}
	if (commit_shared == NULL || RecoveryInProgress())
		return false;
	LWLockAcquire(commit_shared->lock, LW_EXCLUSIVE);
	if (commit_shared->replay_pending)
	{
		/* replay is over: everything assigned so far may have been replayed */
		commit_shared->replay_horizon = ReadNextFullTransactionId();
		commit_shared->replay_pending = false;
		write_replay_horizon();
	}
	*horizon = commit_shared->replay_horizon;
	LWLockRelease(commit_shared->lock);
	cached_horizon = *horizon;
	cached = true;
	return true;
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

/* Between two looks at the in-flight slots: sleep a little, or until woken. */
static void
wait_before_looking_again(void)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 BARRIER_SLEEP_MS, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/*
 * ttpdb_commit_barrier
 *		Make sure every transaction stamped at or before "as_of" has finished
 *		committing (or aborted), and that none is stamped at or before it
 *		from now on.
 */
void
ttpdb_commit_barrier(TimestampTz as_of)
{
	ttpdb_require_preload("reading a ttpdb table as of a past time");
	ttpdb_commit_raise_last_stamp(as_of);

	for (;;)
	{
		bool		waiting = false;

		LWLockAcquire(commit_shared->lock, LW_SHARED);
		for (int i = 0; i < commit_shared->nslots && !waiting; i++)
			waiting = commit_shared->in_flight[i].stamp != 0 &&
				commit_shared->in_flight[i].stamp <= as_of;
		LWLockRelease(commit_shared->lock);
		if (!waiting)
			break;
		wait_before_looking_again();
	}
}

/* Take our stamp out of flight: the transaction has committed or aborted. */
static void
clear_in_flight(void)
{
	/* in TopTransactionContext, which goes with the transaction */
	stamped_xids = NULL;
	nstamped_xids = 0;
	stamped_xids_size = 0;
	if (!stamp_in_flight)
		return;
	LWLockAcquire(commit_shared->lock, LW_EXCLUSIVE);
	commit_shared->in_flight[MyProc->pgprocno].stamp = 0;
	commit_shared->in_flight[MyProc->pgprocno].prepared = InvalidFullTransactionId;
	if (reserved_log_slot >= 0)
		commit_shared->log_slots[reserved_log_slot].reserving -= reserved_log_times;
	LWLockRelease(commit_shared->lock);
	stamp_in_flight = false;
	reserved_log_slot = -1;
	reserved_log_times = 0;
}

/* Remember a stamp this transaction wrote, to share once it has committed. */
static void
note_stamped(FullTransactionId xid, TimestampTz stamp)
{
	if (nstamped_xids == stamped_xids_size)
	{
		stamped_xids_size = Max(8, stamped_xids_size * 2);
		if (stamped_xids == NULL)
			stamped_xids = MemoryContextAlloc(TopTransactionContext,
											  stamped_xids_size * sizeof(StampedXid));
		else
			stamped_xids = repalloc(stamped_xids, stamped_xids_size * sizeof(StampedXid));
	}
	stamped_xids[nstamped_xids].xid = xid;
	stamped_xids[nstamped_xids].stamp = stamp;
	nstamped_xids++;
}

/*
 * Leave the stamps the transaction that just committed wrote to
 * commit_times (its top-level xid's and its committed subtransactions', and
 * those of prepared transactions it stamped) in the shared cache.  They were
 * remembered when written: a subtransaction that another library's
 * pre-commit callback ran after ours is committed too, but has no stamp.
 */
static void
cache_committed_stamps(void)
{
	if (!stamp_in_flight)
		return;
	for (int i = 0; i < nstamped_xids; i++)
		stamp_cache_store(stamped_xids[i].xid, stamped_xids[i].stamp);
}

static void
ttpdb_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (ttpdb_is_preloaded())
				log_close_transaction();
			if (xact_wrote)
				history_pack_at_commit();
			/* stamps loaded by hand come before this transaction's own */
			stamp_ceiling_before_commit();
			if (xact_wrote || log_pending_count() > 0)
				stamp_transaction();
			break;
		case XACT_EVENT_PRE_PREPARE:
			ttpdb_twophase_check_prepare();
			if (ttpdb_is_preloaded())
				log_close_transaction();
			if (xact_wrote)
				history_pack_at_commit();
			stamp_ceiling_before_commit();
			/* with temporary objects, core refuses with its own message */
			if ((xact_wrote || log_pending_count() > 0) &&
				!(MyXactFlags & XACT_FLAGS_ACCESSEDTEMPNAMESPACE))
				prepare_transaction();
			break;
		case XACT_EVENT_COMMIT:
			/* visible as committed now: our stamps are facts to share */
			cache_committed_stamps();
			clear_in_flight();
			ttpdb_twophase_xact_end(true);
			stamp_ceiling_xact_end();
			xact_wrote = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			clear_in_flight();
			ttpdb_twophase_xact_end(false);
			stamp_ceiling_xact_end();
			xact_wrote = false;
			break;
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			clear_in_flight();
			xact_wrote = false;
			break;
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			break;
	}
}

/*
 * ttpdb_unstamped_generation
 *		A number that changes whenever prepared transactions may have been
 *		left committed without a stamp: at startup (a crash between COMMIT
 *		PREPARED and the commit of its own transaction), and when that
 *		transaction fails.  tam_twophase.c stamps them when it changes.
 */
uint64
ttpdb_unstamped_generation(void)
{
	return pg_atomic_read_u64(&commit_shared->unstamped_generation);
}

/* A committed prepared transaction is left without a stamp: look again. */
void
ttpdb_unstamped_left(void)
{
	pg_atomic_fetch_add_u64(&commit_shared->unstamped_generation, 1);
}

/*
 * Before 0.8: raise the shared last stamp to the latest stamp of this
 * database, read through commit_times_committed_at_idx.
 */
static void
raise_to_latest_stamp(Relation rel)
{
	Relation	index;
	SysScanDesc scan;
	HeapTuple	tup;
	ScanKeyData skey;

	index = index_open(ttpdb_catalog_relid("commit_times_committed_at_idx"),
					   AccessShareLock);
	/* not the 'infinity' of prepared transactions waiting for their stamp */
	ScanKeyInit(&skey, Anum_commit_times_committed_at, BTLessStrategyNumber, F_TIMESTAMPTZ_LT,
				TimestampTzGetDatum(DT_NOEND));
	/* committed stamps never change: no MVCC snapshot, no SSI read locks */
	scan = systable_beginscan_ordered(rel, index, SnapshotSelf, 1, &skey);
	tup = systable_getnext_ordered(scan, BackwardScanDirection);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		latest = heap_getattr(tup, Anum_commit_times_committed_at,
										  RelationGetDescr(rel), &isnull);

		ttpdb_commit_raise_last_stamp(DatumGetTimestampTz(latest));
	}
	systable_endscan_ordered(scan);
	index_close(index, AccessShareLock);
}

/*
 * Raise the shared last stamp above every stamp of this database.  Shared
 * memory starts over at every restart and on a standby, and the clock may
 * have gone back meanwhile: new stamps must still follow the old.  The
 * ceiling of the stamps in table "ceiling_relid" does it (tam_stamp_ceiling.c);
 * before 0.8 (InvalidOid), the latest stamp itself.
 */
static void
seed_last_stamp(Relation rel, Oid ceiling_relid)
{
	if (OidIsValid(ceiling_relid))
		stamp_ceiling_seed(ceiling_relid);
	else
		raise_to_latest_stamp(rel);
	last_stamp_seeded = true;
	seeded_ceiling_relid = ceiling_relid;
}

/*
 * Before taking a stamp: the table of the ceiling of the stamps (InvalidOid
 * before 0.8), with the last stamp seeded once per backend and again when
 * that table changed.
 */
static Oid
ceiling_before_stamp(Relation commit_rel)
{
	Oid			ceiling_relid = ttpdb_catalog_relid_if_exists("stamp_ceiling");

	if (!last_stamp_seeded || ceiling_relid != seeded_ceiling_relid)
		seed_last_stamp(commit_rel, ceiling_relid);
	return ceiling_relid;
}

/*
 * ttpdb_commit_raise_last_stamp
 *		Make every later stamp follow "stamp".
 */
void
ttpdb_commit_raise_last_stamp(TimestampTz stamp)
{
	if (commit_shared == NULL)
		elog(ERROR, "ttpdb shared memory is not initialised");
	LWLockAcquire(commit_shared->lock, LW_EXCLUSIVE);
	if (commit_shared->last_stamp < stamp)
		commit_shared->last_stamp = stamp;
	LWLockRelease(commit_shared->lock);
}

/*
 * ttpdb_commit_shared_start
 *		When the shared commit-order state was made: one value per server
 *		start (or crash restart), which tam_stamp_ceiling.c notes once it
 *		has raised the last stamp of that start.
 */
TimestampTz
ttpdb_commit_shared_start(void)
{
	if (commit_shared == NULL)
		elog(ERROR, "ttpdb shared memory is not initialised");
	return commit_shared->started;
}

/*
 * Under the commit lock: whether "stamp" is known to be covered by the
 * ceiling in table "ceiling_relid" (InvalidOid: there is none, so nothing
 * to cover).  One database's ceiling is known to all backends, so that
 * only the backend whose stamp passes it reads the table.
 */
static bool
ceiling_covers(Oid ceiling_relid, TimestampTz stamp)
{
	return !OidIsValid(ceiling_relid) ||
		(commit_shared->ceiling_dboid == MyDatabaseId &&
		 commit_shared->ceiling_relid == ceiling_relid &&
		 stamp <= commit_shared->ceiling);
}

/*
 * ttpdb_commit_share_ceiling
 *		Make "ceiling", read from or written to table "relid" of this
 *		database (the WAL record of the write inserted), known to every
 *		backend.
 */
void
ttpdb_commit_share_ceiling(Oid relid, TimestampTz ceiling)
{
	LWLockAcquire(commit_shared->lock, LW_EXCLUSIVE);
	if (commit_shared->ceiling_dboid != MyDatabaseId ||
		commit_shared->ceiling_relid != relid ||
		commit_shared->ceiling < ceiling)
	{
		commit_shared->ceiling_dboid = MyDatabaseId;
		commit_shared->ceiling_relid = relid;
		commit_shared->ceiling = ceiling;
	}
	LWLockRelease(commit_shared->lock);
}

/*
 * The log slot of this database, under the commit lock: found, or taken
 * (a free one, or one no transaction is numbering entries in) and read from
 * the log's tail.  -1 when all are busy.
 */
static int
log_chain_slot(Relation log_rel, Relation log_pkey)
{
	int			free_slot = -1;
	LogChainSlot *slot;

	for (int i = 0; i < LOG_CHAIN_SLOTS; i++)
	{
		slot = &commit_shared->log_slots[i];
		if (slot->dboid == MyDatabaseId && slot->log_relid == RelationGetRelid(log_rel))
			return i;
		if (free_slot < 0 && (slot->dboid == InvalidOid || slot->reserving == 0))
			free_slot = i;
	}
	if (free_slot < 0)
		return -1;
	slot = &commit_shared->log_slots[free_slot];
	slot->dboid = InvalidOid;	/* until read */
	log_read_tail(log_rel, log_pkey, &slot->next_entry, slot->chain);
	slot->next_entry++;
	slot->dboid = MyDatabaseId;
	slot->log_relid = RelationGetRelid(log_rel);
	slot->reserving = 0;
	return free_slot;
}

/* Under the commit lock: a stamp later than every earlier one. */
static TimestampTz
next_stamp(void)
{
	TimestampTz stamp = GetCurrentTimestamp();

	if (stamp <= commit_shared->last_stamp)
		stamp = commit_shared->last_stamp + 1;
	return stamp;
}

/*
 * Under the commit lock: make "stamp" the last one, and post it in our
 * in-flight slot until the transaction ends.  A transaction that stamps
 * more than once (a prepared transaction's, then its own) keeps its first,
 * smallest, stamp posted: readers of any later instant wait for it.
 */
static void
post_in_flight(TimestampTz stamp)
{
	commit_shared->last_stamp = stamp;
	if (!stamp_in_flight)
		commit_shared->in_flight[MyProc->pgprocno].stamp = stamp;
	stamp_in_flight = true;
}

/*
 * Under the commit lock, after post_in_flight (so that an abort takes the
 * reservation back): reserve numbers for "entries" in this database's log
 * and link them into its chain with "stamp".  Returns the first number.
 */
static int64
reserve_log_entries(Relation log_rel, Relation log_pkey, List *entries,
					TimestampTz stamp)
{
	int			i = log_chain_slot(log_rel, log_pkey);
	LogChainSlot *slot;
	int64		first_entry;

	if (i < 0)
	{
		LWLockRelease(commit_shared->lock);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many databases are committing ttpdb log entries at once"),
				 errdetail("At most %d databases can number log entries at the same time.",
						   LOG_CHAIN_SLOTS),
				 errhint("Retry the transaction.")));
	}
	slot = &commit_shared->log_slots[i];
	first_entry = slot->next_entry;
	slot->next_entry += list_length(entries);
	slot->reserving++;
	reserved_log_slot = i;
	reserved_log_times++;
	log_link_entry_list(entries, first_entry, stamp, slot->chain);
	return first_entry;
}

/*
 * ttpdb_commit_times_scan
 *		Begin a scan of the commit_times row of "fxid" through the primary
 *		key.  A NULL snapshot reads committed rows and this transaction's
 *		(SnapshotSelf): committed stamps need no MVCC snapshot nor SSI locks.
 */
SysScanDesc
ttpdb_commit_times_scan(Relation rel, int64 era, FullTransactionId fxid, Snapshot snapshot)
{
	ScanKeyData skey[2];

	ScanKeyInit(&skey[0], Anum_commit_times_era, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(era));
	ScanKeyInit(&skey[1], Anum_commit_times_xid, BTEqualStrategyNumber, F_XID8EQ,
				FullTransactionIdGetDatum(fxid));
	return systable_beginscan(rel, ttpdb_catalog_relid("commit_times_pkey"), true,
							  snapshot ? snapshot : SnapshotSelf, 2, skey);
}

/*
 * Write the commit_times row of "xid": a top-level transaction (with
 *		its log entries, when "nentries" >= 0) or, when "top" is valid, one
 *		of its subtransactions.  A finite stamp is shared once this
 *		transaction commits.
 */
static void
commit_times_insert(Relation rel, int64 era, FullTransactionId xid,
					FullTransactionId top, TimestampTz stamp,
					int64 first_entry, int nentries)
{
	Datum		values[Natts_commit_times];
	bool		nulls[Natts_commit_times];

	memset(nulls, false, sizeof(nulls));
	values[Anum_commit_times_era - 1] = Int64GetDatum(era);
	values[Anum_commit_times_xid - 1] = FullTransactionIdGetDatum(xid);
	values[Anum_commit_times_committed_at - 1] = TimestampTzGetDatum(stamp);
	values[Anum_commit_times_top_xid - 1] = FullTransactionIdGetDatum(top);
	nulls[Anum_commit_times_top_xid - 1] = !FullTransactionIdIsValid(top);
	values[Anum_commit_times_first_entry - 1] = Int64GetDatum(first_entry);
	nulls[Anum_commit_times_first_entry - 1] = (nentries <= 0);
	values[Anum_commit_times_entry_count - 1] = Int32GetDatum(nentries);
	nulls[Anum_commit_times_entry_count - 1] = (nentries < 0);
	/* before ALTER EXTENSION ttpdb UPDATE it has three columns: the first three */
	ttpdb_insert_with_indexes(rel, heap_form_tuple(RelationGetDescr(rel), values, nulls));
	if (!TIMESTAMP_NOT_FINITE(stamp))
		note_stamped(xid, stamp);
}

/*
 * ttpdb_commit_times_restamp
 *		Give the commit_times row of a prepared transaction's xid, written
 *		'infinity' by PREPARE, its stamp (and, for the top-level xid, its
 *		log entries).  The caller has claimed the transaction
 *		(tam_twophase.c), so no one else changes the row.
 */
void
ttpdb_commit_times_restamp(Relation rel, int64 era, FullTransactionId xid,
						   TimestampTz stamp, int64 first_entry, int nentries)
{
	SysScanDesc scan;
	HeapTuple	tup;
	Datum		values[Natts_commit_times];
	bool		nulls[Natts_commit_times];
	bool		replace[Natts_commit_times];

	scan = ttpdb_commit_times_scan(rel, era, xid, NULL);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("prepared transaction %llu has no row in ttpdb.commit_times",
						(unsigned long long) U64FromFullTransactionId(xid))));
	memset(replace, false, sizeof(replace));
	memset(nulls, false, sizeof(nulls));
	values[Anum_commit_times_committed_at - 1] = TimestampTzGetDatum(stamp);
	replace[Anum_commit_times_committed_at - 1] = true;
	if (nentries >= 0)
	{
		values[Anum_commit_times_first_entry - 1] = Int64GetDatum(first_entry);
		nulls[Anum_commit_times_first_entry - 1] = (nentries == 0);
		replace[Anum_commit_times_first_entry - 1] = true;
		values[Anum_commit_times_entry_count - 1] = Int32GetDatum(nentries);
		replace[Anum_commit_times_entry_count - 1] = true;
	}
	ttpdb_update_with_indexes(rel, &tup->t_self,
							  heap_modify_tuple(tup, RelationGetDescr(rel),
												values, nulls, replace));
	systable_endscan(scan);
	note_stamped(xid, stamp);
}

/*
 * ttpdb_commit_take_stamp
 *		Stamp a prepared transaction in this one (tam_twophase.c): pick a
 *		stamp under the commit lock, post it in flight until this
 *		transaction ends, and number and link its log entries.  COMMIT
 *		PREPARED names the transaction, "prepared", which is about to commit
 *		before its stamp is written: others wait for it.  The caller
 *		opened commit_times, and the log when there are entries: locks are
 *		taken before the commit lock, never under it.
 */
TimestampTz
ttpdb_commit_take_stamp(Relation commit_rel, Relation log_rel, Relation log_pkey,
						List *entries, int64 *first_entry, FullTransactionId prepared)
{
	TimestampTz stamp;
	Oid			ceiling_relid;
	bool		covered;

	ttpdb_require_preload("committing a prepared transaction that wrote ttpdb tables");
	if (commit_shared == NULL)
		elog(ERROR, "ttpdb shared memory is not initialised");
	if (MyProc->pgprocno >= commit_shared->nslots)
		elog(ERROR, "process %d cannot write ttpdb tables", MyProcPid);
	ceiling_relid = ceiling_before_stamp(commit_rel);
	*first_entry = 0;
	LWLockAcquire(commit_shared->lock, LW_EXCLUSIVE);
	stamp = next_stamp();
	post_in_flight(stamp);
	covered = ceiling_covers(ceiling_relid, stamp);
	if (FullTransactionIdIsValid(prepared))
		commit_shared->in_flight[MyProc->pgprocno].prepared = prepared;
	if (entries != NIL)
		*first_entry = reserve_log_entries(log_rel, log_pkey, entries, stamp);
	LWLockRelease(commit_shared->lock);
	if (!covered)
		stamp_ceiling_cover(ceiling_relid, stamp);
	return stamp;
}

/*
 * ttpdb_commit_wait_for_prepared
 *		Wait while another backend's COMMIT PREPARED stamps the prepared
 *		transaction "xid": it picked the stamp before the transaction
 *		committed, and writes it when it has.
 */
void
ttpdb_commit_wait_for_prepared(FullTransactionId xid)
{
	for (;;)
	{
		bool		waiting = false;

		LWLockAcquire(commit_shared->lock, LW_SHARED);
		for (int i = 0; i < commit_shared->nslots && !waiting; i++)
			waiting = i != MyProc->pgprocno &&
				FullTransactionIdEquals(commit_shared->in_flight[i].prepared, xid);
		LWLockRelease(commit_shared->lock);
		if (!waiting)
			break;
		wait_before_looking_again();
	}
}

/*
 * Write commit_times rows with "stamp" for the top-level transaction "top"
 * (with its log entries) and its committed subtransactions (their xids are
 * what tuples carry).  Returns the subtransactions' xids, in *children,
 * unless it is NULL.
 */
static int
write_commit_times(Relation rel, int64 era, FullTransactionId top, TimestampTz stamp,
				   int64 first_entry, int nentries, FullTransactionId **children)
{
	TransactionId *xids;
	int			nxids = xactGetCommittedChildren(&xids);
	uint32		epoch = EpochFromFullTransactionId(top);
	int			n = 0;

	if (children != NULL)
		*children = palloc(sizeof(FullTransactionId) * Max(nxids, 1));
	commit_times_insert(rel, era, top, InvalidFullTransactionId, stamp,
						first_entry, nentries);
	for (int i = 0; i < nxids; i++)
	{
		/* children are younger than the top-level xid: same epoch or the next */
		uint32		child_epoch = epoch;
		FullTransactionId child;

		/* packing's own subtransaction wrote no ttpdb row: nothing to stamp */
		if (history_is_pack_subxact(xids[i]))
			continue;
		if (xids[i] < XidFromFullTransactionId(top))
			child_epoch++;
		child = FullTransactionIdFromEpochAndXid(child_epoch, xids[i]);
		commit_times_insert(rel, era, child, top, stamp, 0, -1);
		if (children != NULL)
			(*children)[n] = child;
		n++;
	}
	return n;
}

/*
 * The transaction's log entries, unless DROP EXTENSION ttpdb CASCADE took
 * the log away; then they are forgotten and 0 is returned.
 */
static int
pending_log_entries(void)
{
	int			nentries = log_pending_count();
	Oid			nsp;

	if (nentries == 0)
		return 0;
	nsp = get_namespace_oid("ttpdb", true);
	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("log_entries", nsp)))
	{
		log_forget_all();
		return 0;
	}
	return nentries;
}

/*
 * Pick a stamp greater than every earlier one, post it as in flight, and
 * record it for the top-level transaction and its committed subtransactions.
 * Number, chain and write the transaction's log entries.  First, stamp the
 * prepared transactions a failure left committed without one (rarely).
 */
static void
stamp_transaction(void)
{
	FullTransactionId top;
	TimestampTz stamp;
	Relation	rel;
	Relation	log_rel = NULL;
	Relation	log_pkey = NULL;
	int64		era;
	int			nentries = pending_log_entries();
	int64		first_entry = 0;
	Oid			ceiling_relid;
	bool		covered;

	if (nentries == 0 && !xact_wrote)
		return;
	/* an entry needs a transaction id, even for a statement that changed nothing */
	top = nentries > 0 ? GetTopFullTransactionId() : GetTopFullTransactionIdIfAny();
	if (!FullTransactionIdIsValid(top))
		return;					/* wrote nothing after all */
	if (MyProc->pgprocno >= commit_shared->nslots)
		elog(ERROR, "process %d cannot write ttpdb tables", MyProcPid);

	ttpdb_twophase_stamp_unstamped();

	era = ttpdb_current_era();
	rel = table_open(ttpdb_catalog_relid("commit_times"), RowExclusiveLock);
	ceiling_relid = ceiling_before_stamp(rel);
	if (nentries > 0)
	{
		/* locks are taken before the commit lock, never under it */
		log_rel = table_open(ttpdb_catalog_relid("log_entries"), RowExclusiveLock);
		log_pkey = index_open(ttpdb_catalog_relid("log_entries_pkey"), RowExclusiveLock);
		log_prepare_commit(era, top);
	}

	LWLockAcquire(commit_shared->lock, LW_EXCLUSIVE);
	stamp = next_stamp();
	post_in_flight(stamp);
	covered = ceiling_covers(ceiling_relid, stamp);
	if (nentries > 0)
		first_entry = reserve_log_entries(log_rel, log_pkey, log_pending_list(), stamp);
	LWLockRelease(commit_shared->lock);
	/* before the commit record: the ceiling covers every committed stamp */
	if (!covered)
		stamp_ceiling_cover(ceiling_relid, stamp);

	(void) write_commit_times(rel, era, top, stamp, first_entry, nentries, NULL);
	table_close(rel, NoLock);

	if (nentries > 0)
	{
		log_write_entry_list(log_rel, log_pending_list());
		log_forget_all();
		index_close(log_pkey, NoLock);
		table_close(log_rel, NoLock);
	}
}

/*
 * PREPARE TRANSACTION: the stamp is taken when the transaction commits, by
 * COMMIT PREPARED in another transaction (tam_twophase.c).  Until then its
 * xids have commit_times rows stamped 'infinity': once it has committed,
 * and until its stamp is written, it is committed as of no time, which is
 * what every reader of an earlier instant than its stamp must see.  Its
 * log entries, which live in this backend's memory, are kept in
 * ttpdb.prepared_writes.
 */
static void
prepare_transaction(void)
{
	FullTransactionId top;
	FullTransactionId *children;
	int			nchildren;
	Relation	rel;
	int64		era;
	int			nentries = pending_log_entries();

	if (nentries == 0 && !xact_wrote)
		return;
	top = nentries > 0 ? GetTopFullTransactionId() : GetTopFullTransactionIdIfAny();
	if (!FullTransactionIdIsValid(top))
		return;
	if (!OidIsValid(ttpdb_catalog_relid_if_exists("prepared_writes")))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot PREPARE a transaction that has written to a ttpdb table"),
				 errdetail("The installed ttpdb extension is older than 0.6, which "
						   "prepares such transactions."),
				 errhint("Update it with ALTER EXTENSION ttpdb UPDATE.")));

	era = ttpdb_current_era();
	rel = table_open(ttpdb_catalog_relid("commit_times"), RowExclusiveLock);
	if (nentries > 0)
		log_prepare_commit(era, top);
	nchildren = write_commit_times(rel, era, top, DT_NOEND, 0, -1, &children);
	table_close(rel, NoLock);
	ttpdb_twophase_keep(era, top, children, nchildren, log_pending_list());
	log_forget_all();
}

/*
 * ttpdb_latest_snapshot
 *		A fresh MVCC snapshot, valid until the next call; register it to keep
 *		it.  Unlike ttpdb_latest_snapshot() it may be taken in parallel mode: a
 *		parallel AS OF scan's leader takes it and hands it to the workers
 *		itself, so they all read under the same one.
 */
Snapshot
ttpdb_latest_snapshot(void)
{
	return GetSnapshotData(&latest_snapshot_data);
}

/*
 * ttpdb_full_xid
 *		Widen a 32-bit xid seen in a tuple to the FullTransactionId it
 *		stands for: the latest one not after the next xid.
 */
FullTransactionId
ttpdb_full_xid(TransactionId xid)
{
	return ttpdb_full_xid_before(xid, ReadNextFullTransactionId());
}

/*
 * ttpdb_full_xid_before
 *		The same, against a next xid read earlier (reading it takes a lock):
 *		right for every xid assigned before it was read.
 */
FullTransactionId
ttpdb_full_xid_before(TransactionId xid, FullTransactionId next)
{
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
 * Create the stamp cache.  It is never wiped: once it holds COMMIT_CACHE_MAX
 * stamps it keeps them and further ones are looked up each time (wiping it
 * in the middle of a scan made every later lookup an index probe).
 */
static void
prepare_commit_cache(void)
{
	HASHCTL		ctl;

	if (commit_cache != NULL)
		return;
	ctl.keysize = sizeof(CommitCacheKey);
	ctl.entrysize = sizeof(CommitCacheEntry);
	ctl.hcxt = TopMemoryContext;
	commit_cache = hash_create("ttpdb commit stamps", 1024, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * Store the stamps of the era's latest transactions, as many as the shared
 * cache holds, in it: for a commit_times too large to preload, after a
 * restart.  Reads them in xid order through the primary key.
 */
static void
warm_shared_cache(Relation rel, int64 era)
{
	uint64		next = U64FromFullTransactionId(ReadNextFullTransactionId());
	uint64		capacity = stamp_cache_capacity();
	Relation	index;
	ScanKeyData skey[2];
	SysScanDesc scan;
	HeapTuple	tup;

	if (capacity == 0)
		return;
	index = index_open(ttpdb_catalog_relid("commit_times_pkey"), AccessShareLock);
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(era));
	ScanKeyInit(&skey[1], 2, BTGreaterEqualStrategyNumber, F_XID8GE,
				FullTransactionIdGetDatum(FullTransactionIdFromU64(next > capacity ?
																   next - capacity : 0)));
	scan = systable_beginscan_ordered(rel, index, SnapshotSelf, 2, skey);
	while ((tup = systable_getnext_ordered(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		TimestampTz stamp = DatumGetTimestampTz(heap_getattr(tup, Anum_commit_times_committed_at,
															 RelationGetDescr(rel), &isnull));

		/* SnapshotSelf also shows our own stamp, not committed yet */
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
			continue;
		/* a prepared transaction's 'infinity' is replaced by its stamp */
		if (TIMESTAMP_NOT_FINITE(stamp))
			continue;
		stamp_cache_store(DatumGetFullTransactionId(heap_getattr(tup, Anum_commit_times_xid,
																 RelationGetDescr(rel), &isnull)),
						  stamp);
		CHECK_FOR_INTERRUPTS();
	}
	systable_endscan_ordered(scan);
	index_close(index, AccessShareLock);
}

/*
 * preload_commit_times
 *		Load every stamp of the era into this backend's cache with one
 *		sequential scan of commit_times, when they fit, and share those of
 *		this cluster: a scan as of a past time looks up the stamp of nearly
 *		every tuple and kept version, and when the shared cache does not
 *		have them (after a restart, or for older transactions) one pass
 *		costs far less than as many index probes.  Stamps committed later
 *		are found in the shared cache, or looked up one by one.
 */
static void
preload_commit_times(int64 era)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	uint64		lo,
				hi;
	bool		dense;
	bool		share = era_is_ours(era);

	stamps_probed = 0;
	if (preloaded && preloaded_era == era)
		return;
	prepare_commit_cache();
	if (dense_stamps != NULL)
	{
		pfree(dense_stamps);
		dense_stamps = NULL;
		dense_count = 0;
	}
	rel = table_open(ttpdb_catalog_relid("commit_times"), AccessShareLock);
	if (rel->rd_rel->reltuples > COMMIT_CACHE_MAX / 2)
	{
		/* too many to keep here: share the latest ones, probe the rest */
		if (share && stamp_cache_claim_warming(MyDatabaseId))
			warm_shared_cache(rel, era);
		table_close(rel, AccessShareLock);
		return;
	}

	/*
	 * The era's xids, from its first to its last: dense enough for an array?
	 * Not when most of the range would be empty (other transactions' xids).
	 */
	dense = era_xid_range(rel, era, &lo, &hi) && hi - lo + 1 <= DENSE_STAMPS_MAX &&
		hi - lo + 1 <= 8 * (uint64) Max(rel->rd_rel->reltuples, 0) + 65536;
	if (dense)
	{
		dense_stamps = MemoryContextAllocZero(TopMemoryContext,
											  (hi - lo + 1) * sizeof(TimestampTz));
		dense_first = lo;
		dense_count = hi - lo + 1;
	}

	/* committed stamps are facts: no MVCC snapshot, no SSI lock on the table */
	scan = table_beginscan(rel, SnapshotSelf, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		CommitCacheKey key;
		CommitCacheEntry *entry;
		uint64		fxid;
		TimestampTz stamp;

		if (DatumGetInt64(heap_getattr(tup, 1, desc, &isnull)) != era)
			continue;
		fxid = DatumGetUInt64(heap_getattr(tup, 2, desc, &isnull));
		stamp = DatumGetTimestampTz(heap_getattr(tup, 3, desc, &isnull));
		/* a prepared transaction's 'infinity' is replaced by its stamp */
		if (TIMESTAMP_NOT_FINITE(stamp))
			continue;
		/* SnapshotSelf also shows our own stamp, not committed yet */
		if (share && !TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
			stamp_cache_store(FullTransactionIdFromU64(fxid), stamp);
		if (dense && fxid - dense_first < dense_count)
		{
			dense_stamps[fxid - dense_first] = stamp;
			continue;
		}
		memset(&key, 0, sizeof(key));
		key.era = era;
		key.fxid = fxid;
		entry = hash_search(commit_cache, &key, HASH_ENTER, NULL);
		entry->stamp = stamp;
		if (hash_get_num_entries(commit_cache) >= COMMIT_CACHE_MAX)
			break;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	preloaded = true;
	preloaded_era = era;
}

/* The first and last xid with a stamp in the era, through the primary key. */
static bool
era_xid_range(Relation rel, int64 era, uint64 *lo, uint64 *hi)
{
	Relation	index = index_open(ttpdb_catalog_relid("commit_times_pkey"), AccessShareLock);
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		isnull;
	bool		found = false;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(era));
	scan = systable_beginscan_ordered(rel, index, SnapshotSelf, 1, &skey);
	tup = systable_getnext_ordered(scan, ForwardScanDirection);
	if (HeapTupleIsValid(tup))
	{
		*lo = DatumGetUInt64(heap_getattr(tup, 2, RelationGetDescr(rel), &isnull));
		found = true;
	}
	systable_endscan_ordered(scan);
	if (found)
	{
		scan = systable_beginscan_ordered(rel, index, SnapshotSelf, 1, &skey);
		tup = systable_getnext_ordered(scan, BackwardScanDirection);
		found = HeapTupleIsValid(tup);
		if (found)
			*hi = DatumGetUInt64(heap_getattr(tup, 2, RelationGetDescr(rel), &isnull));
		systable_endscan_ordered(scan);
	}
	index_close(index, AccessShareLock);
	return found;
}


/*
 * Whether "era" names this cluster's xids: it is (or was, in this session)
 * this database's era.  Only such stamps are shared, a full xid naming one
 * transaction of the cluster.
 */
static bool
era_is_ours(int64 era)
{
	return OidIsValid(era_relid) && era == era_value;
}

/*
 * The stamp, if a cache has it: the array this backend preloaded, the shared
 * cache (for this cluster's xids), this backend's hash.
 */
static bool
cached_commit_time(int64 era, FullTransactionId fxid, TimestampTz *stamp)
{
	uint64		xid = U64FromFullTransactionId(fxid);
	CommitCacheKey key;
	CommitCacheEntry *entry;
	bool		found;

	/* the dense array first: one memory access */
	if (dense_stamps != NULL && era == preloaded_era &&
		xid - dense_first < dense_count && dense_stamps[xid - dense_first] != 0)
	{
		*stamp = dense_stamps[xid - dense_first];
		return true;
	}
	if (era_is_ours(era) && stamp_cache_lookup(fxid, stamp))
		return true;

	memset(&key, 0, sizeof(key));
	key.era = era;
	key.fxid = xid;
	entry = hash_search(commit_cache, &key, HASH_FIND, &found);
	if (found)
		*stamp = entry->stamp;
	return found;
}

/*
 * ttpdb_commit_time
 *		The stamp of a committed transaction of the given era.  False when it
 *		has none: it committed before its table was a ttpdb table (or wrote
 *		none).  Looked up in this backend's cache, the shared cache, and
 *		then commit_times, with the given snapshot; when it is NULL (writers
 *		looking up a version's creation), SnapshotSelf, which sees every
 *		committed stamp and, not being an MVCC snapshot, takes no SSI read
 *		locks on the page every committer inserts into.  Only stamps found
 *		are cached: a miss may be a commit the snapshot does not see yet.
 *		A prepared transaction has the stamp 'infinity' until COMMIT
 *		PREPARED gives it its own (tam_twophase.c): once it has committed,
 *		it is committed as of no time until then.
 */
bool
ttpdb_commit_time(int64 era, FullTransactionId fxid, Snapshot snapshot,
				  TimestampTz *stamp)
{
	bool		ours = era_is_ours(era);
	bool		found;
	Relation	rel;
	SysScanDesc scan;
		HeapTuple	tup;

	prepare_commit_cache();
	if (cached_commit_time(era, fxid, stamp))
		return true;

	/* a reader that keeps missing loads them all, once */
	if (snapshot != NULL && ++stamps_probed >= PRELOAD_AFTER_PROBES &&
		!(preloaded && preloaded_era == era))
	{
		preload_commit_times(era);
		if (cached_commit_time(era, fxid, stamp))
			return true;
	}

	rel = table_open(ttpdb_catalog_relid("commit_times"), AccessShareLock);
	scan = ttpdb_commit_times_scan(rel, era, fxid, snapshot);
	tup = systable_getnext(scan);
	found = HeapTupleIsValid(tup);
	if (!found && snapshot == NULL)
	{
		/*
		 * COMMIT PREPARED replaces a row's 'infinity' by an update, which
		 * leaves two index entries: SnapshotSelf can see neither when the
		 * update commits between the two.  It has, by the time the first
		 * scan ends: a second one sees the new row.
		 */
		systable_endscan(scan);
		scan = ttpdb_commit_times_scan(rel, era, fxid, NULL);
		tup = systable_getnext(scan);
		found = HeapTupleIsValid(tup);
	}
	if (found)
	{
		bool		isnull;

		*stamp = DatumGetTimestampTz(heap_getattr(tup, 3, RelationGetDescr(rel),
												  &isnull));
		/* SnapshotSelf also shows our own stamp, not committed yet */
		if (ours && !TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)) &&
			!TIMESTAMP_NOT_FINITE(*stamp))
			stamp_cache_store(fxid, *stamp);

		/*
		 * Readers look the same stamps up again and again; a writer looks up
		 * the creation of the row it replaces, rarely twice, so its lookups
		 * would only crowd this backend's cache.
		 */
		if (snapshot != NULL && hash_get_num_entries(commit_cache) < COMMIT_CACHE_MAX &&
			!TIMESTAMP_NOT_FINITE(*stamp))
		{
			CommitCacheKey key;
			CommitCacheEntry *entry;

			memset(&key, 0, sizeof(key));
			key.era = era;
			key.fxid = U64FromFullTransactionId(fxid);
			entry = hash_search(commit_cache, &key, HASH_ENTER, NULL);
			entry->stamp = *stamp;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * ttpdb_stamps_as_of
 *		Prepare to ask the shared cache which transactions of the era
 *		committed at or before "as_of", for the xids it can hold: from the
 *		era's first xid, or as many as it holds before the next xid.  Empty
 *		for another cluster's era, or when the cache is off.
 */
void
ttpdb_stamps_as_of(int64 era, TimestampTz as_of, StampsAsOf *stamps)
{
	uint64		next = U64FromFullTransactionId(ReadNextFullTransactionId());
	uint64		capacity = stamp_cache_capacity();
	uint64		lo,
				hi;
	uint64		first;
	Relation	rel;
	bool		found;

	memset(stamps, 0, sizeof(StampsAsOf));
	if (!era_is_ours(era) || capacity == 0)
		return;
	rel = table_open(ttpdb_catalog_relid("commit_times"), AccessShareLock);
	found = era_xid_range(rel, era, &lo, &hi);
	table_close(rel, AccessShareLock);
	if (!found)
		return;
	first = next > capacity ? Max(lo, next - capacity) : lo;
	if (first < next)
		stamp_cache_begin_as_of(stamps, first, next - first, as_of);
}
