/*-------------------------------------------------------------------------
 *
 * tam_stamp_cache.c
 *	  The shared cache of commit stamps: recent transactions' stamps in
 *	  shared memory, so that a new session reading the past, or a writer
 *	  looking up when the row it replaces was created, need not read
 *	  ttpdb.commit_times.
 *
 * A stamp never changes once its transaction has committed, so the cache
 * holds facts and needs no invalidation.  It is an array of entries
 * (full xid, stamp), the entry of an xid being xid modulo the array's
 * length: the latest transactions of the cluster, however many databases
 * they wrote in (a full xid names one transaction, which writes in one
 * database).  Committing transactions store their stamps once their commit
 * is visible; readers store what they had to read from the table.  A newer
 * xid takes an entry from an older one, never the reverse.
 *
 * Entries are read and written without locks.  A writer claims an entry by
 * swapping its xid for STAMP_ENTRY_BUSY, writes the stamp, then the xid; a
 * reader reads the xid, the stamp, and the xid again, and believes the
 * stamp only if the same xid was there both times.  An entry's xid only
 * grows, so seeing the same xid twice means the stamp read between is that
 * xid's (only that xid's own stamp could be written there meanwhile).  A
 * writer that finds an entry being written leaves it: a miss only costs a
 * lookup in the table.
 *
 * Only stamps of this cluster's current era are cached: the caller says
 * whether the xid it looks up is one.
 *
 * For an AS OF scan, which asks about nearly every tuple, the file also
 * keeps the answers of a range of xids in bitmaps (StampsAsOf), read from
 * the cache a chunk at a time; and it remembers which databases a reader
 * filled the cache for after startup, so that one reader a database does.
 *
 * IDENTIFICATION
 *	  src/tam/tam_stamp_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/atomics.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "tam.h"

/* An entry being written. */
#define STAMP_ENTRY_BUSY	PG_UINT64_MAX

typedef struct StampCacheEntry
{
	pg_atomic_uint64 fxid;		/* 0: empty; or STAMP_ENTRY_BUSY */
	TimestampTz stamp;
} StampCacheEntry;

/* Databases whose latest stamps a reader stored after startup, at most. */
#define STAMP_CACHE_WARMED_DATABASES	64

typedef struct StampCache
{
	slock_t		mutex;			/* protects warmed */
	int			nwarmed;
	Oid			warmed[STAMP_CACHE_WARMED_DATABASES];
	uint64		nentries;
	StampCacheEntry entries[FLEXIBLE_ARRAY_MEMBER];
} StampCache;

/* ttpdb.stamp_cache_size, in kB. */
int			ttpdb_stamp_cache_size = 16 * 1024;

static StampCache *stamp_cache = NULL;

static uint64 stamp_cache_entries(void);

/*
 * stamp_cache_init
 *		Define ttpdb.stamp_cache_size; from _PG_init.
 */
void
stamp_cache_init(void)
{
	DefineCustomIntVariable("ttpdb.stamp_cache_size",
							"Shared memory that caches the commit stamps of recent transactions.",
							"Reading a ttpdb table as of a past time needs the commit stamp of "
							"the transaction that wrote each version; 16 bytes cache one. "
							"0 turns the cache off.",
							&ttpdb_stamp_cache_size,
							16 * 1024,
							0, INT_MAX / 2,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
}

static uint64
stamp_cache_entries(void)
{
	return (uint64) ttpdb_stamp_cache_size * 1024 / sizeof(StampCacheEntry);
}

/*
 * stamp_cache_shmem_size
 *		Shared memory the cache needs; 0 when it is off.
 */
Size
stamp_cache_shmem_size(void)
{
	if (stamp_cache_entries() == 0)
		return 0;
	return add_size(offsetof(StampCache, entries),
					mul_size(stamp_cache_entries(), sizeof(StampCacheEntry)));
}

/*
 * stamp_cache_attach
 *		Attach to (creating if need be) the cache; the caller holds
 *		AddinShmemInitLock.
 */
void
stamp_cache_attach(void)
{
	bool		found;

	if (stamp_cache_entries() == 0)
		return;
	stamp_cache = ShmemInitStruct("ttpdb commit stamp cache",
								  stamp_cache_shmem_size(), &found);
	if (!found)
	{
		SpinLockInit(&stamp_cache->mutex);
		stamp_cache->nwarmed = 0;
		stamp_cache->nentries = stamp_cache_entries();
		for (uint64 i = 0; i < stamp_cache->nentries; i++)
		{
			pg_atomic_init_u64(&stamp_cache->entries[i].fxid, 0);
			stamp_cache->entries[i].stamp = 0;
		}
	}
}

/*
 * stamp_cache_lookup
 *		The stamp of committed transaction "fxid" of the current era, if the
 *		cache has it.
 */
bool
stamp_cache_lookup(FullTransactionId fxid, TimestampTz *stamp)
{
	uint64		xid = U64FromFullTransactionId(fxid);
	StampCacheEntry *entry;
	TimestampTz found;

	if (stamp_cache == NULL)
		return false;
	entry = &stamp_cache->entries[xid % stamp_cache->nentries];
	if (pg_atomic_read_u64(&entry->fxid) != xid)
		return false;
	pg_read_barrier();
	found = entry->stamp;
	pg_read_barrier();
	if (pg_atomic_read_u64(&entry->fxid) != xid)
		return false;
	*stamp = found;
	return true;
}

/*
 * stamp_cache_store
 *		Remember the stamp of "fxid", a committed transaction of the current
 *		era, unless its entry holds a newer one or is being written.
 */
void
stamp_cache_store(FullTransactionId fxid, TimestampTz stamp)
{
	uint64		xid = U64FromFullTransactionId(fxid);
	StampCacheEntry *entry;
	uint64		current;

	if (stamp_cache == NULL)
		return;
	entry = &stamp_cache->entries[xid % stamp_cache->nentries];
	current = pg_atomic_read_u64(&entry->fxid);
	do
	{
		if (current == STAMP_ENTRY_BUSY || current >= xid)
			return;
	} while (!pg_atomic_compare_exchange_u64(&entry->fxid, &current, STAMP_ENTRY_BUSY));
	entry->stamp = stamp;
	pg_write_barrier();
	pg_atomic_write_u64(&entry->fxid, xid);
}

/*
 * stamp_cache_claim_warming
 *		Whether the caller is the first since startup to store the latest
 *		stamps of database "dboid" in the cache, which it is then to do:
 *		once is enough, committers keep them up to date.
 */
bool
stamp_cache_claim_warming(Oid dboid)
{
	bool		first = true;

	if (stamp_cache == NULL)
		return false;
	SpinLockAcquire(&stamp_cache->mutex);
	for (int i = 0; i < stamp_cache->nwarmed && first; i++)
		first = stamp_cache->warmed[i] != dboid;
	if (first && stamp_cache->nwarmed < STAMP_CACHE_WARMED_DATABASES)
		stamp_cache->warmed[stamp_cache->nwarmed++] = dboid;
	else
		first = false;
	SpinLockRelease(&stamp_cache->mutex);
	return first;
}

/*
 * stamp_cache_capacity
 *		How many transactions the cache can hold; 0 when it is off.
 */
uint64
stamp_cache_capacity(void)
{
	return stamp_cache == NULL ? 0 : stamp_cache->nentries;
}

/* Xids a chunk of the bitmaps covers: 64 kB of cache entries, 512 bytes of bits. */
#define STAMP_CHUNK_XIDS	4096

/*
 * Lookups of single entries in a chunk before it is read whole: a small
 * table whose xids are scattered over the range needs a few entries of many
 * chunks, not the chunks.
 */
#define STAMP_CHUNK_ASKED	32

/*
 * stamp_cache_begin_as_of
 *		Prepare "stamps" for the "count" xids from "first" as of "as_of".
 *		What it allocates, in the current memory context, grows with what
 *		lookups need.
 */
void
stamp_cache_begin_as_of(StampsAsOf *stamps, uint64 first, uint64 count, TimestampTz as_of)
{
	uint64		chunks;

	count = Min(count, stamp_cache_capacity());
	stamps->first = first;
	stamps->count = count;
	stamps->as_of = as_of;
	stamps->mcxt = CurrentMemoryContext;
	stamps->asked = NULL;
	stamps->known = stamps->by_as_of = NULL;
	if (count == 0)
		return;
	chunks = (count + STAMP_CHUNK_XIDS - 1) / STAMP_CHUNK_XIDS;
	stamps->asked = MemoryContextAllocHuge(CurrentMemoryContext, chunks);
	memset(stamps->asked, 0, chunks);
	stamps->known = MemoryContextAllocHuge(CurrentMemoryContext, chunks * sizeof(uint64 *));
	memset(stamps->known, 0, chunks * sizeof(uint64 *));
	stamps->by_as_of = MemoryContextAllocHuge(CurrentMemoryContext, chunks * sizeof(uint64 *));
	memset(stamps->by_as_of, 0, chunks * sizeof(uint64 *));
}

/*
 * Read one chunk from the cache into its bitmaps: one pass through its
 * entries, which lie side by side.
 */
static void
read_chunk(StampsAsOf *stamps, uint64 chunk)
{
	uint64		from = chunk * STAMP_CHUNK_XIDS;
	uint64		to = Min(from + STAMP_CHUNK_XIDS, stamps->count);
	uint64	   *known = MemoryContextAllocZero(stamps->mcxt, STAMP_CHUNK_XIDS / 8);
	uint64	   *by_as_of = MemoryContextAllocZero(stamps->mcxt, STAMP_CHUNK_XIDS / 8);

	for (uint64 i = from; i < to; i++)
	{
		TimestampTz stamp;
		uint64		bit = i - from;

		if (stamp_cache_lookup(FullTransactionIdFromU64(stamps->first + i), &stamp))
		{
			known[bit / 64] |= UINT64CONST(1) << (bit % 64);
			if (stamp <= stamps->as_of)
				by_as_of[bit / 64] |= UINT64CONST(1) << (bit % 64);
		}
	}
	stamps->known[chunk] = known;
	stamps->by_as_of[chunk] = by_as_of;
}

/*
 * stamp_cache_committed_by
 *		Whether the cache knows the stamp of committed transaction "fxid";
 *		if so, "by_as_of" says whether it is at or before the instant.
 */
bool
stamp_cache_committed_by(StampsAsOf *stamps, FullTransactionId fxid, bool *by_as_of)
{
	uint64		i = U64FromFullTransactionId(fxid) - stamps->first;
	uint64		chunk;
	uint64		bit;
	uint64		mask;

	if (i >= stamps->count)
		return false;
	chunk = i / STAMP_CHUNK_XIDS;
	if (stamps->known[chunk] == NULL)
	{
		TimestampTz stamp;

		if (stamps->asked[chunk] < STAMP_CHUNK_ASKED)
		{
			stamps->asked[chunk]++;
			if (!stamp_cache_lookup(fxid, &stamp))
				return false;
			*by_as_of = stamp <= stamps->as_of;
			return true;
		}
		read_chunk(stamps, chunk);
	}
	bit = i % STAMP_CHUNK_XIDS;
	mask = UINT64CONST(1) << (bit % 64);
	if ((stamps->known[chunk][bit / 64] & mask) == 0)
		return false;
	*by_as_of = (stamps->by_as_of[chunk][bit / 64] & mask) != 0;
	return true;
}

/*
 * stamp_cache_end_as_of
 *		Free what the lookups allocated.
 */
void
stamp_cache_end_as_of(StampsAsOf *stamps)
{
	uint64		chunks;

	if (stamps->count == 0)
		return;
	chunks = (stamps->count + STAMP_CHUNK_XIDS - 1) / STAMP_CHUNK_XIDS;
	for (uint64 chunk = 0; chunk < chunks; chunk++)
	{
		if (stamps->known[chunk] != NULL)
		{
			pfree(stamps->known[chunk]);
			pfree(stamps->by_as_of[chunk]);
		}
	}
	pfree(stamps->asked);
	pfree(stamps->known);
	pfree(stamps->by_as_of);
	stamps->count = 0;
}
