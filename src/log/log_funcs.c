/*-------------------------------------------------------------------------
 *
 * log_funcs.c
 *	  SQL functions over the statement log: which entry created a row
 *	  version (CAUSED_BY), and the check of the hash chain.
 *
 * A row version carries the transaction that created it (xmin) and the
 * command id of the statement inside it (cmin; for kept versions, stored
 * in their header by tam_history.c).  An entry records its transaction and
 * the command ids its changes carry, so the pair names the entry.  A
 * subtransaction's xid is mapped to its top-level transaction through
 * ttpdb.commit_times.  Entries never change once committed, so lookups are
 * cached per backend.
 *
 * IDENTIFICATION
 *	  src/log/log_funcs.c
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
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/acl.h"
#include "catalog/pg_authid_d.h"
#include "utils/jsonb.h"
#include "commands/defrem.h"
#include "catalog/pg_class.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"
#include "utils/xid8.h"

#include "log.h"
#include "log_entries.h"
#include "tam/tam.h"

/* Most transactions whose entries a backend keeps in its cache. */
#define ENTRY_CACHE_MAX		(64 * 1024)

typedef struct EntryRange
{
	CommandId	first_cid;		/* its changes carry this command id or later */
	int64		entry;
	int			ntables;
	Oid		   *tables;			/* the ttpdb tables it touched */
} EntryRange;

typedef struct EntryCacheKey
{
	int64		era;
	uint64		fxid;
} EntryCacheKey;

typedef struct EntryCacheEntry
{
	EntryCacheKey key;
	int			nranges;
	EntryRange *ranges;			/* in TopMemoryContext */
} EntryCacheEntry;

static HTAB *entry_cache = NULL;

static int
entry_range_cmp(const void *a, const void *b)
{
	const EntryRange *ra = a;
	const EntryRange *rb = b;

	return (ra->entry > rb->entry) - (ra->entry < rb->entry);
}

static bool
range_touches(EntryRange *r, Oid relid)
{
	for (int i = 0; i < r->ntables; i++)
		if (r->tables[i] == relid)
			return true;
	return false;
}

/*
 * log_cid_reliable
 *		Whether the command ids of rows a transaction of this era wrote are
 *		the ones it wrote them with: not when WAL replay may have re-created
 *		them since (see ttpdb_replay_horizon()).  Eras restored from a dump
 *		come with the command ids the dump had.
 */
bool
log_cid_reliable(int64 era, FullTransactionId fxid)
{
	FullTransactionId horizon;

	if (era != ttpdb_current_era())
		return true;
	if (!ttpdb_replay_horizon(&horizon))
		return false;
	return !FullTransactionIdPrecedes(fxid, horizon);
}

/*
 * The commit_times row of a (sub)transaction: its top-level transaction and
 * how many entries that one numbered (-1 if not recorded).  False if it has
 * none: not stamped.  A NULL snapshot reads committed rows (SnapshotSelf):
 * committed facts need no MVCC snapshot nor SSI locks.
 */
static bool
commit_times_row(Relation rel, int64 era, FullTransactionId fxid, Snapshot snapshot,
				 FullTransactionId *top, int *entry_count, int64 *first_entry)
{
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found;

	scan = ttpdb_commit_times_scan(rel, era, fxid, snapshot);
	tup = systable_getnext(scan);
	found = HeapTupleIsValid(tup);
	if (found)
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		Datum		value;

		value = heap_getattr(tup, Anum_commit_times_top_xid, desc, &isnull);
		*top = isnull ? fxid : DatumGetFullTransactionId(value);
		value = heap_getattr(tup, Anum_commit_times_entry_count, desc, &isnull);
		*entry_count = isnull ? -1 : DatumGetInt32(value);
		value = heap_getattr(tup, Anum_commit_times_first_entry, desc, &isnull);
		*first_entry = isnull ? 0 : DatumGetInt64(value);
	}
	systable_endscan(scan);
	return found;
}

/*
 * The top-level transaction of a committed (sub)transaction, if stamped,
 * and the entries it numbered.
 */
static bool
top_transaction_of(int64 era, FullTransactionId fxid, FullTransactionId *top,
				   int64 *first_entry, int *entry_count)
{
	Relation	rel = table_open(ttpdb_catalog_relid("commit_times"), AccessShareLock);
	bool		found = commit_times_row(rel, era, fxid, NULL, top, entry_count, first_entry);

	/* a subtransaction's row names its transaction, whose row has the entries */
	if (found && !FullTransactionIdEquals(*top, fxid))
	{
		FullTransactionId same;

		found = commit_times_row(rel, era, *top, NULL, &same, entry_count, first_entry);
	}
	table_close(rel, AccessShareLock);
	return found;
}


/* Load the command id ranges of a transaction's entries. */
static EntryCacheEntry *
load_entries(int64 era, FullTransactionId fxid)
{
	EntryCacheKey key;
	EntryCacheEntry *cached;
	FullTransactionId top;
	Relation	rel;
	ScanKeyData skey[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *ranges = NIL;
	ListCell   *lc;
	bool		found;
	int64		first_entry;
	int			entry_count;

	if (entry_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(EntryCacheKey);
		ctl.entrysize = sizeof(EntryCacheEntry);
		ctl.hcxt = TopMemoryContext;
		entry_cache = hash_create("ttpdb log entries by transaction", 1024, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.era = era;
	key.fxid = U64FromFullTransactionId(fxid);
	cached = hash_search(entry_cache, &key, HASH_FIND, &found);
	if (found)
		return cached;

	/* not stamped (yet): nothing to cache */
	if (!top_transaction_of(era, fxid, &top, &first_entry, &entry_count))
		return NULL;

	/* its entries: first_entry .. first_entry + entry_count - 1 */
	rel = table_open(ttpdb_catalog_relid("log_entries"), AccessShareLock);
	ScanKeyInit(&skey[0], Anum_log_entries_entry, BTGreaterEqualStrategyNumber, F_INT8GE,
				Int64GetDatum(first_entry));
	ScanKeyInit(&skey[1], Anum_log_entries_entry, BTLessStrategyNumber, F_INT8LT,
				Int64GetDatum(first_entry + Max(entry_count, 0)));
	scan = systable_beginscan(rel, ttpdb_catalog_relid("log_entries_pkey"),
							  true, SnapshotSelf, 2, skey);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		EntryRange *r = palloc(sizeof(EntryRange));
		bool		isnull;
		ArrayType  *tables;

		r->entry = DatumGetInt64(heap_getattr(tup, Anum_log_entries_entry, desc, &isnull));
		r->first_cid = (CommandId) DatumGetInt64(heap_getattr(tup, Anum_log_entries_first_cid,
															  desc, &isnull));
		tables = DatumGetArrayTypeP(heap_getattr(tup, Anum_log_entries_tables, desc, &isnull));
		r->ntables = ArrayGetNItems(ARR_NDIM(tables), ARR_DIMS(tables));
		r->tables = palloc(Max(r->ntables, 1) * sizeof(Oid));
		if (r->ntables > 0)
			memcpy(r->tables, ARR_DATA_PTR(tables), r->ntables * sizeof(Oid));
		ranges = lappend(ranges, r);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	/*
	 * Build the answer in the caller's memory; keep a copy, complete before
	 * it is entered, while the cache has room.
	 */
	cached = palloc0(sizeof(EntryCacheEntry));
	cached->key = key;
	cached->nranges = list_length(ranges);
	cached->ranges = palloc(Max(cached->nranges, 1) * sizeof(EntryRange));
	foreach(lc, ranges)
		cached->ranges[foreach_current_index(lc)] = *(EntryRange *) lfirst(lc);
	qsort(cached->ranges, cached->nranges, sizeof(EntryRange), entry_range_cmp);
	if (hash_get_num_entries(entry_cache) < ENTRY_CACHE_MAX)
	{
		EntryRange *ranges_copy = MemoryContextAlloc(TopMemoryContext,
													 Max(cached->nranges, 1) * sizeof(EntryRange));
		EntryCacheEntry *entered;

		for (int i = 0; i < cached->nranges; i++)
		{
			ranges_copy[i] = cached->ranges[i];
			ranges_copy[i].tables = MemoryContextAlloc(TopMemoryContext,
													   Max(ranges_copy[i].ntables, 1) * sizeof(Oid));
			memcpy(ranges_copy[i].tables, cached->ranges[i].tables,
				   ranges_copy[i].ntables * sizeof(Oid));
		}
		entered = hash_search(entry_cache, &key, HASH_ENTER, NULL);
		entered->nranges = cached->nranges;
		entered->ranges = ranges_copy;
	}
	return cached;
}

/*
 * log_entry_of
 *		The entry that a change made by (sub)transaction "fxid" with command
 *		id "cid" to table "relid" belongs to; false if none does.  Each entry
 *		holds the command ids from its first one up to the next entry's: the
 *		last entry that starts at or before "cid".  When the command id is
 *		not to be trusted ("cid_reliable" false), only a transaction with a
 *		single entry touching the table (any table, if "relid" is invalid)
 *		gives an answer.
 */
bool
log_entry_of(int64 era, FullTransactionId fxid, CommandId cid, bool cid_reliable,
			 Oid relid, int64 *entry)
{
	EntryCacheEntry *cached;
	bool		found = false;

	if (!FullTransactionIdIsValid(fxid))
		return false;
	cached = load_entries(era, fxid);
	if (cached == NULL)
		return false;

	if (cid_reliable && cid != InvalidCommandId)
	{
		for (int i = 0; i < cached->nranges; i++)
			if (cached->ranges[i].first_cid <= cid)
			{
				*entry = cached->ranges[i].entry;
				found = true;
			}
		return found;
	}

	for (int i = 0; i < cached->nranges; i++)
		if (!OidIsValid(relid) || range_touches(&cached->ranges[i], relid))
		{
			if (found)
				return false;	/* two candidates: cannot tell */
			*entry = cached->ranges[i].entry;
			found = true;
		}
	return found;
}

/*
 * Whether a visible row version's cmin, as the cmin system column shows
 * it, is the command that created it: not after an UPDATE or DELETE of it
 * that did not commit, which wrote its own command id there.  From SQL only
 * xmax is known: none, or one that committed (for a visible row, a locker,
 * which leaves cmin alone), is safe; any other may be such an update.
 */
static bool
cmin_is_creation(TransactionId xmax)
{
	if (!TransactionIdIsValid(xmax))
		return true;
	if (!TransactionIdIsNormal(xmax) ||
		!TransactionIdPrecedes(xmax, ReadNextTransactionId()) ||
		TransactionIdIsCurrentTransactionId(xmax))
		return false;
	return TransactionIdDidCommit(xmax);
}

/*
 * log_entry_of_row
 *		The entry of a row version of table "relid" (InvalidOid: unknown)
 *		from its system columns, or false.
 */
bool
log_entry_of_row(TransactionId xmin, CommandId cmin, TransactionId xmax, Oid relid,
				 int64 *entry)
{
	int64		era;
	FullTransactionId created;

	if (!TransactionIdIsNormal(xmin) || TransactionIdIsCurrentTransactionId(xmin))
		return false;
	era = ttpdb_current_era();
	created = ttpdb_full_xid(xmin);
	return log_entry_of(era, created, cmin,
						cmin_is_creation(xmax) && log_cid_reliable(era, created),
						relid, entry);
}

PG_FUNCTION_INFO_V1(ttpdb_caused_by);

/*
 * ttpdb.caused_by(xmin xid, cmin cid, xmax xid) returns bigint
 *		The log entry that created the row version with these system
 *		columns, or NULL: created before the log, with the log off, by the
 *		caller's own open transaction, or its statement cannot be told
 *		(see log_entry_of()).
 */
Datum
ttpdb_caused_by(PG_FUNCTION_ARGS)
{
	int64		entry;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (!log_entry_of_row(DatumGetTransactionId(PG_GETARG_DATUM(0)),
						  DatumGetCommandId(PG_GETARG_DATUM(1)),
						  PG_ARGISNULL(2) ? InvalidTransactionId :
						  DatumGetTransactionId(PG_GETARG_DATUM(2)),
						  InvalidOid, &entry))
		PG_RETURN_NULL();
	PG_RETURN_INT64(entry);
}

PG_FUNCTION_INFO_V1(ttpdb_caused_by_op);

/*
 * ttpdb.caused_by(version record, entry bigint) returns boolean, the
 *		operator <~: ROW(t.xmin, t.cmin, t.xmax) <~ 42 is true for the row
 *		versions entry 42 created.
 */
Datum
ttpdb_caused_by_op(PG_FUNCTION_ARGS)
{
	HeapTupleHeader rec = PG_GETARG_HEAPTUPLEHEADER(0);
	int64		wanted = PG_GETARG_INT64(1);
	TupleDesc	desc;
	HeapTupleData tuple;
	bool		isnull[3];
	Datum		values[3];
	int64		entry;

	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(rec),
								  HeapTupleHeaderGetTypMod(rec));
	if (desc->natts != 3 || TupleDescAttr(desc, 0)->atttypid != XIDOID ||
		TupleDescAttr(desc, 1)->atttypid != CIDOID ||
		TupleDescAttr(desc, 2)->atttypid != XIDOID)
	{
		ReleaseTupleDesc(desc);
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the left operand of <~ must be a row of xmin, cmin and xmax"),
				 errhint("Write ROW(t.xmin, t.cmin, t.xmax) <~ entry.")));
	}
	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	for (int i = 0; i < 3; i++)
		values[i] = heap_getattr(&tuple, i + 1, desc, &isnull[i]);
	ReleaseTupleDesc(desc);
	if (isnull[0] || isnull[1])
		PG_RETURN_BOOL(false);
	if (!log_entry_of_row(DatumGetTransactionId(values[0]),
						  DatumGetCommandId(values[1]),
						  isnull[2] ? InvalidTransactionId :
						  DatumGetTransactionId(values[2]),
						  InvalidOid, &entry))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(entry == wanted);
}

/* ------------------------------------------------------------------------
 * verify()
 * ------------------------------------------------------------------------
 */

typedef struct CommittedRange
{
	int64		first;
	int64		last;
} CommittedRange;

static int
committed_range_cmp(const void *a, const void *b)
{
	const CommittedRange *ra = a;
	const CommittedRange *rb = b;

	return (ra->first > rb->first) - (ra->first < rb->first);
}

/* The entry ranges of every committed transaction, sorted. */
static CommittedRange *
committed_ranges(Snapshot snapshot, int *n)
{
	Relation	rel = table_open(ttpdb_catalog_relid("commit_times"), AccessShareLock);
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	HeapTuple	tup;
	int			cap = 1024;
	CommittedRange *ranges = palloc(cap * sizeof(CommittedRange));

	*n = 0;
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull1,
					isnull2;
		Datum		first = heap_getattr(tup, Anum_commit_times_first_entry,
										 RelationGetDescr(rel), &isnull1);
		Datum		count = heap_getattr(tup, Anum_commit_times_entry_count,
										 RelationGetDescr(rel), &isnull2);

		if (isnull1 || isnull2 || DatumGetInt32(count) <= 0)
			continue;
		if (*n == cap)
		{
			cap *= 2;
			ranges = repalloc_huge(ranges, cap * sizeof(CommittedRange));
		}
		ranges[*n].first = DatumGetInt64(first);
		ranges[*n].last = DatumGetInt64(first) + DatumGetInt32(count) - 1;
		(*n)++;
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	qsort(ranges, *n, sizeof(CommittedRange), committed_range_cmp);
	return ranges;
}

/* Whether any committed transaction reserved an entry in [from, to]. */
static bool
committed_in(CommittedRange *ranges, int n, int64 from, int64 to)
{
	int			lo = 0,
				hi = n;

	/* first range whose last >= from (ranges do not overlap) */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (ranges[mid].last < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ranges[lo].first <= to;
}

static bool
bytea_is_hash(Datum value, bool isnull, const uint8 *hash)
{
	bytea	   *b;

	if (isnull)
		return false;
	b = DatumGetByteaPP(value);
	return VARSIZE_ANY_EXHDR(b) == LOG_HASH_LEN &&
		memcmp(VARDATA_ANY(b), hash, LOG_HASH_LEN) == 0;
}

PG_FUNCTION_INFO_V1(ttpdb_verify);

/*
 * ttpdb.verify() returns table (entries bigint, unverified_links bigint,
 *		first_broken_entry bigint, problem text)
 *		Recompute every entry's content hash and chain link, in entry order;
 *		report the first that does not match.  A link after numbers that no
 *		committed transaction reserved (a transaction that failed after
 *		numbering its entries) cannot be checked and is counted.
 */
Datum
ttpdb_verify(PG_FUNCTION_ARGS)
{
	TupleDesc	resultdesc;
	Relation	rel;
	Relation	index;
	SysScanDesc scan;
	HeapTuple	tup;
	Snapshot	snapshot = GetActiveSnapshot();
	CommittedRange *ranges;
	int			nranges;
	int64		checked = 0;
	int64		unverified = 0;
	int64		prev_entry = 0;
	uint8		prev_chain[LOG_HASH_LEN];
	int64		broken = 0;
	char	   *problem = NULL;
	Datum		result[4];
	bool		result_nulls[4] = {false, false, true, true};

	if (get_call_result_type(fcinfo, NULL, &resultdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	memset(prev_chain, 0, sizeof(prev_chain));
	ranges = committed_ranges(snapshot, &nranges);
	rel = table_open(ttpdb_catalog_relid("log_entries"), AccessShareLock);
	index = index_open(ttpdb_catalog_relid("log_entries_pkey"), AccessShareLock);
	scan = systable_beginscan_ordered(rel, index, snapshot, 0, NULL);
	while (problem == NULL &&
		   HeapTupleIsValid(tup = systable_getnext_ordered(scan, ForwardScanDirection)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		Datum		values[Natts_log_entries];
		bool		nulls[Natts_log_entries];
		uint8		content[LOG_HASH_LEN];
		uint8		chain[LOG_HASH_LEN];
		int64		entry;
		bytea	   *stored_prev;

		heap_deform_tuple(tup, desc, values, nulls);
		entry = DatumGetInt64(values[Anum_log_entries_entry - 1]);
		checked++;

		log_content_hash(values, nulls, content);

		/* the link to the entry before it */
		if (entry > prev_entry + 1 &&
			committed_in(ranges, nranges, prev_entry + 1, entry - 1))
		{
			broken = entry;
			problem = psprintf("entries " INT64_FORMAT " to " INT64_FORMAT
							   " before it, of committed transactions, are missing",
							   prev_entry + 1, entry - 1);
			break;
		}
		if (nulls[Anum_log_entries_prev_chain - 1] ||
			nulls[Anum_log_entries_chain - 1] ||
			nulls[Anum_log_entries_committed_at - 1])
		{
			broken = entry;
			problem = "its chain link is missing";
			break;
		}
		stored_prev = DatumGetByteaPP(values[Anum_log_entries_prev_chain - 1]);
		if (VARSIZE_ANY_EXHDR(stored_prev) != LOG_HASH_LEN)
		{
			broken = entry;
			problem = "its chain link is malformed";
			break;
		}
		if (entry == prev_entry + 1)
		{
			if (memcmp(VARDATA_ANY(stored_prev), prev_chain, LOG_HASH_LEN) != 0)
			{
				broken = entry;
				problem = psprintf("it does not link to entry " INT64_FORMAT, prev_entry);
				break;
			}
		}
		else
			unverified++;

		log_chain_hash((uint8 *) VARDATA_ANY(stored_prev), entry,
					   DatumGetTimestampTz(values[Anum_log_entries_committed_at - 1]),
					   content, chain);
		if (!bytea_is_hash(values[Anum_log_entries_chain - 1], false, chain))
		{
			broken = entry;
			problem = "its chain hash does not match its content, number and commit time";
			break;
		}
		memcpy(prev_chain, chain, LOG_HASH_LEN);
		prev_entry = entry;
		CHECK_FOR_INTERRUPTS();
	}
	systable_endscan_ordered(scan);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);

	/* entries of committed transactions after the last one */
	if (problem == NULL && nranges > 0 && ranges[nranges - 1].last > prev_entry)
	{
		broken = prev_entry + 1;
		problem = psprintf("entries " INT64_FORMAT " to " INT64_FORMAT
						   ", of committed transactions, are missing",
						   Max(prev_entry + 1, ranges[nranges - 1].first),
						   ranges[nranges - 1].last);
	}

	result[0] = Int64GetDatum(checked);
	result[1] = Int64GetDatum(unverified);
	if (problem != NULL)
	{
		result[2] = Int64GetDatum(broken);
		result[3] = CStringGetTextDatum(problem);
		result_nulls[2] = result_nulls[3] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(resultdesc),
													  result, result_nulls)));
}

PG_FUNCTION_INFO_V1(ttpdb_log_copy_content);

/*
 * ttpdb.log_copy_content(entry bigint) returns bytea
 *		The content a COPY FROM entry read, or NULL when it was past
 *		ttpdb.log_copy_limit (or the entry is no COPY).  It is table data:
 *		readable by roles with the privileges of the role that ran it.
 */
Datum
ttpdb_log_copy_content(PG_FUNCTION_ARGS)
{
	int64		wanted = PG_GETARG_INT64(0);
	Relation	rel = table_open(ttpdb_catalog_relid("log_entries"), AccessShareLock);
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	bytea	   *result = NULL;

	ScanKeyInit(&skey, Anum_log_entries_entry, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(wanted));
	scan = systable_beginscan(rel, ttpdb_catalog_relid("log_entries_pkey"), true,
							  GetActiveSnapshot(), 1, &skey);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull1,
					isnull2;
		Datum		data = heap_getattr(tup, Anum_log_entries_copy_data,
										RelationGetDescr(rel), &isnull1);
		Datum		size = heap_getattr(tup, Anum_log_entries_copy_bytes,
										RelationGetDescr(rel), &isnull2);

		bool		isnull3;
		Oid			role = DatumGetObjectId(heap_getattr(tup, Anum_log_entries_role_id,
														 RelationGetDescr(rel), &isnull3));

		/* the content is the statement's: visible as its text is */
		if (!has_privs_of_role(GetUserId(), role))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for the COPY content of log entry " INT64_FORMAT,
							wanted),
					 errhint("Only roles with the privileges of the role that ran the COPY can read what it loaded.")));
		if (!isnull1 && !isnull2)
		{
			int64		rawlen = DatumGetInt64(size);
			char	   *raw = log_copy_decompress(DatumGetByteaPP(data), rawlen);

			result = palloc(VARHDRSZ + rawlen);
			SET_VARSIZE(result, VARHDRSZ + rawlen);
			memcpy(VARDATA(result), raw, rawlen);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(result);
}

/* ------------------------------------------------------------------------
 * log_consistency()
 * ------------------------------------------------------------------------
 */

typedef struct XactKey
{
	int64		era;
	uint64		fxid;
} XactKey;

/* What a top-level transaction's entries say about it. */
typedef struct XactState
{
	XactKey		key;
	int64		entries;
	bool		has_commit;
	int			entry_count;	/* from commit_times, -1 if NULL */
	bool		unchecked;		/* it rewrote a table: digests cannot match */
} XactState;

typedef struct BalanceKey
{
	XactKey		xact;
	Oid			relid;
} BalanceKey;

/* What a transaction did to one table, by the store and by the log. */
typedef struct Balance
{
	BalanceKey	key;
	uint64		stored[2];		/* versions it left minus versions it ended */
	uint64		logged[2];		/* the sum of its entries' digests of the table */
} Balance;

typedef struct TopMap
{
	XactKey		key;
	bool		found;
	XactKey		top;
	int			entry_count;
} TopMap;

typedef struct ConsistencyState
{
	HTAB	   *xacts;			/* XactState */
	HTAB	   *balances;		/* Balance */
	HTAB	   *tops;			/* TopMap: (sub)transaction -> top-level */
	List	   *relids;			/* the ttpdb tables checked */
	Relation	commit_times;
} ConsistencyState;

/* The commit_times row of a (sub)transaction, cached. */
static TopMap *
lookup_top(ConsistencyState *st, int64 era, FullTransactionId fxid)
{
	XactKey		key;
	TopMap	   *map;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.era = era;
	key.fxid = U64FromFullTransactionId(fxid);
	map = hash_search(st->tops, &key, HASH_ENTER, &found);
	if (!found)
	{
		FullTransactionId top;

		int64		first_entry;

		map->found = commit_times_row(st->commit_times, era, fxid, GetActiveSnapshot(),
									  &top, &map->entry_count, &first_entry);
		map->top = key;
		if (map->found)
			map->top.fxid = U64FromFullTransactionId(top);
		else
			map->entry_count = -1;
	}
	return map;
}

static XactState *
xact_state(ConsistencyState *st, XactKey *key)
{
	bool		found;
	XactState  *x = hash_search(st->xacts, key, HASH_ENTER, &found);

	if (!found)
	{
		TopMap	   *map = lookup_top(st, key->era, FullTransactionIdFromU64(key->fxid));

		x->entries = 0;
		x->has_commit = map->found;
		x->entry_count = map->found ? map->entry_count : -1;
		x->unchecked = false;
	}
	return x;
}

static Balance *
balance_of(ConsistencyState *st, XactKey *xact, Oid relid)
{
	BalanceKey	key;
	bool		found;
	Balance    *b;

	memset(&key, 0, sizeof(key));
	key.xact = *xact;
	key.relid = relid;
	b = hash_search(st->balances, &key, HASH_ENTER, &found);
	if (!found)
		memset(b->stored, 0, sizeof(b->stored) + sizeof(b->logged));
	return b;
}

/* A version created (sign 1) or ended (sign -1) by a transaction. */
static void
account_version(ConsistencyState *st, Oid relid, TupleDesc desc, HeapTuple tuple,
				int64 era, FullTransactionId fxid, int sign)
{
	TopMap	   *map;

	if (!FullTransactionIdIsValid(fxid))
		return;
	map = lookup_top(st, era, fxid);
	if (!map->found)
		return;					/* not stamped: written before the table was ttpdb */
	(void) xact_state(st, &map->top);
	log_tuple_digest(balance_of(st, &map->top, relid)->stored, desc, tuple, sign);
}

/* Every version of one ttpdb table: the present and the kept ones. */
static void
account_table(ConsistencyState *st, Oid relid, int64 era, Snapshot snapshot)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	const TableAmRoutine *heap = ttpdb_heap_routine();
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TableScanDesc scan;
	HistoryScan history;
	HistoryVersion version;

	scan = heap->scan_begin(rel, snapshot, 0, NULL, NULL, SO_TYPE_SEQSCAN | SO_ALLOW_PAGEMODE);
	while (heap->scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		should_free;
		HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
		TransactionId xmin = HeapTupleHeaderGetRawXmin(tuple->t_data);

		if (!TransactionIdIsCurrentTransactionId(xmin))
			account_version(st, relid, desc, tuple, era, ttpdb_full_xid(xmin), 1);
		if (should_free)
			heap_freetuple(tuple);
		CHECK_FOR_INTERRUPTS();
	}
	heap->scan_end(scan);
	ExecDropSingleTupleTableSlot(slot);

	history = history_begin_scan(rel, snapshot);
	while (history_next(history, &version))
	{
		HeapTuple	tuple = history_version_tuple(history);

		account_version(st, relid, desc, tuple, version.era, version.created_xid, 1);
		account_version(st, relid, desc, tuple, version.era, version.ended_xid, -1);
		pfree(tuple);
		CHECK_FOR_INTERRUPTS();
	}
	history_end_scan(history);
	table_close(rel, AccessShareLock);
	st->relids = lappend_oid(st->relids, relid);
}

static void
put_problem(ReturnSetInfo *rsinfo, const char *problem, XactKey *xact, int64 entry,
			const char *detail)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, entry == 0, detail == NULL};

	values[0] = CStringGetTextDatum(problem);
	values[1] = FullTransactionIdGetDatum(FullTransactionIdFromU64(xact->fxid));
	values[2] = Int64GetDatum(entry);
	values[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Add an entry's digest of each table it touched to the balances. */
static void
account_entry(ConsistencyState *st, ReturnSetInfo *rsinfo, XactKey *xact, int64 entry,
			  Datum tables, Datum digests)
{
	Datum	   *relids;
	bool	   *nulls;
	int			nrelids;
	bytea	   *b = DatumGetByteaPP(digests);
	const char *d = VARDATA_ANY(b);

	deconstruct_array(DatumGetArrayTypeP(tables), OIDOID, sizeof(Oid), true,
					  TYPALIGN_INT, &relids, &nulls, &nrelids);
	if (VARSIZE_ANY_EXHDR(b) != nrelids * 2 * sizeof(uint64))
	{
		put_problem(rsinfo, "entry whose tables and digests differ in number", xact,
					entry, NULL);
		return;
	}
	for (int i = 0; i < nrelids; i++)
	{
		uint64		digest[2];
		Balance    *bal;

		memcpy(digest, d + i * 2 * sizeof(uint64), sizeof(digest));
		bal = balance_of(st, xact, DatumGetObjectId(relids[i]));
		bal->logged[0] += digest[0];
		bal->logged[1] += digest[1];
	}
}

PG_FUNCTION_INFO_V1(ttpdb_log_consistency);

/*
 * ttpdb.log_consistency() returns table (problem text, xid xid8,
 *		entry bigint, detail text)
 *		Check the log against the data: every transaction that left or ended
 *		row versions of ttpdb tables with the log on has entries, every entry
 *		belongs to a committed transaction, and the digests of a
 *		transaction's entries add up to the versions it left minus those it
 *		ended.  No rows: consistent.  Superuser only (it reads every table).
 */
Datum
ttpdb_log_consistency(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ConsistencyState st;
	HASHCTL		ctl;
	Snapshot	snapshot = GetActiveSnapshot();
	int64		era = ttpdb_current_era();
	Relation	classrel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid			amoid;
	Relation	log_rel;
	HASH_SEQ_STATUS seq;
	XactState  *x;
	Balance    *b;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers can check the consistency of the ttpdb log"),
				 errdetail("The check reads every ttpdb table and its history.")));
	InitMaterializedSRF(fcinfo, 0);

	memset(&st, 0, sizeof(st));
	memset(&ctl, 0, sizeof(ctl));
	ctl.hcxt = CurrentMemoryContext;
	ctl.keysize = sizeof(XactKey);
	ctl.entrysize = sizeof(XactState);
	st.xacts = hash_create("ttpdb consistency transactions", 1024, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.entrysize = sizeof(TopMap);
	st.tops = hash_create("ttpdb consistency subtransactions", 1024, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = sizeof(BalanceKey);
	ctl.entrysize = sizeof(Balance);
	st.balances = hash_create("ttpdb consistency balances", 1024, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	st.commit_times = table_open(ttpdb_catalog_relid("commit_times"), AccessShareLock);

	/* what the tables say */
	amoid = get_table_am_oid("ttpdb", false);
	classrel = table_open(RelationRelationId, AccessShareLock);
	scan = table_beginscan_catalog(classrel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);

		if (form->relam == amoid && form->relkind == RELKIND_RELATION &&
			form->relpersistence == RELPERSISTENCE_PERMANENT)
			account_table(&st, form->oid, era, snapshot);
	}
	table_endscan(scan);
	table_close(classrel, AccessShareLock);

	/* what the log says */
	log_rel = table_open(ttpdb_catalog_relid("log_entries"), AccessShareLock);
	scan = table_beginscan(log_rel, snapshot, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		TupleDesc	desc = RelationGetDescr(log_rel);
		bool		isnull;
		XactKey		key;
		char	   *kind;
		int64		entry = DatumGetInt64(heap_getattr(tup, Anum_log_entries_entry, desc, &isnull));

		memset(&key, 0, sizeof(key));
		key.era = DatumGetInt64(heap_getattr(tup, Anum_log_entries_era, desc, &isnull));
		key.fxid = DatumGetUInt64(heap_getattr(tup, Anum_log_entries_xid, desc, &isnull));
		x = xact_state(&st, &key);
		x->entries++;
		kind = TextDatumGetCString(heap_getattr(tup, Anum_log_entries_kind, desc, &isnull));
		if (strcmp(kind, "ALTER TABLE") == 0)
			x->unchecked = true;	/* a rewrite writes every row again */
		account_entry(&st, rsinfo, &key, entry,
					  heap_getattr(tup, Anum_log_entries_tables, desc, &isnull),
					  heap_getattr(tup, Anum_log_entries_table_digests, desc, &isnull));
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	table_close(log_rel, AccessShareLock);
	table_close(st.commit_times, AccessShareLock);

	hash_seq_init(&seq, st.xacts);
	while ((x = hash_seq_search(&seq)) != NULL)
	{
		if (x->entries > 0 && !x->has_commit)
			put_problem(rsinfo, "entries without a committed transaction", &x->key, 0, NULL);
		else if (x->entries == 0 && x->entry_count > 0)
			put_problem(rsinfo, "transaction without its entries", &x->key, 0,
						psprintf("commit_times says it has %d entries", x->entry_count));
		else if (x->entries > 0 && x->entry_count != x->entries)
			put_problem(rsinfo, "transaction with missing or extra entries", &x->key, 0,
						psprintf("%lld entries, commit_times says %d",
								 (long long) x->entries, x->entry_count));
	}

	/* tables dropped since, or no longer ttpdb tables, cannot be checked */
	hash_seq_init(&seq, st.balances);
	while ((b = hash_seq_search(&seq)) != NULL)
	{
		bool		found;

		if (!list_member_oid(st.relids, b->key.relid))
			continue;
		x = hash_search(st.xacts, &b->key.xact, HASH_FIND, &found);
		if (!found || x->unchecked || x->entry_count <= 0)
			continue;			/* written with the log off, or before it */
		if (b->stored[0] != b->logged[0] || b->stored[1] != b->logged[1])
			put_problem(rsinfo, "entries whose effects differ from the stored versions",
						&b->key.xact, 0,
						psprintf("table %s", format_type_be_qualified(get_rel_type_id(b->key.relid))));
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ttpdb_row_transaction);

/*
 * ttpdb.row_transaction(xmin xid) returns xid8
 *		The top-level transaction that created a row version, from its xmin
 *		(which may be a subtransaction's); NULL when it is not stamped:
 *		created before the table was a ttpdb table, or by the caller's own
 *		open transaction.
 */
Datum
ttpdb_row_transaction(PG_FUNCTION_ARGS)
{
	TransactionId xmin = DatumGetTransactionId(PG_GETARG_DATUM(0));
	FullTransactionId top;
	int64		first_entry;
	int			entry_count;

	if (!TransactionIdIsNormal(xmin) || TransactionIdIsCurrentTransactionId(xmin))
		PG_RETURN_NULL();

	if (!top_transaction_of(ttpdb_current_era(), ttpdb_full_xid(xmin), &top,
							&first_entry, &entry_count))
		PG_RETURN_NULL();
	PG_RETURN_FULLTRANSACTIONID(top);
}
