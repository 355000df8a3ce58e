/*-------------------------------------------------------------------------
 *
 * log.h
 *	  The semantic statement log: shared declarations of its parts.
 *
 * Every statement that writes a ttpdb table, and every DDL statement that
 * touches one, becomes an entry of table ttpdb.log_entries, written in the
 * same transaction as its changes.  Entries are numbered at commit, under
 * the lock that picks the commit stamp, so their order is the commit order
 * of transactions and then statement order inside one; each is chained to
 * its predecessor by a SHA-256 hash.
 *
 *	log_capture.c	the hooks: which statement is running, its text,
 *					parameters, kind, rows, and the nested statements it ran
 *	log_effects.c	the digest of the row changes a statement made
 *	log_nondet.c	what a statement needs to run again to the same result:
 *					timestamps, random seed, sequence values, volatile calls
 *	log_copy.c		the content COPY FROM read
 *	log_write.c		the entries of the transaction, kept until commit and
 *					then numbered, chained and written
 *	log_funcs.c		SQL functions: verify(), caused_by(), consistency checks
 *
 * IDENTIFICATION
 *	  src/log/log.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TTPDB_LOG_H
#define TTPDB_LOG_H

#include "access/htup.h"
#include "access/transam.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "nodes/plannodes.h"
#include "tcop/cmdtag.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/* Number of bytes of a chain or content hash. */
#define LOG_HASH_LEN	PG_SHA256_DIGEST_LENGTH

/* How many distinct nested statements an entry lists in detail. */
#define LOG_MAX_NESTED	50

/*
 * The row changes a statement made to ttpdb tables: counts, and a digest
 * (log_effects.c): the hashes of rows inserted minus those of rows deleted,
 * in two independent 64-bit lanes.
 */
typedef struct LogEffects
{
	int64		inserted;
	int64		updated;
	int64		deleted;
	uint64		digest[2];
} LogEffects;

/* One sequence a statement drew values from. */
typedef struct LogSequence
{
	Oid			seqid;
	int64		last_value;		/* the last value this session drew */
	bool		known;
} LogSequence;

/* One volatile function a statement called. */
typedef struct LogVolatile
{
	Oid			funcid;
	bool		captured;		/* its effect on the result is in the entry */
} LogVolatile;

/* A nested statement (from a function, trigger or DO block) that wrote. */
typedef struct LogNested
{
	char	   *statement;
	const char *kind;
	int64		calls;
	int64		rows;
} LogNested;

/* The content COPY FROM read. */
typedef struct LogCopy
{
	pg_cryptohash_ctx *hash;	/* running SHA-256 of every byte read */
	int64		bytes;			/* bytes read */
	StringInfoData data;		/* the bytes, while within the limit */
	bool		kept;			/* data holds all of them */
	bool		done;
	uint8		sha256[LOG_HASH_LEN];
} LogCopy;

/*
 * A statement the user ran (or a COMMIT that ran deferred triggers), from
 * its start to its entry.
 */
typedef struct LogStatement
{
	MemoryContext context;		/* everything below lives here */
	SubTransactionId subid;		/* the subtransaction it started in */
	const void *owner;			/* the QueryDesc or parse tree it belongs to */
	char	   *statement;		/* its own text */
	const char *kind;			/* command tag: INSERT, ALTER TABLE, ... */
	List	   *parameters;		/* text of each bind parameter, or NULL */
	bool		has_parameters;
	bool		touched;		/* it wrote or altered a ttpdb table */
	List	   *tables;			/* OIDs of the ttpdb tables it touched */
	uint64	   *table_digests;	/* two lanes per table of "tables" */
	int			table_digests_size; /* tables it has room for */
	int64		rows;			/* rows it processed */
	CommandId	first_cid;		/* command ids its changes carry */
	CommandId	last_cid;
	TimestampTz statement_ts;
	TimestampTz transaction_ts;
	char	   *search_path;
	LogEffects	effects;
	bool		seeded;			/* random() was seeded by us for it */
	double		seed;
	bool		user_seeded;	/* it called setseed() itself */
	List	   *sequences;		/* LogSequence * */
	List	   *volatiles;		/* LogVolatile * */
	List	   *nested;			/* LogNested * */
	int64		nested_omitted;
	LogCopy    *copy;			/* COPY FROM only */
	int64		undoes;			/* an UNDO: the entry it undid, else 0 */
	const char *unmarked_kind;	/* its kind before it was marked UNDO/AMEND */
	SubTransactionId mark_subid;	/* the subtransaction that marked it */
} LogStatement;

/* log_capture.c */
extern bool ttpdb_log_enabled;
extern int	ttpdb_log_copy_limit;
extern void ttpdb_log_init(void);
extern bool log_active(void);
extern bool log_extension_present(void);
extern LogStatement *log_current_statement(Relation rel);
extern void log_note_touched(LogStatement *stmt, Oid relid);
extern int	log_table_index(LogStatement *stmt, Oid relid);
extern bool log_relation_is_ttpdb(Oid relid);
extern void log_close_transaction(void);

/* log_effects.c */
extern void log_effect_insert(Relation rel, TupleTableSlot *slot);
extern void log_effect_delete(Relation rel, HeapTuple oldtup);
extern void log_effect_update(Relation rel, HeapTuple oldtup, TupleTableSlot *slot);
extern void log_row_digest(uint64 *digest, TupleDesc desc, int natts, Datum *values,
						   bool *isnull, int sign);
extern void log_tuple_digest(uint64 *digest, TupleDesc desc, HeapTuple tuple, int sign);

/* log_nondet.c */
extern bool log_plan_is_volatile(struct PlannedStmt *pstmt);
extern void log_scan_plan(LogStatement *stmt, struct PlannedStmt *pstmt);
extern void log_finish_nondeterminism(LogStatement *stmt);
extern bool log_nondeterminism_jsonb(LogStatement *stmt, Datum *result,
									 bool *deterministic);

/* log_copy.c */
extern bool log_copy_applies(struct CopyStmt *stmt);
extern void log_copy_run(LogStatement *stmt, struct PlannedStmt *pstmt,
						 const char *queryString, struct QueryCompletion *qc);
extern bytea *log_copy_compress(const char *data, int len);
extern char *log_copy_decompress(bytea *stored, int64 rawlen);

/* log_funcs.c */
extern bool log_entry_of(int64 era, FullTransactionId fxid, CommandId cid,
						 bool cid_reliable, Oid relid, int64 *entry);
extern bool log_cid_reliable(int64 era, FullTransactionId fxid);
extern bool log_entry_of_row(TransactionId xmin, CommandId cmin, TransactionId xmax,
							 Oid relid, int64 *entry);

/* log_write.c */
extern void log_emit(LogStatement *stmt);
extern int	log_pending_count(void);
extern void log_prepare_commit(int64 era, FullTransactionId top);
extern List *log_pending_list(void);
extern void log_link_entry_list(List *entries, int64 first_entry, TimestampTz stamp,
								uint8 *chain);
extern void log_write_entry_list(Relation rel, List *entries);
extern Datum log_entries_to_array(Relation rel, List *entries);
extern List *log_entries_from_array(Relation rel, Datum array);
extern void log_forget_subxact(SubTransactionId subid);
extern void log_forget_all(void);
extern void log_read_tail(Relation rel, Relation pkey, int64 *last_entry, uint8 *chain);
extern void log_content_hash(Datum *values, bool *nulls, uint8 *out);
extern void log_chain_hash(const uint8 *prev, int64 entry, TimestampTz committed_at,
						   const uint8 *content, uint8 *out);

/* log_sha256.c */
extern void log_sha256_begin(void);
extern void log_sha256_update(const void *data, size_t len);
extern void log_sha256_final(uint8 *out);

#endif							/* TTPDB_LOG_H */
