/*-------------------------------------------------------------------------
 *
 * tam_history.c
 *	  The temporal store: every row version an UPDATE, DELETE, MERGE or
 *	  TRUNCATE supersedes, kept in table ttpdb.history.
 *
 * A version is appended in the transaction that supersedes it, so a
 * rollback leaves no history, and ttpdb.history is an ordinary heap table:
 * WAL-logged, replicated, crash-safe and dumped like any other.  Each
 * record holds the version's heap tuple, detoasted (its TOAST chunks go
 * away when VACUUM removes the dead version) and LZ4-compressed, with:
 *
 *	era				the era (ttpdb.era) in which the xids below were assigned
 *	created_xid		the transaction that created the version (its xmin)
 *	ended_xid		the top-level transaction that superseded it
 *	valid_from		the commit stamp of created_xid, copied when the version
 *					ends (NULL if it was created before the table was a
 *					ttpdb table); its end is the stamp of ended_xid, read
 *					from ttpdb.commit_times, because this transaction's own
 *					stamp is only taken at commit
 *	row_hash		a hash of its replica identity, for one row's history
 *
 * The stored tuple's header also says which statements created and ended
 * it, so that the statement log can name their entries (ttpdb.caused_by()):
 * its command id field holds the command that created it (InvalidCommandId
 * when an updater overwrote it before ttpdb could read it), and the block
 * number of its t_ctid, which points nowhere in a kept copy, the command
 * that ended it; infomask2 bit HISTORY_HAS_CIDS says so (versions kept by
 * ttpdb 0.1 lack both).
 *
 * Versions created and superseded by the same transaction were never
 * visible to anyone else and are not kept.  Tuples are stored as they were
 * written, so after ADD or DROP COLUMN they read back under the current
 * row type as the heap's own old tuples do.
 *
 * IDENTIFICATION
 *	  src/tam/tam_history.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <lz4.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "nodes/bitmapset.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/xid8.h"

#include "log/log.h"
#include "tam.h"

/* In a stored version: cmin and the ending command id are in its header. */
#define HISTORY_HAS_CIDS			0x1000

/* The high bit of the stored length says the bytes were not compressed. */
#define HISTORY_STORED_RAW			0x80000000U

/*
 * Where history_append_version allocates: reset after every version, since
 * it runs once per updated row in the query's context.
 */
static MemoryContext append_context = NULL;

static void append_version(Relation rel, TupleDesc desc, HeapTuple oldtup,
						   CommandId created_cid, CommandId ended_cid);

typedef struct HistoryScanData
{
	Oid			relid;
	Snapshot	snapshot;
	bool		in_packs;		/* done with single versions, reading packs */
	Relation	table;			/* ttpdb.history, then ttpdb.history_packs */
	SysScanDesc scan;
	HeapTuple	current;		/* the single version history_next returned last */
	bool		time_filter;	/* skip packs with no version valid at as_of */
	TimestampTz as_of;
	HistoryPack *pack;			/* the pack being read, in pack_context */
	int			pack_next;		/* its next version */
	MemoryContext pack_context;
} HistoryScanData;

/*
 * OIDs of the extension's own relations, looked up by name once per backend
 * rather than in every transaction that writes (two syscache probes a
 * name).  An entry goes when its pg_class name entry is invalidated (the
 * relation dropped, renamed or created under that name); all go when
 * pg_namespace changes (schema ttpdb dropped or renamed) or the caches are
 * reset.  Lookups can themselves read invalidations (opening pg_class takes
 * a lock): a lookup during which any arrived is not remembered, since the
 * schema OID it started from may be the one just invalidated.
 */
typedef struct CatalogRelid
{
	const char *relname;
	Oid			relid;
	uint32		hash;			/* of its RELNAMENSP syscache key */
} CatalogRelid;

static bool catalog_cache_registered = false;
static CatalogRelid catalog_cache[16];
static int	catalog_cache_n = 0;
static uint64 catalog_cache_generation = 0;

/* Syscache callback: forget what a pg_class or pg_namespace change made stale. */
static void
catalog_cache_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	int			kept = 0;

	catalog_cache_generation++;
	for (int i = 0; i < catalog_cache_n; i++)
	{
		if (cacheid == RELNAMENSP && hashvalue != 0 && catalog_cache[i].hash != hashvalue)
			catalog_cache[kept++] = catalog_cache[i];
	}
	catalog_cache_n = kept;
}

/*
 * ttpdb_catalog_relid_if_exists
 *		OID of one of the extension's own tables or indexes in schema ttpdb,
 *		or InvalidOid if it does not exist (yet: a table a later version of
 *		the extension adds, before ALTER EXTENSION ttpdb UPDATE).  "relname"
 *		must be a string constant.
 */
Oid
ttpdb_catalog_relid_if_exists(const char *relname)
{
	uint64		generation;
	Oid			nsp;
	Oid			relid;

	if (!catalog_cache_registered)
	{
		CacheRegisterSyscacheCallback(RELNAMENSP, catalog_cache_invalidate, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, catalog_cache_invalidate, (Datum) 0);
		catalog_cache_registered = true;
	}
	for (int i = 0; i < catalog_cache_n; i++)
		if (catalog_cache[i].relname == relname ||
			strcmp(catalog_cache[i].relname, relname) == 0)
			return catalog_cache[i].relid;

	generation = catalog_cache_generation;
	nsp = get_namespace_oid("ttpdb", true);
	relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
	if (OidIsValid(relid) && generation == catalog_cache_generation &&
		catalog_cache_n < lengthof(catalog_cache))
	{
		catalog_cache[catalog_cache_n].relname = relname;
		catalog_cache[catalog_cache_n].relid = relid;
		catalog_cache[catalog_cache_n].hash =
			GetSysCacheHashValue2(RELNAMENSP, CStringGetDatum(relname), ObjectIdGetDatum(nsp));
		catalog_cache_n++;
	}
	return relid;
}

/*
 * ttpdb_catalog_relid
 *		The same, for a table or index that must exist.
 */
Oid
ttpdb_catalog_relid(const char *relname)
{
	Oid			relid = ttpdb_catalog_relid_if_exists(relname);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("ttpdb.%s does not exist", relname),
				 errhint("The ttpdb extension must be installed in this database: CREATE EXTENSION ttpdb.")));
	return relid;
}

/*
 * Whether the tuple in "slot" belongs in the partial index "info" describes.
 * ttpdb's own indexes have no expressions, and their predicates are all
 * "column IS NOT NULL".
 */
static bool
index_predicate_holds(Relation index, IndexInfo *info, TupleTableSlot *slot)
{
	NullTest   *test;

	if (info->ii_Predicate == NIL)
		return true;
	test = linitial(info->ii_Predicate);
	if (list_length(info->ii_Predicate) != 1 || !IsA(test, NullTest) ||
		test->nulltesttype != IS_NOT_NULL || test->argisrow || !IsA(test->arg, Var))
		elog(ERROR, "unexpected predicate of index \"%s\"", RelationGetRelationName(index));
	return !slot_attisnull(slot, ((Var *) test->arg)->varattno);
}

/* Index a tuple just written to one of ttpdb's own tables. */
static void
insert_index_entries(Relation rel, HeapTuple tuple)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	TupleTableSlot *slot;

	slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tuple, slot, false);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), RowExclusiveLock);
		IndexInfo  *info = BuildIndexInfo(index);
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];

		if (index_predicate_holds(index, info, slot))
		{
			FormIndexDatum(info, slot, NULL, values, isnull);
			index_insert(index, values, isnull, &tuple->t_self, rel,
						 index->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
						 false, info);
		}
		index_close(index, RowExclusiveLock);
	}
	ExecDropSingleTupleTableSlot(slot);
	list_free(indexes);
}

/*
 * ttpdb_insert_with_indexes
 *		Insert a tuple into one of ttpdb's own tables and its indexes, none of
 *		which has expressions (index_predicate_holds: their predicates).
 *		Permissions are not checked: the callers write on behalf of the
 *		access method.
 */
void
ttpdb_insert_with_indexes(Relation rel, HeapTuple tuple)
{
	heap_insert(rel, tuple, GetCurrentCommandId(true), 0, NULL);
	insert_index_entries(rel, tuple);
}

/*
 * ttpdb_update_with_indexes
 *		Replace the tuple at "otid" of one of ttpdb's own tables, which no
 *		other transaction may be changing, and index the new one unless it
 *		is a heap-only tuple.
 */
void
ttpdb_update_with_indexes(Relation rel, ItemPointer otid, HeapTuple tuple)
{
	simple_heap_update(rel, otid, tuple);
	if (!HeapTupleIsHeapOnly(tuple))
		insert_index_entries(rel, tuple);
}

/*
 * history_scan_relid
 *		Begin a scan of the rows of one table in one of the history stores
 *		("store" is ttpdb.history or ttpdb.history_packs, whose first column
 *		is the table and is indexed by "index").
 */
SysScanDesc
history_scan_relid(Relation store, const char *index, Oid relid, Snapshot snapshot)
{
	ScanKeyData skey;

	ScanKeyInit(&skey, Anum_history_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	return systable_beginscan(store, ttpdb_catalog_relid(index), true, snapshot, 1, &skey);
}

/*
 * Hash of the version's replica identity (primary key by default), or
 * false if the table has none.  "desc" is the row type the version has.
 */
static bool
identity_hash(Relation rel, TupleDesc desc, HeapTuple tuple, int64 *hash)
{
	Bitmapset  *keys = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_IDENTITY_KEY);
	uint64		h = 0;
	int			member = -1;

	if (bms_is_empty(keys))
		return false;
	while ((member = bms_next_member(keys, member)) >= 0)
	{
		AttrNumber	attno = member + FirstLowInvalidHeapAttributeNumber;
		Form_pg_attribute att = TupleDescAttr(desc, attno - 1);
		bool		isnull;
		Datum		value = heap_getattr(tuple, attno, desc, &isnull);

		h = hash_combine64(h, isnull ? 0 :
						   datum_image_hash(value, att->attbyval, att->attlen));
	}
	bms_free(keys);
	*hash = (int64) h;
	return true;
}

/*
 * history_compress
 *		The stored form of "len" bytes: a 4-byte length word, then the bytes
 *		LZ4-compressed (or as they are, if they do not compress).  Kept
 *		versions and packs (tam_pack.c) share it.
 */
bytea *
history_compress(const char *src, uint32 len)
{
	int			bound = LZ4_compressBound(len);
	bytea	   *out = palloc(VARHDRSZ + sizeof(uint32) + Max(bound, (int) len));
	char	   *dst = VARDATA(out) + sizeof(uint32);
	int			clen = LZ4_compress_default(src, dst, len, bound);
	uint32		word = len;

	if (clen <= 0 || clen >= (int) len)
	{
		/* incompressible: keep it as it is */
		memcpy(dst, src, len);
		clen = len;
		word |= HISTORY_STORED_RAW;
	}
	memcpy(VARDATA(out), &word, sizeof(uint32));
	SET_VARSIZE(out, VARHDRSZ + sizeof(uint32) + clen);
	return out;
}

/*
 * history_decompress
 *		The bytes of a stored form, into "dst" (which has room for "len"
 *		bytes, "len" being the length the stored form says it has: see
 *		history_stored_length).  Damage is reported against "relid".
 */
static void
history_decompress(bytea *stored, char *dst, uint32 len, Oid relid)
{
	char	   *src = VARDATA_ANY(stored) + sizeof(uint32);
	int			srclen = VARSIZE_ANY_EXHDR(stored) - sizeof(uint32);
	uint32		word;

	memcpy(&word, VARDATA_ANY(stored), sizeof(uint32));
	if (word & HISTORY_STORED_RAW)
	{
		if ((uint32) srclen != len)
			history_corrupted(relid);
		memcpy(dst, src, len);
	}
	else if (LZ4_decompress_safe(src, dst, srclen, len) != (int) len)
		history_corrupted(relid);
}

/*
 * history_stored_length
 *		The uncompressed length of a stored form, checked to lie between
 *		"min" and what one allocation can hold.
 */
static uint32
history_stored_length(bytea *stored, uint32 min, Oid relid)
{
	uint32		word;
	uint32		len;

	if (VARSIZE_ANY_EXHDR(stored) < sizeof(uint32))
		history_corrupted(relid);
	memcpy(&word, VARDATA_ANY(stored), sizeof(uint32));
	len = word & ~HISTORY_STORED_RAW;
	if (len < min || len > MaxAllocSize - HEAPTUPLESIZE)
		history_corrupted(relid);
	return len;
}

/*
 * history_unpack_bytes
 *		The bytes of a stored form, in a new palloc'd buffer; "*len" is set
 *		to their number.
 */
char *
history_unpack_bytes(bytea *stored, uint32 min, uint32 *len, Oid relid)
{
	char	   *out;

	*len = history_stored_length(stored, min, relid);
	out = palloc(*len);
	history_decompress(stored, out, *len, relid);
	return out;
}

void
history_corrupted(Oid relid)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupted version in the history of relation %u", relid)));
}

/* The stored form of a heap tuple. */
static bytea *
compress_tuple(HeapTuple tuple)
{
	return history_compress((char *) tuple->t_data, tuple->t_len);
}

static HeapTuple
decompress_tuple(bytea *stored, Oid relid)
{
	uint32		rawlen = history_stored_length(stored, SizeofHeapTupleHeader, relid);
	HeapTuple	tuple;

	tuple = palloc(HEAPTUPLESIZE + rawlen);
	tuple->t_data = (HeapTupleHeader) ((char *) tuple + HEAPTUPLESIZE);
	tuple->t_len = rawlen;
	tuple->t_tableOid = relid;
	ItemPointerSetInvalid(&tuple->t_self);
	history_decompress(stored, (char *) tuple->t_data, rawlen, relid);
	return tuple;
}

/*
 * history_creation_cid
 *		The command id that created a version of another transaction, read
 *		from its header before the current transaction supersedes it; or
 *		InvalidCommandId when it is not there any more: PostgreSQL keeps
 *		cmin and cmax in one field, and an UPDATE or DELETE that did not
 *		commit overwrote it (row locks do not).
 */
CommandId
history_creation_cid(HeapTupleHeader tup)
{
	TransactionId xmax = HeapTupleHeaderGetRawXmax(tup);

	if (tup->t_infomask & HEAP_COMBOCID)
		return InvalidCommandId;
	if (TransactionIdIsValid(xmax) && !HEAP_XMAX_IS_LOCKED_ONLY(tup->t_infomask))
		return InvalidCommandId;
	return HeapTupleHeaderGetRawCommandId(tup);
}

/*
 * history_version_cids
 *		The command ids that created and ended a kept version, if it has them.
 */
bool
history_version_cids(HeapTuple tuple, CommandId *created_cid, CommandId *ended_cid)
{
	if (!(tuple->t_data->t_infomask2 & HISTORY_HAS_CIDS))
		return false;
	*created_cid = HeapTupleHeaderGetRawCommandId(tuple->t_data);
	*ended_cid = BlockIdGetBlockNumber(&tuple->t_data->t_ctid.ip_blkid);
	return true;
}

/*
 * history_append_version
 *		Keep the version "oldtup" of "rel", which the current transaction
 *		has just updated or deleted; "created_cid" is the command id that
 *		created it (history_creation_cid), "ended_cid" the one ending it.
 */
void
history_append_version(Relation rel, HeapTuple oldtup, CommandId created_cid,
					   CommandId ended_cid)
{
	append_version(rel, RelationGetDescr(rel), oldtup, created_cid, ended_cid);
}

/*
 * Keep "oldtup", whose row type is "desc": the table's own, except while
 * ALTER TABLE changes a column type, when the catalogs already say the new
 * type and the rows still have the old one (tam_alter.c).
 */
static void
append_version(Relation rel, TupleDesc desc, HeapTuple oldtup, CommandId created_cid,
			   CommandId ended_cid)
{
	TransactionId xmin = HeapTupleHeaderGetRawXmin(oldtup->t_data);
	FullTransactionId created;
	TimestampTz valid_from;
	Relation	history;
	HeapTuple	flat = oldtup;
	Datum		values[Natts_history];
	bool		nulls[Natts_history];
	int64		hash;
	bool		unstamped_creator = false;
	HeapTuple	stored;
	int64		era;

	MemoryContext old;

	/* Only permanent tables have a history; temp and unlogged ones do not. */
	if (rel->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT)
		return;
	/* A version this transaction created was never visible to others. */
	if (TransactionIdIsCurrentTransactionId(xmin))
		return;

	if (append_context == NULL)
		append_context = AllocSetContextCreate(TopMemoryContext,
											   "ttpdb history append",
											   ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(append_context);

	created = ttpdb_full_xid(xmin);
	era = ttpdb_current_era();
	memset(nulls, false, sizeof(nulls));
	values[Anum_history_relid - 1] = ObjectIdGetDatum(RelationGetRelid(rel));
	values[Anum_history_era - 1] = Int64GetDatum(era);
	if (identity_hash(rel, desc, oldtup, &hash))
		values[Anum_history_row_hash - 1] = Int64GetDatum(hash);
	else
		nulls[Anum_history_row_hash - 1] = true;
	values[Anum_history_created_xid - 1] = FullTransactionIdGetDatum(created);
	values[Anum_history_ended_xid - 1] = FullTransactionIdGetDatum(GetTopFullTransactionId());
	if (ttpdb_commit_time(era, created, NULL, &valid_from))
	{
		/* a prepared transaction that COMMIT PREPARED is stamping, or left unstamped */
		if (TIMESTAMP_IS_NOEND(valid_from))
			valid_from = ttpdb_twophase_wait(era, created);
		values[Anum_history_valid_from - 1] = TimestampTzGetDatum(valid_from);
		unstamped_creator = TIMESTAMP_IS_NOEND(valid_from);
		nulls[Anum_history_valid_from - 1] = unstamped_creator;
	}
	else
		nulls[Anum_history_valid_from - 1] = true;

	if (HeapTupleHasExternal(oldtup))
		flat = toast_flatten_tuple(oldtup, desc);
	else
		flat = heap_copytuple(oldtup);
	HeapTupleHeaderSetCmin(flat->t_data, created_cid);
	BlockIdSet(&flat->t_data->t_ctid.ip_blkid, ended_cid);
	flat->t_data->t_ctid.ip_posid = FirstOffsetNumber;
	flat->t_data->t_infomask2 |= HISTORY_HAS_CIDS;
	values[Anum_history_raw_size - 1] = Int32GetDatum(flat->t_len);
	values[Anum_history_data - 1] = PointerGetDatum(compress_tuple(flat));

	history = table_open(ttpdb_catalog_relid("history"), RowExclusiveLock);
	stored = heap_form_tuple(RelationGetDescr(history), values, nulls);
	ttpdb_insert_with_indexes(history, stored);
	/* its start is written when this transaction stamps the creator */
	if (unstamped_creator)
		ttpdb_twophase_note_unstamped_creator(&stored->t_self, era, created);
	table_close(history, NoLock);
	history_note_kept(RelationGetRelid(rel));

	MemoryContextSwitchTo(old);
	MemoryContextReset(append_context);
}

/*
 * history_append_relation
 *		Keep every row of "rel" (and, for TRUNCATE, "count_deletes" them in
 *		the statement log): TRUNCATE, or a rewrite by ALTER TABLE, holding
 *		AccessExclusiveLock, is about to give the table new storage, whose
 *		rows will all be new versions.  "desc" is the row type the rows
 *		have (see append_version).
 *
 * SnapshotSelf sees exactly the rows TRUNCATE removes (no other transaction
 * can be writing).  The scan is the heap's own, with no scan type, so that
 * it is not counted as a sequential scan nor takes an SSI lock; the tuples
 * it reads are taken back out of the statistics.
 */
void
history_append_relation(Relation rel, TupleDesc desc, bool count_deletes)
{
	/* the heap's own routine: also for a heap table about to become ttpdb */
	const TableAmRoutine *heap = GetHeapamTableAmRoutine();
	TableScanDesc scan;
	TupleTableSlot *slot;
	int64		nread = 0;

	if (rel->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT)
		return;
	slot = table_slot_create(rel, NULL);
	scan = heap->scan_begin(rel, SnapshotSelf, 0, NULL, NULL, 0);
	while (heap->scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		should_free;
		HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);

		append_version(rel, desc, tuple, history_creation_cid(tuple->t_data),
					   GetCurrentCommandId(true));
		if (count_deletes)
			log_effect_delete(rel, tuple);
		if (should_free)
			heap_freetuple(tuple);
		nread++;
		CHECK_FOR_INTERRUPTS();
	}
	heap->scan_end(scan);
	ExecDropSingleTupleTableSlot(slot);
	if (rel->pgstat_info != NULL)
		rel->pgstat_info->t_counts.t_tuples_returned -= nread;
}

/*
 * history_begin_scan
 *		Start reading the kept versions of "rel" that "snapshot" sees: the
 *		single versions of ttpdb.history, then those packed together in
 *		ttpdb.history_packs (tam_pack.c).  A version is in exactly one of
 *		the two for any MVCC snapshot, since packing moves versions from one
 *		to the other in one transaction.
 */
HistoryScan
history_begin_scan(Relation rel, Snapshot snapshot)
{
	HistoryScan scan;

	if (history_conversion_pending(RelationGetRelid(rel)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot read the kept versions of table \"%s\" while a column type change converts them",
						RelationGetRelationName(rel))));
	scan = palloc0(sizeof(HistoryScanData));
	scan->relid = RelationGetRelid(rel);
	scan->snapshot = snapshot;
	scan->table = table_open(ttpdb_catalog_relid("history"), AccessShareLock);
	scan->scan = history_scan_relid(scan->table, "history_relid_idx", scan->relid, snapshot);
	scan->pack_context = AllocSetContextCreate(CurrentMemoryContext,
											   "ttpdb history pack",
											   ALLOCSET_DEFAULT_SIZES);
	return scan;
}

/*
 * history_scan_as_of
 *		Tell the scan that only versions valid at "as_of" are wanted, so that
 *		it can skip whole packs without decompressing them.  Versions are
 *		still returned unfiltered otherwise: the caller checks each.
 */
void
history_scan_as_of(HistoryScan scan, TimestampTz as_of)
{
	scan->time_filter = true;
	scan->as_of = as_of;
}

/* Move from ttpdb.history to ttpdb.history_packs. */
static void
history_scan_packs(HistoryScan scan)
{
	Oid			packs = ttpdb_catalog_relid_if_exists("history_packs");

	systable_endscan(scan->scan);
	table_close(scan->table, AccessShareLock);
	scan->current = NULL;
	scan->in_packs = true;
	if (!OidIsValid(packs))
	{
		/* before ALTER EXTENSION ttpdb UPDATE: no packs yet */
		scan->table = NULL;
		scan->scan = NULL;
		return;
	}
	scan->table = table_open(packs, AccessShareLock);
	scan->scan = history_scan_relid(scan->table, "history_packs_relid_idx", scan->relid,
									scan->snapshot);
}

/*
 * Read the next pack that may hold a version the caller wants; false at the
 * end.  With a time filter, a pack whose versions all ended at or before
 * the time, or all began after it, is passed over undecompressed.
 */
static bool
history_next_pack(HistoryScan scan)
{
	TupleDesc	desc;
	HeapTuple	tup;

	if (scan->scan == NULL)
	{
		scan->pack = NULL;
		return false;
	}
	desc = RelationGetDescr(scan->table);
	while (HeapTupleIsValid(tup = systable_getnext(scan->scan)))
	{
		bool		isnull;
		Datum		value;
		MemoryContext old;

		if (scan->time_filter)
		{
			value = heap_getattr(tup, Anum_history_packs_valid_to_max, desc, &isnull);
			if (!isnull && DatumGetTimestampTz(value) <= scan->as_of)
				continue;
			value = heap_getattr(tup, Anum_history_packs_valid_from_min, desc, &isnull);
			if (!isnull && DatumGetTimestampTz(value) > scan->as_of)
				continue;
		}
		MemoryContextReset(scan->pack_context);
		old = MemoryContextSwitchTo(scan->pack_context);
		scan->pack = history_pack_read(tup, desc, scan->relid);
		MemoryContextSwitchTo(old);
		scan->pack_next = 0;
		return true;
	}
	scan->pack = NULL;
	return false;
}

/*
 * history_next
 *		The next kept version's validity and transactions.  Its tuple is
 *		decompressed only on request (history_version_tuple), so that
 *		versions a reader skips cost no decompression.  A single version's
 *		end is known only through the stamp of ended_xid; a packed one
 *		carries it (valid_to_known).
 */
bool
history_next(HistoryScan scan, HistoryVersion *version)
{
	TupleDesc	desc;
	HeapTuple	tup;
	bool		isnull;
	Datum		value;

	if (!scan->in_packs)
	{
		tup = systable_getnext(scan->scan);
		if (!HeapTupleIsValid(tup))
			history_scan_packs(scan);
	}
	if (scan->in_packs)
	{
		while (scan->pack == NULL || scan->pack_next >= scan->pack->nversions)
		{
			if (!history_next_pack(scan))
				return false;
		}
		*version = scan->pack->versions[scan->pack_next++];
		version->tuple = NULL;
		return true;
	}

	desc = RelationGetDescr(scan->table);
	scan->current = tup;
	version->tuple = NULL;
	version->era = DatumGetInt64(heap_getattr(tup, Anum_history_era, desc, &isnull));
	value = heap_getattr(tup, Anum_history_created_xid, desc, &isnull);
	version->created_xid = isnull ? InvalidFullTransactionId :
		FullTransactionIdFromU64(DatumGetUInt64(value));
	version->ended_xid =
		FullTransactionIdFromU64(DatumGetUInt64(heap_getattr(tup, Anum_history_ended_xid,
															 desc, &isnull)));
	value = heap_getattr(tup, Anum_history_valid_from, desc, &isnull);
	version->valid_from_known = !isnull;
	version->valid_from = isnull ? 0 : DatumGetTimestampTz(value);
	version->valid_to_known = false;
	version->valid_to = 0;
	return true;
}

/*
 * history_version_tuple
 *		Decompress the version history_next returned last, in the caller's
 *		memory context.
 */
HeapTuple
history_version_tuple(HistoryScan scan)
{
	bool		isnull;
	Datum		data;
	bytea	   *stored;
	HeapTuple	tuple;

	if (scan->in_packs)
		return history_pack_tuple(scan->pack, scan->pack_next - 1, scan->relid);

	data = heap_getattr(scan->current, Anum_history_data,
						RelationGetDescr(scan->table), &isnull);
	stored = DatumGetByteaPP(data);
	tuple = decompress_tuple(stored, scan->relid);
	/* a large version was detoasted into a copy */
	if ((Pointer) stored != DatumGetPointer(data))
		pfree(stored);
	return tuple;
}

void
history_end_scan(HistoryScan scan)
{
	if (scan->scan != NULL)
	{
		systable_endscan(scan->scan);
		table_close(scan->table, AccessShareLock);
	}
	MemoryContextDelete(scan->pack_context);
	pfree(scan);
}

/*
 * history_map_version
 *		A kept version under a new row type: "mapper" forms its new tuple,
 *		which gets the stored version's header (creator, cids, flags); or
 *		NULL when the mapper leaves the version as it is.
 */
HeapTuple
history_map_version(HeapTuple version, HistoryVersionMapper mapper, void *arg)
{
	HeapTuple	mapped = mapper(version, arg);
	HeapTupleHeader from = version->t_data;
	HeapTupleHeader to;

	if (mapped == NULL)
		return NULL;
	to = mapped->t_data;

	/* a heap tuple's header, not a composite datum's (heap_form_tuple's) */
	to->t_choice.t_heap = from->t_choice.t_heap;
	to->t_ctid = from->t_ctid;
	to->t_infomask = (to->t_infomask & ~HEAP_XACT_MASK) |
		(from->t_infomask & HEAP_XACT_MASK);
	to->t_infomask2 = (to->t_infomask2 & HEAP_NATTS_MASK) |
		(from->t_infomask2 & ~HEAP_NATTS_MASK);
	return mapped;
}

/*
 * history_rewrite_versions
 *		Give every kept version of "rel" that "snapshot" sees, single or
 *		packed, the tuple "mapper" makes of it under the table's row type
 *		(and the hash of its replica identity under it), and return how
 *		many it changed (a mapper returning NULL leaves a version as it is,
 *		and a pack none of whose versions change is not written again).
 *		The caller holds AccessExclusiveLock on "rel", so that no
 *		version of it is being kept, packed or pruned meanwhile.  The rows
 *		written are new, so "snapshot" does not see them again.
 */
int64
history_rewrite_versions(Relation rel, Snapshot snapshot, HistoryVersionMapper mapper,
						 void *arg)
{
	Oid			relid = RelationGetRelid(rel);
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext,
												  "ttpdb rewrite versions",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	Relation	history;
	TupleDesc	desc;
	SysScanDesc scan;
	HeapTuple	tup;
	int64		rewritten = 0;

	history = table_open(ttpdb_catalog_relid("history"), RowExclusiveLock);
	desc = RelationGetDescr(history);
	scan = history_scan_relid(history, "history_relid_idx", relid, snapshot);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Datum		values[Natts_history];
		bool		nulls[Natts_history];
		HeapTuple	version;
		HeapTuple	mapped;
		int64		hash = 0;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(context);
		heap_deform_tuple(tup, desc, values, nulls);
		version = decompress_tuple(DatumGetByteaPP(values[Anum_history_data - 1]), relid);
		mapped = history_map_version(version, mapper, arg);
		if (mapped == NULL)
		{
			MemoryContextSwitchTo(old);
			MemoryContextReset(context);
			continue;
		}
		nulls[Anum_history_row_hash - 1] =
			!identity_hash(rel, RelationGetDescr(rel), mapped, &hash);
		values[Anum_history_row_hash - 1] = Int64GetDatum(hash);
		values[Anum_history_raw_size - 1] = Int32GetDatum(mapped->t_len);
		values[Anum_history_data - 1] = PointerGetDatum(compress_tuple(mapped));
		simple_heap_delete(history, &tup->t_self);
		ttpdb_insert_with_indexes(history, heap_form_tuple(desc, values, nulls));
		MemoryContextSwitchTo(old);
		MemoryContextReset(context);
		rewritten++;
	}
	systable_endscan(scan);
	table_close(history, NoLock);
	MemoryContextDelete(context);
	return rewritten + history_rewrite_packs(rel, snapshot, mapper, arg);
}
