/*-------------------------------------------------------------------------
 *
 * log_write.c
 *	  The entries of the current transaction, from the end of each logged
 *	  statement to the commit that writes them to ttpdb.log_entries.
 *
 * An entry's number is its place in the log: the commit order of
 * transactions, then statement order inside one.  Commit order is only
 * known at commit, so a transaction keeps its entries in memory until its
 * pre-commit callback, where, under the lock that picks its commit stamp
 * (tam_commit.c), it reserves their numbers and links them into the hash
 * chain; it then inserts them, in the same transaction as its changes.
 * An entry of a subtransaction that rolls back is forgotten.
 *
 * The chain: each entry's link is
 *		chain = SHA-256(prev_chain || entry || committed_at || SHA-256(content))
 * where prev_chain, stored with it, is the chain of the entry numbered
 * before it.  The
 * transaction that reserved that number may still fail to commit (crash,
 * serialization failure after the stamp); its number is then missing from
 * the log, and ttpdb.verify() accepts the link only if no committed
 * transaction reserved the missing numbers (ttpdb.commit_times records
 * each transaction's first entry and count).
 *
 * IDENTIFICATION
 *	  src/log/log_write.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "log.h"
#include "log_entries.h"
#include "tam/tam.h"

typedef struct PendingEntry
{
	SubTransactionId subid;
	Datum		values[Natts_log_entries];
	bool		nulls[Natts_log_entries];
	uint8		content[LOG_HASH_LEN];
	uint8		prev[LOG_HASH_LEN];
	uint8		chain[LOG_HASH_LEN];
} PendingEntry;

/* This transaction's entries, in statement order; in TopTransactionContext. */
static List *pending = NIL;

static bytea *
hash_to_bytea(const uint8 *hash)
{
	bytea	   *b = palloc(VARHDRSZ + LOG_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + LOG_HASH_LEN);
	memcpy(VARDATA(b), hash, LOG_HASH_LEN);
	return b;
}

static Datum
cstring_datum(const char *s)
{
	return PointerGetDatum(cstring_to_text(s));
}

/* A text[] of the parameters, NULL elements for NULL values. */
static Datum
parameters_datum(List *parameters)
{
	int			n = list_length(parameters);
	Datum	   *elems = palloc(Max(n, 1) * sizeof(Datum));
	bool	   *nulls = palloc(Max(n, 1) * sizeof(bool));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	ListCell   *lc;

	foreach(lc, parameters)
	{
		int			i = foreach_current_index(lc);
		char	   *s = (char *) lfirst(lc);

		nulls[i] = (s == NULL);
		elems[i] = s ? cstring_datum(s) : (Datum) 0;
	}
	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
											  TEXTOID, -1, false, TYPALIGN_INT));
}

static Datum
tables_datum(List *tables)
{
	int			n = list_length(tables);
	Datum	   *elems = palloc(Max(n, 1) * sizeof(Datum));
	ListCell   *lc;

	foreach(lc, tables)
		elems[foreach_current_index(lc)] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true,
										   TYPALIGN_INT));
}

/* The digest of each table's changes, 16 bytes each, in the order of "tables". */
static Datum
table_digests_datum(LogStatement *stmt)
{
	int			n = list_length(stmt->tables);
	bytea	   *b = palloc(VARHDRSZ + n * 2 * sizeof(uint64));

	SET_VARSIZE(b, VARHDRSZ + n * 2 * sizeof(uint64));
	if (n > 0)
		memcpy(VARDATA(b), stmt->table_digests, n * 2 * sizeof(uint64));
	return PointerGetDatum(b);
}

static Datum
nested_datum(LogStatement *stmt)
{
	StringInfoData buf;
	ListCell   *lc;

	Assert(stmt->nested != NIL || stmt->nested_omitted > 0);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	foreach(lc, stmt->nested)
	{
		LogNested  *n = (LogNested *) lfirst(lc);

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"statement\": ");
		escape_json(&buf, n->statement);
		appendStringInfoString(&buf, ", \"kind\": ");
		escape_json(&buf, n->kind);
		appendStringInfo(&buf, ", \"calls\": " INT64_FORMAT ", \"rows\": " INT64_FORMAT "}",
						 n->calls, n->rows);
	}
	if (stmt->nested_omitted > 0)
	{
		if (stmt->nested != NIL)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "{\"omitted_statements\": " INT64_FORMAT "}",
						 stmt->nested_omitted);
	}
	appendStringInfoChar(&buf, ']');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/*
 * log_emit
 *		Keep the entry of a statement that has ended, until commit.
 */
void
log_emit(LogStatement *stmt)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	PendingEntry *e = palloc0(sizeof(PendingEntry));
	Datum	   *v = e->values;
	bool	   *n = e->nulls;
	Oid			role = GetUserId();
	char	   *rolename = GetUserNameFromId(role, true);
	bool		deterministic;

	e->subid = stmt->subid;
	/* numbered, stamped and hashed at commit */
	n[Anum_log_entries_entry - 1] = true;
	n[Anum_log_entries_era - 1] = true;
	n[Anum_log_entries_xid - 1] = true;
	n[Anum_log_entries_statement_no - 1] = true;
	n[Anum_log_entries_committed_at - 1] = true;
	n[Anum_log_entries_prev_chain - 1] = true;
	n[Anum_log_entries_chain - 1] = true;

	v[Anum_log_entries_role_id - 1] = ObjectIdGetDatum(role);
	v[Anum_log_entries_role_name - 1] = cstring_datum(rolename ? rolename : "?");
	v[Anum_log_entries_kind - 1] = cstring_datum(stmt->kind);
	v[Anum_log_entries_statement - 1] = cstring_datum(stmt->statement);
	if (stmt->has_parameters)
		v[Anum_log_entries_parameters - 1] = parameters_datum(stmt->parameters);
	else
		n[Anum_log_entries_parameters - 1] = true;
	v[Anum_log_entries_rows_affected - 1] = Int64GetDatum(stmt->rows);
	v[Anum_log_entries_tables - 1] = tables_datum(stmt->tables);
	v[Anum_log_entries_table_digests - 1] = table_digests_datum(stmt);
	v[Anum_log_entries_inserted - 1] = Int64GetDatum(stmt->effects.inserted);
	v[Anum_log_entries_updated - 1] = Int64GetDatum(stmt->effects.updated);
	v[Anum_log_entries_deleted - 1] = Int64GetDatum(stmt->effects.deleted);
	v[Anum_log_entries_transaction_ts - 1] = TimestampTzGetDatum(stmt->transaction_ts);
	v[Anum_log_entries_statement_ts - 1] = TimestampTzGetDatum(stmt->statement_ts);
	v[Anum_log_entries_search_path - 1] = cstring_datum(stmt->search_path ? stmt->search_path : "");
	n[Anum_log_entries_nondeterminism - 1] =
		!log_nondeterminism_jsonb(stmt, &v[Anum_log_entries_nondeterminism - 1], &deterministic);
	v[Anum_log_entries_deterministic - 1] = BoolGetDatum(deterministic);
	if (stmt->nested != NIL || stmt->nested_omitted > 0)
		v[Anum_log_entries_nested - 1] = nested_datum(stmt);
	else
		n[Anum_log_entries_nested - 1] = true;
	v[Anum_log_entries_undoes - 1] = Int64GetDatum(stmt->undoes);
	n[Anum_log_entries_undoes - 1] = (stmt->undoes == 0);
	v[Anum_log_entries_first_cid - 1] = Int64GetDatum((int64) stmt->first_cid);
	if (stmt->copy != NULL && stmt->copy->done)
	{
		v[Anum_log_entries_copy_sha256 - 1] = PointerGetDatum(hash_to_bytea(stmt->copy->sha256));
		v[Anum_log_entries_copy_bytes - 1] = Int64GetDatum(stmt->copy->bytes);
		if (stmt->copy->kept)
			v[Anum_log_entries_copy_data - 1] =
				PointerGetDatum(log_copy_compress(stmt->copy->data.data,
												  stmt->copy->data.len));
		else
			n[Anum_log_entries_copy_data - 1] = true;
	}
	else
	{
		n[Anum_log_entries_copy_sha256 - 1] = true;
		n[Anum_log_entries_copy_bytes - 1] = true;
		n[Anum_log_entries_copy_data - 1] = true;
	}

	pending = lappend(pending, e);
	MemoryContextSwitchTo(old);
}

int
log_pending_count(void)
{
	return list_length(pending);
}

/*
 * log_forget_subxact
 *		A subtransaction rolled back: forget the entries of its statements
 *		(and of its own subtransactions, which have later ids).
 */
void
log_forget_subxact(SubTransactionId subid)
{
	ListCell   *lc;

	foreach(lc, pending)
	{
		PendingEntry *e = (PendingEntry *) lfirst(lc);

		if (e->subid >= subid)
			pending = foreach_delete_current(pending, lc);
	}
}

/* The transaction ended: its memory is going, and so are its entries. */
void
log_forget_all(void)
{
	pending = NIL;
}

/* Feed a datum's bytes, length first, to a hash. */
static void
hash_datum(Datum value, bool isnull, int16 typlen, bool byval)
{
	uint32		len;

	if (isnull)
	{
		len = 0xFFFFFFFF;
		log_sha256_update(&len, sizeof(len));
		return;
	}
	if (byval)
	{
		int64		v = (typlen == 8) ? DatumGetInt64(value) :
			(typlen == 1) ? (int64) DatumGetBool(value) : (int64) DatumGetUInt32(value);

		len = sizeof(v);
		log_sha256_update(&len, sizeof(len));
		log_sha256_update(&v, sizeof(v));
	}
	else if (typlen > 0)
	{
		len = typlen;
		log_sha256_update(&len, sizeof(len));
		log_sha256_update(DatumGetPointer(value), typlen);
	}
	else
	{
		struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));

		len = VARSIZE_ANY_EXHDR(v);
		log_sha256_update(&len, sizeof(len));
		log_sha256_update(VARDATA_ANY(v), len);
	}
}

/*
 * log_content_hash
 *		SHA-256 of an entry's content: every column but its number, its
 *		commit time (both covered by the chain) and the chain links.
 *		Fixed-width values are hashed as 8 bytes in this machine's byte
 *		order, variable-width ones as their (uncompressed) bytes.
 */
void
log_content_hash(Datum *values, bool *nulls, uint8 *out)
{
	static const struct
	{
		int			attnum;
		int16		typlen;
		bool		byval;
	}			columns[] =
	{
		{Anum_log_entries_era, 8, true},
		{Anum_log_entries_xid, 8, true},
		{Anum_log_entries_statement_no, 4, true},
		{Anum_log_entries_role_id, 4, true},
		{Anum_log_entries_role_name, -1, false},
		{Anum_log_entries_kind, -1, false},
		{Anum_log_entries_statement, -1, false},
		{Anum_log_entries_parameters, -1, false},
		{Anum_log_entries_rows_affected, 8, true},
		{Anum_log_entries_tables, -1, false},
		{Anum_log_entries_table_digests, -1, false},
		{Anum_log_entries_inserted, 8, true},
		{Anum_log_entries_updated, 8, true},
		{Anum_log_entries_deleted, 8, true},
		{Anum_log_entries_transaction_ts, 8, true},
		{Anum_log_entries_statement_ts, 8, true},
		{Anum_log_entries_search_path, -1, false},
		{Anum_log_entries_deterministic, 1, true},
		{Anum_log_entries_nondeterminism, -1, false},
		{Anum_log_entries_nested, -1, false},
		{Anum_log_entries_undoes, 8, true},
		{Anum_log_entries_first_cid, 8, true},
		{Anum_log_entries_copy_sha256, -1, false},
		{Anum_log_entries_copy_bytes, 8, true},
		{Anum_log_entries_copy_data, -1, false},
	};

	log_sha256_begin();
	for (int i = 0; i < lengthof(columns); i++)
	{
		int			a = columns[i].attnum - 1;

		hash_datum(values[a], nulls[a], columns[i].typlen, columns[i].byval);
	}
	log_sha256_final(out);
}

/*
 * log_chain_hash
 *		An entry's link in the chain.
 */
void
log_chain_hash(const uint8 *prev, int64 entry, TimestampTz committed_at,
			   const uint8 *content, uint8 *out)
{
	log_sha256_begin();
	log_sha256_update(prev, LOG_HASH_LEN);
	log_sha256_update(&entry, sizeof(entry));
	log_sha256_update(&committed_at, sizeof(committed_at));
	log_sha256_update(content, LOG_HASH_LEN);
	log_sha256_final(out);
}

/*
 * log_prepare_commit
 *		Before the commit lock: give each entry its transaction and number
 *		inside it, and hash its content.
 */
void
log_prepare_commit(int64 era, FullTransactionId top)
{
	ListCell   *lc;

	foreach(lc, pending)
	{
		PendingEntry *e = (PendingEntry *) lfirst(lc);

		e->values[Anum_log_entries_era - 1] = Int64GetDatum(era);
		e->nulls[Anum_log_entries_era - 1] = false;
		e->values[Anum_log_entries_xid - 1] = FullTransactionIdGetDatum(top);
		e->nulls[Anum_log_entries_xid - 1] = false;
		e->values[Anum_log_entries_statement_no - 1] =
			Int32GetDatum(foreach_current_index(lc) + 1);
		e->nulls[Anum_log_entries_statement_no - 1] = false;
		log_content_hash(e->values, e->nulls, e->content);
	}
}

/*
 * log_pending_list
 *		The current transaction's entries, in statement order: a list to
 *		hand to log_link_entry_list() and log_write_entry_list().
 */
List *
log_pending_list(void)
{
	return pending;
}

/*
 * log_link_entry_list
 *		Under the commit lock: number the entries from "first_entry", stamp
 *		them, and link them into the chain whose last link is "chain" (which
 *		is advanced to the last of them).
 */
void
log_link_entry_list(List *entries, int64 first_entry, TimestampTz stamp, uint8 *chain)
{
	ListCell   *lc;

	foreach(lc, entries)
	{
		PendingEntry *e = (PendingEntry *) lfirst(lc);
		int64		entry = first_entry + foreach_current_index(lc);

		memcpy(e->prev, chain, LOG_HASH_LEN);
		log_chain_hash(e->prev, entry, stamp, e->content, e->chain);
		memcpy(chain, e->chain, LOG_HASH_LEN);
		e->values[Anum_log_entries_entry - 1] = Int64GetDatum(entry);
		e->nulls[Anum_log_entries_entry - 1] = false;
		e->values[Anum_log_entries_committed_at - 1] = TimestampTzGetDatum(stamp);
		e->nulls[Anum_log_entries_committed_at - 1] = false;
	}
}

/*
 * log_write_entry_list
 *		After the commit lock: insert the numbered entries.
 */
void
log_write_entry_list(Relation rel, List *entries)
{
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

	foreach(lc, entries)
	{
		PendingEntry *e = (PendingEntry *) lfirst(lc);

		e->values[Anum_log_entries_prev_chain - 1] = PointerGetDatum(hash_to_bytea(e->prev));
		e->nulls[Anum_log_entries_prev_chain - 1] = false;
		e->values[Anum_log_entries_chain - 1] = PointerGetDatum(hash_to_bytea(e->chain));
		e->nulls[Anum_log_entries_chain - 1] = false;
		ttpdb_insert_with_indexes(rel, heap_form_tuple(RelationGetDescr(rel),
													   e->values, e->nulls));
	}
	MemoryContextSwitchTo(old);
}

/*
 * log_entries_to_array
 *		Entries given their transaction (log_prepare_commit), not numbered
 *		yet, as an array of ttpdb.log_entries rows ("rel"): PREPARE
 *		TRANSACTION keeps them so until COMMIT PREPARED numbers them.
 */
Datum
log_entries_to_array(Relation rel, List *entries)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Datum	   *rows = palloc(sizeof(Datum) * Max(list_length(entries), 1));
	ListCell   *lc;

	foreach(lc, entries)
	{
		PendingEntry *e = (PendingEntry *) lfirst(lc);
		HeapTuple	tuple = heap_form_tuple(desc, e->values, e->nulls);

		rows[foreach_current_index(lc)] = heap_copy_tuple_as_datum(tuple, desc);
		heap_freetuple(tuple);
	}
	return PointerGetDatum(construct_array(rows, list_length(entries), desc->tdtypeid,
										   -1, false, TYPALIGN_DOUBLE));
}

/*
 * log_entries_from_array
 *		The entries log_entries_to_array() kept, in this transaction's
 *		memory, ready to be numbered and written.  Rows kept before a
 *		column was added to ttpdb.log_entries read it as NULL.
 */
List *
log_entries_from_array(Relation rel, Datum array)
{
	TupleDesc	desc = RelationGetDescr(rel);
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ArrayType  *arr = DatumGetArrayTypePCopy(array);
	Datum	   *rows;
	bool	   *rownulls;
	int			nrows;
	List	   *entries = NIL;

	if (ARR_ELEMTYPE(arr) != desc->tdtypeid)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("kept log entries are not rows of ttpdb.log_entries")));
	deconstruct_array(arr, desc->tdtypeid, -1, false, TYPALIGN_DOUBLE,
					  &rows, &rownulls, &nrows);
	for (int i = 0; i < nrows; i++)
	{
		PendingEntry *e = palloc0(sizeof(PendingEntry));
		HeapTupleData tuple;

		if (rownulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("a kept log entry is NULL")));
		tuple.t_data = DatumGetHeapTupleHeader(rows[i]);
		tuple.t_len = HeapTupleHeaderGetDatumLength(tuple.t_data);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		heap_deform_tuple(&tuple, desc, e->values, e->nulls);
		e->subid = TopSubTransactionId;
		log_content_hash(e->values, e->nulls, e->content);
		entries = lappend(entries, e);
	}
	MemoryContextSwitchTo(old);
	return entries;
}

/*
 * log_read_tail
 *		The last entry of the log and its chain link (all zeros, and
 *		entry 0, when the log is empty).  Called under the commit lock when
 *		this database has no transaction between reserving entry numbers
 *		and committing (tam_commit.c), so every entry that will ever
 *		precede the next one has committed; committed entries never change,
 *		so no MVCC snapshot is needed.
 */
void
log_read_tail(Relation rel, Relation pkey, int64 *last_entry, uint8 *chain)
{
	SysScanDesc scan;
	HeapTuple	tup;

	*last_entry = 0;
	memset(chain, 0, LOG_HASH_LEN);
	scan = systable_beginscan_ordered(rel, pkey, SnapshotSelf, 0, NULL);
	tup = systable_getnext_ordered(scan, BackwardScanDirection);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		value;

		value = heap_getattr(tup, Anum_log_entries_entry, RelationGetDescr(rel), &isnull);
		*last_entry = DatumGetInt64(value);
		value = heap_getattr(tup, Anum_log_entries_chain, RelationGetDescr(rel), &isnull);
		if (!isnull)
		{
			bytea	   *b = DatumGetByteaPP(value);

			if (VARSIZE_ANY_EXHDR(b) == LOG_HASH_LEN)
				memcpy(chain, VARDATA_ANY(b), LOG_HASH_LEN);
		}
	}
	systable_endscan_ordered(scan);
}
