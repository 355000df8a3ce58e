/*-------------------------------------------------------------------------
 *
 * log_effects.c
 *	  The digest of the row changes a logged statement made.
 *
 * Each row a statement inserts into a permanent ttpdb table adds a hash of
 * its live, non-null column values (datum_image_hash() of each, with its
 * position) to the statement's digest, and each row it deletes subtracts
 * one; an UPDATE does both.  The digest, kept in two independent 64-bit
 * lanes, depends on values only: not on where or how rows are stored, not
 * on the order a plan changed them in, not on the table's name.  Being a
 * sum of additions and subtractions, the digests of a transaction's entries
 * add up to the hashes of the versions it left minus those of the versions
 * it ended, whatever it did in between: ttpdb.log_consistency() checks that
 * against the tables and their history.
 *
 * A column added later reads back as NULL (or its default) in older rows;
 * only the columns a tuple itself has are hashed, so an old version hashes
 * as it did when it was written.
 *
 * IDENTIFICATION
 *	  src/log/log_effects.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/hashfn.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "log.h"

/* Seeds of the two lanes. */
#define LANE_SEED_A		UINT64CONST(0x9e3779b97f4a7c15)
#define LANE_SEED_B		UINT64CONST(0xc2b2ae3d27d4eb4f)

/* Hash of one row's values in one lane; "natts" columns are its own. */
static uint64
row_hash(TupleDesc desc, int natts, Datum *values, bool *isnull, uint64 seed)
{
	uint64		h = seed;

	for (int i = 0; i < natts && i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || isnull[i])
			continue;
		h = hash_combine64(h, hash_combine64((uint64) (i + 1),
											 datum_image_hash(values[i], att->attbyval,
															  att->attlen)));
	}
	return h;
}

/*
 * log_row_digest
 *		Add (sign 1) or subtract (sign -1) a row to a digest.
 */
void
log_row_digest(uint64 *digest, TupleDesc desc, int natts, Datum *values,
			   bool *isnull, int sign)
{
	uint64		a = row_hash(desc, natts, values, isnull, LANE_SEED_A);
	uint64		b = row_hash(desc, natts, values, isnull, LANE_SEED_B);

	if (sign > 0)
	{
		digest[0] += a;
		digest[1] += b;
	}
	else
	{
		digest[0] -= a;
		digest[1] -= b;
	}
}

/*
 * log_tuple_digest
 *		Add or subtract a heap tuple, hashing only the columns it has.
 */
void
log_tuple_digest(uint64 *digest, TupleDesc desc, HeapTuple tuple, int sign)
{
	Datum	   *values = palloc(desc->natts * sizeof(Datum));
	bool	   *isnull = palloc(desc->natts * sizeof(bool));

	heap_deform_tuple(tuple, desc, values, isnull);
	log_row_digest(digest, desc, HeapTupleHeaderGetNatts(tuple->t_data),
				   values, isnull, sign);
	pfree(values);
	pfree(isnull);
}

/* Add to the statement's digest and to its digest of the table. */
static void
add_digest(LogStatement *stmt, Relation rel, const uint64 *change)
{
	int			i = log_table_index(stmt, RelationGetRelid(rel));

	stmt->effects.digest[0] += change[0];
	stmt->effects.digest[1] += change[1];
	stmt->table_digests[i * 2] += change[0];
	stmt->table_digests[i * 2 + 1] += change[1];
}

static void
add_slot(LogStatement *stmt, Relation rel, TupleTableSlot *slot)
{
	uint64		change[2] = {0, 0};

	slot_getallattrs(slot);
	log_row_digest(change, RelationGetDescr(rel), RelationGetDescr(rel)->natts,
				   slot->tts_values, slot->tts_isnull, 1);
	add_digest(stmt, rel, change);
}

static void
subtract_tuple(LogStatement *stmt, Relation rel, HeapTuple tuple)
{
	uint64		change[2] = {0, 0};

	log_tuple_digest(change, RelationGetDescr(rel), tuple, -1);
	add_digest(stmt, rel, change);
}

/* Only permanent tables' rows are hashed: the others' may vanish in a crash. */
static bool
digested(Relation rel)
{
	return rel->rd_rel->relpersistence == RELPERSISTENCE_PERMANENT;
}

/*
 * log_effect_insert
 *		Count a row inserted into a ttpdb table by the current statement.
 */
void
log_effect_insert(Relation rel, TupleTableSlot *slot)
{
	LogStatement *stmt = log_current_statement(rel);

	if (stmt == NULL)
		return;
	stmt->effects.inserted++;
	if (digested(rel))
		add_slot(stmt, rel, slot);
}

/*
 * log_effect_delete
 *		Count a row deleted (or removed by TRUNCATE) from a ttpdb table.
 */
void
log_effect_delete(Relation rel, HeapTuple oldtup)
{
	LogStatement *stmt = log_current_statement(rel);

	if (stmt == NULL)
		return;
	stmt->effects.deleted++;
	if (digested(rel))
		subtract_tuple(stmt, rel, oldtup);
}

/*
 * log_effect_update
 *		Count an updated row: its old version goes, its new one comes.
 */
void
log_effect_update(Relation rel, HeapTuple oldtup, TupleTableSlot *slot)
{
	LogStatement *stmt = log_current_statement(rel);

	if (stmt == NULL)
		return;
	stmt->effects.updated++;
	if (digested(rel))
	{
		subtract_tuple(stmt, rel, oldtup);
		add_slot(stmt, rel, slot);
	}
}
