/*-------------------------------------------------------------------------
 *
 * tam_stamp_ceiling.c
 *	  The ceiling of a database's commit stamps, kept so that the stamps
 *	  taken after a restart follow every stamp taken before it.
 *
 * The last stamp lives in shared memory (tam_commit.c), which starts over
 * at every server start, crash restart and standby start, and the clock
 * may have gone back meanwhile.  Table ttpdb.stamp_ceiling has one row:
 * "ceiling", which no committed stamp of this database exceeds, and
 * "seeded_start", the start of the shared memory whose last stamp already
 * follows every stamp of the starts before it.
 *
 * Before a transaction commits with stamp S the ceiling is made >= S: when
 * it is lower it is overwritten in place with S plus STAMP_CEILING_MARGIN,
 * so that it moves at most once per margin of stamps (one in-place update
 * per 10 ms of commits, whatever their rate).  An in-place update is
 * WAL-logged at once and outlives an abort, so the WAL record of the
 * transaction's commit comes after the ceiling that covers its stamp, after
 * a crash and on a standby alike.  The first stamp a start takes in a
 * database raises the shared last stamp to the ceiling, once (a raise of the
 * ceiling by a stamp of this start does as well): a new stamp may then be
 * up to the margin later than the last stamp taken before the restart,
 * committed or not (and than the clock, if the restart took less).
 *
 * This replaces commit_times_committed_at_idx (before 0.8), which every
 * commit paid a B-tree insertion for, to find the latest stamp once per
 * backend (and a transaction's subtransactions, now found through the
 * partial commit_times_top_xid_idx).  Without the table (the extension not
 * yet updated), tam_commit.c reads that index as before.
 *
 * The row is not dumped: a restored database gets a new one from CREATE
 * EXTENSION, and the stamps pg_restore loads into ttpdb.commit_times raise
 * it (and the shared last stamp) when the loading transaction commits (a
 * statement trigger notes them), so that new stamps follow the restored ones.
 *
 * IDENTIFICATION
 *	  src/tam/tam_stamp_ceiling.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "ttpdb.h"
#include "tam.h"

/* The row, as its two fixed-width NOT NULL columns lie in the tuple. */
typedef struct FormData_stamp_ceiling
{
	TimestampTz ceiling;
	TimestampTz seeded_start;
} FormData_stamp_ceiling;

typedef FormData_stamp_ceiling *Form_stamp_ceiling;

/* How far past a stamp the ceiling is raised, in microseconds. */
#define STAMP_CEILING_MARGIN	10000

/*
 * The ceiling this backend last read or wrote, and the table it is in (a
 * new extension makes a new table).  The ceiling only rises, so a stamp at
 * or below it is covered without looking again.  The latest one read or
 * written by any backend of one database is shared too (tam_commit.c
 * checks it while it takes the stamp), so that in steady state only the
 * backend whose stamp passes the ceiling locks and reads the table.
 */
static Oid	known_relid = InvalidOid;
static TimestampTz known_ceiling = DT_NOBEGIN;

/*
 * Read the row of ttpdb.stamp_ceiling.  Callers hold ExclusiveLock on the
 * table, which its writers all take: the row cannot change until they
 * release it (readers, SELECT, are not blocked).
 *
 * It is read with SnapshotSelf, not an MVCC snapshot: this runs before
 * commit, and in a SERIALIZABLE transaction an MVCC read would take
 * predicate locks and fail a transaction already doomed here rather than
 * at its serialization check.  For the same reason the row is overwritten
 * with heap_inplace_update() rather than systable_inplace_update_begin(),
 * whose scan uses the catalog snapshot; nobody updates the row otherwise,
 * which is what the newer interface guards against.
 */
static HeapTuple
ceiling_row_read(Relation rel)
{
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, SnapshotSelf, 0, NULL);
	HeapTuple	tup = systable_getnext(scan);

	if (HeapTupleIsValid(tup))
		tup = heap_copytuple(tup);
	systable_endscan(scan);
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("table ttpdb.stamp_ceiling has no row"),
				 errdetail("Every transaction that writes a ttpdb table needs it to take its commit stamp."),
				 errhint("Insert it again, above every stamp and the clock: INSERT INTO ttpdb.stamp_ceiling SELECT greatest(max(committed_at) FILTER (WHERE committed_at < 'infinity'), now()) + interval '1 second', '-infinity' FROM ttpdb.commit_times;")));
	return tup;
}

/*
 * Raise the ceiling to cover "stamp" (when it is higher) and, when "seed",
 * raise the shared last stamp to the ceiling if this start has not.
 */
static void
ceiling_update(Oid relid, TimestampTz stamp, bool seed)
{
	Relation	rel = table_open(relid, ExclusiveLock);
	HeapTuple	tup = ceiling_row_read(rel);
	Form_stamp_ceiling row = (Form_stamp_ceiling) GETSTRUCT(tup);
	TimestampTz started = ttpdb_commit_shared_start();
	bool		changed = false;

	if (seed && row->seeded_start != started)
	{
		ttpdb_commit_raise_last_stamp(row->ceiling);
		row->seeded_start = started;
		changed = true;
	}
	if (!TIMESTAMP_NOT_FINITE(stamp) && stamp > row->ceiling)
	{
		/* the margin, unless that would leave the range of timestamptz */
		if (stamp < END_TIMESTAMP - STAMP_CEILING_MARGIN)
			row->ceiling = stamp + STAMP_CEILING_MARGIN;
		else
			row->ceiling = stamp;
		/*
		 * The last stamp of this start is at least "stamp", above the old
		 * ceiling and so above every stamp of the starts before: this start
		 * needs no seeding.  Noting it keeps a backend that first stamps
		 * later from raising the last stamp to the new ceiling, up to the
		 * margin ahead of the clock.
		 */
		row->seeded_start = started;
		changed = true;
	}
	known_relid = relid;
	known_ceiling = row->ceiling;
	if (changed)
		heap_inplace_update(rel, tup);
	ttpdb_commit_share_ceiling(relid, row->ceiling);
	heap_freetuple(tup);
	table_close(rel, ExclusiveLock);
}

/*
 * stamp_ceiling_seed
 *		Before this backend's first stamp, with the ceiling in table "relid":
 *		make sure this start's last stamp is at least the ceiling.
 */
void
stamp_ceiling_seed(Oid relid)
{
	ceiling_update(relid, DT_NOBEGIN, true);
}

/*
 * stamp_ceiling_cover
 *		Before the transaction that took "stamp" commits: make sure the
 *		ceiling in table "relid" is at least "stamp".
 */
void
stamp_ceiling_cover(Oid relid, TimestampTz stamp)
{
	if (relid == known_relid && stamp <= known_ceiling)
		return;
	ceiling_update(relid, stamp, false);
}

/*
 * ttpdb.commit_times was written by a statement of this transaction (not by
 * the access method, whose inserts fire no trigger).
 */
static bool stamps_loaded = false;

PG_FUNCTION_INFO_V1(ttpdb_commit_times_loaded);

/*
 * ttpdb_commit_times_loaded
 *		AFTER INSERT OR UPDATE ... FOR EACH STATEMENT trigger of
 *		ttpdb.commit_times: the stamps pg_restore (or anyone) loads or
 *		changes there raise the ceiling and
 *		the last stamp when the transaction commits, so that new stamps
 *		follow them.  Not before: a raise outlives a rollback, and stamps
 *		rolled back must not push every later stamp into the future.
 */
Datum
ttpdb_commit_times_loaded(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ttpdb_commit_times_loaded() must be fired AFTER each statement")));
	ttpdb_require_preload("loading stamps into ttpdb.commit_times");
	stamps_loaded = true;
	return PointerGetDatum(NULL);
}

/*
 * stamp_ceiling_before_commit
 *		Before a transaction that loaded stamps into ttpdb.commit_times
 *		commits (or prepares: then a later rollback keeps the raise): raise
 *		the last stamp and the ceiling to the latest stamp it can see, its
 *		own rows included.  Reads the whole table, which is what a restore
 *		wrote anyway.
 */
void
stamp_ceiling_before_commit(void)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	TimestampTz latest = DT_NOBEGIN;

	Oid			commit_times_relid;
	Oid			ceiling_relid;

	if (!stamps_loaded)
		return;
	stamps_loaded = false;
	/* DROP EXTENSION ttpdb CASCADE after the load took both away */
	commit_times_relid = ttpdb_catalog_relid_if_exists("commit_times");
	ceiling_relid = ttpdb_catalog_relid_if_exists("stamp_ceiling");
	if (!OidIsValid(commit_times_relid) || !OidIsValid(ceiling_relid))
		return;
	rel = table_open(commit_times_relid, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, SnapshotSelf, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		TimestampTz stamp = DatumGetTimestampTz(heap_getattr(tup, Anum_commit_times_committed_at,
															 RelationGetDescr(rel),
															 &isnull));

		/* 'infinity' is a prepared transaction waiting for its stamp */
		if (!isnull && !TIMESTAMP_NOT_FINITE(stamp) && stamp > latest)
			latest = stamp;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!TIMESTAMP_NOT_FINITE(latest))
	{
		ttpdb_commit_raise_last_stamp(latest);
		ceiling_update(ceiling_relid, latest, false);
	}
}

/* stamp_ceiling_xact_end: the transaction is over; nothing is pending. */
void
stamp_ceiling_xact_end(void)
{
	stamps_loaded = false;
}
