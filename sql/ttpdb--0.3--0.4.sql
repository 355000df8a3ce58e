-- ttpdb 0.3 -> 0.4: packed history.
--
-- A superseding transaction keeps each version as a row of its own in
-- ttpdb.history.  Once it has committed, packing moves such versions into
-- ttpdb.history_packs: up to 1,000 versions of one table per row,
-- LZ4-compressed together, each with its end stamp, so that the store is a
-- fraction of the size and AS OF reads skip packs with nothing valid at
-- their time.  Writers pack as they go (ttpdb.pack_after), and
-- ttpdb.pack_history() packs on request.

\echo Use "ALTER EXTENSION ttpdb UPDATE TO '0.4'" to load this file. \quit

CREATE TABLE ttpdb.history_packs (
	relid regclass NOT NULL,
	era bigint NOT NULL,
	versions integer NOT NULL,
	valid_from_min timestamptz,		-- NULL: some version began before tracking
	valid_to_min timestamptz NOT NULL,
	valid_to_max timestamptz NOT NULL,
	raw_size integer NOT NULL,		-- bytes of the uncompressed tuples
	data bytea NOT NULL
) USING heap;
ALTER TABLE ttpdb.history_packs ALTER COLUMN data SET STORAGE EXTERNAL;	-- already compressed
CREATE INDEX history_packs_relid_idx ON ttpdb.history_packs (relid);
COMMENT ON TABLE ttpdb.history_packs IS
	'Kept row versions of ttpdb tables packed many to a row, with their validity; read them with ttpdb.history() or ttpdb.as_of';
REVOKE ALL ON ttpdb.history_packs FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ttpdb.history_packs', '');

CREATE FUNCTION ttpdb.pack_history(tbl regclass) RETURNS bigint
	AS 'MODULE_PATHNAME', 'ttpdb_pack_history' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ttpdb.pack_history(regclass) IS
	'Move the single kept versions of a ttpdb table into packs; returns how many (owner only; reads are unchanged)';

CREATE FUNCTION ttpdb.pack_history() RETURNS bigint
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
SELECT coalesce(sum(ttpdb.pack_history(c.oid)), 0)::bigint
FROM pg_class c JOIN pg_am a ON a.oid = c.relam
WHERE a.amname = 'ttpdb' AND c.relkind = 'r' AND c.relpersistence = 'p'
	AND pg_has_role(c.relowner, 'USAGE')
$$;
COMMENT ON FUNCTION ttpdb.pack_history() IS
	'Pack the kept versions of every ttpdb table the caller owns; returns how many';

CREATE OR REPLACE VIEW ttpdb.history_stats AS
WITH kept AS (
	SELECT h.relid, 1 AS versions, 0 AS packed,
		pg_column_size(h.data) AS stored, h.raw_size AS raw
	FROM ttpdb.history h
	UNION ALL
	SELECT p.relid, p.versions, p.versions, pg_column_size(p.data), p.raw_size
	FROM ttpdb.history_packs p
)
SELECT k.relid AS table_name,
	sum(k.versions)::bigint AS versions,
	sum(k.stored)::bigint AS stored_bytes,
	sum(k.raw)::bigint AS raw_bytes,
	round(sum(k.stored)::numeric / sum(k.versions), 1) AS bytes_per_version,
	round(sum(k.raw)::numeric / nullif(sum(k.stored), 0), 2) AS compression_ratio,
	sum(k.packed)::bigint AS packed_versions
FROM kept k
GROUP BY k.relid;
COMMENT ON VIEW ttpdb.history_stats IS
	'Per ttpdb table: kept versions (single and packed), their stored and uncompressed bytes, and the compression ratio';

CREATE OR REPLACE FUNCTION ttpdb.guard_table_rewrite() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	rel oid := pg_event_trigger_table_rewrite_oid();
	reason int := pg_event_trigger_table_rewrite_reason();
	am name := (SELECT a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = rel);
BEGIN
	IF (reason & 4) <> 0 THEN		-- AT_REWRITE_COLUMN_REWRITE
		IF am = 'ttpdb' AND (EXISTS (SELECT 1 FROM ttpdb.history h WHERE h.relid = rel)
							 OR EXISTS (SELECT 1 FROM ttpdb.history_packs p WHERE p.relid = rel)) THEN
			RAISE EXCEPTION 'cannot change the type of a column of ttpdb table % while it has kept versions',
				rel::regclass
				USING ERRCODE = 'feature_not_supported',
					  DETAIL = 'Kept versions are stored with the old type and could not be read under the new one.',
					  HINT = 'Add a column of the new type and copy the values into it, or drop the history first with ttpdb.prune_history().';
		END IF;
	ELSIF am = 'ttpdb' OR (reason & 8) <> 0 THEN	-- AT_REWRITE_ACCESS_METHOD
		PERFORM ttpdb.keep_rows_before_rewrite(rel);
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION ttpdb.forget_dropped_tables() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF to_regclass('ttpdb.history') IS NULL THEN
		RETURN;				-- the extension itself is being dropped
	END IF;
	DELETE FROM ttpdb.history h
	USING pg_event_trigger_dropped_objects() d
	WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND h.relid = d.objid;
	DELETE FROM ttpdb.history_packs p
	USING pg_event_trigger_dropped_objects() d
	WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND p.relid = d.objid;
END
$$;
