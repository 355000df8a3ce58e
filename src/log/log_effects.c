/*-------------------------------------------------------------------------
 *
 * log_effects.c
 *	  The digest of the row changes a logged statement made.
 *
 * Each row a statement inserts into a permanent ttpdb table adds a hash of
 * its live, non-null column values (the bytes of each, detoasted, with its
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
#include "fmgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "log.h"

/* Seeds of the two lanes. */
#define LANE_SEED_A		UINT64CONST(0x9e3779b97f4a7c15)
#define LANE_SEED_B		UINT64CONST(0xc2b2ae3d27d4eb4f)

/*
 * Hash a value's image into both lanes, detoasting it once: its bytes
 * (varlena headers and compression aside), as datum_image_eq() compares.
 */
static void
value_hash(Datum value, Form_pg_attribute att, uint64 *a, uint64 *b)
{
	const unsigned char *data;
	Size		len;
	struct varlena *detoasted = NULL;
	int64		word;

	if (att->attbyval)
	{
		/* the value itself, widened, so that its padding does not count */
		switch (att->attlen)
		{
			case 1:
				word = DatumGetChar(value);
				break;
			case 2:
				word = DatumGetInt16(value);
				break;
			case 4:
				word = DatumGetInt32(value);
				break;
			default:
				word = DatumGetInt64(value);
				break;
		}
		data = (const unsigned char *) &word;
		len = sizeof(word);
	}
	else if (att->attlen > 0)
	{
		data = (const unsigned char *) DatumGetPointer(value);
		len = att->attlen;
	}
	else if (att->attlen == -1)
	{
		detoasted = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value));
		data = (const unsigned char *) VARDATA_ANY(detoasted);
		len = VARSIZE_ANY_EXHDR(detoasted);
	}
	else
	{
		data = (const unsigned char *) DatumGetCString(value);
		len = strlen((const char *) data);
	}
	*a = hash_bytes_extended(data, len, LANE_SEED_A);
	*b = hash_bytes_extended(data, len, LANE_SEED_B);
	if (detoasted != NULL && (Pointer) detoasted != DatumGetPointer(value))
		pfree(detoasted);
}

/*
 * log_row_digest
 *		Add (sign 1) or subtract (sign -1) a row to a digest; "natts"
 *		columns are its own.
 */
void
log_row_digest(uint64 *digest, TupleDesc desc, int natts, Datum *values,
			   bool *isnull, int sign)
{
	uint64		ha = LANE_SEED_A;
	uint64		hb = LANE_SEED_B;

	for (int i = 0; i < natts && i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		uint64		a,
					b;

		if (att->attisdropped || isnull[i])
			continue;
		value_hash(values[i], att, &a, &b);
		ha = hash_combine64(ha, hash_combine64((uint64) (i + 1), a));
		hb = hash_combine64(hb, hash_combine64((uint64) (i + 1) * LANE_SEED_A, b));
	}
	if (sign > 0)
	{
		digest[0] += ha;
		digest[1] += hb;
	}
	else
	{
		digest[0] -= ha;
		digest[1] -= hb;
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
