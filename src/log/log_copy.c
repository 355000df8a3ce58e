/*-------------------------------------------------------------------------
 *
 * log_copy.c
 *	  The content COPY FROM read, kept in its log entry.
 *
 * A COPY FROM into a ttpdb table is logged with what it read: the SHA-256
 * and size of every byte, and the bytes themselves, LZ4-compressed, while
 * they are no more than ttpdb.log_copy_limit (past it, the entry keeps the
 * hash and size only, and says so: such an entry replays from its recorded
 * effects).  A file or a program's output may change or disappear, and the
 * client's data is gone once sent; the entry is what is left.
 *
 * PostgreSQL reads COPY's input itself, with no hook, but BeginCopyFrom()
 * takes a callback as the source.  So a COPY FROM into a ttpdb table is run
 * here: the same checks as COPY's own (privileges to read server files or
 * run programs, the INSERT privilege on its columns, no row-level security)
 * and then BeginCopyFrom() and CopyFrom() with a source that reads the file,
 * the program or the client's CopyData messages, and hashes and keeps what
 * it passes on.
 *
 * IDENTIFICATION
 *	  src/log/log_copy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <lz4.h>
#include <sys/stat.h>

#include "access/table.h"
#include "commands/progress.h"
#include "pgstat.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid_d.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "libpq/libpq.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "storage/fd.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "access/xact.h"
#include "port.h"
#include <signal.h>

#include "log.h"
#include "tam/tam.h"

/* Where the running COPY reads from; the source callback has no argument. */
typedef enum CopySourceKind
{
	SOURCE_FILE,
	SOURCE_PROGRAM,
	SOURCE_CLIENT
} CopySourceKind;

typedef struct CopySource
{
	CopySourceKind kind;
	FILE	   *file;
	StringInfoData message;		/* the client's current CopyData message */
	bool		client_done;	/* CopyDone received */
	bool		client_began;	/* CopyInResponse sent */
	int			natts;			/* for it: the columns COPY reads */
	bool		binary;
	bool		reached_eof;	/* the file or program has no more */
	LogCopy    *copy;
} CopySource;

static CopySource *source = NULL;

static void begin_client_copy(int natts, bool binary);

/* Hash and keep bytes COPY is given. */
static void
capture(LogCopy *copy, const char *data, int len)
{
	if (len <= 0)
		return;
	if (pg_cryptohash_update(copy->hash, (const uint8 *) data, len) < 0)
		elog(ERROR, "could not hash COPY content");
	copy->bytes += len;
	if (copy->kept)
	{
		if (copy->bytes > (int64) ttpdb_log_copy_limit * 1024)
		{
			/* past the limit: the hash and size only */
			copy->kept = false;
			pfree(copy->data.data);
			copy->data.data = NULL;
		}
		else
			appendBinaryStringInfo(&copy->data, data, len);
	}
}

/* Read the next message of the client's copy stream; false at CopyDone. */
static bool
read_client_message(CopySource *src)
{
	for (;;)
	{
		int			mtype;

		HOLD_CANCEL_INTERRUPTS();
		pq_startmsgread();
		mtype = pq_getbyte();
		if (mtype == EOF)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("unexpected EOF on client connection with an open transaction")));
		if (mtype != 'd' && mtype != 'c' && mtype != 'f' && mtype != 'H' && mtype != 'S')
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("unexpected message type 0x%02X during COPY from stdin", mtype)));
		resetStringInfo(&src->message);
		if (pq_getmessage(&src->message,
						  mtype == 'd' ? PQ_LARGE_MESSAGE_LIMIT : PQ_SMALL_MESSAGE_LIMIT))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("unexpected EOF on client connection with an open transaction")));
		RESUME_CANCEL_INTERRUPTS();

		switch (mtype)
		{
			case 'd':
				return true;
			case 'c':
				src->client_done = true;
				return false;
			case 'f':
				ereport(ERROR,
						(errcode(ERRCODE_QUERY_CANCELED),
						 errmsg("COPY from stdin failed: %s",
								pq_getmsgstring(&src->message))));
				break;
			default:
				/* Flush and Sync: clients may send them during COPY */
				break;
		}
	}
}

/* BeginCopyFrom()'s source: at least minread bytes unless at the end. */
static int
copy_source_read(void *outbuf, int minread, int maxread)
{
	CopySource *src = source;
	int			nread = 0;

	if (src->kind != SOURCE_CLIENT)
	{
		nread = fread(outbuf, 1, maxread, src->file);
		if (ferror(src->file))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read from COPY file: %m")));
		if (nread == 0)
			src->reached_eof = true;
	}
	else
	{
		/*
		 * Tell the client to send only now that COPY reads: its checks of the
		 * options come first, and their errors before the client is in copy
		 * mode, as with COPY's own
		 */
		if (!src->client_began)
		{
			begin_client_copy(src->natts, src->binary);
			src->client_began = true;
		}
		while (nread < minread && !src->client_done)
		{
			int			avail;

			while (src->message.cursor >= src->message.len)
				if (!read_client_message(src))
					break;
			if (src->client_done)
				break;
			avail = Min(src->message.len - src->message.cursor, maxread - nread);
			memcpy((char *) outbuf + nread, src->message.data + src->message.cursor, avail);
			src->message.cursor += avail;
			nread += avail;
		}
	}
	capture(src->copy, outbuf, nread);
	return nread;
}

/* Tell the client to send its data, as COPY FROM STDIN does. */
static void
begin_client_copy(int natts, bool binary)
{
	StringInfoData buf;
	int16		format = binary ? 1 : 0;

	pq_beginmessage(&buf, 'G');
	pq_sendbyte(&buf, format);
	pq_sendint16(&buf, natts);
	for (int i = 0; i < natts; i++)
		pq_sendint16(&buf, format);
	pq_endmessage(&buf);
	pq_flush();
}

/*
 * log_copy_applies
 *		Whether a COPY statement reads into a ttpdb table (so its content is
 *		to be kept).
 */
bool
log_copy_applies(CopyStmt *stmt)
{
	Oid			relid;

	if (!stmt->is_from || stmt->relation == NULL || !log_active())
		return false;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	return OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_RELATION &&
		log_relation_is_ttpdb(relid);
}

/* COPY's WHERE clause, as COPY prepares it. */
static Node *
transform_where(ParseState *pstate, ParseNamespaceItem *nsitem, Relation rel,
				Node *where)
{
	Bitmapset  *attrs = NULL;
	int			member = -1;

	addNSItemToQuery(pstate, nsitem, false, true, true);
	where = transformExpr(pstate, where, EXPR_KIND_COPY_WHERE);
	where = coerce_to_boolean(pstate, where, "WHERE");
	assign_expr_collations(pstate, where);

	/* stored generated columns are computed after the filter */
	pull_varattnos(where, 1, &attrs);
	while ((member = bms_next_member(attrs, member)) >= 0)
	{
		AttrNumber	attno = member + FirstLowInvalidHeapAttributeNumber;

		if (attno == 0)
		{
			for (int i = 0; i < RelationGetNumberOfAttributes(rel); i++)
				if (TupleDescAttr(RelationGetDescr(rel), i)->attgenerated)
					attno = i + 1;
			if (attno == 0)
				continue;
		}
		if (attno > 0 && TupleDescAttr(RelationGetDescr(rel), attno - 1)->attgenerated)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
					 errmsg("generated columns are not supported in COPY FROM WHERE conditions"),
					 errdetail("Column \"%s\" is a generated column.",
							   get_attname(RelationGetRelid(rel), attno, false))));
	}
	where = eval_const_expressions(NULL, where);
	where = (Node *) canonicalize_qual((Expr *) where, false);
	return (Node *) make_ands_implicit((Expr *) where);
}

/* Open the file or program a COPY reads, after COPY's own privilege checks. */
static FILE *
open_source(CopyStmt *stmt)
{
	FILE	   *file;

	if (stmt->is_program)
	{
		if (!has_privs_of_role(GetUserId(), ROLE_PG_EXECUTE_SERVER_PROGRAM))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program"),
					 errhint("Anyone can COPY to stdout or from stdin. "
							 "psql's \\copy command also works for anyone.")));
		file = OpenPipeStream(stmt->filename, PG_BINARY_R);
		if (file == NULL)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not execute command \"%s\": %m", stmt->filename)));
		return file;
	}

	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser or have privileges of the pg_read_server_files role to COPY from a file"),
				 errhint("Anyone can COPY to stdout or from stdin. "
						 "psql's \\copy command also works for anyone.")));
	file = AllocateFile(stmt->filename, PG_BINARY_R);
	if (file == NULL)
	{
		int			save_errno = errno;

		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", stmt->filename),
				 (save_errno == ENOENT || save_errno == EACCES) ?
				 errhint("COPY FROM instructs the PostgreSQL server process to read a file. "
						 "You may want a client-side facility such as psql's \\copy.") : 0));
	}
	else
	{
		struct stat st;

		if (fstat(fileno(file), &st))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", stmt->filename)));
		if (S_ISDIR(st.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is a directory", stmt->filename)));
	}
	return file;
}

static void
close_source(CopySource *src, CopyStmt *stmt)
{
	if (src->file == NULL)
		return;
	if (src->kind == SOURCE_PROGRAM)
	{
		int			status = ClosePipeStream(src->file);

		src->file = NULL;
		if (status == -1)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not close pipe to external command: %m")));
		/* COPY stopped reading before the end ("\."): SIGPIPE is expected */
		else if (status != 0 &&
				 !(wait_result_is_signal(status, SIGPIPE) && !src->reached_eof))
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 errmsg("program \"%s\" failed", stmt->filename),
					 errdetail_internal("%s", wait_result_to_str(status))));
	}
	else
	{
		FreeFile(src->file);
		src->file = NULL;
	}
}

/*
 * log_copy_run
 *		Run a COPY FROM into a ttpdb table, keeping what it reads in the
 *		statement's entry.
 */
void
log_copy_run(LogStatement *stmt, PlannedStmt *pstmt, const char *queryString,
			 QueryCompletion *qc)
{
	CopyStmt   *copystmt = (CopyStmt *) pstmt->utilityStmt;
	ParseState *pstate = make_parsestate(NULL);
	ParseNamespaceItem *nsitem;
	RangeTblEntry *rte;
	Relation	rel;
	Node	   *where = NULL;
	List	   *attnums;
	ListCell   *lc;
	CopyFormatOptions opts;
	CopyFromState cstate;
	CopySource	src;
	CopySource *saved = source;
	LogCopy    *copy;
	uint64		processed;

	pstate->p_sourcetext = queryString;
	memset(&src, 0, sizeof(src));

	/* what standard_ProcessUtility and DoCopy check for COPY FROM */
	PreventCommandIfParallelMode("COPY FROM");
	PreventCommandDuringRecovery("COPY FROM");

	if (copystmt->filename != NULL)
	{
		src.kind = copystmt->is_program ? SOURCE_PROGRAM : SOURCE_FILE;
		src.file = open_source(copystmt);
	}
	else
		src.kind = SOURCE_CLIENT;

	rel = table_openrv(copystmt->relation, RowExclusiveLock);
	if (XactReadOnly && !rel->rd_islocaltemp)
		PreventCommandIfReadOnly("COPY FROM");
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock,
										   NULL, false, false);
	rte = nsitem->p_rte;
	rte->requiredPerms = ACL_INSERT;
	if (copystmt->whereClause)
		where = transform_where(pstate, nsitem, rel, copystmt->whereClause);
	attnums = CopyGetAttnums(RelationGetDescr(rel), rel, copystmt->attlist);
	foreach(lc, attnums)
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	ExecCheckRTPerms(pstate->p_rtable, true);
	if (check_enable_rls(rte->relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY FROM not supported with row-level security"),
				 errhint("Use INSERT statements instead.")));

	/* the options are checked again by BeginCopyFrom; the format is needed first */
	memset(&opts, 0, sizeof(opts));
	ProcessCopyOptions(pstate, &opts, true, copystmt->options);

	copy = MemoryContextAllocZero(stmt->context, sizeof(LogCopy));
	copy->hash = pg_cryptohash_create(PG_SHA256);
	if (copy->hash == NULL || pg_cryptohash_init(copy->hash) < 0)
		elog(ERROR, "could not start a SHA-256 hash");
	copy->kept = true;
	{
		MemoryContext old = MemoryContextSwitchTo(stmt->context);

		initStringInfo(&copy->data);
		MemoryContextSwitchTo(old);
	}
	stmt->copy = copy;
	src.copy = copy;
	initStringInfo(&src.message);

	src.natts = list_length(attnums);
	src.binary = opts.binary;
	source = &src;
	PG_TRY();
	{
		cstate = BeginCopyFrom(pstate, rel, where, NULL, false, copy_source_read,
							   copystmt->attlist, copystmt->options);
		/* what COPY's progress report would have said of its own source */
		pgstat_progress_update_param(PROGRESS_COPY_TYPE,
									 src.kind == SOURCE_FILE ? PROGRESS_COPY_TYPE_FILE :
									 src.kind == SOURCE_PROGRAM ? PROGRESS_COPY_TYPE_PROGRAM :
									 PROGRESS_COPY_TYPE_PIPE);
		if (src.kind == SOURCE_FILE)
		{
			struct stat st;

			if (fstat(fileno(src.file), &st) == 0)
				pgstat_progress_update_param(PROGRESS_COPY_BYTES_TOTAL, st.st_size);
		}
		/* a COPY that reads no data at all still owes the client its turn */
		if (src.kind == SOURCE_CLIENT && !src.client_began)
		{
			begin_client_copy(src.natts, src.binary);
			src.client_began = true;
		}
		processed = CopyFrom(cstate);
		EndCopyFrom(cstate);
		/* the client's stream ends with CopyDone, even after "\." */
		if (src.kind == SOURCE_CLIENT)
			while (!src.client_done)
				(void) read_client_message(&src);
		close_source(&src, copystmt);
	}
	PG_FINALLY();
	{
		source = saved;
	}
	PG_END_TRY();

	if (pg_cryptohash_final(copy->hash, copy->sha256, LOG_HASH_LEN) < 0)
		elog(ERROR, "could not finish a SHA-256 hash");
	pg_cryptohash_free(copy->hash);
	copy->hash = NULL;
	copy->done = true;

	table_close(rel, NoLock);
	free_parsestate(pstate);
	if (qc)
		SetQueryCompletion(qc, CMDTAG_COPY, processed);
}

/*
 * log_copy_compress
 *		The stored form of COPY content: LZ4 (the size is in copy_bytes).
 */
bytea *
log_copy_compress(const char *data, int len)
{
	int			bound = LZ4_compressBound(len);
	bytea	   *out = palloc(VARHDRSZ + Max(bound, 1));
	int			clen = len == 0 ? 0 :
		LZ4_compress_default(data, VARDATA(out), len, bound);

	if (len > 0 && clen <= 0)
		elog(ERROR, "could not compress COPY content");
	SET_VARSIZE(out, VARHDRSZ + clen);
	return out;
}

/*
 * log_copy_decompress
 *		The content back, given its size.
 */
char *
log_copy_decompress(bytea *stored, int64 rawlen)
{
	char	   *out;

	if (rawlen < 0 || rawlen > MaxAllocSize - 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupted COPY content in ttpdb.log_entries")));
	out = palloc(rawlen + 1);
	if (rawlen > 0 &&
		LZ4_decompress_safe(VARDATA_ANY(stored), out, VARSIZE_ANY_EXHDR(stored),
							(int) rawlen) != rawlen)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("corrupted COPY content in ttpdb.log_entries")));
	out[rawlen] = '\0';
	return out;
}
