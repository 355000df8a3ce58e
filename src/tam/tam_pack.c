/*-------------------------------------------------------------------------
 *
 * tam_pack.c
 *	  Packing the temporal store: many kept versions of one table
 *	  compressed together, with their validity, in ttpdb.history_packs.
 *
 * A superseding transaction keeps each version as a row of its own in
 * ttpdb.history (tam_history.c): it must, since it cannot know its commit
 * stamp before it commits, and a rollback must leave nothing.  Such a row
 * costs a heap tuple header, its bookkeeping columns and an index entry
 * for some 45 bytes of compressed tuple.  Once the superseding transaction
 * has committed, nothing about the version changes any more: packing moves
 * up to PACK_MAX_VERSIONS of them into one record, LZ4-compressed together
 * (similar tuples compress far better side by side), with the end stamp
 * resolved, so that reading them as of a time needs no commit-stamp lookup,
 * and a pack whose versions all ended before (or began after) the time
 * read is skipped without being decompressed.
 *
 * A pack's payload, before compression, is
 *
 *	uint32	format (PACK_FORMAT), uint32 n
 *	uint64	created_xid[n], ended_xid[n]	as deltas from the previous one
 *	int64	valid_from[n], valid_to[n]		as deltas from the previous one
 *	uint32	length[n]						of each tuple
 *	uint8	flags[n]						PACK_FROM_KNOWN
 *	the n tuples, as ttpdb.history stores them (cids in their headers)
 *
 * sorted by the ending transaction: the deltas are small, and mostly zero
 * bytes, which LZ4 compresses well.
 *
 * Packing moves versions in one transaction (deletes the single rows,
 * inserts the pack), so any MVCC snapshot sees each version exactly once.
 * It holds ShareUpdateExclusiveLock on the table, as VACUUM and
 * ttpdb.prune_history() do, so packers and pruners of one table take turns
 * while writers go on.  It runs when asked (ttpdb.pack_history()) and, as
 * writers add versions, at the commit of a writing transaction: a backend
 * that has kept ttpdb.pack_after versions since it last packed packs the
 * tables its committing transaction wrote, if it gets their lock at once.
 *
 * IDENTIFICATION
 *	  src/tam/tam_pack.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "tam.h"

#define PACK_FORMAT			1
#define PACK_MAX_VERSIONS	1000
#define PACK_MAX_BYTES		(1024 * 1024)	/* of uncompressed tuples */
#define PACK_FROM_KNOWN		0x01

/*
 * Versions one commit packs at the most, per table: a backlog (after an
 * upgrade, or with ttpdb.pack_after raised) is worked off over several
 * commits rather than delaying one.
 */
#define PACK_AT_COMMIT_MAX	(4 * PACK_MAX_VERSIONS)

/* Bytes of the payload before the tuples. */
#define PACK_FIXED_SIZE(n)	(2 * sizeof(uint32) + (n) * (4 * sizeof(uint64) + sizeof(uint32) + 1))

/* ttpdb.pack_after: kept versions per backend between automatic packings. */
int			ttpdb_pack_after = 1000;

/* Versions this backend kept since it last packed. */
static int64 kept_since_pack = 0;

/* The tables the current transaction kept versions of (the first few). */
#define PACK_MAX_PENDING	16
static LocalTransactionId pending_lxid = InvalidLocalTransactionId;
static Oid	pending_relids[PACK_MAX_PENDING];
static int	pending_n = 0;

/* The subtransaction in which the current transaction packed, if it did. */
static LocalTransactionId pack_subxact_lxid = InvalidLocalTransactionId;
static TransactionId pack_subxact_xid = InvalidTransactionId;

/* One version on its way into a pack. */
typedef struct PackItem
{
	HistoryVersion version;		/* valid_to_known */
	char	   *tuple;
	uint32		length;
	ItemPointerData single;		/* its row in ttpdb.history, if any */
} PackItem;

void
history_pack_init(void)
{
	DefineCustomIntVariable("ttpdb.pack_after",
							"Kept versions after which a writing backend packs the history of the tables it writes.",
							"At the commit of a transaction that kept row versions, a backend that has "
							"kept this many since it last packed moves the committed single versions "
							"of those tables into packs. 0 packs only when ttpdb.pack_history() is called.",
							&ttpdb_pack_after,
							1000,
							0, INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
}

/*
 * history_note_kept
 *		Count a version the current transaction kept of table "relid".
 */
void
history_note_kept(Oid relid)
{
	kept_since_pack++;
	if (pending_lxid != MyProc->lxid)
	{
		pending_lxid = MyProc->lxid;
		pending_n = 0;
	}
	for (int i = 0; i < pending_n; i++)
		if (pending_relids[i] == relid)
			return;
	if (pending_n < PACK_MAX_PENDING)
		pending_relids[pending_n++] = relid;
}

/* Pack the tables of pending_relids that nobody else is packing. */
static bool
pack_pending_tables(void)
{
	bool		packed = false;

	for (int i = 0; i < pending_n; i++)
	{
		Relation	rel;

		if (!ConditionalLockRelationOid(pending_relids[i], ShareUpdateExclusiveLock))
			continue;
		/* dropped by this transaction: its versions go with it */
		rel = try_relation_open(pending_relids[i], NoLock);
		if (rel == NULL)
			continue;
		(void) history_pack_relation(rel, SnapshotSelf, PACK_AT_COMMIT_MAX);
		relation_close(rel, NoLock);
		packed = true;
	}
	return packed;
}

/*
 * history_pack_at_commit
 *		Called before the commit of a transaction that wrote ttpdb tables:
 *		when this backend has kept ttpdb.pack_after versions since it last
 *		packed, pack the tables this transaction kept versions of.  A table
 *		someone else is packing, pruning or vacuuming is left for later;
 *		nobody waits.
 *
 * Packing is housekeeping: it must not make the user's commit fail.  It
 * runs in a subtransaction, and an error is reported as a warning, the
 * packing undone and the commit carried on (a cancel still cancels, as it
 * does deferred triggers); and it does a bounded amount of work.
 */
void
history_pack_at_commit(void)
{
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool packed = false;

	if (pending_lxid != MyProc->lxid || pending_n == 0)
		return;
	/*
	 * Not in a serializable transaction: deleting single rows that concurrent
	 * serializable readers have read would add conflicts that could fail the
	 * commit.  Not before ALTER EXTENSION ttpdb UPDATE has created the packs'
	 * table either.
	 */
	if (ttpdb_pack_after <= 0 || kept_since_pack < ttpdb_pack_after ||
		IsolationIsSerializable() ||
		!OidIsValid(ttpdb_catalog_relid_if_exists("history_packs")))
	{
		pending_n = 0;
		return;
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		/* kept versions may be TOASTed, and reading TOAST needs a snapshot */
		PushActiveSnapshot(GetLatestSnapshot());
		packed = pack_pending_tables();
		PopActiveSnapshot();
		pack_subxact_lxid = MyProc->lxid;
		pack_subxact_xid = GetCurrentTransactionIdIfAny();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(context);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		/* try again only after as many versions more */
		kept_since_pack = 0;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("could not pack the history of ttpdb tables: %s", edata->message),
				 errhint("The versions stay where they are; ttpdb.pack_history() packs them on request.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	pending_n = 0;
	if (packed)
		kept_since_pack = 0;
}

/*
 * history_is_pack_subxact
 *		Whether "xid" is the subtransaction in which the current transaction
 *		packed: it changed no ttpdb table, so it needs no commit stamp.
 */
bool
history_is_pack_subxact(TransactionId xid)
{
	return pack_subxact_lxid == MyProc->lxid &&
		TransactionIdIsValid(pack_subxact_xid) &&
		TransactionIdEquals(xid, pack_subxact_xid);
}

/* Append "n" values as deltas from the previous one. */
static char *
put_deltas(char *p, const uint64 *values, int n)
{
	uint64		prev = 0;

	for (int i = 0; i < n; i++)
	{
		uint64		delta = values[i] - prev;

		memcpy(p, &delta, sizeof(uint64));
		p += sizeof(uint64);
		prev = values[i];
	}
	return p;
}

static const char *
get_deltas(const char *p, uint64 *values, int n)
{
	uint64		prev = 0;

	for (int i = 0; i < n; i++)
	{
		uint64		delta;

		memcpy(&delta, p, sizeof(uint64));
		p += sizeof(uint64);
		prev += delta;
		values[i] = prev;
	}
	return p;
}

static int
pack_item_cmp(const void *a, const void *b)
{
	const PackItem *x = (const PackItem *) a;
	const PackItem *y = (const PackItem *) b;
	uint64		xe = U64FromFullTransactionId(x->version.ended_xid);
	uint64		ye = U64FromFullTransactionId(y->version.ended_xid);
	uint64		xc = U64FromFullTransactionId(x->version.created_xid);
	uint64		yc = U64FromFullTransactionId(y->version.created_xid);

	if (xe != ye)
		return xe < ye ? -1 : 1;
	if (xc != yc)
		return xc < yc ? -1 : 1;
	return 0;
}

/*
 * Write "items" (of one era, each with its end) as one pack of table
 * "relid".
 */
static void
pack_insert(Relation packs, Oid relid, PackItem *items, int n)
{
	uint64	   *column = palloc(n * sizeof(uint64));
	Size		size = PACK_FIXED_SIZE(n);
	char	   *payload;
	char	   *p;
	uint32		header[2];
	int64		raw = 0;
	bool		from_all_known = true;
	TimestampTz from_min = DT_NOEND;
	TimestampTz to_min = DT_NOEND;
	TimestampTz to_max = DT_NOBEGIN;
	Datum		values[Natts_history_packs];
	bool		nulls[Natts_history_packs];
	HeapTuple	tuple;

	qsort(items, n, sizeof(PackItem), pack_item_cmp);
	for (int i = 0; i < n; i++)
		size += items[i].length;
	payload = palloc(size);
	header[0] = PACK_FORMAT;
	header[1] = n;
	memcpy(payload, header, sizeof(header));
	p = payload + sizeof(header);

	for (int i = 0; i < n; i++)
		column[i] = U64FromFullTransactionId(items[i].version.created_xid);
	p = put_deltas(p, column, n);
	for (int i = 0; i < n; i++)
		column[i] = U64FromFullTransactionId(items[i].version.ended_xid);
	p = put_deltas(p, column, n);
	for (int i = 0; i < n; i++)
	{
		/* an unknown start takes the previous one's value: a zero delta */
		if (items[i].version.valid_from_known)
			column[i] = (uint64) items[i].version.valid_from;
		else
			column[i] = i > 0 ? column[i - 1] : 0;
	}
	p = put_deltas(p, column, n);
	for (int i = 0; i < n; i++)
		column[i] = (uint64) items[i].version.valid_to;
	p = put_deltas(p, column, n);
	for (int i = 0; i < n; i++)
	{
		memcpy(p, &items[i].length, sizeof(uint32));
		p += sizeof(uint32);
	}
	for (int i = 0; i < n; i++)
		*p++ = items[i].version.valid_from_known ? PACK_FROM_KNOWN : 0;
	for (int i = 0; i < n; i++)
	{
		HistoryVersion *v = &items[i].version;

		memcpy(p, items[i].tuple, items[i].length);
		p += items[i].length;
		raw += items[i].length;
		if (!v->valid_from_known)
			from_all_known = false;
		else if (v->valid_from < from_min)
			from_min = v->valid_from;
		to_min = Min(to_min, v->valid_to);
		to_max = Max(to_max, v->valid_to);
	}
	Assert(p == payload + size);

	memset(nulls, false, sizeof(nulls));
	values[Anum_history_packs_relid - 1] = ObjectIdGetDatum(relid);
	values[Anum_history_packs_era - 1] = Int64GetDatum(items[0].version.era);
	values[Anum_history_packs_versions - 1] = Int32GetDatum(n);
	values[Anum_history_packs_valid_from_min - 1] = TimestampTzGetDatum(from_min);
	nulls[Anum_history_packs_valid_from_min - 1] = !from_all_known;
	values[Anum_history_packs_valid_to_min - 1] = TimestampTzGetDatum(to_min);
	values[Anum_history_packs_valid_to_max - 1] = TimestampTzGetDatum(to_max);
	values[Anum_history_packs_raw_size - 1] = Int32GetDatum((int32) raw);
	values[Anum_history_packs_data - 1] = PointerGetDatum(history_compress(payload, size));
	tuple = heap_form_tuple(RelationGetDescr(packs), values, nulls);
	ttpdb_insert_with_indexes(packs, tuple);
	heap_freetuple(tuple);
	pfree(DatumGetPointer(values[Anum_history_packs_data - 1]));
	pfree(payload);
	pfree(column);
}

/*
 * Write the batch of single versions collected from ttpdb.history as one
 * pack, and delete the single rows.  The batch's tuples were read into
 * "batch_context"; the pack is built there too, and all of it freed.
 */
static void
pack_flush(Relation history, Relation packs, Oid relid, PackItem *items, int n,
		   MemoryContext batch_context)
{
	MemoryContext old;

	if (n == 0)
		return;
	old = MemoryContextSwitchTo(batch_context);
	pack_insert(packs, relid, items, n);
	for (int i = 0; i < n; i++)
		simple_heap_delete(history, &items[i].single);
	MemoryContextSwitchTo(old);
	MemoryContextReset(batch_context);
}

/*
 * history_pack_relation
 *		Move the single kept versions of "rel" that "snapshot" sees, and whose
 *		superseding transaction has committed, into packs, "limit" at the
 *		most (0: all); return how many.  The caller holds
 *		ShareUpdateExclusiveLock on "rel".
 */
int64
history_pack_relation(Relation rel, Snapshot snapshot, int64 limit)
{
	Oid			relid = RelationGetRelid(rel);
	MemoryContext context;
	MemoryContext batch_context;
	MemoryContext old;
	Relation	history;
	Relation	packs;
	TupleDesc	desc;
	PackItem   *items;
	int			n = 0;
	Size		bytes = 0;
	int64		packed = 0;
	SysScanDesc scan;
	HeapTuple	tup;

	/* before ALTER EXTENSION ttpdb UPDATE there is nowhere to pack to */
	if (!OidIsValid(ttpdb_catalog_relid_if_exists("history_packs")))
		return 0;

	context = AllocSetContextCreate(CurrentMemoryContext, "ttpdb pack",
									ALLOCSET_DEFAULT_SIZES);
	batch_context = AllocSetContextCreate(context, "ttpdb pack batch",
										  ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(context);
	history = table_open(ttpdb_catalog_relid("history"), RowExclusiveLock);
	packs = table_open(ttpdb_catalog_relid("history_packs"), RowExclusiveLock);
	desc = RelationGetDescr(history);
	items = palloc(PACK_MAX_VERSIONS * sizeof(PackItem));
	scan = history_scan_relid(history, "history_relid_idx", relid, snapshot);

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		PackItem   *item;
		bool		isnull;
		Datum		value;
		int64		era = DatumGetInt64(heap_getattr(tup, Anum_history_era, desc, &isnull));
		FullTransactionId ended =
			DatumGetFullTransactionId(heap_getattr(tup, Anum_history_ended_xid, desc, &isnull));
		TimestampTz to;

		CHECK_FOR_INTERRUPTS();
		/*
		 * not stamped yet: kept by the current transaction, or by a prepared
		 * one ('infinity' until COMMIT PREPARED stamps it)
		 */
		if (!ttpdb_commit_time(era, ended, NULL, &to) || TIMESTAMP_NOT_FINITE(to))
			continue;
		if (n > 0 && (n == PACK_MAX_VERSIONS || bytes >= PACK_MAX_BYTES ||
					  era != items[0].version.era))
		{
			pack_flush(history, packs, relid, items, n, batch_context);
			packed += n;
			n = 0;
			bytes = 0;
			if (limit > 0 && packed >= limit)
				break;
		}

		item = &items[n++];
		memset(item, 0, sizeof(PackItem));
		item->version.era = era;
		value = heap_getattr(tup, Anum_history_created_xid, desc, &isnull);
		item->version.created_xid = isnull ? InvalidFullTransactionId :
			DatumGetFullTransactionId(value);
		item->version.ended_xid = ended;
		value = heap_getattr(tup, Anum_history_valid_from, desc, &isnull);
		item->version.valid_from_known = !isnull;
		item->version.valid_from = isnull ? 0 : DatumGetTimestampTz(value);
		item->version.valid_to_known = true;
		item->version.valid_to = to;
		item->single = tup->t_self;

		MemoryContextSwitchTo(batch_context);
		value = heap_getattr(tup, Anum_history_data, desc, &isnull);
		item->tuple = history_unpack_bytes(DatumGetByteaPP(value), SizeofHeapTupleHeader,
										   &item->length, relid);
		MemoryContextSwitchTo(context);
		bytes += item->length;
	}
	pack_flush(history, packs, relid, items, n, batch_context);
	packed += n;
	systable_endscan(scan);

	table_close(packs, NoLock);
	table_close(history, NoLock);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(context);
	return packed;
}

/*
 * history_pack_read
 *		Decode the pack "packtup" (a row of ttpdb.history_packs, whose
 *		descriptor is "desc") of table "relid", checking its layout.
 */
HistoryPack *
history_pack_read(HeapTuple packtup, TupleDesc desc, Oid relid)
{
	HistoryPack *pack = palloc(sizeof(HistoryPack));
	bool		isnull;
	int64		era = DatumGetInt64(heap_getattr(packtup, Anum_history_packs_era, desc, &isnull));
	int32		declared = DatumGetInt32(heap_getattr(packtup, Anum_history_packs_versions,
													  desc, &isnull));
	Datum		data = heap_getattr(packtup, Anum_history_packs_data, desc, &isnull);
	uint32		len;
	char	   *payload = history_unpack_bytes(DatumGetByteaPP(data), 2 * sizeof(uint32),
											   &len, relid);
	const char *p = payload;
	uint32		header[2];
	uint64	   *created;
	uint64	   *ended;
	uint64	   *from;
	uint64	   *to;
	uint32		offset = 0;
	int			n;

	memcpy(header, p, sizeof(header));
	p += sizeof(header);
	n = (int) header[1];
	if (header[0] != PACK_FORMAT || n < 1 || n > PACK_MAX_VERSIONS || n != declared ||
		len < PACK_FIXED_SIZE(n))
		history_corrupted(relid);

	created = palloc(n * sizeof(uint64));
	ended = palloc(n * sizeof(uint64));
	from = palloc(n * sizeof(uint64));
	to = palloc(n * sizeof(uint64));
	p = get_deltas(p, created, n);
	p = get_deltas(p, ended, n);
	p = get_deltas(p, from, n);
	p = get_deltas(p, to, n);

	pack->nversions = n;
	pack->versions = palloc(n * sizeof(HistoryVersion));
	pack->offsets = palloc(n * sizeof(uint32));
	pack->lengths = palloc(n * sizeof(uint32));
	pack->data = payload + PACK_FIXED_SIZE(n);
	memcpy(pack->lengths, p, n * sizeof(uint32));
	p += n * sizeof(uint32);
	for (int i = 0; i < n; i++)
	{
		HistoryVersion *v = &pack->versions[i];
		uint8		flags = (uint8) p[i];

		if (pack->lengths[i] < SizeofHeapTupleHeader ||
			pack->lengths[i] > len - PACK_FIXED_SIZE(n) - offset)
			history_corrupted(relid);
		pack->offsets[i] = offset;
		offset += pack->lengths[i];

		v->tuple = NULL;
		v->era = era;
		v->created_xid = FullTransactionIdFromU64(created[i]);
		v->ended_xid = FullTransactionIdFromU64(ended[i]);
		v->valid_from_known = (flags & PACK_FROM_KNOWN) != 0;
		v->valid_from = v->valid_from_known ? (TimestampTz) from[i] : 0;
		v->valid_to_known = true;
		v->valid_to = (TimestampTz) to[i];
	}
	if (offset != len - PACK_FIXED_SIZE(n))
		history_corrupted(relid);
	pfree(created);
	pfree(ended);
	pfree(from);
	pfree(to);
	return pack;
}

/*
 * history_pack_tuple
 *		A copy of version "i" of a decoded pack, in the caller's context.
 */
HeapTuple
history_pack_tuple(HistoryPack *pack, int i, Oid relid)
{
	uint32		len = pack->lengths[i];
	HeapTuple	tuple = palloc(HEAPTUPLESIZE + len);

	tuple->t_data = (HeapTupleHeader) ((char *) tuple + HEAPTUPLESIZE);
	tuple->t_len = len;
	tuple->t_tableOid = relid;
	ItemPointerSetInvalid(&tuple->t_self);
	memcpy(tuple->t_data, pack->data + pack->offsets[i], len);
	return tuple;
}

/*
 * history_prune_packs
 *		Delete the packed versions of "rel" that "snapshot" sees and that
 *		ended before "older_than"; return how many.  A pack with some such
 *		versions is written again without them.  The caller holds
 *		ShareUpdateExclusiveLock on "rel".
 */
int64
history_prune_packs(Relation rel, TimestampTz older_than, Snapshot snapshot)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			packs_relid = ttpdb_catalog_relid_if_exists("history_packs");
	Relation	packs;
	TupleDesc	desc;
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext,
												  "ttpdb prune packs",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	int64		pruned = 0;
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(packs_relid))
	{
		MemoryContextDelete(context);
		return 0;				/* before ALTER EXTENSION ttpdb UPDATE */
	}
	packs = table_open(packs_relid, RowExclusiveLock);
	desc = RelationGetDescr(packs);
	scan = history_scan_relid(packs, "history_packs_relid_idx", relid, snapshot);

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		TimestampTz to_min = DatumGetTimestampTz(heap_getattr(tup, Anum_history_packs_valid_to_min,
															   desc, &isnull));
		TimestampTz to_max = DatumGetTimestampTz(heap_getattr(tup, Anum_history_packs_valid_to_max,
															   desc, &isnull));
		HistoryPack *pack;
		PackItem   *items;
		int			kept = 0;

		CHECK_FOR_INTERRUPTS();
		if (to_min >= older_than)
			continue;
		if (to_max < older_than)
		{
			pruned += DatumGetInt32(heap_getattr(tup, Anum_history_packs_versions, desc, &isnull));
			simple_heap_delete(packs, &tup->t_self);
			continue;
		}

		/* some versions go: write the others again */
		old = MemoryContextSwitchTo(context);
		pack = history_pack_read(tup, desc, relid);
		items = palloc(pack->nversions * sizeof(PackItem));
		for (int i = 0; i < pack->nversions; i++)
		{
			if (pack->versions[i].valid_to < older_than)
				continue;
			memset(&items[kept], 0, sizeof(PackItem));
			items[kept].version = pack->versions[i];
			items[kept].tuple = pack->data + pack->offsets[i];
			items[kept].length = pack->lengths[i];
			kept++;
		}
		pruned += pack->nversions - kept;
		/* (none kept: the bounds said otherwise, but the versions decide) */
		if (kept > 0)
			pack_insert(packs, relid, items, kept);
		simple_heap_delete(packs, &tup->t_self);
		MemoryContextSwitchTo(old);
		MemoryContextReset(context);
	}
	systable_endscan(scan);
	table_close(packs, NoLock);
	MemoryContextDelete(context);
	return pruned;
}

/*
 * history_rewrite_packs
 *		Write every pack of "rel" that "snapshot" sees again with each of
 *		its versions mapped by "mapper" (history_rewrite_versions), and
 *		return how many versions changed.  Their validity does not change.
 *		A pack none of whose versions the mapper changes stays as it is.
 */
int64
history_rewrite_packs(Relation rel, Snapshot snapshot, HistoryVersionMapper mapper,
					  void *arg)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			packs_relid = ttpdb_catalog_relid_if_exists("history_packs");
	Relation	packs;
	TupleDesc	desc;
	MemoryContext context;
	MemoryContext old;
	int64		rewritten = 0;
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(packs_relid))
		return 0;				/* before ALTER EXTENSION ttpdb UPDATE */
	context = AllocSetContextCreate(CurrentMemoryContext, "ttpdb rewrite packs",
									ALLOCSET_DEFAULT_SIZES);
	packs = table_open(packs_relid, RowExclusiveLock);
	desc = RelationGetDescr(packs);
	scan = history_scan_relid(packs, "history_packs_relid_idx", relid, snapshot);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		HistoryPack *pack;
		PackItem   *items;
		Size		bytes = 0;
		int			changed;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(context);
		pack = history_pack_read(tup, desc, relid);
		items = palloc0(pack->nversions * sizeof(PackItem));
		changed = 0;
		for (int i = 0; i < pack->nversions; i++)
		{
			HeapTuple	version = history_pack_tuple(pack, i, relid);
			HeapTuple	mapped = history_map_version(version, mapper, arg);

			if (mapped != NULL)
				changed++;
			else
				mapped = version;
			items[i].version = pack->versions[i];
			items[i].tuple = (char *) mapped->t_data;
			items[i].length = mapped->t_len;
		}
		if (changed > 0)
		{
			for (int i = 0, first = 0; i < pack->nversions; i++)
			{
				bytes += items[i].length;
				/* versions may have widened: split what outgrows a pack */
				if (bytes >= PACK_MAX_BYTES || i == pack->nversions - 1)
				{
					pack_insert(packs, relid, items + first, i + 1 - first);
					first = i + 1;
					bytes = 0;
				}
			}
			simple_heap_delete(packs, &tup->t_self);
			rewritten += changed;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(context);
	}
	systable_endscan(scan);
	table_close(packs, NoLock);
	MemoryContextDelete(context);
	return rewritten;
}
