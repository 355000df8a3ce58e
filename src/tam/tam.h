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
 *					in table ttpdb.history
 *	tam_commit.c	system time: each writing transaction's commit stamp,
 *					taken in commit order, in table ttpdb.commit_times
 *	tam_asof.c		time travel: the ttpdb.as_of setting and the scans that
 *					read a table as of a past instant
 *	tam_funcs.c		SQL functions: as_of(), history(), prune_history()
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

/* tam_commit.c */
extern void ttpdb_commit_install_hooks(void);
extern void ttpdb_commit_init_shmem(void);
extern void ttpdb_commit_register_callbacks(void);
extern void ttpdb_note_write(void);
extern void ttpdb_commit_barrier(TimestampTz as_of);
extern void ttpdb_preload_commit_times(int64 era);
extern Snapshot ttpdb_latest_snapshot(void);
extern FullTransactionId ttpdb_full_xid(TransactionId xid);
extern int64 ttpdb_current_era(void);
extern bool ttpdb_replay_horizon(FullTransactionId *horizon);
extern bool ttpdb_commit_time(int64 era, FullTransactionId fxid, Snapshot snapshot,
							  TimestampTz *stamp);

/* tam_history.c */
typedef struct HistoryScanData *HistoryScan;

typedef struct HistoryVersion
{
	HeapTuple	tuple;			/* NULL until history_version_tuple() */
	int64		era;			/* the era of the xids below */
	FullTransactionId created_xid;	/* invalid if unknown */
	FullTransactionId ended_xid;
	bool		valid_from_known;
	TimestampTz valid_from;
} HistoryVersion;

extern void history_append_version(Relation rel, HeapTuple oldtup,
								   CommandId created_cid, CommandId ended_cid);
extern bool history_version_cids(HeapTuple tuple, CommandId *created_cid,
								 CommandId *ended_cid);
extern void history_append_relation(Relation rel, bool count_deletes);
extern CommandId history_creation_cid(HeapTupleHeader tup);
extern HistoryScan history_begin_scan(Relation rel, Snapshot snapshot);
extern bool history_next(HistoryScan scan, HistoryVersion *version);
extern HeapTuple history_version_tuple(HistoryScan scan);
extern void history_end_scan(HistoryScan scan);
extern Oid	ttpdb_catalog_relid(const char *relname);
extern void ttpdb_insert_with_indexes(Relation rel, HeapTuple tuple);

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
