/*-------------------------------------------------------------------------
 *
 * undo_ddl.c
 *	  What UNDO of a logged DDL statement has to do, where it can be done.
 *
 * The log keeps a DDL statement's text, not the definitions it replaced,
 * so only statements whose reverse follows from the text alone can be
 * undone: creating a table or a named index (drop it), adding one column
 * (drop it), renaming a table or a column (rename it back).  Everything
 * else (ALTER COLUMN TYPE, SET DEFAULT, COMMENT, DROP ...) would need what
 * the statement overwrote, and ttpdb.undo() refuses it.
 *
 * The answer is a description, not a statement: ttpdb.undo() names the
 * table by the OID the entry recorded, which still holds after renames.
 *
 * IDENTIFICATION
 *	  src/timeline/undo_ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

/* A jsonb object from "undo" and up to two more key/value pairs. */
static Datum
inverse_jsonb(const char *undo, const char *key1, const char *value1,
			  const char *key2, const char *value2)
{
	StringInfoData text;

	initStringInfo(&text);
	appendStringInfoString(&text, "{\"undo\": ");
	escape_json(&text, undo);
	if (key1 != NULL)
	{
		appendStringInfoString(&text, ", ");
		escape_json(&text, key1);
		appendStringInfoString(&text, ": ");
		escape_json(&text, value1);
	}
	if (key2 != NULL)
	{
		appendStringInfoString(&text, ", ");
		escape_json(&text, key2);
		appendStringInfoString(&text, ": ");
		escape_json(&text, value2);
	}
	appendStringInfoChar(&text, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(text.data));
}

PG_FUNCTION_INFO_V1(ttpdb_ddl_inverse);

/*
 * ttpdb.ddl_inverse(statement text) returns jsonb
 *
 * {"undo": "drop_table"}, {"undo": "drop_index", "index": name},
 * {"undo": "drop_column", "column": name},
 * {"undo": "rename_table", "to": old name},
 * {"undo": "rename_column", "from": new name, "to": old name},
 * or NULL if the statement's reverse cannot be told from its text.
 */
Datum
ttpdb_ddl_inverse(PG_FUNCTION_ARGS)
{
	char	   *statement = text_to_cstring(PG_GETARG_TEXT_PP(0));
	List	   *parsed;
	Node	   *stmt;

	/* the log kept text the parser accepted once: it parses again */
	parsed = raw_parser(statement, RAW_PARSE_DEFAULT);
	if (list_length(parsed) != 1)
		PG_RETURN_NULL();
	stmt = linitial_node(RawStmt, parsed)->stmt;

	switch (nodeTag(stmt))
	{
		case T_CreateStmt:
			PG_RETURN_DATUM(inverse_jsonb("drop_table", NULL, NULL, NULL, NULL));
		case T_CreateTableAsStmt:
			if (((CreateTableAsStmt *) stmt)->objtype == OBJECT_TABLE)
				PG_RETURN_DATUM(inverse_jsonb("drop_table", NULL, NULL, NULL, NULL));
			break;
		case T_IndexStmt:
			{
				IndexStmt  *index = (IndexStmt *) stmt;

				if (index->idxname != NULL && !index->if_not_exists)
					PG_RETURN_DATUM(inverse_jsonb("drop_index", "index", index->idxname,
												  NULL, NULL));
				break;
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *alter = (AlterTableStmt *) stmt;
				AlterTableCmd *cmd;

				if (alter->objtype != OBJECT_TABLE || list_length(alter->cmds) != 1)
					break;
				cmd = linitial_node(AlterTableCmd, alter->cmds);
				if (cmd->subtype == AT_AddColumn && !cmd->missing_ok)
				{
					ColumnDef  *column = castNode(ColumnDef, cmd->def);

					PG_RETURN_DATUM(inverse_jsonb("drop_column", "column", column->colname,
												  NULL, NULL));
				}
				break;
			}
		case T_RenameStmt:
			{
				RenameStmt *rename = (RenameStmt *) stmt;

				if (rename->renameType == OBJECT_TABLE && rename->relation != NULL)
					PG_RETURN_DATUM(inverse_jsonb("rename_table", "to", rename->relation->relname,
												  NULL, NULL));
				if (rename->renameType == OBJECT_COLUMN && rename->relationType == OBJECT_TABLE)
					PG_RETURN_DATUM(inverse_jsonb("rename_column", "from", rename->newname,
												  "to", rename->subname));
				break;
			}
		default:
			break;
	}
	PG_RETURN_NULL();
}
