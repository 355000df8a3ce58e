-- ttpdb 0.6 -> 0.7: the extension's event triggers fire whatever
-- session_replication_role says.
--
-- Event triggers are created enabled "on origin", so in a session with
-- session_replication_role = replica they did not fire: a rewriting ALTER
-- TABLE there did not keep the table's rows (reading as of a time before it
-- found none), a dropped table's kept versions stayed behind, and DDL on
-- ttpdb tables went unlogged while the access method still logged and kept
-- the session's DML.  What they do is part of the table's history, not a
-- user trigger that replication should be able to skip.

\echo Use "ALTER EXTENSION ttpdb UPDATE TO '0.7'" to load this file. \quit

ALTER EVENT TRIGGER ttpdb_guard_table_rewrite ENABLE ALWAYS;
ALTER EVENT TRIGGER ttpdb_forget_dropped_tables ENABLE ALWAYS;
ALTER EVENT TRIGGER ttpdb_log_ddl_command_end ENABLE ALWAYS;
ALTER EVENT TRIGGER ttpdb_log_sql_drop ENABLE ALWAYS;
