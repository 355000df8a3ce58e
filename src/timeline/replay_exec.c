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
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/htup_details.h"
#include "utils/fmgroids.h"
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
static bool type_is_trusted(Oid typid, int depth);

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
	if (IsA(node, CoerceToDomain) &&
		!type_is_trusted(((CoerceToDomain *) node)->resulttype, 0))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, calls_untrusted_code, context, 0);
	return expression_tree_walker(node, calls_untrusted_code, context);
}

/*
 * Whether a literal's text names the time as the parser reads it: 'now',
 * 'today', 'tomorrow', 'yesterday', anywhere in it ('{now}',
 * '10:00 tomorrow').
 */
static bool
text_names_time(const char *value)
{
	static const char *const words[] = {"now", "today", "tomorrow", "yesterday"};

	for (int i = 0; i < lengthof(words); i++)
	{
		int			len = strlen(words[i]);

		for (const char *p = value; *p != '\0'; p++)
			if (pg_strncasecmp(p, words[i], len) == 0 &&
				(p == value || !isalpha((unsigned char) p[-1])) &&
				!isalpha((unsigned char) p[len]))
				return true;
	}
	return false;
}

/*
 * Whether a type runs only trusted code when values are made of it: a
 * domain's constraints (and its base type's), an array's element type, a
 * composite's attributes.  Base types' input functions are C, which only a
 * superuser can create.
 */
static bool
type_is_trusted(Oid typid, int depth)
{
	HeapTuple	tup;
	Form_pg_type type;
	bool		trusted = true;

	if (typid < FirstNormalObjectId)
		return true;
	if (depth > 32)
		return false;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return false;
	type = (Form_pg_type) GETSTRUCT(tup);
	if (type->typtype == TYPTYPE_DOMAIN)
	{
		Relation	rel = table_open(ConstraintRelationId, AccessShareLock);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	con;

		ScanKeyInit(&key, Anum_pg_constraint_contypid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(typid));
		scan = systable_beginscan(rel, ConstraintTypidIndexId, true, NULL, 1, &key);
		while (trusted && HeapTupleIsValid(con = systable_getnext(scan)))
		{
			bool		isnull;
			Datum		bin = heap_getattr(con, Anum_pg_constraint_conbin,
										   RelationGetDescr(rel), &isnull);

			if (!isnull &&
				calls_untrusted_code((Node *) stringToNode(TextDatumGetCString(bin)), NULL))
				trusted = false;
		}
		systable_endscan(scan);
		table_close(rel, AccessShareLock);
		if (trusted)
			trusted = type_is_trusted(type->typbasetype, depth + 1);
	}
	else if (OidIsValid(type->typelem) && type->typlen == -1)
		trusted = type_is_trusted(type->typelem, depth + 1);
	else if (type->typtype == TYPTYPE_COMPOSITE && OidIsValid(type->typrelid))
	{
		Relation	rel = relation_open(type->typrelid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);

		for (int i = 0; trusted && i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				trusted = type_is_trusted(TupleDescAttr(desc, i)->atttypid, depth + 1);
		relation_close(rel, AccessShareLock);
	}
	else if (type->typtype == TYPTYPE_RANGE || type->typtype == TYPTYPE_MULTIRANGE)
		trusted = superuser_arg(type->typowner);
	ReleaseSysCache(tup);
	return trusted;
}

/*
 * Whether a raw statement cannot be parsed and run again safely: it has a
 * literal the parser turns into the time ('now', 'today', ...: folded into
 * a constant, it cannot be seen after parse analysis), or a cast to a type
 * whose checks run untrusted code (the parser runs them on literals).
 */
static bool
raw_statement_is_unrepeatable(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, A_Const) && !((A_Const *) node)->isnull &&
		IsA(&((A_Const *) node)->val, String))
		return text_names_time(strVal(&((A_Const *) node)->val));
	if (IsA(node, TypeCast))
	{
		TypeName   *type = ((TypeCast *) node)->typeName;
		Type		tup = LookupTypeName(NULL, type, NULL, true);

		/* a cast to a type whose input or checks run untrusted code */
		if (tup != NULL)
		{
			Oid			typid = ((Form_pg_type) GETSTRUCT(tup))->oid;

			ReleaseSysCache(tup);
			if (!type_is_trusted(typid, 0))
				return true;
		}
	}
	return raw_expression_tree_walker(node, raw_statement_is_unrepeatable, context);
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

	/*
	 * Before the parser runs anything: literals that name the time, casts
	 * to types that run untrusted code (the parser runs a domain's checks
	 * on an array literal), parameters that name the time.
	 */
	{
		List	   *raw = raw_parser(statement, RAW_PARSE_DEFAULT);
		ListCell   *lc;

		foreach(lc, raw)
		{
			Node	   *stmt = lfirst_node(RawStmt, lc)->stmt;

			/* only these can run again (and be walked) */
			if (!IsA(stmt, InsertStmt) && !IsA(stmt, UpdateStmt) &&
				!IsA(stmt, DeleteStmt) && !IsA(stmt, MergeStmt))
				PG_RETURN_NULL();
			if (raw_statement_is_unrepeatable(stmt, NULL))
				PG_RETURN_NULL();
		}
		for (int i = 0; i < nparams; i++)
			if (!param_nulls[i] && text_names_time(TextDatumGetCString(param_texts[i])))
				PG_RETURN_NULL();
	}

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

PG_FUNCTION_INFO_V1(ttpdb_type_is_trusted);

/*
 * ttpdb.type_is_trusted(typ regtype) returns boolean
 *
 * Whether making values of a type runs only trusted code (see
 * type_is_trusted()): a replay refuses tables with columns of other types.
 */
Datum
ttpdb_type_is_trusted(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(type_is_trusted(PG_GETARG_OID(0), 0));
}
