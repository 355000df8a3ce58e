-- ttpdb 0.5 -> 0.6: two-phase commit of ttpdb writes.
--
-- PREPARE TRANSACTION after a write to a ttpdb table (or a logged statement)
-- was refused, since the commit stamp is taken when the transaction commits,
-- which COMMIT PREPARED does in another transaction.  Now PREPARE keeps what
-- the commit needs here: the prepared transaction's xids get commit_times
-- rows stamped 'infinity' (committed as of no time yet) and its log entries
-- wait in ttpdb.prepared_writes; COMMIT PREPARED stamps it and writes them.

\echo Use "ALTER EXTENSION ttpdb UPDATE TO '0.6'" to load this file. \quit

CREATE TABLE ttpdb.prepared_writes (
	gid text COLLATE "C" NOT NULL,
	era bigint NOT NULL,
	xid xid8 NOT NULL,
	children xid8[] NOT NULL,
	entries ttpdb.log_entries[] NOT NULL,
	PRIMARY KEY (era, xid)
) USING heap;
CREATE INDEX prepared_writes_gid_idx ON ttpdb.prepared_writes (gid);
COMMENT ON TABLE ttpdb.prepared_writes IS
	'Prepared transactions that wrote ttpdb tables: their subtransactions and log entries, until COMMIT PREPARED stamps them';
REVOKE ALL ON ttpdb.prepared_writes FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ttpdb.prepared_writes', '');
