-- ttpdb 0.7 -> 0.8: the ceiling of the commit stamps replaces the index on
-- commit_times.committed_at.
--
-- Every commit paid a B-tree insertion into commit_times_committed_at_idx,
-- read only to find the latest stamp (once per backend: stamps after a
-- restart must follow the old ones even if the clock went back) and a
-- transaction's subtransactions.  The latest stamp is now bounded by one
-- row, raised in place at most once per 10 ms of commits; the
-- subtransactions are found through a partial index that holds only them.

\echo Use "ALTER EXTENSION ttpdb UPDATE TO '0.8'" to load this file. \quit

-- A prepared transaction that wrote ttpdb tables holds a lock on
-- commit_times until it is committed or rolled back, and COMMIT PREPARED
-- would then wait for this update, which waits for the lock: refuse.
DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_locks
			   WHERE locktype = 'relation' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
				 AND relation = 'ttpdb.commit_times'::regclass AND pid IS NULL) THEN
		RAISE EXCEPTION 'cannot update extension ttpdb while prepared transactions that wrote ttpdb tables are pending'
			USING ERRCODE = 'object_in_use',
				  HINT = 'COMMIT PREPARED or ROLLBACK PREPARED them (see pg_prepared_xacts) first.';
	END IF;
END
$$;

-- No transaction may take a stamp between reading the latest one and the
-- ceiling's existing: writers open commit_times before they take a stamp.
LOCK TABLE ttpdb.commit_times IN SHARE MODE;

-- No committed stamp of this database exceeds "ceiling"; "seeded_start" is
-- the server start that has raised its last stamp to it.  Overwritten in
-- place by the access method; not dumped (a restore raises it through the
-- trigger below).
CREATE TABLE ttpdb.stamp_ceiling (
	ceiling timestamptz NOT NULL,
	seeded_start timestamptz NOT NULL
) USING heap;
CREATE UNIQUE INDEX stamp_ceiling_single_row ON ttpdb.stamp_ceiling ((true));
INSERT INTO ttpdb.stamp_ceiling
	SELECT coalesce(max(committed_at) FILTER (WHERE committed_at < 'infinity'), '-infinity'),
		   '-infinity'
	FROM ttpdb.commit_times;
COMMENT ON TABLE ttpdb.stamp_ceiling IS
	'No commit stamp of this database exceeds its ceiling: stamps after a restart follow it';
COMMENT ON COLUMN ttpdb.stamp_ceiling.ceiling IS
	'At least every commit stamp of this database; raised in place, 10 ms past a stamp above it';
COMMENT ON COLUMN ttpdb.stamp_ceiling.seeded_start IS
	'The server start whose last stamp already follows the stamps of the starts before it';
GRANT SELECT ON ttpdb.stamp_ceiling TO PUBLIC;

CREATE INDEX commit_times_top_xid_idx ON ttpdb.commit_times (era, top_xid)
	WHERE top_xid IS NOT NULL;
DROP INDEX ttpdb.commit_times_committed_at_idx;

-- Stamps loaded into commit_times or changed there (pg_restore's, or
-- anyone's) raise the ceiling and the server's last stamp when their
-- transaction commits.  The access method's own writes do not fire it.
CREATE FUNCTION ttpdb.commit_times_loaded() RETURNS trigger
	AS 'MODULE_PATHNAME', 'ttpdb_commit_times_loaded' LANGUAGE C;
COMMENT ON FUNCTION ttpdb.commit_times_loaded() IS
	'Trigger of ttpdb.commit_times: stamps loaded into it raise ttpdb.stamp_ceiling';
REVOKE ALL ON FUNCTION ttpdb.commit_times_loaded() FROM PUBLIC;
CREATE TRIGGER commit_times_loaded AFTER INSERT OR UPDATE ON ttpdb.commit_times
	FOR EACH STATEMENT EXECUTE FUNCTION ttpdb.commit_times_loaded();
ALTER TABLE ttpdb.commit_times ENABLE ALWAYS TRIGGER commit_times_loaded;
