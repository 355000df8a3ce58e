-- ttpdb 0.4 -> 0.5: column type changes keep the history.
--
-- ALTER TABLE ... ALTER COLUMN ... TYPE on a ttpdb table with kept versions
-- was refused, since the versions were stored in the old type.  Now the
-- ALTER keeps the rows it rewrites, as other rewrites do, and converts every
-- kept version with its own USING expression (or the assignment cast): the
-- table_rewrite event trigger passes the rewrite's reason on to the library.

\echo Use "ALTER EXTENSION ttpdb UPDATE TO '0.5'" to load this file. \quit

CREATE FUNCTION ttpdb.keep_rows_before_rewrite(tbl regclass, reason integer) RETURNS void
	AS 'MODULE_PATHNAME', 'ttpdb_keep_rows_before_rewrite' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.keep_rows_before_rewrite(regclass, integer) IS
	'Called by the table_rewrite event trigger: keeps a table''s rows before ALTER TABLE rewrites it, and converts its kept versions when a column type changes';
REVOKE ALL ON FUNCTION ttpdb.keep_rows_before_rewrite(regclass, integer) FROM PUBLIC;

CREATE OR REPLACE FUNCTION ttpdb.guard_table_rewrite() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel oid := pg_event_trigger_table_rewrite_oid();
	reason int := pg_event_trigger_table_rewrite_reason();
	am name := (SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = rel);
BEGIN
	IF am = 'ttpdb' OR (reason & 8) <> 0 THEN	-- AT_REWRITE_ACCESS_METHOD
		PERFORM ttpdb.keep_rows_before_rewrite(rel, reason);
	END IF;
END
$$;
COMMENT ON FUNCTION ttpdb.guard_table_rewrite() IS
	'Event trigger: keeps a ttpdb table''s rows before a rewrite, and converts its kept versions when a column type changes';

DROP FUNCTION ttpdb.keep_rows_before_rewrite(regclass);
