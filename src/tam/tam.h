/*-------------------------------------------------------------------------
 *
 * tam.h
 *	  The ttpdb table access method: shared declarations of its parts.
 *
 * A ttpdb table keeps its present state in PostgreSQL's heap, through the
 * heap's own table-AM callbacks (so MVCC, locking, TOAST, WAL, replication
 * and VACUUM are the heap's).  What ttpdb adds:
 *
 *	tam_handler.c	the routine: a copy of the heap's with the callbacks
 *					where time matters replaced
 *	tam_history.c	the temporal store: every superseded version, compressed,
 *					in table ttpdb.history, and the scan of a table's versions
 *	tam_pack.c		packing: many versions compressed together, with their
 *					validity, in table ttpdb.history_packs
 *	tam_commit.c	system time: each writing transaction's commit stamp,
 *					taken in commit order, in table ttpdb.commit_times
 *	tam_stamp_cache.c	recent commit stamps, cached in shared memory
 *	tam_stamp_ceiling.c	the ceiling of a database's stamps, in table
 *					ttpdb.stamp_ceiling: stamps after a restart follow it
 *	tam_asof.c		time travel: the ttpdb.as_of setting and the scans that
 *					read a table as of a past instant
 *	tam_twophase.c	PREPARE TRANSACTION and COMMIT PREPARED of ttpdb writes
 *	tam_alter.c		column type changes: converting the kept versions when
 *					ALTER TABLE rewrites a column; fast-default values
 *					written into them before any rewrite forgets them
 *	tam_funcs.c		SQL functions: as_of(), history(), prune_history(),
 *					pack_history()
 *
 * IDENTIFICATION
 *	  src/tam/tam.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TTPDB_TAM_H
#define TTPDB_TAM_H

#include "access/htup.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "utils/rel.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

/* tam_handler.c */
extern const TableAmRoutine *ttpdb_heap_routine(void);
extern bool ttpdb_is_ttpdb_relation(Relation rel);

/*
 * Which xids of a range committed at or before an instant, as far as the
 * shared stamp cache knows: what an AS OF scan asks of nearly every tuple.
 * The range is cut in chunks; a chunk asked often enough is read from the
 * cache into two bitmaps small enough to stay in the processor's cache.
 */
typedef struct StampsAsOf
{
	uint64		first;			/* full xid of the range's start */
	uint64		count;			/* xids covered; 0 when none */
	TimestampTz as_of;
	MemoryContext mcxt;			/* where the chunks are allocated */
	uint8	   *asked;			/* per chunk: lookups before it was read */
	uint64	  **known;			/* per chunk, once read: the stamp is known */
	uint64	  **by_as_of;		/* per chunk, once read: and it is <= as_of */
} StampsAsOf;

/* Columns of ttpdb.commit_times. */
#define Anum_commit_times_era			1
#define Anum_commit_times_xid			2
#define Anum_commit_times_committed_at	3
#define Anum_commit_times_top_xid		4
#define Anum_commit_times_first_entry	5
#define Anum_commit_times_entry_count	6
#define Natts_commit_times				6

/* tam_commit.c */
extern void ttpdb_commit_install_hooks(void);
extern void ttpdb_commit_init_shmem(void);
extern void ttpdb_commit_register_callbacks(void);
extern void ttpdb_note_write(void);
extern void ttpdb_commit_barrier(TimestampTz as_of);
extern Snapshot ttpdb_latest_snapshot(void);
extern FullTransactionId ttpdb_full_xid(TransactionId xid);
extern FullTransactionId ttpdb_full_xid_before(TransactionId xid, FullTransactionId next);
extern int64 ttpdb_current_era(void);
extern bool ttpdb_replay_horizon(FullTransactionId *horizon);
extern bool ttpdb_commit_time(int64 era, FullTransactionId fxid, Snapshot snapshot,
							  TimestampTz *stamp);
extern struct SysScanDescData *ttpdb_commit_times_scan(Relation rel, int64 era,
													   FullTransactionId fxid,
													   Snapshot snapshot);
extern void ttpdb_commit_times_restamp(Relation rel, int64 era, FullTransactionId xid,
									   TimestampTz stamp, int64 first_entry, int nentries);
extern TimestampTz ttpdb_commit_take_stamp(Relation commit_rel, Relation log_rel,
										   Relation log_pkey, List *entries,
										   int64 *first_entry, FullTransactionId prepared);
extern void ttpdb_commit_wait_for_prepared(FullTransactionId xid);
extern void ttpdb_commit_raise_last_stamp(TimestampTz stamp);
extern TimestampTz ttpdb_commit_shared_start(void);
extern void ttpdb_commit_share_ceiling(Oid relid, TimestampTz ceiling);
extern uint64 ttpdb_unstamped_generation(void);
extern void ttpdb_unstamped_left(void);

/* tam_twophase.c */
extern void ttpdb_twophase_init(void);
extern void ttpdb_twophase_keep(int64 era, FullTransactionId top,
								FullTransactionId *children, int nchildren,
								List *entries);
extern TimestampTz ttpdb_twophase_wait(int64 era, FullTransactionId fxid);
extern void ttpdb_twophase_note_unstamped_creator(ItemPointer tid, int64 era,
												  FullTransactionId created);
extern void ttpdb_twophase_stamp_unstamped(void);
extern void ttpdb_twophase_check_prepare(void);
extern void ttpdb_twophase_xact_end(bool committed);
extern void ttpdb_stamps_as_of(int64 era, TimestampTz as_of, StampsAsOf *stamps);


/* tam_stamp_ceiling.c */
extern void stamp_ceiling_seed(Oid relid);
extern void stamp_ceiling_cover(Oid relid, TimestampTz stamp);
extern void stamp_ceiling_before_commit(void);
extern void stamp_ceiling_xact_end(void);

/* tam_stamp_cache.c */
extern int	ttpdb_stamp_cache_size;
extern void stamp_cache_init(void);
extern Size stamp_cache_shmem_size(void);
extern void stamp_cache_attach(void);
extern bool stamp_cache_lookup(FullTransactionId fxid, TimestampTz *stamp);
extern void stamp_cache_store(FullTransactionId fxid, TimestampTz stamp);
extern uint64 stamp_cache_capacity(void);
extern bool stamp_cache_claim_warming(Oid dboid);
extern void stamp_cache_begin_as_of(StampsAsOf *stamps, uint64 first, uint64 count,
									TimestampTz as_of);
extern bool stamp_cache_committed_by(StampsAsOf *stamps, FullTransactionId fxid,
									 bool *by_as_of);
extern void stamp_cache_end_as_of(StampsAsOf *stamps);

/* tam_history.c */

/* Columns of ttpdb.history: one kept version each. */
#define Anum_history_relid			1
#define Anum_history_era			2
#define Anum_history_row_hash		3
#define Anum_history_created_xid	4
#define Anum_history_ended_xid		5
#define Anum_history_valid_from		6
#define Anum_history_raw_size		7
#define Anum_history_data			8
#define Natts_history				8

/* Columns of ttpdb.history_packs: many kept versions each. */
#define Anum_history_packs_relid			1
#define Anum_history_packs_era				2
#define Anum_history_packs_versions			3
#define Anum_history_packs_valid_from_min	4
#define Anum_history_packs_valid_to_min		5
#define Anum_history_packs_valid_to_max		6
#define Anum_history_packs_raw_size			7
#define Anum_history_packs_data				8
#define Natts_history_packs					8

typedef struct HistoryScanData *HistoryScan;

typedef struct HistoryVersion
{
	HeapTuple	tuple;			/* NULL until history_version_tuple() */
	int64		era;			/* the era of the xids below */
	FullTransactionId created_xid;	/* invalid if unknown */
	FullTransactionId ended_xid;
	bool		valid_from_known;
	TimestampTz valid_from;
	bool		valid_to_known; /* packed versions carry their end */
	TimestampTz valid_to;
} HistoryVersion;

/* A decoded pack: its versions, and their tuples in one buffer. */
typedef struct HistoryPack
{
	int			nversions;
	HistoryVersion *versions;	/* valid_to_known always; tuple NULL */
	uint32	   *offsets;		/* where each version's tuple starts in data */
	uint32	   *lengths;
	char	   *data;
} HistoryPack;

extern void history_append_version(Relation rel, HeapTuple oldtup,
								   CommandId created_cid, CommandId ended_cid);
extern bool history_version_cids(HeapTuple tuple, CommandId *created_cid,
								 CommandId *ended_cid);
extern void history_append_relation(Relation rel, TupleDesc desc, bool count_deletes);
extern CommandId history_creation_cid(HeapTupleHeader tup);
extern struct SysScanDescData *history_scan_relid(Relation store, const char *index,
												  Oid relid, Snapshot snapshot);
extern HistoryScan history_begin_scan(Relation rel, Snapshot snapshot);

/* Forms a kept version's tuple under a new row type (tam_alter.c). */
typedef HeapTuple (*HistoryVersionMapper) (HeapTuple version, void *arg);
extern HeapTuple history_map_version(HeapTuple version, HistoryVersionMapper mapper,
									 void *arg);
extern int64 history_rewrite_versions(Relation rel, Snapshot snapshot,
									  HistoryVersionMapper mapper, void *arg);
extern void history_scan_as_of(HistoryScan scan, TimestampTz as_of);
extern bool history_next(HistoryScan scan, HistoryVersion *version);
extern HeapTuple history_version_tuple(HistoryScan scan);
extern void history_end_scan(HistoryScan scan);
extern bytea *history_compress(const char *src, uint32 len);
extern char *history_unpack_bytes(bytea *stored, uint32 min, uint32 *len, Oid relid);
extern void history_corrupted(Oid relid) pg_attribute_noreturn();
extern Oid	ttpdb_catalog_relid(const char *relname);
extern Oid	ttpdb_catalog_relid_if_exists(const char *relname);
extern void ttpdb_insert_with_indexes(Relation rel, HeapTuple tuple);
extern void ttpdb_update_with_indexes(Relation rel, ItemPointer otid, HeapTuple tuple);

/* tam_pack.c */
extern int	ttpdb_pack_after;
extern void history_pack_init(void);
extern void history_note_kept(Oid relid);
extern void history_pack_at_commit(void);
extern bool history_is_pack_subxact(TransactionId xid);
extern int64 history_pack_relation(Relation rel, Snapshot snapshot, int64 limit);
extern int64 history_prune_packs(Relation rel, TimestampTz older_than, Snapshot snapshot);
extern int64 history_rewrite_packs(Relation rel, Snapshot snapshot,
								   HistoryVersionMapper mapper, void *arg);
extern HistoryPack *history_pack_read(HeapTuple packtup, TupleDesc desc, Oid relid);
extern HeapTuple history_pack_tuple(HistoryPack *pack, int i, Oid relid);

/* tam_alter.c */
extern void ttpdb_alter_init(void);
extern void history_keep_before_column_rewrite(Relation rel);
extern void history_keep_missing_values(Relation rel);
extern bool history_conversion_pending(Oid relid);

/* tam_asof.c */
extern void ttpdb_asof_init(void);
extern bool ttpdb_as_of_active(void);
extern TimestampTz ttpdb_as_of_time(void);
extern void ttpdb_check_writable(Relation rel);
extern TableScanDesc ttpdb_asof_beginscan(Relation rel, Snapshot snapshot,
										  int nkeys, struct ScanKeyData *key,
										  ParallelTableScanDesc pscan,
										  uint32 flags);
extern bool ttpdb_asof_getnextslot(TableScanDesc scan, ScanDirection direction,
								   TupleTableSlot *slot);
extern void ttpdb_asof_rescan(TableScanDesc scan);
extern void ttpdb_asof_endscan(TableScanDesc scan);
extern bool ttpdb_is_asof_scan(TableScanDesc scan);
extern Size ttpdb_parallelscan_estimate(Relation rel);
extern Size ttpdb_parallelscan_initialize(Relation rel, ParallelTableScanDesc pscan);
extern void ttpdb_parallelscan_reinitialize(Relation rel, ParallelTableScanDesc pscan);

#endif							/* TTPDB_TAM_H */
