-- ttpdb 0.1 -> 0.2: the semantic statement log.
--
-- CREATE EXTENSION ttpdb installs 0.1 and runs this script, so a new
-- installation and an updated one are the same.

\echo Use "CREATE EXTENSION ttpdb" or "ALTER EXTENSION ttpdb UPDATE TO '0.2'" to load this file. \quit

--------------------------------------------------------------------------
-- Commit stamps: subtransactions name their transaction, and each
-- transaction the log entries it numbered
--------------------------------------------------------------------------

ALTER TABLE ttpdb.commit_times
	ADD COLUMN top_xid xid8,
	ADD COLUMN first_entry bigint,
	ADD COLUMN entry_count integer;
COMMENT ON COLUMN ttpdb.commit_times.top_xid IS
	'For a subtransaction, its top-level transaction (NULL for a top-level one)';
COMMENT ON COLUMN ttpdb.commit_times.first_entry IS
	'The first log entry the transaction numbered (NULL if none)';
COMMENT ON COLUMN ttpdb.commit_times.entry_count IS
	'How many log entries the transaction numbered (0 with the log off; NULL before ttpdb 0.2)';

--------------------------------------------------------------------------
-- The log
--------------------------------------------------------------------------

-- Written by the library at commit; read through the view ttpdb.log.
CREATE TABLE ttpdb.log_entries (
	entry bigint NOT NULL PRIMARY KEY,
	era bigint NOT NULL,
	xid xid8 NOT NULL,
	statement_no integer NOT NULL,
	committed_at timestamptz NOT NULL,
	role_id oid NOT NULL,
	role_name text NOT NULL,
	kind text NOT NULL,
	statement text NOT NULL,
	parameters text[],
	rows_affected bigint NOT NULL,
	tables oid[] NOT NULL,
	table_digests bytea NOT NULL,		-- 16 bytes per table of "tables"
	inserted bigint NOT NULL,
	updated bigint NOT NULL,
	deleted bigint NOT NULL,
	transaction_ts timestamptz NOT NULL,
	statement_ts timestamptz NOT NULL,
	search_path text NOT NULL,
	deterministic boolean NOT NULL,
	nondeterminism jsonb,				-- random seed, sequences, volatile functions
	nested jsonb,
	undoes bigint,						-- for an UNDO, the entry it undid
	first_cid bigint NOT NULL,
	copy_sha256 bytea,
	copy_bytes bigint,
	copy_data bytea,
	prev_chain bytea NOT NULL,
	chain bytea NOT NULL
) USING heap;
ALTER TABLE ttpdb.log_entries ALTER COLUMN copy_data SET STORAGE EXTERNAL;	-- already compressed
-- A transaction's entries are found through its commit_times row
-- (first_entry, entry_count): no index by transaction to maintain.
COMMENT ON TABLE ttpdb.log_entries IS
	'The statement log (read it through the view ttpdb.log)';
REVOKE ALL ON ttpdb.log_entries FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ttpdb.log_entries', '');

-- Statement text and parameters, and what could reveal the values the
-- statement wrote (the effects digest, the random seed, the COPY content's
-- hash), are shown to the role that ran the statement, to roles that have
-- its privileges, and to members of pg_read_all_stats, as
-- pg_stat_statements does.
CREATE FUNCTION ttpdb.log_text_visible(role_id oid) RETURNS boolean
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT pg_has_role($1, 'USAGE') OR pg_has_role('pg_read_all_stats', 'USAGE') $$;
COMMENT ON FUNCTION ttpdb.log_text_visible(oid) IS
	'Whether the current role may see the text of statements run by a role';

CREATE VIEW ttpdb.log AS
SELECT l.entry,
	l.xid,
	l.committed_at,
	l.statement_no,
	l.role_name AS role,
	l.kind,
	CASE WHEN v.visible THEN l.statement ELSE '<insufficient privilege>' END AS statement,
	CASE WHEN v.visible THEN l.parameters END AS parameters,
	l.rows_affected AS rows,
	l.tables::regclass[] AS tables,
	-- the digest is a hash of the rows' values: shown with the statement
	jsonb_build_object('inserted', l.inserted, 'updated', l.updated, 'deleted', l.deleted)
		|| CASE WHEN v.visible THEN jsonb_build_object('digest', encode(l.table_digests, 'hex'))
				ELSE '{}' END AS effects,
	l.deterministic,
	-- so is the random seed, which reproduces the values random() drew
	jsonb_build_object('transaction_timestamp', l.transaction_ts,
					   'statement_timestamp', l.statement_ts)
		|| CASE WHEN v.visible THEN jsonb_build_object('search_path', l.search_path)
									|| coalesce(l.nondeterminism, '{}')
				ELSE '{}' END AS nondeterminism,
	CASE WHEN v.visible THEN coalesce(l.nested, '[]') END AS nested,
	l.undoes,
	CASE WHEN v.visible THEN l.copy_sha256 END AS copy_sha256,
	l.copy_bytes,
	l.copy_data IS NOT NULL AS copy_kept,
	l.chain
FROM ttpdb.log_entries l,
	LATERAL (SELECT ttpdb.log_text_visible(l.role_id) AS visible) v;
COMMENT ON VIEW ttpdb.log IS
	'The statement log: every statement that changed a ttpdb table, in commit order';
GRANT SELECT ON ttpdb.log TO PUBLIC;

CREATE FUNCTION ttpdb.log_copy_content(entry bigint) RETURNS bytea
	AS 'MODULE_PATHNAME', 'ttpdb_log_copy_content' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.log_copy_content(bigint) IS
	'The bytes a logged COPY FROM read (NULL past ttpdb.log_copy_limit); only for roles with the privileges of the role that ran it';

CREATE FUNCTION ttpdb.verify(OUT entries bigint, OUT unverified_links bigint,
	OUT first_broken_entry bigint, OUT problem text)
	RETURNS record
	AS 'MODULE_PATHNAME', 'ttpdb_verify' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.verify() IS
	'Recompute the log''s hash chain; first_broken_entry and problem say where it breaks (NULL: intact)';

CREATE FUNCTION ttpdb.log_consistency(OUT problem text, OUT xid xid8,
	OUT entry bigint, OUT detail text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'ttpdb_log_consistency' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.log_consistency() IS
	'Check the log against the tables and their history (no rows: consistent); superuser only';
REVOKE ALL ON FUNCTION ttpdb.log_consistency() FROM PUBLIC;

--------------------------------------------------------------------------
-- CAUSED_BY
--------------------------------------------------------------------------

-- A row version's system columns name its entry: xmin the transaction, cmin
-- the statement in it, xmax whether cmin can be trusted.
CREATE FUNCTION ttpdb.caused_by(xmin xid, cmin cid, xmax xid) RETURNS bigint
	AS 'MODULE_PATHNAME', 'ttpdb_caused_by' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.caused_by(xid, cid, xid) IS
	'The log entry that created a row version: ttpdb.caused_by(t.xmin, t.cmin, t.xmax)';

CREATE FUNCTION ttpdb.caused_by(version record, entry bigint) RETURNS boolean
	AS 'MODULE_PATHNAME', 'ttpdb_caused_by_op' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.caused_by(record, bigint) IS
	'Whether log entry "entry" created the row version ROW(xmin, cmin, xmax); the operator <~';

CREATE OPERATOR ttpdb.<~ (
	LEFTARG = record,
	RIGHTARG = bigint,
	FUNCTION = ttpdb.caused_by
);
COMMENT ON OPERATOR ttpdb.<~ (record, bigint) IS
	'ROW(t.xmin, t.cmin, t.xmax) <~ 42: the row version was created by log entry 42';

CREATE FUNCTION ttpdb.transaction_entries(transaction xid8) RETURNS SETOF bigint
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT generate_series(c.first_entry, c.first_entry + c.entry_count - 1)
	FROM ttpdb.commit_times c
	WHERE c.era = (SELECT era FROM ttpdb.era) AND c.xid = $1 AND c.entry_count > 0
$$;
COMMENT ON FUNCTION ttpdb.transaction_entries(xid8) IS
	'The log entries of a transaction, in order';

CREATE FUNCTION ttpdb.row_transaction(xmin xid) RETURNS xid8
	AS 'MODULE_PATHNAME', 'ttpdb_row_transaction' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.row_transaction(xid) IS
	'The top-level transaction that created a row version: ttpdb.row_transaction(t.xmin)';

-- ttpdb.history() shows the entries that created and ended each version.
DROP FUNCTION ttpdb.history(anyelement);
CREATE FUNCTION ttpdb.history(anyelement,
	OUT valid_from timestamptz, OUT valid_to timestamptz,
	OUT created_xid xid8, OUT ended_xid xid8,
	OUT created_entry bigint, OUT ended_entry bigint,
	OUT version anyelement)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'ttpdb_history_rows' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.history(anyelement) IS
	'Every version of a ttpdb table with its system validity (valid_to NULL for the present) and the log entries that created and ended it: ttpdb.history(NULL::my_table)';

CREATE FUNCTION ttpdb.history(anyelement, transaction xid8, include_present boolean DEFAULT true,
	OUT valid_from timestamptz, OUT valid_to timestamptz,
	OUT created_xid xid8, OUT ended_xid xid8,
	OUT created_entry bigint, OUT ended_entry bigint,
	OUT version anyelement)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'ttpdb_history_rows' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ttpdb.history(anyelement, xid8, boolean) IS
	'The versions of a ttpdb table that one transaction created or ended (kept versions are filtered before they are decompressed); include_present false: the kept ones only';

-- ttpdb.as_of() with where each row came from.
CREATE FUNCTION ttpdb.as_of_versions(anyelement, at timestamptz,
	OUT valid_from timestamptz, OUT created_xid xid8, OUT created_entry bigint,
	OUT version anyelement)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'ttpdb_as_of_versions' LANGUAGE C STABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.as_of_versions(anyelement, timestamptz) IS
	'The rows of a ttpdb table as of a time, with the stamp, transaction and log entry that created each: ttpdb.as_of_versions(NULL::my_table, ts)';

--------------------------------------------------------------------------
-- DDL that touches ttpdb tables without going through the access method
--------------------------------------------------------------------------

CREATE FUNCTION ttpdb.log_note_ddl(tables oid[]) RETURNS void
	AS 'MODULE_PATHNAME', 'ttpdb_log_note_ddl' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.log_note_ddl(oid[]) IS
	'Called by the log''s event triggers: the running DDL statement touched these tables';
REVOKE ALL ON FUNCTION ttpdb.log_note_ddl(oid[]) FROM PUBLIC;

-- Constraints, triggers, policies, rules, defaults, statistics and comments
-- belong to a table: log the statement if it is a ttpdb table.
CREATE FUNCTION ttpdb.log_ddl_command_end() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	PERFORM ttpdb.log_note_ddl(ARRAY(
		SELECT CASE c.classid
			WHEN 'pg_class'::regclass THEN c.objid
			WHEN 'pg_trigger'::regclass THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = c.objid)
			WHEN 'pg_constraint'::regclass THEN (SELECT k.conrelid FROM pg_constraint k WHERE k.oid = c.objid)
			WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = c.objid)
			WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = c.objid)
			WHEN 'pg_attrdef'::regclass THEN (SELECT d.adrelid FROM pg_attrdef d WHERE d.oid = c.objid)
			WHEN 'pg_statistic_ext'::regclass THEN (SELECT s.stxrelid FROM pg_statistic_ext s WHERE s.oid = c.objid)
			END
		FROM pg_event_trigger_ddl_commands() c
		WHERE c.objid IS NOT NULL));
END
$$;
COMMENT ON FUNCTION ttpdb.log_ddl_command_end() IS
	'Event trigger: logs DDL on the objects that belong to ttpdb tables';
CREATE EVENT TRIGGER ttpdb_log_ddl_command_end ON ddl_command_end
	EXECUTE FUNCTION ttpdb.log_ddl_command_end();
COMMENT ON EVENT TRIGGER ttpdb_log_ddl_command_end IS
	'Logs DDL on the objects that belong to ttpdb tables';

-- Dropped triggers, policies, rules and constraints name their table.
CREATE FUNCTION ttpdb.log_sql_drop() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF to_regproc('ttpdb.log_note_ddl') IS NULL THEN
		RETURN;				-- the extension itself is being dropped
	END IF;
	PERFORM ttpdb.log_note_ddl(ARRAY(
		SELECT to_regclass(quote_ident(d.address_names[1]) || '.' || quote_ident(d.address_names[2]))::oid
		FROM pg_event_trigger_dropped_objects() d
		WHERE d.object_type IN ('trigger', 'policy', 'rule', 'table constraint', 'default value')
		  AND cardinality(d.address_names) >= 2));
END
$$;
COMMENT ON FUNCTION ttpdb.log_sql_drop() IS
	'Event trigger: logs the drop of objects that belong to ttpdb tables';
CREATE EVENT TRIGGER ttpdb_log_sql_drop ON sql_drop
	EXECUTE FUNCTION ttpdb.log_sql_drop();
COMMENT ON EVENT TRIGGER ttpdb_log_sql_drop IS
	'Logs the drop of objects that belong to ttpdb tables';

--------------------------------------------------------------------------
-- The three histories (see doc/reference.md).  Until branches exist there
-- is one line of versions, "main": each entry makes a new version of the
-- database from the one before it.
--------------------------------------------------------------------------

CREATE VIEW ttpdb.system_history AS
SELECT l.entry, l.committed_at, l.xid, l.role, l.kind, l.statement, l.rows
FROM ttpdb.log l;
COMMENT ON VIEW ttpdb.system_history IS
	'System history: every log entry, in commit order';
GRANT SELECT ON ttpdb.system_history TO PUBLIC;

CREATE VIEW ttpdb.name_history AS
SELECT 'main'::text AS name,
	l.entry AS version,
	l.committed_at AS since,
	lead(l.committed_at) OVER (ORDER BY l.entry) AS until,
	l.entry
FROM ttpdb.log_entries l;
COMMENT ON VIEW ttpdb.name_history IS
	'Name history: which database version each name pointed to, and when';
GRANT SELECT ON ttpdb.name_history TO PUBLIC;

CREATE VIEW ttpdb.version_history AS
SELECT l.entry AS version,
	lag(l.entry) OVER (ORDER BY l.entry) AS derived_from,
	l.entry AS by_entry,
	l.committed_at
FROM ttpdb.log_entries l;
COMMENT ON VIEW ttpdb.version_history IS
	'Version history (provenance): each database version, the version it was derived from, and the entry that derived it';
GRANT SELECT ON ttpdb.version_history TO PUBLIC;

--------------------------------------------------------------------------
-- UNDO: a forward operation that restores what a log entry changed
--------------------------------------------------------------------------

CREATE FUNCTION ttpdb.log_mark_undo(entry bigint) RETURNS void
	AS 'MODULE_PATHNAME', 'ttpdb_log_mark_undo' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.log_mark_undo(bigint) IS
	'Called by ttpdb.undo(): the running statement''s log entry is an UNDO of an entry';

-- The columns that identify a row of a table: its replica identity (the
-- primary key by default, every column with REPLICA IDENTITY FULL).
CREATE FUNCTION ttpdb.row_identity(tbl regclass) RETURNS name[]
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT CASE c.relreplident
		WHEN 'f' THEN (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
					   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
		ELSE (SELECT array_agg(a.attname ORDER BY k.ord)
			  FROM pg_index i
			  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
			  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
			  WHERE i.indrelid = c.oid
				AND CASE c.relreplident WHEN 'i' THEN i.indisreplident ELSE i.indisprimary END)
		END
	FROM pg_class c WHERE c.oid = $1
$$;
COMMENT ON FUNCTION ttpdb.row_identity(regclass) IS
	'The columns that identify a row of a table (its replica identity); NULL if none';

-- Entries that change rows, not definitions: what UNDO can put back.
CREATE FUNCTION ttpdb.undoable_kind(kind text) RETURNS boolean
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT $1 IN ('INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY', 'SELECT', 'DO', 'CALL',
						'EXECUTE', 'COMMIT', 'UNDO', 'TRUNCATE TABLE', 'FETCH') $$;
COMMENT ON FUNCTION ttpdb.undoable_kind(text) IS
	'Whether log entries of this kind change rows only, so that ttpdb.undo() can put them back';

-- Whether statements nested in an entry (in a function, DO, CALL) changed
-- definitions.  It reads the nested detail, which ttpdb.log shows only to
-- some roles: SECURITY DEFINER, and it says no more than yes or no.
CREATE FUNCTION ttpdb.entry_ran_ddl(entry bigint) RETURNS boolean
	LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT EXISTS (
		SELECT 1 FROM ttpdb.log_entries l,
			jsonb_array_elements(coalesce(l.nested, '[]')) n
		WHERE l.entry = $1 AND n ? 'kind' AND NOT ttpdb.undoable_kind(n->>'kind'))
$$;
COMMENT ON FUNCTION ttpdb.entry_ran_ddl(bigint) IS
	'Whether a log entry''s nested statements changed definitions (DDL), which UNDO cannot put back';

-- Undo what one entry, or one whole transaction, changed.  The rows are
-- paired by row identity: for each, the version the entry (transaction)
-- ended, "before", and the one it created, "after".  A row a later entry
-- changed again is a conflict.
CREATE FUNCTION ttpdb.undo_changes(entry bigint, transaction xid8, on_conflict text)
	RETURNS TABLE (table_name regclass, row_key jsonb, action text, outcome text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	-- versions travel as text: their text must read back exactly
	SET extra_float_digits = 3
	SET DateStyle = 'ISO, YMD'
	SET IntervalStyle = postgres
	AS $$
DECLARE
	tbls regclass[];
	tbl regclass;
	keys name[];
	key_match text;
	set_cols text;
	ins_cols text;
	ins_vals text;
	created_by text;
	ended_by text;
	v record;
	present_count bigint;
	conflicts text[] := '{}';
	unattributed bigint := 0;
	entry_inserted bigint;
	entry_deleted bigint;
	inserts_found bigint := 0;
	deletes_found bigint := 0;
	own_entries bigint[];
	entry_updated bigint;
	lone_befores bigint;
	keyed boolean;
	order_by text;
	own_xact xid8 := transaction;
	source text;
	guard text;
	changed bigint;
	created_by_xact text := 'false';
	ended_by_xact text := 'false';
BEGIN
	IF on_conflict IS NULL OR on_conflict NOT IN ('error', 'skip', 'overwrite') THEN
		RAISE EXCEPTION 'invalid on_conflict value: %', on_conflict
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Use ''error'' (the default), ''skip'' or ''overwrite''.';
	END IF;
	IF entry IS NOT NULL THEN
		created_by := format('h.created_entry = %s', entry);
		ended_by := format('h.ended_entry = %s', entry);
		-- versions of its transaction whose statement cannot be told
		SELECT l.tables, format('(SELECT coalesce(c.top_xid, c.xid) FROM ttpdb.commit_times c '
								'WHERE c.era = (SELECT era FROM ttpdb.era) AND c.xid = h.created_xid) = %L::xid8',
								l.xid),
			   format('h.ended_xid = %L::xid8', l.xid),
			   (l.effects->>'inserted')::bigint, (l.effects->>'deleted')::bigint,
			   (l.effects->>'updated')::bigint
		INTO tbls, created_by_xact, ended_by_xact, entry_inserted, entry_deleted, entry_updated
		FROM ttpdb.log l WHERE l.entry = undo_changes.entry;
		own_entries := ARRAY[entry];
		SELECT l.xid INTO own_xact FROM ttpdb.log l WHERE l.entry = undo_changes.entry;
	ELSE
		-- a subtransaction's rows carry its own xid: map it to its transaction
		created_by := format('(SELECT coalesce(c.top_xid, c.xid) FROM ttpdb.commit_times c '
							 'WHERE c.era = (SELECT era FROM ttpdb.era) AND c.xid = h.created_xid) = %L::xid8',
							 transaction);
		ended_by := format('h.ended_xid = %L::xid8', transaction);
		SELECT array_agg(DISTINCT t) INTO tbls
		FROM ttpdb.log l, unnest(l.tables) t
		WHERE l.entry IN (SELECT ttpdb.transaction_entries(transaction));
		SELECT array_agg(e) INTO own_entries FROM ttpdb.transaction_entries(transaction) e;
	END IF;

	FOREACH tbl IN ARRAY coalesce(tbls, '{}') LOOP
		IF tbl IS NULL OR to_regclass(tbl::text) IS NULL THEN
			RAISE WARNING 'a table the changes were made to no longer exists: its changes are not undone'
				USING DETAIL = format('Table OID %s.', tbl::oid);
			CONTINUE;
		END IF;
		keys := ttpdb.row_identity(tbl);
		IF keys IS NULL THEN
			RAISE EXCEPTION 'cannot undo: table % has no replica identity', tbl
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Give the table a primary key, or ALTER TABLE ... REPLICA IDENTITY FULL.';
		END IF;
		-- the row's key, compared with the version's; the columns written back
		IF (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = tbl) THEN
			RAISE EXCEPTION 'cannot undo: table % has row-level security', tbl
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = 'The history ttpdb.undo() reads is not filtered by the table''s policies.';
		END IF;
		-- versions travel as their text form, cast back to the row type: a
		-- row value's type would be fixed in PL/pgSQL's plans at the first
		-- table.  Keys compare with = where the column cannot be NULL and
		-- has an equality (so that the key's index is used), else as text.
		SELECT string_agg(format(CASE WHEN a.attnotnull AND eq.ok THEN 't.%1$I = ($1::%2$s).%1$I'
									  WHEN eq.ok THEN 't.%1$I IS NOT DISTINCT FROM ($1::%2$s).%1$I'
									  ELSE 't.%1$I::text IS NOT DISTINCT FROM ($1::%2$s).%1$I::text' END,
								 c, tbl), ' AND '),
			   bool_and(a.attnotnull AND eq.ok)
		INTO key_match, keyed
		FROM unnest(keys) c
		JOIN pg_attribute a ON a.attrelid = tbl AND a.attname = c
		CROSS JOIN LATERAL (SELECT EXISTS (
			SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
			WHERE am.amname = 'btree' AND oc.opcdefault
			  AND oc.opcintype = coalesce(nullif(
					(SELECT t.typbasetype FROM pg_type t WHERE t.oid = a.atttypid), 0), a.atttypid))
			OR (SELECT t.typcategory = 'A' FROM pg_type t WHERE t.oid = a.atttypid) AS ok) eq;
		SELECT string_agg(format('%1$I = ($1::%2$s).%1$I', a.attname, tbl), ', ' ORDER BY a.attnum)
				 FILTER (WHERE a.attname <> ALL (keys) AND a.attidentity <> 'a'),
			   string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
			   string_agg(format('($1::%2$s).%1$I', a.attname, tbl), ', ' ORDER BY a.attnum)
		INTO set_cols, ins_cols, ins_vals
		FROM pg_attribute a
		WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';

		-- what the entry (transaction) changed in the table, row by row: the
		-- version it ended ("before") and the one it created ("after")
		-- Where the versions come from: all the transaction's (a scan of the
		-- table for its rows), or, for an entry that inserted nothing, its
		-- kept versions and the present rows with their keys (an index).
		source := format('ttpdb.history(NULL::%s, $2)', tbl);
		IF entry IS NOT NULL AND entry_inserted = 0 AND keyed THEN
			source := format($s$(
				SELECT h.valid_from, h.valid_to, h.created_xid, h.ended_xid,
					   h.created_entry, h.ended_entry, h.version
				FROM ttpdb.history(NULL::%1$s, $2, false) h
				UNION ALL
				SELECT NULL::timestamptz, NULL::timestamptz, ttpdb.row_transaction(p.xmin), NULL::xid8,
					   ttpdb.caused_by(p.xmin, p.cmin, p.xmax), NULL::bigint, p
				FROM %1$s p
				WHERE (%2$s) IN (SELECT %3$s FROM ttpdb.history(NULL::%1$s, $2, false) k))$s$,
				tbl,
				(SELECT string_agg(format('p.%I', c), ', ') FROM unnest(keys) c),
				(SELECT string_agg(format('(k.version).%I', c), ', ') FROM unnest(keys) c));
			-- an UPDATE that changed a row's key made a version under a key
			-- this source does not look for: read all of the transaction's then
			EXECUTE format($c$
				SELECT count(*) FROM (
					SELECT bool_or(%3$s) AS b, bool_or(%2$s) AS a
					FROM %6$s h,
						LATERAL (SELECT jsonb_object_agg(c, to_jsonb(h.version) -> c) AS k
								 FROM unnest($1::name[]) c) kk
					GROUP BY kk.k) g
				WHERE g.b AND NOT coalesce(g.a, false)$c$,
				tbl, created_by, ended_by, created_by_xact, ended_by_xact, source)
			INTO lone_befores USING keys, own_xact;
			IF lone_befores > entry_deleted THEN
				source := format('ttpdb.history(NULL::%s, $2)', tbl);
			END IF;
		END IF;
		FOR v IN EXECUTE format($q$
			SELECT kk.k AS row_key,
				(array_agg(h.version::text ORDER BY h.valid_from NULLS FIRST) FILTER (WHERE %3$s))[1] AS before,
				(array_agg(h.version::text ORDER BY h.valid_from DESC NULLS LAST) FILTER (WHERE %2$s))[1] AS after,
				bool_or(h.created_entry IS NULL AND h.valid_from IS NOT NULL AND %4$s)
					OR bool_or(h.ended_entry IS NULL AND %5$s) AS unattributed,
				coalesce(bool_or(%2$s AND h.valid_to IS NULL AND h.ended_xid IS NULL), false) AS after_is_current,
				-- (a row value with a NULL column IS NULL: test presence apart)
				coalesce(bool_or(%3$s), false) AS has_before,
				coalesce(bool_or(%2$s), false) AS has_after
			FROM %6$s h,
				LATERAL (SELECT jsonb_object_agg(c, to_jsonb(h.version) -> c) AS k
						 FROM unnest($1::name[]) c) kk
			WHERE (%2$s) OR (%3$s) OR (%4$s) OR (%5$s)
			GROUP BY kk.k
			-- what frees a unique value first: deletes, then restores, then inserts
			ORDER BY CASE WHEN NOT coalesce(bool_or(%3$s), false) THEN 0
						  WHEN NOT coalesce(bool_or(%2$s), false) THEN 2 ELSE 1 END,
					 kk.k::text$q$, tbl, created_by, ended_by, created_by_xact, ended_by_xact, source)
		USING keys, own_xact
		LOOP
			IF entry IS NOT NULL AND coalesce(v.unattributed, false) THEN
				unattributed := unattributed + 1;
			END IF;
			CONTINUE WHEN NOT (v.has_before OR v.has_after);
			inserts_found := inserts_found + (NOT v.has_before)::int;
			deletes_found := deletes_found + (NOT v.has_after)::int;
			EXECUTE format('SELECT count(*) FROM %s t WHERE %s', tbl, key_match)
				INTO present_count USING CASE WHEN v.has_after THEN v.after ELSE v.before END;
			table_name := tbl;
			row_key := v.row_key;
			action := CASE WHEN NOT v.has_before THEN 'delete'
						   WHEN NOT v.has_after THEN 'insert'
						   ELSE 'restore' END;
			-- what it created is no longer there as it was, or what it deleted is back
			IF (v.has_after AND NOT v.after_is_current)
			   OR (NOT v.has_after AND present_count > 0) THEN
				IF on_conflict = 'error' THEN
					conflicts := conflicts || format('%s %s', tbl, v.row_key);
					CONTINUE;
				ELSIF on_conflict = 'skip' THEN
					outcome := 'conflict: skipped';
					RETURN NEXT;
					CONTINUE;
				END IF;
				outcome := 'conflict: overwritten';
			ELSE
				outcome := 'done';
			END IF;

			-- unless overwriting, the row must still be the version the entry
			-- made: a writer that got there since (even one that committed
			-- while this waited for its lock) is not overwritten
			guard := CASE WHEN outcome <> 'done' THEN ''
						  WHEN entry IS NULL THEN ' AND ttpdb.row_transaction(t.xmin) = $3'
						  -- when the statement cannot be told, its transaction
						  ELSE ' AND coalesce(ttpdb.caused_by(t.xmin, t.cmin, t.xmax) = ANY ($2), '
							   'ttpdb.row_transaction(t.xmin) = $3)' END;
			changed := -1;
			IF NOT v.has_before THEN
				EXECUTE format('DELETE FROM %s t WHERE %s%s', tbl, key_match, guard)
					USING v.after, own_entries, own_xact;
				GET DIAGNOSTICS changed = ROW_COUNT;
			ELSIF present_count > 0 AND set_cols IS NOT NULL THEN
				EXECUTE format('UPDATE %s t SET %s WHERE %s%s', tbl, set_cols, key_match, guard)
					USING v.before, own_entries, own_xact;
				GET DIAGNOSTICS changed = ROW_COUNT;
			ELSIF present_count = 0 THEN
				-- a row with the key may have been inserted meanwhile
				EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE VALUES (%s) ON CONFLICT DO NOTHING',
							   tbl, ins_cols, ins_vals)
					USING v.before;
				GET DIAGNOSTICS changed = ROW_COUNT;
			END IF;
			IF changed = 0 THEN
				IF on_conflict = 'skip' THEN
					outcome := 'conflict: skipped';
				ELSE
					RAISE EXCEPTION 'cannot undo: % % was changed by another transaction meanwhile', tbl, v.row_key
						USING ERRCODE = 'serialization_failure',
							  HINT = 'Run the undo again: it will see the change, and report it as a conflict.';
				END IF;
			END IF;
			RETURN NEXT;
		END LOOP;
	END LOOP;

	-- a row that looks inserted (deleted) by the entry but was not: its
	-- version before (after) it was made (ended) by another statement of
	-- the same transaction, and was never visible to anyone, so not kept
	-- (an UPDATE that changed a row's key shows as one delete and one insert)
	IF entry IS NOT NULL AND (inserts_found > entry_inserted OR deletes_found > entry_deleted)
	   AND NOT (inserts_found - entry_inserted = deletes_found - entry_deleted
				AND inserts_found - entry_inserted <= entry_updated) THEN
		RAISE EXCEPTION 'cannot undo log entry %: other statements of its transaction changed the same rows', entry
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'What a row was between two statements of one transaction was never visible, and is not kept.',
				  HINT = 'Undo the whole transaction with ttpdb.undo_transaction().';
	END IF;
	IF unattributed > 0 THEN
		RAISE EXCEPTION 'cannot undo log entry %: for % rows its transaction changed, the statement that changed them cannot be told',
			entry, unattributed
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = 'Crash recovery or an update that rolled back left no trace of which of its statements wrote them.',
				  HINT = 'Undo the whole transaction with ttpdb.undo_transaction().';
	END IF;
	IF cardinality(conflicts) > 0 THEN
		RAISE EXCEPTION 'cannot undo: % of the rows changed were changed again later',
			cardinality(conflicts)
			USING ERRCODE = 'serialization_failure',
				  DETAIL = 'Changed again later: ' || array_to_string(conflicts[1:10], '; ')
						   || CASE WHEN cardinality(conflicts) > 10 THEN '; ...' ELSE '' END,
				  HINT = 'on_conflict => ''skip'' leaves those rows as they are and undoes the others; on_conflict => ''overwrite'' puts them back as they were before.';
	END IF;
END
$$;
COMMENT ON FUNCTION ttpdb.undo_changes(bigint, xid8, text) IS
	'Used by ttpdb.undo() and ttpdb.undo_transaction()';


CREATE FUNCTION ttpdb.undo(entry bigint, on_conflict text DEFAULT 'error')
	RETURNS TABLE (table_name regclass, row_key jsonb, action text, outcome text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	k text;
BEGIN
	SELECT l.kind INTO k FROM ttpdb.log l WHERE l.entry = undo.entry;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'log entry % does not exist', undo.entry
			USING ERRCODE = 'no_data_found';
	END IF;
	IF ttpdb.undoable_kind(k) AND ttpdb.entry_ran_ddl(undo.entry) THEN
		k := k || ' running DDL';
	END IF;
	IF NOT ttpdb.undoable_kind(k) THEN
		RAISE EXCEPTION 'cannot undo log entry % (%)', undo.entry, k
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'The log does not record the definitions a DDL statement replaced.',
				  HINT = 'Write the reverse statement yourself; it is logged like any other.';
	END IF;
	PERFORM ttpdb.log_mark_undo(undo.entry);
	RETURN QUERY SELECT * FROM ttpdb.undo_changes(undo.entry, NULL, on_conflict);
END
$$;
COMMENT ON FUNCTION ttpdb.undo(bigint, text) IS
	'Undo a log entry with a new entry that restores the rows it changed; on_conflict: error (default), skip or overwrite';

CREATE FUNCTION ttpdb.undo_transaction(transaction xid8, on_conflict text DEFAULT 'error')
	RETURNS TABLE (table_name regclass, row_key jsonb, action text, outcome text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	first_entry bigint;
	ddl text;
BEGIN
	SELECT min(l.entry), min(l.kind) FILTER (WHERE NOT ttpdb.undoable_kind(l.kind)
											 OR ttpdb.entry_ran_ddl(l.entry))
	INTO first_entry, ddl
	FROM ttpdb.log l WHERE l.entry IN (SELECT ttpdb.transaction_entries(transaction));
	IF first_entry IS NULL THEN
		RAISE EXCEPTION 'transaction % has no log entry', transaction
			USING ERRCODE = 'no_data_found';
	END IF;
	IF ddl IS NOT NULL THEN
		RAISE EXCEPTION 'cannot undo transaction %: it ran %', transaction, ddl
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'The log does not record the definitions a DDL statement replaced.';
	END IF;
	PERFORM ttpdb.log_mark_undo(first_entry);
	RETURN QUERY SELECT * FROM ttpdb.undo_changes(NULL, transaction, on_conflict);
END
$$;
COMMENT ON FUNCTION ttpdb.undo_transaction(xid8, text) IS
	'Undo every change of a transaction at once (its net effect on each row)';
