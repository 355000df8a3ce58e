/*-------------------------------------------------------------------------
 *
 * replay_exec.c
 *	  Running a logged statement again, against a replay's own tables, and
 *	  the digest of what it changed there.
 *
 * ttpdb.replay() (in SQL) rebuilds tables by running the log's statements
 * again with the replay's schema first in search_path.  A statement may
 * only run again if every relation it reads or writes resolves into that
 * schema (or the catalog): one that names another schema, or calls a
 * volatile function that could write anywhere, would touch the real
 * tables.  ttpdb_replay_statement() parses and plans the statement,
 * checks that, and runs it with the logged parameters, whose types the
 * parser infers as PREPARE does.  A statement that calls anything but
 * immutable functions (which could write anywhere, or answer otherwise:
 * random(), now(), current_user), or code other than built-in or a
 * superuser's, does not run either.
 *
 * A prepared statement is logged as its PREPARE: the query after AS is
 * run, with the parameter types the PREPARE declared.
 *
 * What a replayed statement changed is digested exactly as the log
 * digested the original (log_effects.c), by a row trigger on each replay
 * table, so the two can be compared.
 *
 * IDENTIFICATION
 *	  src/timeline/replay_exec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace_d.h"
#include "catalog/pg_type_d.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "nodes/params.h"
#include "optimizer/optimizer.h"
#include "parser/parse_param.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "parser/gram.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "access/transam.h"
#include "catalog/pg_proc.h"
#include "miscadmin.h"
#include "utils/syscache.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"

#include "log/log.h"

/* The parameter types the parser infers for a replayed statement. */
typedef struct ReplayParams
{
	Oid		   *types;
	int			count;
} ReplayParams;

static void
replay_parser_setup(struct ParseState *pstate, void *arg)
{
	ReplayParams *params = (ReplayParams *) arg;

	setup_parse_variable_parameters(pstate, &params->types, &params->count);
}

/*
 * If "statement" is a PREPARE, return the query it prepares and set the
 * types it declares; otherwise return it unchanged.  The query starts after
 * the first AS outside parentheses, found with the SQL scanner so that
 * strings, comments and type modifiers cannot mislead it.
 */
static char *
replay_unwrap_prepare(char *statement, ReplayParams *params)
{
	List	   *parsed = raw_parser(statement, RAW_PARSE_DEFAULT);
	RawStmt    *raw;
	PrepareStmt *prepare;
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			depth = 0;
	int			token;
	int			query_start = -1;
	int			i = 0;
	ListCell   *lc;

	if (list_length(parsed) != 1)
		return statement;
	raw = linitial_node(RawStmt, parsed);
	if (!IsA(raw->stmt, PrepareStmt))
		return statement;
	prepare = (PrepareStmt *) raw->stmt;

	scanner = scanner_init(statement, &extra, &ScanKeywords, ScanKeywordTokens);
	while ((token = core_yylex(&yylval, &yylloc, scanner)) != 0)
	{
		if (token == '(')
			depth++;
		else if (token == ')')
			depth--;
		else if (token == AS && depth == 0)
		{
			query_start = yylloc + 2;
			break;
		}
	}
	scanner_finish(scanner);
	if (query_start < 0)
		return statement;

	if (list_length(prepare->argtypes) > params->count)
	{
		params->types = repalloc(params->types, list_length(prepare->argtypes) * sizeof(Oid));
		for (int j = params->count; j < list_length(prepare->argtypes); j++)
			params->types[j] = UNKNOWNOID;
		params->count = list_length(prepare->argtypes);
	}
	foreach(lc, prepare->argtypes)
		params->types[i++] = typenameTypeId(NULL, lfirst_node(TypeName, lc));
	return statement + query_start;
}

/*
 * Whether a function is code a replay may run with the caller's
 * privileges: built in, or owned by a superuser.  A replay (typically run
 * by a superuser) must not run code another role wrote and could have
 * changed since.
 */
static bool
function_is_untrusted(Oid funcid, void *context)
{
	HeapTuple	tup;
	Oid			owner;

	if (funcid < FirstNormalObjectId)
		return false;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return true;
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);
	return !superuser_arg(owner);
}

static bool
calls_untrusted_code(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, function_is_untrusted, context))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, calls_untrusted_code, context, 0);
	return expression_tree_walker(node, calls_untrusted_code, context);
}

/*
 * Whether a statement's text has a literal the parser turns into the time
 * ('now', 'today', ...): folded into a constant, it cannot be seen after
 * parse analysis.
 */
static bool
has_time_literal(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, A_Const) && !((A_Const *) node)->isnull &&
		IsA(&((A_Const *) node)->val, String))
	{
		const char *value = strVal(&((A_Const *) node)->val);

		while (*value == ' ')
			value++;
		if (pg_strncasecmp(value, "now", 3) == 0 ||
			pg_strncasecmp(value, "today", 5) == 0 ||
			pg_strncasecmp(value, "tomorrow", 8) == 0 ||
			pg_strncasecmp(value, "yesterday", 9) == 0)
			return true;
		return false;
	}
	return raw_expression_tree_walker(node, has_time_literal, context);
}

/*
 * Whether a planned statement may run against the replay's schema and do
 * what it did: a plain INSERT, UPDATE, DELETE or MERGE whose relations are
 * all in the schema (or in the catalog), calling only immutable functions
 * (nothing that could write elsewhere or answer otherwise: random(), a
 * nextval() default, now(), current_user, current_setting()), and only
 * trusted code.
 */
static bool
replay_plan_is_contained(SPIPlanPtr plan, Oid target)
{
	List	   *sources = SPI_plan_get_plan_sources(plan);
	ListCell   *lc;

	if (list_length(sources) != 1)
		return false;
	foreach(lc, sources)
	{
		CachedPlanSource *source = (CachedPlanSource *) lfirst(lc);
		ListCell   *rc;

		if (source->commandTag != CMDTAG_INSERT &&
			source->commandTag != CMDTAG_UPDATE &&
			source->commandTag != CMDTAG_DELETE &&
			source->commandTag != CMDTAG_MERGE)
			return false;
		foreach(rc, source->relationOids)
		{
			Oid			namespace = get_rel_namespace(lfirst_oid(rc));

			if (namespace != target && namespace != PG_CATALOG_NAMESPACE)
				return false;
		}
		/* the rewritten queries: column defaults included */
		foreach(rc, source->query_list)
		{
			Node	   *query = (Node *) lfirst(rc);

			if (contain_mutable_functions(query) ||
				calls_untrusted_code(query, NULL))
				return false;
		}
		if (source->raw_parse_tree != NULL &&
			has_time_literal(source->raw_parse_tree->stmt, NULL))
			return false;
	}
	return true;
}

PG_FUNCTION_INFO_V1(ttpdb_replay_statement);

/*
 * ttpdb.replay_statement(statement text, parameters text[], target regnamespace)
 *		returns bigint
 *
 * Run a logged statement again with its logged parameters; returns the
 * number of rows it processed, or NULL, running nothing, if it does not
 * keep to the target schema (the caller then applies the entry's recorded
 * effects instead).
 */
Datum
ttpdb_replay_statement(PG_FUNCTION_ARGS)
{
	char	   *statement;
	ArrayType  *param_array = PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1);
	Oid			target;
	Datum	   *param_texts = NULL;
	bool	   *param_nulls = NULL;
	int			nparams = 0;
	ReplayParams inferred = {NULL, 0};
	SPIPlanPtr	plan;
	ParamListInfo params;
	int			rc;
	int64		processed;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	statement = text_to_cstring(PG_GETARG_TEXT_PP(0));
	target = PG_GETARG_OID(2);
	if (param_array != NULL)
		deconstruct_array(param_array, TEXTOID, -1, false, TYPALIGN_INT,
						  &param_texts, &param_nulls, &nparams);

	/* the parser learns $1..$n from the statement itself, as PREPARE does */
	inferred.count = nparams;
	inferred.types = palloc0(Max(nparams, 1) * sizeof(Oid));
	for (int i = 0; i < nparams; i++)
		inferred.types[i] = UNKNOWNOID;

	statement = replay_unwrap_prepare(statement, &inferred);

	if ((rc = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
	plan = SPI_prepare_params(statement, replay_parser_setup, &inferred, 0);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_params failed: %s", SPI_result_code_string(SPI_result));
	if (!replay_plan_is_contained(plan, target))
	{
		SPI_finish();
		PG_RETURN_NULL();
	}

	params = makeParamList(inferred.count);
	for (int i = 0; i < inferred.count; i++)
	{
		ParamExternData *prm = &params->params[i];
		Oid			type = inferred.types[i];

		prm->ptype = OidIsValid(type) ? type : UNKNOWNOID;
		prm->pflags = PARAM_FLAG_CONST;
		prm->isnull = i >= nparams || param_nulls[i];
		prm->value = (Datum) 0;
		if (!prm->isnull)
		{
			char	   *text_value = TextDatumGetCString(param_texts[i]);
			Oid			input;
			Oid			ioparam;

			if (prm->ptype == UNKNOWNOID)
				prm->value = CStringGetDatum(text_value);
			else
			{
				getTypeInputInfo(prm->ptype, &input, &ioparam);
				prm->value = OidInputFunctionCall(input, text_value, ioparam, -1);
			}
		}
	}
	rc = SPI_execute_plan_with_paramlist(plan, params, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan_with_paramlist failed: %s", SPI_result_code_string(rc));
	processed = (int64) SPI_processed;
	SPI_finish();
	PG_RETURN_INT64(processed);
}

/*
 * The digests of the replay tables' changes since they were last taken,
 * per table.  Backend-local: a replay runs in one backend.
 */
typedef struct ReplayDigest
{
	Oid			relid;
	uint64		digest[2];
} ReplayDigest;

static HTAB *replay_digests = NULL;

static ReplayDigest *
replay_digest_entry(Oid relid)
{
	bool		found;
	ReplayDigest *entry;

	if (replay_digests == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ReplayDigest);
		ctl.hcxt = TopMemoryContext;
		replay_digests = hash_create("ttpdb replay digests", 16, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(replay_digests, &relid, HASH_ENTER, &found);
	if (!found)
	{
		entry->digest[0] = 0;
		entry->digest[1] = 0;
	}
	return entry;
}

PG_FUNCTION_INFO_V1(ttpdb_replay_digest_trigger);

/*
 * ttpdb.replay_digest_trigger(): AFTER INSERT OR UPDATE OR DELETE FOR EACH
 * ROW on a replay table.  Adds the rows written, subtracts the rows removed.
 */
Datum
ttpdb_replay_digest_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	ReplayDigest *entry;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ttpdb.replay_digest_trigger() must be an AFTER ... FOR EACH ROW trigger")));
	desc = RelationGetDescr(trigdata->tg_relation);
	entry = replay_digest_entry(RelationGetRelid(trigdata->tg_relation));
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		log_tuple_digest(entry->digest, desc, trigdata->tg_trigtuple, 1);
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		log_tuple_digest(entry->digest, desc, trigdata->tg_trigtuple, -1);
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		log_tuple_digest(entry->digest, desc, trigdata->tg_trigtuple, -1);
		log_tuple_digest(entry->digest, desc, trigdata->tg_newtuple, 1);
	}
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(ttpdb_replay_digest_take);

/*
 * ttpdb.replay_digest_take(tbl regclass) returns bytea
 *
 * The digest of a replay table's changes since the last call (16 bytes, as
 * the log stores a table's digest), and start again from zero.
 */
Datum
ttpdb_replay_digest_take(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReplayDigest *entry = replay_digest_entry(relid);
	bytea	   *result = palloc(VARHDRSZ + 2 * sizeof(uint64));

	SET_VARSIZE(result, VARHDRSZ + 2 * sizeof(uint64));
	memcpy(VARDATA(result), entry->digest, 2 * sizeof(uint64));
	entry->digest[0] = 0;
	entry->digest[1] = 0;
	PG_RETURN_BYTEA_P(result);
}

PG_FUNCTION_INFO_V1(ttpdb_expression_is_trusted);

/*
 * ttpdb.expression_is_trusted(expr pg_node_tree) returns boolean
 *
 * Whether a stored expression (a default, a generated column, an index
 * expression or predicate) calls only built-in code or code a superuser
 * owns: only such expressions are copied into a replay's tables, where
 * they run with the replaying role's privileges.
 */
Datum
ttpdb_expression_is_trusted(PG_FUNCTION_ARGS)
{
	char	   *stored = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Node	   *expr = (Node *) stringToNode(stored);

	PG_RETURN_BOOL(!calls_untrusted_code(expr, NULL));
}
